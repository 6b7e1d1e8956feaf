// RUN: mp-opt %s --mp-import -split-input-file | FileCheck %s

// nn.Linear(8, 16) as torch-mlir's linalg-on-tensors output spells it:
// the weight transposed by a generic, a zero fill, the matmul, and the bias
// added by a broadcasting generic (with aten.add's alpha of 1).

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32> {mp.input = "input0"}, %[[W:.+]]: tensor<16x8xf32> {mp.param = "param0"}, %[[B:.+]]: tensor<16xf32> {mp.param = "param1"}) -> tensor<4x16xf32>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[X]], %[[W]] : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[BB:.+]] = mp.broadcast %[[B]] dims [0] : tensor<16xf32> -> tensor<4x16xf32>
// CHECK-NEXT: %[[R:.+]] = mp.add %[[Y]], %[[BB]] : tensor<4x16xf32>
// CHECK-NEXT: return %[[R]] : tensor<4x16xf32>
func.func @linear_bias(%arg0: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = arith.constant dense_resource<torch_tensor_16_8_torch.float32> : tensor<16x8xf32>
  %b = arith.constant dense_resource<torch_tensor_16_torch.float32> : tensor<16xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<8x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<16x8xf32>) outs(%0 : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x16xf32>
  %2 = tensor.empty() : tensor<4x16xf32>
  %3 = linalg.fill ins(%zero : f32) outs(%2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = linalg.matmul ins(%arg0, %1 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%3 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %5 = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%4, %b : tensor<4x16xf32>, tensor<16xf32>) outs(%2 : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %c1 = arith.constant 1 : i64
    %alpha = arith.sitofp %c1 : i64 to f32
    %s = arith.mulf %in_0, %alpha : f32
    %6 = arith.addf %in, %s : f32
    linalg.yield %6 : f32
  } -> tensor<4x16xf32>
  return %5 : tensor<4x16xf32>
}

// -----

// Newer torch-mlir transposes with linalg.transpose; bias=False.
// CHECK-LABEL: func.func @linear_transpose_op
// CHECK-NEXT: %[[Y:.+]] = mp.linear %arg0, %arg1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @linear_transpose_op(%arg0: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = arith.constant dense_resource<torch_tensor_16_8_torch.float32> : tensor<16x8xf32>
  %zero = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<8x16xf32>
  %t = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%0 : tensor<8x16xf32>) permutation = [1, 0]
  %2 = tensor.empty() : tensor<4x16xf32>
  %3 = linalg.fill ins(%zero : f32) outs(%2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = linalg.matmul ins(%arg0, %t : tensor<4x8xf32>, tensor<8x16xf32>) outs(%3 : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %4 : tensor<4x16xf32>
}

// -----

// A matmul whose indexing maps read the weight transposed (linalg.matmul
// with indexing_maps, as MLIR 20+ spells matmul_transpose_b) is a linear;
// a transposed left operand becomes an explicit transpose, and a batch
// matmul reads its operands the same way.
// CHECK-LABEL: func.func @matmul_maps
// CHECK-NEXT: %[[Y:.+]] = mp.linear %arg0, %arg1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[T:.+]] = mp.transpose %arg2 perm [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: %[[Z:.+]] = mp.linear %[[T]], %arg1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[S:.+]] = mp.add %[[Z]], %[[Y]]
// CHECK-NEXT: return %[[S]]
#lhs = affine_map<(d0, d1, d2) -> (d0, d2)>
#lhsT = affine_map<(d0, d1, d2) -> (d2, d0)>
#rhsT = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @matmul_maps(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %xt: tensor<8x4xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<4x16xf32>
  %1 = linalg.fill ins(%zero : f32) outs(%0 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = linalg.matmul indexing_maps = [#lhs, #rhsT, #out] ins(%x, %w : tensor<4x8xf32>, tensor<16x8xf32>) outs(%1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %z = linalg.matmul indexing_maps = [#lhsT, #rhsT, #out] ins(%xt, %w : tensor<8x4xf32>, tensor<16x8xf32>) outs(%y : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %z : tensor<4x16xf32>
}

// -----

// A matmul of two activations stays a matmul; an accumulator that is not a
// zero fill is added.
// CHECK-LABEL: func.func @matmul_accumulate
// CHECK-SAME: {mp.input = "input0"}
// CHECK-SAME: {mp.input = "input1"}
// CHECK-SAME: {mp.input = "input2"}
// CHECK-NEXT: %[[P:.+]] = mp.matmul %arg0, %arg1 : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[S:.+]] = mp.add %[[P]], %arg2 : tensor<4x16xf32>
// CHECK-NEXT: return %[[S]]
func.func @matmul_accumulate(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A linear on [batch, seq, in]: torch-mlir collapses the leading dims,
// multiplies and expands again; that is one mp.linear on the 3-D input.
#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @linear_3d
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x8xf32> {mp.input = "x"}, %[[W:.+]]: tensor<16x8xf32> {mp.param = "proj.weight"})
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[X]], %[[W]] : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: return %[[Y]] : tensor<2x4x16xf32>
func.func @linear_3d(%x: tensor<2x4x8xf32> loc("x"), %w: tensor<16x8xf32> loc("p_proj_weight")) -> tensor<2x4x16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %flat = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x4x8xf32> into tensor<8x8xf32>
  %0 = tensor.empty() : tensor<8x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<16x8xf32>) outs(%0 : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x16xf32>
  %2 = linalg.fill ins(%zero : f32) outs(%0 : tensor<8x16xf32>) -> tensor<8x16xf32>
  %3 = linalg.matmul ins(%flat, %1 : tensor<8x8xf32>, tensor<8x16xf32>) outs(%2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  %4 = tensor.expand_shape %3 [[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
  return %4 : tensor<2x4x16xf32>
}

// -----

// A reshape that is not around a linear stays a reshape.
// CHECK-LABEL: func.func @reshape
// CHECK-NEXT: %[[R:.+]] = mp.reshape %arg0 : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape(%x: tensor<2x4x8xf32>) -> tensor<8x8xf32> {
  %flat = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x4x8xf32> into tensor<8x8xf32>
  return %flat : tensor<8x8xf32>
}

// -----

// torch-mlir's 3-D x 2-D matmul: the right operand broadcast over the
// batch, a batch_matmul; mp.matmul takes the 2-D operand as it is, and a
// transposed 2-D weight makes it a linear.
#bcast = affine_map<(d0, d1, d2) -> (d1, d2)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @batch_matmul_shared
// CHECK-NEXT: %[[Y:.+]] = mp.linear %arg0, %arg1 : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @batch_matmul_shared(%x: tensor<2x4x8xf32>, %w: tensor<16x8xf32>) -> tensor<2x4x16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %t = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%e : tensor<8x16xf32>) permutation = [1, 0]
  %e3 = tensor.empty() : tensor<2x8x16xf32>
  %b = linalg.generic {indexing_maps = [#bcast, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t : tensor<8x16xf32>) outs(%e3 : tensor<2x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x8x16xf32>
  %o = tensor.empty() : tensor<2x4x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %m = linalg.batch_matmul ins(%x, %b : tensor<2x4x8xf32>, tensor<2x8x16xf32>) outs(%f : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %m : tensor<2x4x16xf32>
}

// -----

// A batched product of two activations (attention scores) stays a matmul.
// CHECK-LABEL: func.func @batch_matmul
// CHECK-NEXT: %[[Y:.+]] = mp.matmul %arg0, %arg1 : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @batch_matmul(%q: tensor<2x4x8xf32>, %k: tensor<2x8x4xf32>) -> tensor<2x4x4xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %o = tensor.empty() : tensor<2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %m = linalg.batch_matmul ins(%q, %k : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%f : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %m : tensor<2x4x4xf32>
}
