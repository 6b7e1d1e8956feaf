// RUN: mp-opt %s -split-input-file --mp-verify-gradient-sync -verify-diagnostics | FileCheck %s

// DDP done right: the gradient, a contraction over the batch split on dp,
// is all_reduced before the update. The IR passes through unchanged.
// CHECK-LABEL: func.func @ddp_synced
// CHECK: mp.all_reduce
// CHECK: mp.sgd
mp.mesh @mesh = <dp = 2>
func.func @ddp_synced(%w: tensor<4x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], []]>},
                      %x: tensor<2x4xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[dp], []]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %xt = mp.transpose %x perm [1, 0] : tensor<2x4xf32> -> tensor<4x2xf32>
  %g = mp.matmul %xt, %x : (tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  %r = mp.all_reduce %g on @mesh axes ["dp"] : tensor<4x4xf32>
  %new = mp.sgd %w, %r {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<4x4xf32>
  return %new : tensor<4x4xf32>
}

// -----

// The same without the all_reduce: each rank would step with its own batch.
mp.mesh @mesh = <dp = 2>
func.func @ddp_missing_all_reduce(%w: tensor<4x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], []]>},
                                  %x: tensor<2x4xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[dp], []]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %xt = mp.transpose %x perm [1, 0] : tensor<2x4xf32> -> tensor<4x2xf32>
  %g = mp.matmul %xt, %x : (tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  // expected-error@+1 {{the gradient of 'w' is never reduced over [dp]: each rank would update with its own partial sum}}
  %new = mp.sgd %w, %g {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<4x4xf32>
  return %new : tensor<4x4xf32>
}

// -----

// The torchtitan/Megatron bug: a parameter replicated over tensor_parallel
// (a norm weight under sequence parallelism) whose gradient, a sum over the
// tp-split sequence, is reduced over dp only.
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @tp_replicated_param(%norm: tensor<8xf32> {mp.param = "norm.weight", mp.sharding = #mp.sharding<@mesh, [[]]>},
                               %x: tensor<2x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[dp, tp], []]>})
    -> (tensor<8xf32> {mp.sharding = #mp.sharding<@mesh, [[]]>}) attributes {mp.partitioned} {
  %g = mp.sum %x dims [0] : tensor<2x8xf32> -> tensor<8xf32>
  %r = mp.all_reduce %g on @mesh axes ["dp"] : tensor<8xf32>
  // expected-error@+1 {{the gradient of 'norm.weight' is never reduced over [tp]}}
  %new = mp.sgd %norm, %r {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>
  return %new : tensor<8xf32>
}

// -----

// A gradient with the parameter's local shape but another layout: the
// rank's piece is not the piece of the parameter it updates.
mp.mesh @mesh = <dp = 2>
func.func @wrong_layout(%w: tensor<2x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                        %g: tensor<4x2xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>})
    -> (tensor<2x4xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>}) attributes {mp.partitioned} {
  %t = mp.transpose %g perm [1, 0] : tensor<4x2xf32> -> tensor<2x4xf32>
  // expected-error@+1 {{the gradient of 'w' is not laid out as the parameter: dim 0 is split over [] instead of [dp]; dim 1 is split over [dp] instead of []}}
  %new = mp.sgd %w, %t {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<2x4xf32>
  return %new : tensor<2x4xf32>
}

// -----

// A non-linear op on a partial sum computes something else.
mp.mesh @mesh = <tp = 2>
func.func @nonlinear_on_partial(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                %w: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %p = mp.linear %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-error@+1 {{applies 'mp.relu' to a partial sum over 'tp' that it is not linear in; reduce it first}}
  %r = mp.relu %p : tensor<4x4xf32>
  %s = mp.all_reduce %r on @mesh axes ["tp"] : tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// -----

// Reducing what is already whole multiplies it by the group size.
mp.mesh @mesh = <tp = 2>
func.func @over_reduced(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  // expected-error@+1 {{sums over 'tp' a value that is not a partial sum over it: every rank already holds the whole value, so the result is scaled by the group size}}
  %s = mp.all_reduce %x on @mesh axes ["tp"] : tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// -----

// A result returned before its reduction.
mp.mesh @mesh = <tp = 2>
func.func @partial_result(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                          %w: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %p = mp.linear %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-error@+1 {{result #0 is returned as a partial sum over [tp]}}
  return %p : tensor<4x4xf32>
}

// -----

// A gradient scale (mp-fuse-optimizer's fold of a product) that is a
// partial sum: each rank would scale its gradient by its own part.
mp.mesh @mesh = <dp = 2>
func.func @partial_grad_scale(%w: tensor<4x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], []]>},
                              %x: tensor<2x4xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[dp], []]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %xt = mp.transpose %x perm [1, 0] : tensor<2x4xf32> -> tensor<4x2xf32>
  %g = mp.matmul %xt, %x : (tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  %r = mp.all_reduce %g on @mesh axes ["dp"] : tensor<4x4xf32>
  %sq = mp.mul %x, %x : tensor<2x4xf32>
  %norm = mp.sum %sq : tensor<2x4xf32> -> tensor<f32>
  // expected-error@+1 {{the gradient scale of 'w' is never reduced over [dp]: each rank would scale by its own partial sum}}
  %new = mp.sgd %w, %r grad_scale %norm {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<4x4xf32>
  return %new : tensor<4x4xf32>
}

// -----

// Blocks of one value join into it; blocks of a partial sum and of its
// reduction do not make one value.
mp.mesh @mesh = <tp = 2>
func.func @concat_partial_and_reduced(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                      %w: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %p = mp.linear %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %p0 = mp.slice %p dim 0 offset 0 : tensor<4x4xf32> -> tensor<2x4xf32>
  %p1 = mp.slice %p dim 0 offset 2 : tensor<4x4xf32> -> tensor<2x4xf32>
  %s0 = mp.all_reduce %p0 on @mesh axes ["tp"] : tensor<2x4xf32>
  // expected-error@+1 {{joins blocks that are split or partial differently}}
  %s = mp.concat %s0, %p1 dim 0 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// -----

// A product partial over tp added into a sum partial over tp (a gradient
// summed over two row-parallel uses): each rank adds its share into its
// share, and one all_reduce sums both.
// CHECK-LABEL: func.func @accumulate_partial_into_partial
// CHECK: mp.linear %arg0, %arg2 accumulate
mp.mesh @mesh = <tp = 2>
func.func @accumulate_partial_into_partial(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                           %w1: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                           %w2: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %p = mp.linear %x, %w1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = mp.linear %x, %w2 accumulate %p : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = mp.all_reduce %s on @mesh axes ["tp"] : tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// The same product added into a whole value: every rank would add all of
// it, and the all_reduce would count it twice.
mp.mesh @mesh = <tp = 2>
func.func @accumulate_partial_into_whole(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                         %w: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                         %g: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  // expected-error@+1 {{adds a product that is a partial sum over [tp] into one over []: each rank would add a different share of each}}
  %s = mp.linear %x, %w accumulate %g : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = mp.all_reduce %s on @mesh axes ["tp"] : tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// A whole product added into a partial sum: the accumulator is not linear
// alone, so this is no partial sum of anything.
mp.mesh @mesh = <tp = 2>
func.func @accumulate_whole_into_partial(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                         %w: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                         %a: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
                                         %b: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %p = mp.linear %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-error@+1 {{adds a product that is a partial sum over [] into one over [tp]: each rank would add a different share of each}}
  %s = mp.linear %a, %b accumulate %p : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = mp.all_reduce %s on @mesh axes ["tp"] : tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// A norm's input gradient is linear in the output gradient: partial sums
// of it give partial sums of the result, reduced once after two norms'
// gradients are added (a parallel block: mp-simplify-collectives).
// CHECK-LABEL: func.func @norm_grads_of_partial_sums
// CHECK: mp.all_reduce
mp.mesh @mesh = <tp = 2>
func.func @norm_grads_of_partial_sums(%x: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
                                      %g1: tensor<8xf32> {mp.sharding = #mp.sharding<@mesh, [[]]>},
                                      %g2: tensor<8xf32> {mp.sharding = #mp.sharding<@mesh, [[]]>},
                                      %a: tensor<4x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                      %wa: tensor<8x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                      %b: tensor<4x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                      %wb: tensor<8x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %da = mp.linear %a, %wa : (tensor<4x2xf32>, tensor<8x2xf32>) -> tensor<4x8xf32>
  %db = mp.linear %b, %wb : (tensor<4x2xf32>, tensor<8x2xf32>) -> tensor<4x8xf32>
  %dxa = mp.rms_norm_grad %x, %g1, %da eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %dxb = mp.layer_norm_grad %x, %g2, %db eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %sum = mp.add %dxa, %dxb : tensor<4x8xf32>
  %r = mp.all_reduce %sum on @mesh axes ["tp"] : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// But not in its input: the norm of a partial sum is not the sum of norms.
mp.mesh @mesh = <tp = 2>
func.func @norm_grad_of_partial_input(%a: tensor<4x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                      %w: tensor<8x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                      %g: tensor<8xf32> {mp.sharding = #mp.sharding<@mesh, [[]]>},
                                      %dy: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %x = mp.linear %a, %w : (tensor<4x2xf32>, tensor<8x2xf32>) -> tensor<4x8xf32>
  // expected-error@+1 {{applies 'mp.layer_norm_grad' to a partial sum over 'tp' that it is not linear in; reduce it first}}
  %dx = mp.layer_norm_grad %x, %g, %dy eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %dx : tensor<4x8xf32>
}

// -----

// In bf16 the gradient is rounded first: a sum of rounded partial sums is
// not the rounded sum.
mp.mesh @mesh = <tp = 2>
func.func @bf16_norm_grad_of_partial_sum(%x: tensor<4x8xbf16> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
                                         %g: tensor<8xf32> {mp.sharding = #mp.sharding<@mesh, [[]]>},
                                         %a: tensor<4x2xbf16> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                         %w: tensor<8x2xbf16> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x8xbf16> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %dy = mp.linear %a, %w : (tensor<4x2xbf16>, tensor<8x2xbf16>) -> tensor<4x8xbf16>
  // expected-error@+1 {{applies 'mp.rms_norm_grad' to a partial sum over 'tp' that it is not linear in; reduce it first}}
  %dx = mp.rms_norm_grad %x, %g, %dy eps 1.0e-05 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<4x8xbf16>) -> tensor<4x8xbf16>
  return %dx : tensor<4x8xbf16>
}

// -----

// mp.iota counts along its dim from 0 on every rank: recorded split along
// that dim, each rank's positions would restart at 0.
mp.mesh @mesh = <tp = 2>
func.func @iota_counted_dim_split(%table: tensor<8x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<2x3x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp], []]>}) attributes {mp.partitioned} {
  // expected-error@+1 {{result dim 1 is split over [tp] but the op computes it whole}}
  %positions = mp.iota dim 1 {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>} : tensor<2x3xi64>
  %rows = mp.embedding %positions, %table : (tensor<2x3xi64>, tensor<8x4xf32>) -> tensor<2x3x4xf32>
  return %rows : tensor<2x3x4xf32>
}

// -----

// Split along another dim, each rank's piece holds the positions whole.
// CHECK-LABEL: func.func @iota_batch_split
mp.mesh @mesh = <dp = 2>
func.func @iota_batch_split(%table: tensor<8x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<1x6x4xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], [], []]>}) attributes {mp.partitioned} {
  %positions = mp.iota dim 1 {mp.sharding = #mp.sharding<@mesh, [[dp], []]>} : tensor<1x6xi64>
  %rows = mp.embedding %positions, %table : (tensor<1x6xi64>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
  return %rows : tensor<1x6x4xf32>
}
