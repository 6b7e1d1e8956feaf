// RUN: mp-opt %s | FileCheck %s
// RUN: mp-opt %s | mp-opt | FileCheck %s
// RUN: mp-opt %s --mlir-print-op-generic | mp-opt | FileCheck %s

mp.mesh @mesh = <dp = 2, tp = 4>

// CHECK-LABEL: func.func @collectives
func.func @collectives(%x: tensor<8x16xf32>, %y: tensor<8xi64>) -> (tensor<8x16xf32>, tensor<16x16xf32>, tensor<4x16xf32>, tensor<2x64xf32>, tensor<8x4xf32>, tensor<8x16xf32>, tensor<4xi64>) {
  // CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["dp", "tp"] origin "'w2' (rowwise) -> func.return" : tensor<8x16xf32>
  %r = mp.all_reduce %x on @mesh axes ["dp", "tp"] origin "'w2' (rowwise) -> func.return" : tensor<8x16xf32>
  // CHECK-NEXT: %[[G:.+]] = mp.all_gather %arg0 on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<16x16xf32>
  %g = mp.all_gather %x on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<16x16xf32>
  // CHECK-NEXT: %[[S:.+]] = mp.reduce_scatter %arg0 on @mesh axes ["dp"] dim 0 origin "grad" : tensor<8x16xf32> -> tensor<4x16xf32>
  %s = mp.reduce_scatter %x on @mesh axes ["dp"] dim 0 origin "grad" : tensor<8x16xf32> -> tensor<4x16xf32>
  // CHECK-NEXT: %[[A:.+]] = mp.all_to_all %arg0 on @mesh axes ["tp"] split 0 concat 1 : tensor<8x16xf32> -> tensor<2x64xf32>
  %a = mp.all_to_all %x on @mesh axes ["tp"] split 0 concat 1 : tensor<8x16xf32> -> tensor<2x64xf32>
  // CHECK-NEXT: %[[L:.+]] = mp.shard_slice %arg0 on @mesh axes ["tp"] dim 1 : tensor<8x16xf32> -> tensor<8x4xf32>
  %l = mp.shard_slice %x on @mesh axes ["tp"] dim 1 : tensor<8x16xf32> -> tensor<8x4xf32>
  // CHECK-NEXT: %[[RS:.+]] = mp.reshard %arg0 <@mesh, {{\[}}[], [tp]], partial = [dp]> origin "why" : tensor<8x16xf32>
  %rs = mp.reshard %x <@mesh, [[], [tp]], partial = [dp]> origin "why" : tensor<8x16xf32>
  // Integer targets move too.
  // CHECK-NEXT: %[[Y:.+]] = mp.shard_slice %arg1 on @mesh axes ["dp"] dim 0 : tensor<8xi64> -> tensor<4xi64>
  %ys = mp.shard_slice %y on @mesh axes ["dp"] dim 0 : tensor<8xi64> -> tensor<4xi64>
  // Row chunks of a local tensor, and their join.
  // CHECK-NEXT: %[[C0:.+]] = mp.slice %arg0 dim 0 offset 0 : tensor<8x16xf32> -> tensor<3x16xf32>
  %c0 = mp.slice %x dim 0 offset 0 : tensor<8x16xf32> -> tensor<3x16xf32>
  // CHECK-NEXT: %[[C1:.+]] = mp.slice %arg0 dim 0 offset 3 : tensor<8x16xf32> -> tensor<5x16xf32>
  %c1 = mp.slice %x dim 0 offset 3 : tensor<8x16xf32> -> tensor<5x16xf32>
  // CHECK-NEXT: mp.concat %[[C1]], %[[C0]] dim 0 : (tensor<5x16xf32>, tensor<3x16xf32>) -> tensor<8x16xf32>
  %rotated = mp.concat %c1, %c0 dim 0 : (tensor<5x16xf32>, tensor<3x16xf32>) -> tensor<8x16xf32>
  return %r, %g, %s, %a, %l, %rs, %ys : tensor<8x16xf32>, tensor<16x16xf32>, tensor<4x16xf32>, tensor<2x64xf32>, tensor<8x4xf32>, tensor<8x16xf32>, tensor<4xi64>
}
