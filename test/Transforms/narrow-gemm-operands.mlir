// RUN: mp-opt %s -split-input-file --mp-narrow-gemm-operands | FileCheck %s

// A linear's input, read by its forward GEMM and by its weight-gradient
// GEMM, is rounded where it is computed and held in bf16; so is the input
// gradient the two backward GEMMs read (one through a transposed view,
// which moves bf16 then). The forward GEMM reads both operands in bf16 (a
// native bf16 GEMM).
// CHECK-LABEL: func.func @linear_input
// CHECK-NEXT: %[[H:.+]] = mp.silu %arg0 : tensor<4x16xf32>
// CHECK-NEXT: %[[N:.+]] = mp.convert %[[H]] : tensor<4x16xf32> -> tensor<4x16xbf16>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[N]], %arg1 precision <bf16> : (tensor<4x16xbf16>, tensor<8x16xbf16>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[D:.+]] = mp.relu %arg2 : tensor<4x8xf32>
// CHECK-NEXT: %[[ND:.+]] = mp.convert %[[D]] : tensor<4x8xf32> -> tensor<4x8xbf16>
// CHECK-NEXT: %[[T:.+]] = mp.transpose %[[ND]] perm [1, 0] : tensor<4x8xbf16> -> tensor<8x4xbf16>
// CHECK-NEXT: %[[DW:.+]] = mp.matmul %[[T]], %[[N]] precision <bf16> : (tensor<8x4xbf16>, tensor<4x16xbf16>) -> tensor<8x16xf32>
// CHECK-NEXT: %[[DX:.+]] = mp.matmul %[[ND]], %arg1 precision <bf16> : (tensor<4x8xbf16>, tensor<8x16xbf16>) -> tensor<4x16xf32>
// CHECK-NEXT: return %[[Y]], %[[DW]], %[[DX]]
func.func @linear_input(%u: tensor<4x16xf32>, %w: tensor<8x16xbf16>, %g: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) {
  %h = mp.silu %u : tensor<4x16xf32>
  %y = mp.linear %h, %w precision <bf16> : (tensor<4x16xf32>, tensor<8x16xbf16>) -> tensor<4x8xf32>
  %d = mp.relu %g : tensor<4x8xf32>
  %t = mp.transpose %d perm [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %dw = mp.matmul %t, %h precision <bf16> : (tensor<8x4xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  %dx = mp.matmul %d, %w precision <bf16> : (tensor<4x8xf32>, tensor<8x16xbf16>) -> tensor<4x16xf32>
  return %y, %dw, %dx : tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>
}

// -----

// Read through a reshape (attention's output, heads merged), the value is
// rounded before the reshape, which then moves bf16; a transpose that is
// computed (not the last two dims) is a value of its own, rounded after.
// CHECK-LABEL: func.func @through_views
// CHECK-NEXT: %[[E:.+]] = mp.exp %arg0 : tensor<2x4x8xf32>
// CHECK-NEXT: %[[N:.+]] = mp.convert %[[E]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[R:.+]] = mp.reshape %[[N]] : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
// CHECK-NEXT: mp.linear %[[R]], %arg1 precision <bf16> : (tensor<8x8xbf16>, tensor<4x8xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: %[[P:.+]] = mp.transpose %arg0 perm [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
// CHECK-NEXT: %[[NP:.+]] = mp.convert %[[P]] : tensor<4x2x8xf32> -> tensor<4x2x8xbf16>
// CHECK-NEXT: mp.matmul %[[NP]], %arg2 precision <bf16> : (tensor<4x2x8xbf16>, tensor<8x8xf32>) -> tensor<4x2x8xf32>
func.func @through_views(%a: tensor<2x4x8xf32>, %w: tensor<4x8xf32>, %v: tensor<8x8xf32>) -> (tensor<8x4xf32>, tensor<4x2x8xf32>) {
  %e = mp.exp %a : tensor<2x4x8xf32>
  %r = mp.reshape %e : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %y = mp.linear %r, %w precision <bf16> : (tensor<8x8xf32>, tensor<4x8xf32>) -> tensor<8x4xf32>
  %p = mp.transpose %a perm [1, 0, 2] : tensor<2x4x8xf32> -> tensor<4x2x8xf32>
  %z = mp.matmul %p, %v precision <bf16> : (tensor<4x2x8xf32>, tensor<8x8xf32>) -> tensor<4x2x8xf32>
  return %y, %z : tensor<8x4xf32>, tensor<4x2x8xf32>
}

// -----

// Kept in float32: a value another op reads too (the residual stream), a
// GEMM in another precision reads, the function returns; arguments (their
// buffers live on anyway) and constants.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: mp.convert %{{.*}} -> {{.*}}bf16
// CHECK: return
func.func @kept(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>) -> (tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %h = mp.relu %x : tensor<4x16xf32>
  %y = mp.linear %h, %w precision <bf16> : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %s = mp.add %h, %x : tensor<4x16xf32>
  %e = mp.exp %x : tensor<4x16xf32>
  %z = mp.linear %e, %w precision <fp32> : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %t = mp.tanh %x : tensor<4x16xf32>
  %u = mp.linear %t, %w precision <bf16> : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %c = arith.constant dense<1.0> : tensor<4x16xf32>
  %v = mp.linear %c, %w precision <bf16> : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %q = mp.linear %x, %w precision <bf16> : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y, %s, %z, %t, %v, %q : tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A bf16 value widened to f32 for GEMMs that round it back (through a
// reshape) is read as it is: the widening goes.
// CHECK-LABEL: func.func @widened
// CHECK-NEXT: %[[R:.+]] = mp.reshape %arg0 : tensor<2x2x16xbf16> -> tensor<4x16xbf16>
// CHECK-NEXT: mp.linear %[[R]], %arg1 precision <bf16> : (tensor<4x16xbf16>, tensor<8x16xf32>) -> tensor<4x8xf32>
func.func @widened(%b: tensor<2x2x16xbf16>, %w: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %wide = mp.convert %b : tensor<2x2x16xbf16> -> tensor<2x2x16xf32>
  %r = mp.reshape %wide : tensor<2x2x16xf32> -> tensor<4x16xf32>
  %y = mp.linear %r, %w precision <bf16> : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
