// The reference interpreter against values worked out by hand.
//
// RUN: mp-run %s --entry=linear --print | FileCheck %s --check-prefix=LINEAR
// RUN: mp-run %s --entry=precision --print | FileCheck %s --check-prefix=PRECISION
// RUN: mp-run %s --entry=activations --print | FileCheck %s --check-prefix=ACT
// RUN: mp-run %s --entry=rsqrt --print | FileCheck %s --check-prefix=RSQRT
// RUN: mp-run %s --entry=clamp --print | FileCheck %s --check-prefix=CLAMP
// RUN: mp-run %s --entry=reductions --print | FileCheck %s --check-prefix=RED
// RUN: mp-run %s --entry=losses --print | FileCheck %s --check-prefix=LOSS
// RUN: mp-run %s --entry=adamw --print | FileCheck %s --check-prefix=ADAMW
// RUN: mp-run %s --entry=collectives --print | FileCheck %s --check-prefix=COLL
// RUN: mp-run %s --entry=chunks --print | FileCheck %s --check-prefix=CHUNKS
// RUN: mp-run %s --entry=ignored --print | FileCheck %s --check-prefix=IGNORED
// RUN: mp-run %s --entry=iota --print | FileCheck %s --check-prefix=IOTA

// x·Wᵀ with x = [[1,2,3],[4,5,6]], W = [[1,0,0],[0,1,0],[1,1,1],[0,0,2]].
// LINEAR: result #0: [2x4]
// LINEAR-NEXT: 1.000000e+00 2.000000e+00 6.000000e+00 6.000000e+00
// LINEAR-NEXT: 4.000000e+00 5.000000e+00 1.500000e+01 1.200000e+01
// The same product added into y, and added scaled by 1/2 into y.
// LINEAR-NEXT: result #1: [2x4]
// LINEAR-NEXT: 2.000000e+00 4.000000e+00 1.200000e+01 1.200000e+01
// LINEAR-NEXT: 8.000000e+00 1.000000e+01 3.000000e+01 2.400000e+01
// LINEAR-NEXT: result #2: [2x4]
// LINEAR-NEXT: 1.500000e+00 3.000000e+00 9.000000e+00 9.000000e+00
// LINEAR-NEXT: 6.000000e+00 7.500000e+00 2.250000e+01 1.800000e+01
func.func @linear() -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %w = arith.constant dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 2.0]]> : tensor<4x3xf32>
  %y = mp.linear %x, %w : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %twice = mp.linear %x, %w accumulate %y : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %wt = mp.transpose %w perm [1, 0] : tensor<4x3xf32> -> tensor<3x4xf32>
  %half = mp.matmul %x, %wt accumulate %y scale 5.000000e-01 : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y, %twice, %half : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// A GEMM's precision: bf16 rounds each operand to 8 significant bits, to
// nearest with ties to even (1 + 2^-8 to 1, 1 + 3·2^-8 to 1 + 2^-6,
// 3 + 2^-7 to 3), and sums the exact products; fp32 keeps float32 operands.
// x = [[1 + 2^-8, 1 + 3·2^-8], [1 + 3·2^-8, 1 + 2^-8]],
// w = [[1, 1], [3 + 2^-7, 0]]: the linear x·wᵀ, then the matmul x·(wᵀ).
// PRECISION: result #0: [2x2]
// PRECISION-NEXT: 2.015625e+00 3.000000e+00
// PRECISION-NEXT: 2.015625e+00 3.046875e+00
// PRECISION-NEXT: result #1: [2x2]
// PRECISION-NEXT: 2.015625e+00 3.019562e+00
// PRECISION-NEXT: 2.015625e+00 3.043060e+00
// PRECISION-NEXT: result #2: [2x2]
// PRECISION-NEXT: 2.015625e+00 3.000000e+00
// PRECISION-NEXT: 2.015625e+00 3.046875e+00
// mp.convert to bf16 rounds the same way; back to f32 it is exact.
// PRECISION-NEXT: result #3: [2x2]
// PRECISION-NEXT: 1.000000e+00 1.015625e+00
// PRECISION-NEXT: 1.015625e+00 1.000000e+00
// A bf16 GEMM's accumulator is not rounded: result #0 plus x.
// PRECISION-NEXT: result #4: [2x2]
// PRECISION-NEXT: 3.019531e+00 4.011719e+00
// PRECISION-NEXT: 3.027344e+00 4.050781e+00
func.func @precision() -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %x = arith.constant dense<[[1.00390625, 1.01171875], [1.01171875, 1.00390625]]> : tensor<2x2xf32>
  %w = arith.constant dense<[[1.0, 1.0], [3.0078125, 0.0]]> : tensor<2x2xf32>
  %bf16 = mp.linear %x, %w precision <bf16> : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %fp32 = mp.linear %x, %w precision <fp32> : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %wt = mp.transpose %w perm [1, 0] : tensor<2x2xf32> -> tensor<2x2xf32>
  %mm = mp.matmul %x, %wt precision <bf16> : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %narrow = mp.convert %x : tensor<2x2xf32> -> tensor<2x2xbf16>
  %wide = mp.convert %narrow : tensor<2x2xbf16> -> tensor<2x2xf32>
  %sum = mp.linear %x, %w accumulate %x precision <bf16> : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %bf16, %fp32, %mm, %wide, %sum : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}

// silu(1) = σ(1) = 0.7310586, gelu(1) = Φ(1) = 0.8413447, its tanh form
// 0.8411920, relu(-1) = 0, sigmoid(0) = 0.5.
// ACT: result #0: [5]
// ACT-NEXT: 7.310586e-01 8.413447e-01 8.411920e-01 0.000000e+00 5.000000e-01
func.func @activations() -> tensor<5xf32> {
  %one = arith.constant dense<1.0> : tensor<1xf32>
  %minus = arith.constant dense<-1.0> : tensor<1xf32>
  %zero = arith.constant dense<0.0> : tensor<1xf32>
  %s = mp.silu %one : tensor<1xf32>
  %g = mp.gelu %one : tensor<1xf32>
  %t = mp.gelu %one tanh : tensor<1xf32>
  %r = mp.relu %minus : tensor<1xf32>
  %z = mp.sigmoid %zero : tensor<1xf32>
  %a = mp.reshape %s : tensor<1xf32> -> tensor<1x1xf32>
  %b = mp.reshape %g : tensor<1xf32> -> tensor<1x1xf32>
  %c = mp.reshape %t : tensor<1xf32> -> tensor<1x1xf32>
  %d = mp.reshape %r : tensor<1xf32> -> tensor<1x1xf32>
  %e = mp.reshape %z : tensor<1xf32> -> tensor<1x1xf32>
  %ab = mp.broadcast %a dims [0] : tensor<1x1xf32> -> tensor<1x1x1xf32>
  %all = mp.matmul %ab, %ab : (tensor<1x1x1xf32>, tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  %row0 = mp.transpose %a perm [1, 0] : tensor<1x1xf32> -> tensor<1x1xf32>
  %ones = arith.constant dense<[[1.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<1x5xf32>
  %e1 = arith.constant dense<[[0.0, 1.0, 0.0, 0.0, 0.0]]> : tensor<1x5xf32>
  %e2 = arith.constant dense<[[0.0, 0.0, 1.0, 0.0, 0.0]]> : tensor<1x5xf32>
  %e3 = arith.constant dense<[[0.0, 0.0, 0.0, 1.0, 0.0]]> : tensor<1x5xf32>
  %e4 = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<1x5xf32>
  %v0 = mp.matmul %row0, %ones : (tensor<1x1xf32>, tensor<1x5xf32>) -> tensor<1x5xf32>
  %v1 = mp.matmul %b, %e1 : (tensor<1x1xf32>, tensor<1x5xf32>) -> tensor<1x5xf32>
  %v2 = mp.matmul %c, %e2 : (tensor<1x1xf32>, tensor<1x5xf32>) -> tensor<1x5xf32>
  %v3 = mp.matmul %d, %e3 : (tensor<1x1xf32>, tensor<1x5xf32>) -> tensor<1x5xf32>
  %v4 = mp.matmul %e, %e4 : (tensor<1x1xf32>, tensor<1x5xf32>) -> tensor<1x5xf32>
  %s01 = mp.add %v0, %v1 : tensor<1x5xf32>
  %s23 = mp.add %v2, %v3 : tensor<1x5xf32>
  %s0123 = mp.add %s01, %s23 : tensor<1x5xf32>
  %sum = mp.add %s0123, %v4 : tensor<1x5xf32>
  %out = mp.reshape %sum : tensor<1x5xf32> -> tensor<5xf32>
  return %out : tensor<5xf32>
}

// Row sums of [[1,2,3],[4,5,6]] are [6, 15], its mean 3.5, its transpose
// [[1,4],[2,5],[3,6]], and [6, 15] broadcast over a new leading dim.
// RED: result #0: [2]
// RED-NEXT: 6.000000e+00 1.500000e+01
// RED-NEXT: result #1: []
// RED-NEXT: 3.500000e+00
// RED-NEXT: result #2: [3x2]
// RED-NEXT: 1.000000e+00 4.000000e+00
// RED-NEXT: 2.000000e+00 5.000000e+00
// RED-NEXT: 3.000000e+00 6.000000e+00
// RED-NEXT: result #3: [2x2]
// RED-NEXT: 6.000000e+00 1.500000e+01
// RED-NEXT: 6.000000e+00 1.500000e+01
func.func @reductions() -> (tensor<2xf32>, tensor<f32>, tensor<3x2xf32>, tensor<2x2xf32>) {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %rows = mp.sum %x dims [1] : tensor<2x3xf32> -> tensor<2xf32>
  %mean = mp.mean %x : tensor<2x3xf32> -> tensor<f32>
  %t = mp.transpose %x perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %b = mp.broadcast %rows dims [0] : tensor<2xf32> -> tensor<2x2xf32>
  return %rows, %mean, %t, %b : tensor<2xf32>, tensor<f32>, tensor<3x2xf32>, tensor<2x2xf32>
}

// mse([1, 2], [0, 4]) = (1 + 4) / 2 = 2.5. Cross entropy of logits
// [[0,0,0],[1,2,3]] with targets [0, 2]: log 3 = 1.0986123 and
// log(e + e² + e³) - 3 = 0.4076060, mean 0.7531091, sum 1.5062183.
// LOSS: result #0: []
// LOSS-NEXT: 2.500000e+00
// LOSS-NEXT: result #1: []
// LOSS-NEXT: 7.531091e-01
// LOSS-NEXT: result #2: []
// LOSS-NEXT: 1.506218e+00
func.func @losses() -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  %a = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.0, 4.0]> : tensor<2xf32>
  %mse = mp.mse_loss %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<f32>
  %logits = arith.constant dense<[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]> : tensor<2x3xf32>
  %labels = arith.constant dense<[0, 2]> : tensor<2xi64>
  %mean = mp.cross_entropy %logits, %labels : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %sum = mp.cross_entropy %logits, %labels reduction sum : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  return %mse, %mean, %sum : tensor<f32>, tensor<f32>, tensor<f32>
}

// One AdamW step (lr 0.1, weight decay 0.01) from p = 1 with gradient 0.5:
// p = 0.999, m = 0.05, v = 0.00025, m̂ = 0.5, √v̂ = 0.5, so
// p = 0.999 - 0.1 · 0.5 / 0.5 = 0.899.
// ADAMW: result #0: [1]
// ADAMW-NEXT: 8.990000e-01
// ADAMW-NEXT: result #1: [1]
// ADAMW-NEXT: 5.000000e-02
// ADAMW-NEXT: result #2: [1]
// ADAMW-NEXT: 2.500000e-04
func.func @adamw() -> (tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) {
  %p = arith.constant dense<1.0> : tensor<1xf32>
  %g = arith.constant dense<0.5> : tensor<1xf32>
  %zero = arith.constant dense<0.0> : tensor<1xf32>
  %t = arith.constant dense<1.0> : tensor<f32>
  %r:3 = mp.adamw %p, %g, %zero, %zero, %t {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 0.1 : f64, weight_decay = 0.01 : f64} : tensor<1xf32>, tensor<f32>
  return %r#0, %r#1, %r#2 : tensor<1xf32>, tensor<1xf32>, tensor<1xf32>
}

// Collectives on a 2x2 mesh, each rank starting from the same constant
// [[1,2],[3,4]] as a piece: the all_reduce over both axes gives 4x it;
// gathering dim 0 over a, then slicing dim 1 over b, gives each rank the
// column b of the two stacked copies, whose assembly over b is the stack.
// COLL: result #0: [2x2]
// COLL-NEXT: 4.000000e+00 8.000000e+00
// COLL-NEXT: 1.200000e+01 1.600000e+01
// COLL-NEXT: result #1: [4x2]
// COLL-NEXT: 1.000000e+00 2.000000e+00
// COLL-NEXT: 3.000000e+00 4.000000e+00
// COLL-NEXT: 1.000000e+00 2.000000e+00
// COLL-NEXT: 3.000000e+00 4.000000e+00
mp.mesh @mesh = <a = 2, b = 2>
func.func @collectives() -> (tensor<2x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
                             tensor<4x1xf32> {mp.sharding = #mp.sharding<@mesh, [[], [b]]>})
    attributes {mp.partitioned} {
  %x = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %sum = mp.all_reduce %x on @mesh axes ["a", "b"] : tensor<2x2xf32>
  %g = mp.all_gather %x on @mesh axes ["a"] dim 0 : tensor<2x2xf32> -> tensor<4x2xf32>
  %s = mp.shard_slice %g on @mesh axes ["b"] dim 1 : tensor<4x2xf32> -> tensor<4x1xf32>
  return %sum, %s : tensor<2x2xf32>, tensor<4x1xf32>
}

// Columns 1..2 of [[1,2,3],[4,5,6]] (a block of an inner dim), and the
// columns rotated by one: [2,3] then [1].
// CHUNKS: result #0: [2x2]
// CHUNKS-NEXT: 2.000000e+00 3.000000e+00
// CHUNKS-NEXT: 5.000000e+00 6.000000e+00
// CHUNKS-NEXT: result #1: [2x3]
// CHUNKS-NEXT: 2.000000e+00 3.000000e+00 1.000000e+00
// CHUNKS-NEXT: 5.000000e+00 6.000000e+00 4.000000e+00
func.func @chunks() -> (tensor<2x2xf32>, tensor<2x3xf32>) {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %tail = mp.slice %x dim 1 offset 1 : tensor<2x3xf32> -> tensor<2x2xf32>
  %head = mp.slice %x dim 1 offset 0 : tensor<2x3xf32> -> tensor<2x1xf32>
  %rotated = mp.concat %tail, %head dim 1 : (tensor<2x2xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return %tail, %rotated : tensor<2x2xf32>, tensor<2x3xf32>
}

// 1 / sqrt(x + 0.5): 0.5 at 3.5, sqrt(2) at 0, 0.1 at 99.5.
// RSQRT: result #0: [3]
// RSQRT-NEXT: 5.000000e-01 1.414214e+00 1.000000e-01
func.func @rsqrt() -> tensor<3xf32> {
  %x = arith.constant dense<[3.5, 0.0, 99.5]> : tensor<3xf32>
  %r = mp.rsqrt %x eps 0.5 : tensor<3xf32>
  return %r : tensor<3xf32>
}

// torch.clamp to [-0.5, 2], bounds included in its mask; NaN kept by the
// clamp and masked out.
// CLAMP: result #0: [6]
// CLAMP-NEXT: -5.000000e-01 -5.000000e-01 3.000000e-01 2.000000e+00 2.000000e+00 nan
// CLAMP-NEXT: result #1: [6]
// CLAMP-NEXT: 0.000000e+00 1.000000e+00 1.000000e+00 1.000000e+00 0.000000e+00 0.000000e+00
func.func @clamp() -> (tensor<6xf32>, tensor<6xf32>) {
  %x = arith.constant dense<[-1.0, -0.5, 0.3, 2.0, 3.0, 0x7FC00000]> : tensor<6xf32>
  %c = mp.clamp %x min -5.000000e-01 max 2.000000e+00 : tensor<6xf32>
  %m = mp.clamp_mask %x min -5.000000e-01 max 2.000000e+00 : tensor<6xf32>
  return %c, %m : tensor<6xf32>, tensor<6xf32>
}

// The cross entropy's skipped samples (ignore_index): logits [[0,0,0],
// [1,2,3]] with targets [-100, 2] skip the first row (-100 is no class) and
// with [1, 2], ignore_index 1, the same row (1 is one): the loss is the
// second row's log(1 + e^-1 + e^-2) = 0.4076060, its gradient 0 in the
// skipped row and softmax([1,2,3]) - onehot(2) in the other; the masks
// keep the second target only.
// IGNORED: result #0: []
// IGNORED-NEXT: 4.076060e-01
// IGNORED-NEXT: result #1: []
// IGNORED-NEXT: 4.076060e-01
// IGNORED-NEXT: result #2: [2x3]
// IGNORED-NEXT: 0.000000e+00 0.000000e+00 0.000000e+00
// IGNORED-NEXT: 9.003057e-02 2.447285e-01 -3.347590e-01
// IGNORED-NEXT: result #3: [2]
// IGNORED-NEXT: 0.000000e+00 1.000000e+00
// IGNORED-NEXT: result #4: [2]
// IGNORED-NEXT: 0.000000e+00 1.000000e+00
func.func @ignored() -> (tensor<f32>, tensor<f32>, tensor<2x3xf32>, tensor<2xf32>, tensor<2xf32>) {
  %x = arith.constant dense<[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]> : tensor<2x3xf32>
  %padded = arith.constant dense<[-100, 2]> : tensor<2xi64>
  %classes = arith.constant dense<[1, 2]> : tensor<2xi64>
  %one = arith.constant dense<1.0> : tensor<f32>
  %a = mp.cross_entropy %x, %padded reduction sum ignore_index -100 : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %b = mp.cross_entropy %x, %classes reduction sum ignore_index 1 : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %g = mp.cross_entropy_grad %x, %padded, %one scale 1.0 ignore_index -100 : (tensor<2x3xf32>, tensor<2xi64>, tensor<f32>) -> tensor<2x3xf32>
  %k = mp.target_mask %padded ignore_index -100 : tensor<2xi64> -> tensor<2xf32>
  %l = mp.target_mask %classes ignore_index 1 : tensor<2xi64> -> tensor<2xf32>
  return %a, %b, %g, %k, %l : tensor<f32>, tensor<f32>, tensor<2x3xf32>, tensor<2xf32>, tensor<2xf32>
}

// mp.iota counts along its dim: [2, 3] along dim 1 and along dim 0; the
// positions along dim 1 look up rows 0, 1, 2 of [[10], [20], [30]] in each
// sequence (GPT-2's wpe(arange(seq))).
// IOTA: result #0: [2x3]
// IOTA-NEXT: 0.000000e+00 1.000000e+00 2.000000e+00
// IOTA-NEXT: 0.000000e+00 1.000000e+00 2.000000e+00
// IOTA-NEXT: result #1: [2x3]
// IOTA-NEXT: 0.000000e+00 0.000000e+00 0.000000e+00
// IOTA-NEXT: 1.000000e+00 1.000000e+00 1.000000e+00
// IOTA-NEXT: result #2: [2x3]
// IOTA-NEXT: 1.000000e+01 2.000000e+01 3.000000e+01
// IOTA-NEXT: 1.000000e+01 2.000000e+01 3.000000e+01
// IOTA-NEXT: result #3: [2x2]
// IOTA-NEXT: 2.000000e+00 3.000000e+00
// IOTA-NEXT: 2.000000e+00 3.000000e+00
func.func @iota() -> (tensor<2x3xi64>, tensor<2x3xi64>, tensor<2x3xf32>, tensor<2x2xi64>) {
  %table = arith.constant dense<[[10.0], [20.0], [30.0]]> : tensor<3x1xf32>
  %positions = mp.iota dim 1 : tensor<2x3xi64>
  %rows = mp.iota dim 0 : tensor<2x3xi64>
  %looked = mp.embedding %positions, %table : (tensor<2x3xi64>, tensor<3x1xf32>) -> tensor<2x3x1xf32>
  %flat = mp.reshape %looked : tensor<2x3x1xf32> -> tensor<2x3xf32>
  // OPT's positions, from 2.
  %from_two = mp.iota dim 1 start 2 : tensor<2x2xi64>
  return %positions, %rows, %flat, %from_two : tensor<2x3xi64>, tensor<2x3xi64>, tensor<2x3xf32>, tensor<2x2xi64>
}
