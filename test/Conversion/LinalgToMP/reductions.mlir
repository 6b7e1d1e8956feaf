// RUN: mp-opt %s --mp-import -split-input-file | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#rows = affine_map<(d0, d1) -> (d0)>
// torch.sum(x, 1): a reduction generic adding into a zero fill.
// CHECK-LABEL: func.func @sum
// CHECK-NEXT: %[[S:.+]] = mp.sum %arg0 dims [1] : tensor<4x16xf32> -> tensor<4xf32>
// CHECK-NEXT: return %[[S]]
func.func @sum(%x: tensor<4x16xf32>) -> tensor<4xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %0 = linalg.generic {indexing_maps = [#id, #rows], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x16xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#keep = affine_map<(d0, d1) -> (d0, 0)>
// torch.mean(x, 1, keepdim=True): a sum kept as a size-1 dim, then a
// division by the count; that is a mean, reshaped.
// CHECK-LABEL: func.func @mean_keepdim
// CHECK-NEXT: %[[M:.+]] = mp.mean %arg0 dims [1] : tensor<4x16xf32> -> tensor<4xf32>
// CHECK-NEXT: %[[R:.+]] = mp.reshape %[[M]] : tensor<4xf32> -> tensor<4x1xf32>
// CHECK-NEXT: return %[[R]]
func.func @mean_keepdim(%x: tensor<4x16xf32>) -> tensor<4x1xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<4x1xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x1xf32>) -> tensor<4x1xf32>
  %0 = linalg.generic {indexing_maps = [#id, #keep], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x16xf32>) outs(%f : tensor<4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<4x1xf32>
  %n = arith.constant 1.600000e+01 : f32
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x1xf32>) outs(%e : tensor<4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %d = arith.divf %in, %n : f32
    linalg.yield %d : f32
  } -> tensor<4x1xf32>
  return %1 : tensor<4x1xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#none = affine_map<(d0, d1) -> ()>
// A sum of squares over everything: the body's expression, then the sum.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK-NEXT: %[[Q:.+]] = mp.mul %arg0, %arg0 : tensor<4x16xf32>
// CHECK-NEXT: %[[S:.+]] = mp.sum %[[Q]] dims [0, 1] : tensor<4x16xf32> -> tensor<f32>
// CHECK-NEXT: return %[[S]]
func.func @sum_of_squares(%x: tensor<4x16xf32>) -> tensor<f32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %0 = linalg.generic {indexing_maps = [#id, #none], iterator_types = ["reduction", "reduction"]} ins(%x : tensor<4x16xf32>) outs(%f : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %q = arith.mulf %in, %in : f32
    %a = arith.addf %out, %q : f32
    linalg.yield %a : f32
  } -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// linalg.reduce (upstream's lowering of tosa.reduce_sum).
// CHECK-LABEL: func.func @reduce
// CHECK-NEXT: %[[S:.+]] = mp.sum %arg0 dims [0] : tensor<4x16xf32> -> tensor<16xf32>
// CHECK-NEXT: return %[[S]]
func.func @reduce(%x: tensor<4x16xf32>) -> tensor<16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16xf32>) -> tensor<16xf32>
  %0 = linalg.reduce ins(%x : tensor<4x16xf32>) outs(%f : tensor<16xf32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  return %0 : tensor<16xf32>
}
