// RUN: mp-opt %s --mp-partition | FileCheck %s

// Reshards that move only size-1 axes are the value itself, and must not
// change the layout the value's other reshards start from (a 1x4 mesh; the
// fuzzer found this with a gradient partial over both axes resharded twice).

// CHECK-LABEL: func.func @reshard_twice_over_size1_axis
// CHECK-NEXT: %[[P:.+]] = mp.matmul %arg0, %arg1 : (tensor<8x2xf32>, tensor<2x8xf32>) -> tensor<8x8xf32>
// CHECK-NEXT: %[[A:.+]] = mp.all_reduce %[[P]] on @mesh axes ["b"] : tensor<8x8xf32>
// CHECK-NEXT: %[[B:.+]] = mp.all_reduce %[[P]] on @mesh axes ["b"] : tensor<8x8xf32>
// CHECK-NEXT: %[[S:.+]] = mp.shard_slice %[[B]] on @mesh axes ["b"] dim 1 : tensor<8x8xf32> -> tensor<8x2xf32>
// CHECK-NEXT: return %[[A]], %[[S]]
mp.mesh @mesh = <a = 1, b = 4>
func.func @reshard_twice_over_size1_axis(
    %x: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], [a, b]]>},
    %w: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[a, b], []]>})
    -> (tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], [a]]>},
        tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], [b]]>}) {
  %p = mp.matmul %x, %w {mp.sharding = #mp.sharding<@mesh, [[], []], partial = [a, b]>} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %r1 = mp.reshard %p <@mesh, [[], [a]], partial = [b]> : tensor<8x8xf32>
  %w1 = mp.reshard %r1 <@mesh, [[], [a]]> : tensor<8x8xf32>
  %r2 = mp.reshard %p <@mesh, [[], [b]], partial = [a]> : tensor<8x8xf32>
  %w2 = mp.reshard %r2 <@mesh, [[], [b]]> : tensor<8x8xf32>
  return %w1, %w2 : tensor<8x8xf32>, tensor<8x8xf32>
}
