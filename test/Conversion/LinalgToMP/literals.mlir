// RUN: rm -rf %t && mkdir -p %t
// RUN: mp-opt %s --mp-import="weights=%t/weights.safetensors" | FileCheck %s
// RUN: %python %S/../../Runtime/Inputs/tensors.py dump %t/weights.safetensors | FileCheck %s --check-prefix=DUMP

// REQUIRES: numpy

// Exports that inline their parameters spell them as splat literals
// (benchmark suites: `dense<0.01>`) as well as dense ones. Every tensor
// constant with more than one element that an op reads as a tensor is a
// parameter, its value expanded into weights=. A splat read by several ops
// (canonicalization merged equal splats of different layers) is one
// parameter per reader, in program order. A splat accumulator, a 0-d
// constant and a one-element splat stay scalars of the computation.

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32> {mp.input = "input0"}, %[[B:.+]]: tensor<16xf32> {mp.param = "param0"}, %[[W1:.+]]: tensor<16x8xf32> {mp.param = "param1"}, %[[W2:.+]]: tensor<16x8xf32> {mp.param = "param2"}, %[[D:.+]]: tensor<2x2xf32> {mp.param = "head"})
// CHECK-NEXT: %[[Y1:.+]] = mp.linear %[[X]], %[[W1]]
// CHECK-NEXT: %[[BB:.+]] = mp.broadcast %[[B]] dims [0]
// CHECK-NEXT: %[[A:.+]] = mp.add %[[BB]], %[[Y1]]
// CHECK-NEXT: %[[Y2:.+]] = mp.linear %[[X]], %[[W2]]
// CHECK-NEXT: %[[S:.+]] = mp.add %[[A]], %[[Y2]]
// CHECK-NEXT: %[[H:.+]] = mp.scale %[[S]] by 2.000000e+00
// CHECK-NEXT: %[[R:.+]] = mp.reshape %[[H]]
// CHECK-NEXT: %[[T:.+]] = mp.matmul %[[R]], %[[D]]
// CHECK-NEXT: return %[[T]]

// DUMP: head F32 [2, 2] 0.5 -1 1.5 2
// DUMP-NEXT: param0 F32 [16] 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001 0.001{{$}}
// DUMP-NEXT: param1 F32 [16, 8] {{(0.01 )+}}0.01{{$}}
// DUMP-NEXT: param2 F32 [16, 8] {{(0.01 )+}}0.01{{$}}
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1) -> (d1, d0)>
#map2 = affine_map<(d0, d1) -> (d1)>
#map3 = affine_map<(d0, d1) -> ()>
func.func @forward(%arg0: tensor<4x8xf32>) -> tensor<32x2xf32> {
  %cst = arith.constant dense<1.000000e-03> : tensor<16xf32>
  %cst_0 = arith.constant dense<0.00999999977> : tensor<16x8xf32>
  %cst_1 = arith.constant dense<0.000000e+00> : tensor<4x16xf32>
  %cst_2 = arith.constant dense<2.000000e+00> : tensor<f32>
  %cst_3 = arith.constant dense<[[0.5, -1.0], [1.5, 2.0]]> : tensor<2x2xf32> loc("head")
  %0 = tensor.empty() : tensor<8x16xf32>
  %1 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_0 : tensor<16x8xf32>) outs(%0 : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x16xf32>
  %2 = linalg.matmul ins(%arg0, %1 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%cst_1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %3 = tensor.empty() : tensor<4x16xf32>
  %4 = linalg.generic {indexing_maps = [#map2, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%cst, %2 : tensor<16xf32>, tensor<4x16xf32>) outs(%3 : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %10 = arith.addf %in, %in_0 : f32
    linalg.yield %10 : f32
  } -> tensor<4x16xf32>
  %5 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_0 : tensor<16x8xf32>) outs(%0 : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x16xf32>
  %6 = linalg.matmul ins(%arg0, %5 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%cst_1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %7 = linalg.generic {indexing_maps = [#map, #map, #map3, #map], iterator_types = ["parallel", "parallel"]} ins(%4, %6, %cst_2 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<f32>) outs(%3 : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_0: f32, %in_1: f32, %out: f32):
    %10 = arith.addf %in, %in_0 : f32
    %11 = arith.mulf %10, %in_1 : f32
    linalg.yield %11 : f32
  } -> tensor<4x16xf32>
  %collapsed = tensor.collapse_shape %7 [[0, 1]] : tensor<4x16xf32> into tensor<64xf32>
  %expanded = tensor.expand_shape %collapsed [[0, 1]] output_shape [32, 2] : tensor<64xf32> into tensor<32x2xf32>
  %8 = tensor.empty() : tensor<32x2xf32>
  %cst_4 = arith.constant 0.000000e+00 : f32
  %9 = linalg.fill ins(%cst_4 : f32) outs(%8 : tensor<32x2xf32>) -> tensor<32x2xf32>
  %10 = linalg.matmul ins(%expanded, %cst_3 : tensor<32x2xf32>, tensor<2x2xf32>) outs(%9 : tensor<32x2xf32>) -> tensor<32x2xf32>
  return %10 : tensor<32x2xf32>
}
