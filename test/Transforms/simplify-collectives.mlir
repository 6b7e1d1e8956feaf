// RUN: mp-opt %s --mp-simplify-collectives | FileCheck %s

mp.mesh @mesh = <dp = 2, tp = 4>

// all_reduce then a slice over the same axis is a reduce_scatter.
// CHECK-LABEL: func.func @reduce_then_slice
// CHECK-NEXT: %[[R:.+]] = mp.reduce_scatter %arg0 on @mesh axes ["dp"] dim 0 origin "grad w1" : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @reduce_then_slice(%x: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %r = mp.all_reduce %x on @mesh axes ["dp"] origin "grad w1" : tensor<8x4xf32>
  %s = mp.shard_slice %r on @mesh axes ["dp"] dim 0 origin "grad w1" : tensor<8x4xf32> -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// A slice over part of the reduced axes: scatter first, then reduce the
// rest on the smaller shard.
// CHECK-LABEL: func.func @reduce_two_slice_one
// CHECK-NEXT: %[[S:.+]] = mp.reduce_scatter %arg0 on @mesh axes ["tp"] dim 1 : tensor<2x8xf32> -> tensor<2x2xf32>
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[S]] on @mesh axes ["dp"] : tensor<2x2xf32>
// CHECK-NEXT: return %[[R]]
func.func @reduce_two_slice_one(%x: tensor<2x8xf32>) -> tensor<2x2xf32> {
  %r = mp.all_reduce %x on @mesh axes ["dp", "tp"] : tensor<2x8xf32>
  %s = mp.shard_slice %r on @mesh axes ["tp"] dim 1 : tensor<2x8xf32> -> tensor<2x2xf32>
  return %s : tensor<2x2xf32>
}

// Gathering a dim and slicing it back again is nothing.
// CHECK-LABEL: func.func @gather_then_slice_same_dim
// CHECK-NEXT: return %arg0
func.func @gather_then_slice_same_dim(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<2x4xf32> -> tensor<8x4xf32>
  %s = mp.shard_slice %g on @mesh axes ["tp"] dim 0 : tensor<8x4xf32> -> tensor<2x4xf32>
  return %s : tensor<2x4xf32>
}

// Gathering one dim and slicing another moves the split: an all_to_all.
// CHECK-LABEL: func.func @gather_then_slice_other_dim
// CHECK-NEXT: %[[A:.+]] = mp.all_to_all %arg0 on @mesh axes ["tp"] split 1 concat 0 origin "sp; tp" : tensor<2x8xf32> -> tensor<8x2xf32>
// CHECK-NEXT: return %[[A]]
func.func @gather_then_slice_other_dim(%x: tensor<2x8xf32>) -> tensor<8x2xf32> {
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 origin "sp" : tensor<2x8xf32> -> tensor<8x8xf32>
  %s = mp.shard_slice %g on @mesh axes ["tp"] dim 1 origin "tp" : tensor<8x8xf32> -> tensor<8x2xf32>
  return %s : tensor<8x2xf32>
}

// A gather whose result is also used elsewhere stays, and is not turned
// into an all_to_all (that would gather twice).
// CHECK-LABEL: func.func @gather_used_twice
// CHECK-NEXT: %[[G:.+]] = mp.all_gather
// CHECK-NEXT: %[[S:.+]] = mp.shard_slice %[[G]]
// CHECK-NEXT: return %[[G]], %[[S]]
func.func @gather_used_twice(%x: tensor<2x8xf32>) -> (tensor<8x8xf32>, tensor<8x2xf32>) {
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<2x8xf32> -> tensor<8x8xf32>
  %s = mp.shard_slice %g on @mesh axes ["tp"] dim 1 : tensor<8x8xf32> -> tensor<8x2xf32>
  return %g, %s : tensor<8x8xf32>, tensor<8x2xf32>
}

// Back-to-back all_reduces are one, over the union in mesh order.
// CHECK-LABEL: func.func @reduce_twice
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["dp", "tp"] : tensor<f32>
// CHECK-NEXT: return %[[R]]
func.func @reduce_twice(%x: tensor<f32>) -> tensor<f32> {
  %a = mp.all_reduce %x on @mesh axes ["tp"] : tensor<f32>
  %b = mp.all_reduce %a on @mesh axes ["dp"] : tensor<f32>
  return %b : tensor<f32>
}

// Back-to-back reshards are one; a reshard to the sharding its operand
// already has is nothing.
// CHECK-LABEL: func.func @reshards
// CHECK-NEXT: %[[R:.+]] = mp.reshard %arg0 <@mesh, {{\[}}[tp], []]> origin "a; b" : tensor<8x8xf32>
// CHECK-NEXT: return %[[R]], %arg1
func.func @reshards(%x: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                    %y: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>}) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  %a = mp.reshard %x <@mesh, [[], []]> origin "a" : tensor<8x8xf32>
  %b = mp.reshard %a <@mesh, [[tp], []]> origin "b" : tensor<8x8xf32>
  %c = mp.reshard %y <@mesh, [[dp], []]> : tensor<8x8xf32>
  return %b, %c : tensor<8x8xf32>, tensor<8x8xf32>
}
