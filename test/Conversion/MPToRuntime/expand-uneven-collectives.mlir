// RUN: mp-opt %s --mp-expand-uneven-collectives | FileCheck %s

// The runtime moves equal pieces: 17 rows over 2 ranks are pieces of 9, the
// second padded. A gather truncates the padded concatenation to the whole;
// a scatter or slice first pads its input with zeros to a whole number of
// pieces; an all_to_all does both. Even collectives are left alone.

mp.mesh @mesh = <dp = 2, tp = 2>

// CHECK-LABEL: func.func @uneven
func.func @uneven(%x: tensor<9x8xf32>, %y: tensor<17x8xf32>, %z: tensor<9x6xf32>, %t: tensor<4x4xi64>) -> (tensor<17x8xf32>, tensor<9x8xf32>, tensor<9x8xf32>, tensor<17x3xf32>, tensor<4x8xi64>) attributes {mp.partitioned} {
  // CHECK: %[[G:.*]] = mp.all_gather %arg0 on @mesh axes ["tp"] dim 0 : tensor<9x8xf32> -> tensor<18x8xf32>
  // CHECK-NEXT: %[[GT:.*]] = mp.resize %[[G]] dim 0 : tensor<18x8xf32> -> tensor<17x8xf32>
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<9x8xf32> -> tensor<17x8xf32>
  // CHECK-NEXT: %[[RP:.*]] = mp.resize %arg1 dim 0 : tensor<17x8xf32> -> tensor<18x8xf32>
  // CHECK-NEXT: %[[RS:.*]] = mp.reduce_scatter %[[RP]] on @mesh axes ["tp"] dim 0 : tensor<18x8xf32> -> tensor<9x8xf32>
  %r = mp.reduce_scatter %y on @mesh axes ["tp"] dim 0 : tensor<17x8xf32> -> tensor<9x8xf32>
  // CHECK-NEXT: %[[SP:.*]] = mp.resize %arg1 dim 0 : tensor<17x8xf32> -> tensor<18x8xf32>
  // CHECK-NEXT: %[[SS:.*]] = mp.shard_slice %[[SP]] on @mesh axes ["dp"] dim 0 : tensor<18x8xf32> -> tensor<9x8xf32>
  %s = mp.shard_slice %y on @mesh axes ["dp"] dim 0 : tensor<17x8xf32> -> tensor<9x8xf32>
  // 6 columns over 2 are even; 9 padded rows gather into 17.
  // CHECK-NEXT: %[[A:.*]] = mp.all_to_all %arg2 on @mesh axes ["tp"] split 1 concat 0 : tensor<9x6xf32> -> tensor<18x3xf32>
  // CHECK-NEXT: %[[AT:.*]] = mp.resize %[[A]] dim 0 : tensor<18x3xf32> -> tensor<17x3xf32>
  %a = mp.all_to_all %z on @mesh axes ["tp"] split 1 concat 0 : tensor<9x6xf32> -> tensor<17x3xf32>
  // CHECK-NEXT: %[[E:.*]] = mp.all_gather %arg3 on @mesh axes ["dp"] dim 1 : tensor<4x4xi64> -> tensor<4x8xi64>
  %e = mp.all_gather %t on @mesh axes ["dp"] dim 1 : tensor<4x4xi64> -> tensor<4x8xi64>
  // CHECK-NEXT: return %[[GT]], %[[RS]], %[[SS]], %[[AT]], %[[E]]
  return %g, %r, %s, %a, %e : tensor<17x8xf32>, tensor<9x8xf32>, tensor<9x8xf32>, tensor<17x3xf32>, tensor<4x8xi64>
}
