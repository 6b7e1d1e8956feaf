// RUN: mp-opt %s -split-input-file --mp-propagate-sharding --mp-partition | FileCheck %s

// Uneven splits (torch.chunk's placement, padded): collectives one axis at a
// time where a level is uneven, padding masked before reductions, means
// rescaled by local/global extents, global shapes recorded.

// Gathering dp off [[tp, dp]]: 17 rows are 9 + 8 over tp, then 5 + 4 and
// 5 + 3 over dp; the dp gather rebuilds the 9-row tp pieces.
mp.mesh @mesh = <dp = 2, tp = 2>
// CHECK-LABEL: func.func @gather_minor
// CHECK-SAME: %arg0: tensor<5x8xf32> {mp.global_shape = array<i64: 17, 8>
// CHECK-SAME: -> (tensor<17x8xf32>
// CHECK-NEXT: %[[TP:.*]] = mp.all_gather %arg0 on @mesh axes ["dp"] dim 0 {{.*}}: tensor<5x8xf32> -> tensor<9x8xf32>
// CHECK-NEXT: %[[R:.*]] = mp.relu %[[TP]] : tensor<9x8xf32>
// CHECK-NEXT: mp.all_gather %[[R]] on @mesh axes ["tp"] dim 0 {{.*}}: tensor<9x8xf32> -> tensor<17x8xf32>
func.func @gather_minor(%w: tensor<17x8xf32> {mp.sharding = #mp.sharding<@mesh, [[tp, dp], []]>}) -> tensor<17x8xf32> {
  %0 = mp.annotate %w <@mesh, [[tp], []]> : tensor<17x8xf32>
  %1 = mp.relu %0 : tensor<17x8xf32>
  %2 = mp.annotate %1 <@mesh, [[], []]> : tensor<17x8xf32>
  return %2 : tensor<17x8xf32>
}

// -----

// Slicing 17 over [dp, tp]: one axis at a time, each splitting the padded
// piece of the one before.
mp.mesh @mesh = <dp = 2, tp = 2>
// CHECK-LABEL: func.func @slice_levels
// CHECK-SAME: -> (tensor<5x8xf32> {mp.global_shape = array<i64: 17, 8>
// CHECK-NEXT: %[[DP:.*]] = mp.shard_slice %arg0 on @mesh axes ["dp"] dim 0 {{.*}}: tensor<17x8xf32> -> tensor<9x8xf32>
// CHECK-NEXT: mp.shard_slice %[[DP]] on @mesh axes ["tp"] dim 0 {{.*}}: tensor<9x8xf32> -> tensor<5x8xf32>
func.func @slice_levels(%x: tensor<17x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) -> tensor<17x8xf32> {
  %0 = mp.annotate %x <@mesh, [[dp, tp], []]> : tensor<17x8xf32>
  %1 = mp.relu %0 : tensor<17x8xf32>
  return %1 : tensor<17x8xf32>
}

// -----

// Contracting a padded dim: the bias makes the hidden padding nonzero, so
// it is masked before the rowwise product; the arguments are not.
mp.mesh @mesh = <tp = 2>
// CHECK-LABEL: func.func @mask_before_contraction
// CHECK: %[[H:.*]] = mp.linear %arg0, %arg1
// CHECK: %[[R:.*]] = mp.relu
// CHECK: %[[AR:.*]] = mp.mul
// CHECK-NEXT: %[[Z1:.*]] = mp.zero_padding %[[AR]] on @mesh axes ["tp"] dim 1 extent 3 : tensor<4x2xf32>
// CHECK-NEXT: mp.linear %[[Z1]], %arg3
// CHECK-NEXT: %[[Z2:.*]] = mp.zero_padding %[[R]] on @mesh axes ["tp"] dim 1 extent 3 : tensor<4x2xf32>
// CHECK-NEXT: mp.linear %[[Z2]], %arg3
// CHECK-NOT: mp.zero_padding
// CHECK: mp.all_reduce
func.func @mask_before_contraction(%x: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
    %w1: tensor<3x8xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>},
    %b1: tensor<3xf32> {mp.sharding = #mp.sharding<@mesh, [[tp]]>},
    %w2: tensor<8x3xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>}) -> tensor<4x8xf32> {
  %h = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %bb = mp.broadcast %b1 dims [0] : tensor<3xf32> -> tensor<4x3xf32>
  %hb = mp.add %h, %bb : tensor<4x3xf32>
  %r = mp.relu %hb : tensor<4x3xf32>
  %a = mp.sigmoid %h : tensor<4x3xf32>
  %ar = mp.mul %a, %r : tensor<4x3xf32>
  %y = mp.linear %ar, %w2 : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %z = mp.linear %r, %w2 : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %s = mp.add %y, %z : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// -----

// A clamp whose bounds hold 0 keeps an argument's zero padding; one that
// does not is masked before the rowwise product.
mp.mesh @mesh = <tp = 2>
// CHECK-LABEL: func.func @clamp_padding
// CHECK-NEXT: %[[IN:.*]] = mp.clamp %arg0 min -1.000000e+00 max 1.000000e+00
// CHECK-NEXT: %[[OUT:.*]] = mp.clamp %arg0 min 5.000000e-01 max 2.000000e+00
// CHECK-NEXT: mp.linear %[[IN]], %arg1
// CHECK-NEXT: %[[Z:.*]] = mp.zero_padding %[[OUT]] on @mesh axes ["tp"] dim 1 extent 3 : tensor<4x2xf32>
// CHECK-NEXT: mp.linear %[[Z]], %arg1
// CHECK-NOT: mp.zero_padding
func.func @clamp_padding(%h: tensor<4x3xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
    %w2: tensor<8x3xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>}) -> tensor<4x8xf32> {
  %in = mp.clamp %h min -1.0 max 1.0 : tensor<4x3xf32>
  %out = mp.clamp %h min 0.5 max 2.0 : tensor<4x3xf32>
  %y = mp.linear %in, %w2 : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %z = mp.linear %out, %w2 : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %s = mp.add %y, %z : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// -----

// A product with a zero-padded value is zero-padded where the other
// factor's padding is finite (a sigmoid's, 0.5), not where it may not be:
// a quotient's padding is 0 / 0 and a logarithm's log 0, and 0 · NaN is NaN,
// so those products are masked before the rowwise product (found by the
// SPMD fuzzer: the gradient of a log divides by the zero padding of its
// gathered input).
mp.mesh @mesh = <tp = 2>
// CHECK-LABEL: func.func @non_finite_padding
// CHECK-NEXT: %[[Q:.*]] = mp.div %arg0, %arg1
// CHECK-NEXT: %[[QH:.*]] = mp.mul %[[Q]], %arg0
// CHECK-NEXT: %[[L:.*]] = mp.log %arg1
// CHECK-NEXT: %[[LH:.*]] = mp.mul %arg0, %[[L]]
// CHECK-NEXT: %[[S:.*]] = mp.sigmoid %arg0
// CHECK-NEXT: %[[SH:.*]] = mp.mul %[[S]], %arg0
// CHECK-NEXT: %[[ZQ:.*]] = mp.zero_padding %[[QH]] on @mesh axes ["tp"] dim 1 extent 3 : tensor<4x2xf32>
// CHECK-NEXT: mp.linear %[[ZQ]], %arg2
// CHECK-NEXT: %[[ZL:.*]] = mp.zero_padding %[[LH]] on @mesh axes ["tp"] dim 1 extent 3 : tensor<4x2xf32>
// CHECK-NEXT: mp.linear %[[ZL]], %arg2
// CHECK-NEXT: mp.linear %[[SH]], %arg2
// CHECK-NOT: mp.zero_padding
func.func @non_finite_padding(%h: tensor<4x3xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
    %d: tensor<4x3xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
    %w2: tensor<8x3xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>}) -> tensor<4x8xf32> {
  %q = mp.div %h, %d : tensor<4x3xf32>
  %qh = mp.mul %q, %h : tensor<4x3xf32>
  %l = mp.log %d : tensor<4x3xf32>
  %lh = mp.mul %h, %l : tensor<4x3xf32>
  %s = mp.sigmoid %h : tensor<4x3xf32>
  %sh = mp.mul %s, %h : tensor<4x3xf32>
  %y1 = mp.linear %qh, %w2 : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %y2 = mp.linear %lh, %w2 : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %y3 = mp.linear %sh, %w2 : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %y12 = mp.add %y1, %y2 : tensor<4x8xf32>
  %y = mp.add %y12, %y3 : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A mean over a padded dim averages 2 local rows of which 1 or 2 are
// values: the local mean is rescaled by 2/3, not 1/2.
mp.mesh @mesh = <tp = 2>
// CHECK-LABEL: func.func @mean_rescale
// CHECK-NEXT: %[[M:.*]] = mp.mean %arg0 dims [0] : tensor<2x8xf32> -> tensor<8xf32>
// CHECK-NEXT: %[[S:.*]] = mp.scale %[[M]] by 0.66666666666666663
// CHECK-NEXT: mp.all_reduce %[[S]] on @mesh axes ["tp"]
func.func @mean_rescale(%x: tensor<3x8xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>}) -> tensor<8xf32> {
  %m = mp.mean %x dims [0] : tensor<3x8xf32> -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// A reshape keeps an uneven split where the dim stays a dim of its own, and
// gathers it where the dim merges with others.
mp.mesh @mesh = <dp = 2>
// CHECK-LABEL: func.func @reshape_keeps
// CHECK-NEXT: mp.reshape %arg0 {{.*}}: tensor<2x4x2xf32> -> tensor<2x8xf32>
// CHECK-NEXT: %[[G:.*]] = mp.all_gather %arg0 on @mesh axes ["dp"] dim 0 {{.*}}: tensor<2x4x2xf32> -> tensor<3x4x2xf32>
// CHECK-NEXT: mp.reshape %[[G]] {{.*}}: tensor<3x4x2xf32> -> tensor<24xf32>
func.func @reshape_keeps(%x: tensor<3x4x2xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], [], []]>}) -> tensor<3x8xf32> {
  %0 = mp.reshape %x : tensor<3x4x2xf32> -> tensor<3x8xf32>
  %1 = mp.reshape %x : tensor<3x4x2xf32> -> tensor<24xf32>
  %2 = mp.sum %1 : tensor<24xf32> -> tensor<f32>
  %3 = mp.broadcast %2 dims [0, 1] : tensor<f32> -> tensor<3x8xf32>
  %4 = mp.add %0, %3 : tensor<3x8xf32>
  return %4 : tensor<3x8xf32>
}
