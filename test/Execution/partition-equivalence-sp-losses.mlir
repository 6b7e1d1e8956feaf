// Partitioning must not change results, checked against the UNPARTITIONED
// input file itself (the plan attribute only, no annotations): sequence
// parallelism on the input alone, on a named output alone, and on the
// sequence dim of a [batch, seq, feature] input and output; the losses
// (mean, mse_loss and cross_entropy, mean and sum reductions) over a batch
// split on dp, with TP GEMMs and FSDP on a 2x2 mesh and with FSDP alone on
// 4x1. Then a partitioned program edited by hand to lose its reduction
// (its reduce_scatter made a shard_slice) must be caught.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/ffn_sp_x.mlir --mp-apply-plan --mp-spmd -o %t/ffn_sp_x.spmd.mlir
// RUN: mp-run %t/ffn_sp_x.spmd.mlir --entry=ffn --reference=%t/ffn_sp_x.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_sp_out.mlir --mp-apply-plan --mp-spmd -o %t/ffn_sp_out.spmd.mlir
// RUN: mp-run %t/ffn_sp_out.spmd.mlir --entry=ffn --reference=%t/ffn_sp_out.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_sp_3d.mlir --mp-apply-plan --mp-spmd -o %t/ffn_sp_3d.spmd.mlir
// RUN: mp-run %t/ffn_sp_3d.spmd.mlir --entry=ffn --reference=%t/ffn_sp_3d.mlir | FileCheck %s
// RUN: mp-opt %t/losses_2x2.mlir --mp-apply-plan --mp-spmd -o %t/losses_2x2.spmd.mlir
// RUN: mp-run %t/losses_2x2.spmd.mlir --entry=losses --reference=%t/losses_2x2.mlir | FileCheck %s --check-prefix=LOSSES
// RUN: mp-run %t/losses_2x2.spmd.mlir --entry=losses --reference=%t/losses_2x2.mlir --seed=7 | FileCheck %s --check-prefix=LOSSES
// RUN: mp-opt %t/losses_4x1.mlir --mp-apply-plan --mp-spmd -o %t/losses_4x1.spmd.mlir
// RUN: mp-run %t/losses_4x1.spmd.mlir --entry=losses --reference=%t/losses_4x1.mlir | FileCheck %s --check-prefix=LOSSES
// RUN: mp-opt %t/losses_3d.mlir --mp-apply-plan --mp-spmd -o %t/losses_3d.spmd.mlir
// RUN: mp-run %t/losses_3d.spmd.mlir --entry=losses --reference=%t/losses_3d.mlir | FileCheck %s --check-prefix=LOSSES3D
// RUN: mp-opt %t/ignored_2x2.mlir --mp-apply-plan --mp-spmd -o %t/ignored_2x2.spmd.mlir
// RUN: mp-run %t/ignored_2x2.mlir --entry=ignored --seed=10 --print | FileCheck %s --check-prefix=KEPT
// RUN: mp-run %t/ignored_2x2.spmd.mlir --entry=ignored --reference=%t/ignored_2x2.mlir --seed=10 | FileCheck %s --check-prefix=IGNORED
// RUN: mp-run %t/ignored_2x2.spmd.mlir --entry=ignored --reference=%t/ignored_2x2.mlir --seed=13 | FileCheck %s --check-prefix=IGNORED
// RUN: mp-opt %t/ignored_2x2.mlir --mp-apply-plan --mp-loss-parallel=blocks=2 --mp-spmd -o %t/ignored_2x2.lp.mlir
// RUN: mp-run %t/ignored_2x2.lp.mlir --entry=ignored --reference=%t/ignored_2x2.mlir --seed=10 | FileCheck %s --check-prefix=IGNORED
//
// RUN: sed -e 's/mp.reduce_scatter/mp.shard_slice/' %t/ffn_sp_out.spmd.mlir > %t/ffn_sp_out.broken.mlir
// RUN: not mp-run %t/ffn_sp_out.broken.mlir --entry=ffn --reference=%t/ffn_sp_out.mlir 2>&1 | FileCheck %s --check-prefix=MISMATCH

// CHECK: max abs error: {{.*}} over 1 results: match
// LOSSES: max abs error: {{.*}} over 6 results: match
// LOSSES3D: max abs error: {{.*}} over 2 results: match
// IGNORED: max abs error: {{.*}} over 3 results: match
// Seed 10 draws four labels 2 of the eight: the count is 4.
// KEPT: result #1: []
// KEPT-NEXT: 4.000000e+00
// MISMATCH: mp-run: mismatch in result #0 at element {{[0-9]+}}: got {{.*}}, expected {{.*}}

//--- ffn_sp_x.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise, x = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffn_sp_out.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise, out = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffn_sp_3d.mlir
// [batch, seq, feature]: sequence_parallel splits dim 1 (rank - 2).
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise, x = sequence_parallel, out = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<2x8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<2x8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<2x8x64xf32>, tensor<128x64xf32>) -> tensor<2x8x128xf32>
    %a = mp.silu %h1 : tensor<2x8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<2x8x64xf32>, tensor<128x64xf32>) -> tensor<2x8x128xf32>
    %g = mp.mul %a, %h3 : tensor<2x8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<2x8x128xf32>, tensor<64x128xf32>) -> tensor<2x8x64xf32>
    return %out : tensor<2x8x64xf32>
  }
}

//--- losses_2x2.mlir
// The batch (dim 0 of x, t and y) is split over dp; w1 colwise, w2 and w3
// rowwise over tp, all three stored FSDP-split over dp.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = rowwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @losses(%x: tensor<8x16xf32> {mp.input = "x"},
                    %t: tensor<8x4xf32> {mp.target = "t"},
                    %y: tensor<8xi64> {mp.target = "y"},
                    %w1: tensor<32x16xf32> {mp.param = "w1"},
                    %w2: tensor<4x32xf32> {mp.param = "w2"},
                    %w3: tensor<6x32xf32> {mp.param = "w3"})
      -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8xf32>) {
    %a = mp.linear %x, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %h = mp.relu %a : tensor<8x32xf32>
    %p = mp.linear %h, %w2 : (tensor<8x32xf32>, tensor<4x32xf32>) -> tensor<8x4xf32>
    %mse = mp.mse_loss %p, %t : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
    %sse = mp.mse_loss %p, %t reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
    %logits = mp.linear %h, %w3 : (tensor<8x32xf32>, tensor<6x32xf32>) -> tensor<8x6xf32>
    %ce = mp.cross_entropy %logits, %y : (tensor<8x6xf32>, tensor<8xi64>) -> tensor<f32>
    %ces = mp.cross_entropy %logits, %y reduction sum : (tensor<8x6xf32>, tensor<8xi64>) -> tensor<f32>
    %m = mp.mean %p : tensor<8x4xf32> -> tensor<f32>
    %rows = mp.mean %h dims [1] : tensor<8x32xf32> -> tensor<8xf32>
    return %mse, %sse, %ce, %ces, %m, %rows : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8xf32>
  }
}

//--- losses_4x1.mlir
// FSDP alone; 8 classes so that w3 splits over dp = 4.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = rowwise}>} {
  mp.mesh @mesh = <dp = 4, tp = 1>
  func.func @losses(%x: tensor<8x16xf32> {mp.input = "x"},
                    %t: tensor<8x4xf32> {mp.target = "t"},
                    %y: tensor<8xi64> {mp.target = "y"},
                    %w1: tensor<32x16xf32> {mp.param = "w1"},
                    %w2: tensor<4x32xf32> {mp.param = "w2"},
                    %w3: tensor<8x32xf32> {mp.param = "w3"})
      -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8xf32>) {
    %a = mp.linear %x, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %h = mp.relu %a : tensor<8x32xf32>
    %p = mp.linear %h, %w2 : (tensor<8x32xf32>, tensor<4x32xf32>) -> tensor<8x4xf32>
    %mse = mp.mse_loss %p, %t : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
    %sse = mp.mse_loss %p, %t reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
    %logits = mp.linear %h, %w3 : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x8xf32>
    %ce = mp.cross_entropy %logits, %y : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
    %ces = mp.cross_entropy %logits, %y reduction sum : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
    %m = mp.mean %p : tensor<8x4xf32> -> tensor<f32>
    %rows = mp.mean %h dims [1] : tensor<8x32xf32> -> tensor<8xf32>
    return %mse, %sse, %ce, %ces, %m, %rows : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8xf32>
  }
}

//--- losses_3d.mlir
// [batch, seq] samples with i32 targets, the batch split over dp.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @losses(%x: tensor<4x3x16xf32> {mp.input = "x"},
                    %y: tensor<4x3xi32> {mp.target = "y"},
                    %w1: tensor<32x16xf32> {mp.param = "w1"},
                    %w2: tensor<6x32xf32> {mp.param = "w2"}) -> (tensor<f32>, tensor<f32>) {
    %a = mp.linear %x, %w1 : (tensor<4x3x16xf32>, tensor<32x16xf32>) -> tensor<4x3x32xf32>
    %h = mp.gelu %a : tensor<4x3x32xf32>
    %logits = mp.linear %h, %w2 : (tensor<4x3x32xf32>, tensor<6x32xf32>) -> tensor<4x3x6xf32>
    %ce = mp.cross_entropy %logits, %y : (tensor<4x3x6xf32>, tensor<4x3xi32>) -> tensor<f32>
    %m = mp.mean %logits : tensor<4x3x6xf32> -> tensor<f32>
    return %ce, %m : tensor<f32>, tensor<f32>
  }
}

//--- ignored_2x2.mlir
// Labels equal to 2 (of 6 classes; mp-run draws them uniform) are ignored:
// the mean over the kept ones is their loss sum over their count, both
// partial sums over the dp-split batch (ranks keep different counts); the
// logits split over tp by a colwise w3 (and kept split with
// --mp-loss-parallel, whose per-row losses take the mask).
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ignored(%x: tensor<8x16xf32> {mp.input = "x"},
                     %y: tensor<8xi64> {mp.target = "y"},
                     %w1: tensor<32x16xf32> {mp.param = "w1"},
                     %w3: tensor<6x32xf32> {mp.param = "w3"})
      -> (tensor<f32>, tensor<f32>, tensor<f32>) {
    %a = mp.linear %x, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %h = mp.relu %a : tensor<8x32xf32>
    %logits = mp.linear %h, %w3 : (tensor<8x32xf32>, tensor<6x32xf32>) -> tensor<8x6xf32>
    %sum = mp.cross_entropy %logits, %y reduction sum ignore_index 2 : (tensor<8x6xf32>, tensor<8xi64>) -> tensor<f32>
    %kept = mp.target_mask %y ignore_index 2 : tensor<8xi64> -> tensor<8xf32>
    %count = mp.sum %kept : tensor<8xf32> -> tensor<f32>
    %mean = mp.div %sum, %count : tensor<f32>
    return %sum, %count, %mean : tensor<f32>, tensor<f32>, tensor<f32>
  }
}
