// RUN: mp-opt %s -split-input-file -verify-diagnostics --mp-chunk-loss=chunks=8
// RUN: mp-opt %s -split-input-file --mp-chunk-loss=chunks=8 2>/dev/null | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-chunk-loss=chunks=8 2>/dev/null | not grep -E "mp\.(slice|concat)"
// RUN: not mp-opt %s -split-input-file --mp-chunk-loss=chunks=1 2>&1 | FileCheck %s --check-prefix=ONE

// Losses the pass leaves whole, each with a warning that says why, and
// unchanged.
// ONE: error: mp-chunk-loss needs chunks >= 2, not 1

// An op outside the loss reads the logits whole: chunking would keep them
// whole too.
// CHECK-LABEL: func.func @whole
// CHECK: mp.linear %arg0, %arg1 : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
func.func @whole(%h: tensor<4x8x16xf32>, %w: tensor<32x16xf32>,
                 %labels: tensor<4x8xi64>) -> (tensor<f32>, tensor<f32>)
    attributes {mp.partitioned} {
  // expected-warning @below {{mp-chunk-loss: an op outside the loss reads the logits whole; the loss is left whole}}
  %logits = mp.linear %h, %w : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
  %loss = mp.cross_entropy %logits, %labels : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<f32>
  %all = mp.sum %logits : tensor<4x8x32xf32> -> tensor<f32>
  return %loss, %all : tensor<f32>, tensor<f32>
}

// -----

// The loss's gradient reads the loss's mean: its chunks cannot run before
// the mean of every chunk's losses.
// CHECK-LABEL: func.func @reads_mean
// CHECK: mp.linear %arg0, %arg1 : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
func.func @reads_mean(%h: tensor<4x8x16xf32>, %w: tensor<32x16xf32>,
                      %labels: tensor<4x8xi64>) -> tensor<4x8xf32>
    attributes {mp.partitioned} {
  // expected-warning @below {{mp-chunk-loss: the loss's gradient reads mp.broadcast of the loss's values, so its chunks cannot run forward and backward together; the loss is left whole}}
  %logits = mp.linear %h, %w : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
  %picked = mp.gather_last %logits, %labels : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<4x8xf32>
  %mean = mp.mean %picked : tensor<4x8xf32> -> tensor<f32>
  %spread = mp.broadcast %mean dims [0, 1] : tensor<f32> -> tensor<4x8xf32>
  %scaled = mp.mul %picked, %spread : tensor<4x8xf32>
  return %scaled : tensor<4x8xf32>
}

// -----

// Logits no mp.linear computes, capped or not: nothing to chunk from.
func.func @not_linear(%logits: tensor<4x8x32xf32>, %labels: tensor<4x8xi64>)
    -> (tensor<f32>, tensor<f32>) attributes {mp.partitioned} {
  // expected-warning @below {{mp-chunk-loss: the logits are not an mp.linear's result; the loss is left whole}}
  %loss = mp.cross_entropy %logits, %labels : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<f32>
  %t = mp.tanh %logits : tensor<4x8x32xf32>
  %capped = mp.scale %t by 30.0 : tensor<4x8x32xf32>
  // expected-warning @below {{mp-chunk-loss: the logits are not an mp.linear's result; the loss is left whole}}
  %loss2 = mp.cross_entropy %capped, %labels : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<f32>
  return %loss, %loss2 : tensor<f32>, tensor<f32>
}

// -----

// One token: no token dim to chunk.
func.func @one_token(%h: tensor<1x1x16xf32>, %w: tensor<32x16xf32>,
                     %labels: tensor<1x1xi64>) -> tensor<f32>
    attributes {mp.partitioned} {
  // expected-warning @below {{mp-chunk-loss: the logits have no token dim to chunk; the loss is left whole}}
  %logits = mp.linear %h, %w : (tensor<1x1x16xf32>, tensor<32x16xf32>) -> tensor<1x1x32xf32>
  %loss = mp.cross_entropy %logits, %labels : (tensor<1x1x32xf32>, tensor<1x1xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Chunks of the sequence of a 4-row batch (8 chunks): the logits' gradient as token
// rows is computed in no block of the whole, and is read whole.
// CHECK-LABEL: func.func @strided_read
// CHECK: mp.linear %arg0, %arg1 : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
func.func @strided_read(%h: tensor<4x8x16xf32>, %w: tensor<32x16xf32>,
                        %labels: tensor<4x8xi64>, %dl: tensor<f32>)
    -> tensor<32x32xf32> attributes {mp.partitioned} {
  %logits = mp.linear %h, %w : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
  %dlogits = mp.cross_entropy_grad %logits, %labels, %dl scale 0.03125 : (tensor<4x8x32xf32>, tensor<4x8xi64>, tensor<f32>) -> tensor<4x8x32xf32>
  // expected-warning @below {{mp-chunk-loss: a value the loss's chunks compute in no block of it is read whole; the loss is left whole}}
  %rows = mp.reshape %dlogits : tensor<4x8x32xf32> -> tensor<32x32xf32>
  return %rows : tensor<32x32xf32>
}

// -----

// The logits gathered over their token dim before the loss (a batch split
// the loss needs whole): no op can run on a chunk of them.
// CHECK-LABEL: func.func @gathered_tokens
// CHECK: mp.linear %arg0, %arg1 : (tensor<2x1x16xf32>, tensor<32x16xf32>) -> tensor<2x1x32xf32>
mp.mesh @mesh = <dp = 2>
func.func @gathered_tokens(%h: tensor<2x1x16xf32>, %w: tensor<32x16xf32>,
                           %labels: tensor<4x1xi64>) -> tensor<f32>
    attributes {mp.partitioned} {
  // expected-warning @below {{mp-chunk-loss: an op outside the loss reads the logits whole; the loss is left whole}}
  %logits = mp.linear %h, %w : (tensor<2x1x16xf32>, tensor<32x16xf32>) -> tensor<2x1x32xf32>
  %all = mp.all_gather %logits on @mesh axes ["dp"] dim 0 : tensor<2x1x32xf32> -> tensor<4x1x32xf32>
  %loss = mp.cross_entropy %all, %labels : (tensor<4x1x32xf32>, tensor<4x1xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A step already scheduled (asynchronous collectives and their waits): the
// pass would move ops across the schedule's slots.
// CHECK-LABEL: func.func @scheduled
// CHECK: mp.linear %{{.+}}, %arg1 : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
mp.mesh @mesh = <dp = 2>
func.func @scheduled(%x: tensor<4x8x16xf32>, %w: tensor<32x16xf32>,
                     %labels: tensor<4x8xi64>) -> tensor<f32>
    attributes {mp.partitioned} {
  // expected-warning @below {{mp-chunk-loss: the step is already scheduled; run --mp-chunk-loss before --mp-schedule-collectives (its losses are left whole)}}
  %s = mp.all_reduce %x on @mesh axes ["dp"] {mp.async = 0 : i64} : tensor<4x8x16xf32>
  %h = mp.wait %s keeps %x : tensor<4x8x16xf32> : tensor<4x8x16xf32>
  %logits = mp.linear %h, %w : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
  %loss = mp.cross_entropy %logits, %labels : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
