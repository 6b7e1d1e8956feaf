// RUN: mp-opt %s --mp-import-tosa=loss=sum -split-input-file | FileCheck %s
// The same with the upstream passes named one by one, then mp-import.
// RUN: mp-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-tensor,tosa-to-arith),mp-import{loss=sum})" | FileCheck %s

// TOSA v1.0 as torch-mlir's TOSA backend spells nn.Linear(16, 32) + ReLU +
// SiLU on a [8, 16] batch: weights as tosa.const, the weight transposed,
// both operands reshaped to rank 3 for tosa.matmul (with its zero points),
// the result reshaped back, the bias added with rank-2 broadcasting; ReLU a
// clamp at [0, f32 max], SiLU a sigmoid and a product (tosa.mul's shift
// operand).

// CHECK-LABEL: func.func @linear_relu_silu
// CHECK-SAME: (%[[X:.+]]: tensor<8x16xf32> {mp.input = "input0"}, %[[W:.+]]: tensor<32x16xf32> {mp.param = "param0"}, %[[B:.+]]: tensor<1x32xf32> {mp.param = "param1"}) -> tensor<f32>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[X]], %[[W]] : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
// CHECK-NEXT: %[[RB:.+]] = mp.reshape %[[B]] : tensor<1x32xf32> -> tensor<32xf32>
// CHECK-NEXT: %[[BB:.+]] = mp.broadcast %[[RB]] dims [0] : tensor<32xf32> -> tensor<8x32xf32>
// CHECK-NEXT: %[[S:.+]] = mp.add %[[Y]], %[[BB]] : tensor<8x32xf32>
// CHECK-NEXT: %[[R:.+]] = mp.relu %[[S]] : tensor<8x32xf32>
// CHECK-NEXT: %[[A:.+]] = mp.silu %[[R]] : tensor<8x32xf32>
// CHECK-NEXT: %[[L:.+]] = mp.sum %[[A]] : tensor<8x32xf32> -> tensor<f32>
// CHECK-NEXT: return %[[L]] : tensor<f32>
func.func @linear_relu_silu(%x: tensor<8x16xf32>) -> tensor<8x32xf32> {
  %w = "tosa.const"() <{values = dense_resource<torch_tensor_32_16_torch.float32> : tensor<32x16xf32>}> : () -> tensor<32x16xf32>
  %b = "tosa.const"() <{values = dense_resource<torch_tensor_1_32_torch.float32> : tensor<1x32xf32>}> : () -> tensor<1x32xf32>
  %zp = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %wt = tosa.transpose %w {perms = array<i32: 1, 0>} : (tensor<32x16xf32>) -> tensor<16x32xf32>
  %s3x = tosa.const_shape {values = dense<[1, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %x3 = tosa.reshape %x, %s3x : (tensor<8x16xf32>, !tosa.shape<3>) -> tensor<1x8x16xf32>
  %s3w = tosa.const_shape {values = dense<[1, 16, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %w3 = tosa.reshape %wt, %s3w : (tensor<16x32xf32>, !tosa.shape<3>) -> tensor<1x16x32xf32>
  %m = tosa.matmul %x3, %w3, %zp, %zp : (tensor<1x8x16xf32>, tensor<1x16x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x8x32xf32>
  %s2 = tosa.const_shape {values = dense<[8, 32]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %y = tosa.reshape %m, %s2 : (tensor<1x8x32xf32>, !tosa.shape<2>) -> tensor<8x32xf32>
  %a = tosa.add %y, %b : (tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  %r = tosa.clamp %a {min_val = 0.000000e+00 : f32, max_val = 3.40282347E+38 : f32} : (tensor<8x32xf32>) -> tensor<8x32xf32>
  %sg = tosa.sigmoid %r : (tensor<8x32xf32>) -> tensor<8x32xf32>
  %o = tosa.mul %r, %sg, %shift : (tensor<8x32xf32>, tensor<8x32xf32>, tensor<1xi8>) -> tensor<8x32xf32>
  return %o : tensor<8x32xf32>
}

// -----

// The same layer exported after .bfloat16(): bf16 everywhere except the
// product, which TOSA's matmul gives in f32 and a tosa.cast rounds; the ReLU
// clamps at the largest bf16. It imports as the f32 layer it rounds.

// CHECK-LABEL: func.func @linear_relu_silu_bf16
// CHECK-SAME: (%[[X:.+]]: tensor<8x16xf32> {mp.input = "input0"}, %[[W:.+]]: tensor<32x16xf32> {mp.param = "param0"}, %[[B:.+]]: tensor<1x32xf32> {mp.param = "param1"}) -> tensor<f32>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[X]], %[[W]] : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
// CHECK-NEXT: %[[RB:.+]] = mp.reshape %[[B]] : tensor<1x32xf32> -> tensor<32xf32>
// CHECK-NEXT: %[[BB:.+]] = mp.broadcast %[[RB]] dims [0] : tensor<32xf32> -> tensor<8x32xf32>
// CHECK-NEXT: %[[S:.+]] = mp.add %[[Y]], %[[BB]] : tensor<8x32xf32>
// CHECK-NEXT: %[[R:.+]] = mp.relu %[[S]] : tensor<8x32xf32>
// CHECK-NEXT: %[[A:.+]] = mp.silu %[[R]] : tensor<8x32xf32>
// CHECK-NEXT: %[[L:.+]] = mp.sum %[[A]] : tensor<8x32xf32> -> tensor<f32>
// CHECK-NEXT: return %[[L]] : tensor<f32>
func.func @linear_relu_silu_bf16(%x: tensor<8x16xbf16>) -> tensor<8x32xbf16> {
  %w = "tosa.const"() <{values = dense_resource<torch_tensor_32_16_torch.bfloat16> : tensor<32x16xbf16>}> : () -> tensor<32x16xbf16>
  %b = "tosa.const"() <{values = dense_resource<torch_tensor_1_32_torch.bfloat16> : tensor<1x32xbf16>}> : () -> tensor<1x32xbf16>
  %zp = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xbf16>}> : () -> tensor<1xbf16>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %wt = tosa.transpose %w {perms = array<i32: 1, 0>} : (tensor<32x16xbf16>) -> tensor<16x32xbf16>
  %s3x = tosa.const_shape {values = dense<[1, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %x3 = tosa.reshape %x, %s3x : (tensor<8x16xbf16>, !tosa.shape<3>) -> tensor<1x8x16xbf16>
  %s3w = tosa.const_shape {values = dense<[1, 16, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %w3 = tosa.reshape %wt, %s3w : (tensor<16x32xbf16>, !tosa.shape<3>) -> tensor<1x16x32xbf16>
  %m = tosa.matmul %x3, %w3, %zp, %zp : (tensor<1x8x16xbf16>, tensor<1x16x32xbf16>, tensor<1xbf16>, tensor<1xbf16>) -> tensor<1x8x32xf32>
  %mc = tosa.cast %m : (tensor<1x8x32xf32>) -> tensor<1x8x32xbf16>
  %s2 = tosa.const_shape {values = dense<[8, 32]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %y = tosa.reshape %mc, %s2 : (tensor<1x8x32xbf16>, !tosa.shape<2>) -> tensor<8x32xbf16>
  %a = tosa.add %y, %b : (tensor<8x32xbf16>, tensor<1x32xbf16>) -> tensor<8x32xbf16>
  %r = tosa.clamp %a {min_val = 0.000000e+00 : bf16, max_val = 3.38953139E+38 : bf16} : (tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %sg = tosa.sigmoid %r : (tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %o = tosa.mul %r, %sg, %shift : (tensor<8x32xbf16>, tensor<8x32xbf16>, tensor<1xi8>) -> tensor<8x32xbf16>
  return %o : tensor<8x32xbf16>
}

// -----

// tosa.reduce_sum keeps the reduced dim; mean as a product with 1/N.
// CHECK-LABEL: func.func @reduce_mean
// CHECK-NEXT: %[[M:.+]] = mp.mean %arg0 dims [1] : tensor<8x32xf32> -> tensor<8xf32>
// CHECK-NEXT: %[[R:.+]] = mp.reshape %[[M]] : tensor<8xf32> -> tensor<8x1xf32>
// CHECK-NEXT: %[[L:.+]] = mp.sum %[[R]] : tensor<8x1xf32> -> tensor<f32>
// CHECK-NEXT: return %[[L]] : tensor<f32>
func.func @reduce_mean(%x: tensor<8x32xf32>) -> tensor<8x1xf32> {
  %n = "tosa.const"() <{values = dense<3.125000e-02> : tensor<1x1xf32>}> : () -> tensor<1x1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %s = tosa.reduce_sum %x {axis = 1 : i32} : (tensor<8x32xf32>) -> tensor<8x1xf32>
  %m = tosa.mul %s, %n, %shift : (tensor<8x1xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<8x1xf32>
  return %m : tensor<8x1xf32>
}
