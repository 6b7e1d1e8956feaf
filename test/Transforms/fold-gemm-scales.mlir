// RUN: mp-opt %s -split-input-file --mp-fold-gemm-scales | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-fold-gemm-scales="inexact=true" | FileCheck %s --check-prefix=INEXACT

// Attention's scale on the scores (after Q·Kᵀ) and on their gradient
// (read by the query and key gradient GEMMs, one through a transposed
// view of the other operand) becomes the GEMMs' alpha.
// CHECK-LABEL: func.func @attention
// CHECK-NEXT: %[[S:.+]] = mp.matmul %arg0, %arg1 scale 1.250000e-01 precision <bf16> : (tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<2x8x8xf32>
// CHECK-NEXT: %[[P:.+]] = mp.softmax %[[S]] causal : tensor<2x8x8xf32>
// CHECK-NEXT: %[[DS:.+]] = mp.softmax_grad %[[P]], %arg2 : tensor<2x8x8xf32>
// CHECK-NEXT: %[[DQ:.+]] = mp.matmul %[[DS]], %arg3 scale 1.250000e-01 : (tensor<2x8x8xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
// CHECK-NEXT: %[[T:.+]] = mp.transpose %arg0 perm [0, 2, 1]
// CHECK-NEXT: %[[DK:.+]] = mp.matmul %[[T]], %[[DS]] scale 1.250000e-01 : (tensor<2x4x8xf32>, tensor<2x8x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT: return %[[P]], %[[DQ]], %[[DK]]
func.func @attention(%q: tensor<2x8x4xf32>, %kt: tensor<2x4x8xf32>, %dp: tensor<2x8x8xf32>, %k: tensor<2x8x4xf32>) -> (tensor<2x8x8xf32>, tensor<2x8x4xf32>, tensor<2x4x8xf32>) {
  %s = mp.matmul %q, %kt precision <bf16> : (tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<2x8x8xf32>
  %scaled = mp.scale %s by 0.125 : tensor<2x8x8xf32>
  %p = mp.softmax %scaled causal : tensor<2x8x8xf32>
  %g = mp.softmax_grad %p, %dp : tensor<2x8x8xf32>
  %ds = mp.scale %g by 0.125 : tensor<2x8x8xf32>
  %dq = mp.matmul %ds, %k : (tensor<2x8x8xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %qt = mp.transpose %q perm [0, 2, 1] : tensor<2x8x4xf32> -> tensor<2x4x8xf32>
  %dk = mp.matmul %qt, %ds : (tensor<2x4x8xf32>, tensor<2x8x8xf32>) -> tensor<2x4x8xf32>
  return %p, %dq, %dk : tensor<2x8x8xf32>, tensor<2x8x4xf32>, tensor<2x4x8xf32>
}

// -----

// Scales multiply: a GEMM already scaled by 4, then halved twice (1: no
// scale is left), a GEMM that reads the scaled value as both operands
// (the square), a negative power of two.
// CHECK-LABEL: func.func @combined
// CHECK-NEXT: %[[A:.+]] = mp.matmul %arg0, %arg1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[B:.+]] = mp.matmul %arg0, %arg0 scale 2.500000e-01 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[C:.+]] = mp.matmul %arg0, %arg1 scale -2.000000e+00 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: return %[[A]], %[[B]], %[[C]]
func.func @combined(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %m = mp.matmul %a, %b scale 4.0 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %s1 = mp.scale %m by 0.5 : tensor<4x4xf32>
  %s2 = mp.scale %s1 by 0.5 : tensor<4x4xf32>
  %h = mp.scale %a by 0.5 : tensor<4x4xf32>
  %sq = mp.matmul %h, %h : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %n = mp.matmul %a, %b : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %neg = mp.scale %n by -2.0 : tensor<4x4xf32>
  return %s2, %sq, %neg : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// Kept: a product something else reads too, a scaled value something
// other than a GEMM reads, a scale of no GEMM, a linear's product, and a
// factor that is no power of two (unless inexact, which folds the two it
// can: 1/sqrt(8), and 3 into the GEMM that is the scale's only reader).
// CHECK-LABEL: func.func @kept
// CHECK-NEXT: %[[M:.+]] = mp.matmul %arg0, %arg1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: mp.scale %[[M]] by 5.000000e-01
// CHECK-NEXT: %[[H:.+]] = mp.scale %arg0 by 5.000000e-01
// CHECK-NEXT: mp.matmul %[[H]], %arg1 :
// CHECK-NEXT: mp.exp %[[H]]
// CHECK-NEXT: mp.scale %arg1 by 2.000000e+00
// CHECK-NEXT: %[[L:.+]] = mp.linear %arg0, %arg1
// CHECK-NEXT: mp.scale %[[L]] by 5.000000e-01
// CHECK-NEXT: %[[R:.+]] = mp.matmul %arg0, %arg1 :
// CHECK-NEXT: mp.scale %[[R]] by 0.35355339059327379
// CHECK-NEXT: %[[T:.+]] = mp.scale %arg0 by 3.000000e+00
// CHECK-NEXT: mp.matmul %[[T]], %arg1 :
// INEXACT-LABEL: func.func @kept
// INEXACT: mp.matmul %arg0, %arg1 scale 0.35355339059327379 :
// INEXACT-NEXT: mp.matmul %arg0, %arg1 scale 3.000000e+00 :
// INEXACT-NEXT: return
func.func @kept(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %m = mp.matmul %a, %b : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = mp.scale %m by 0.5 : tensor<4x4xf32>
  %h = mp.scale %a by 0.5 : tensor<4x4xf32>
  %g = mp.matmul %h, %b : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %e = mp.exp %h : tensor<4x4xf32>
  %d = mp.scale %b by 2.0 : tensor<4x4xf32>
  %l = mp.linear %a, %b : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %ls = mp.scale %l by 0.5 : tensor<4x4xf32>
  %r = mp.matmul %a, %b : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %rs = mp.scale %r by 0.35355339059327379 : tensor<4x4xf32>
  %t = mp.scale %a by 3.0 : tensor<4x4xf32>
  %tm = mp.matmul %t, %b : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m, %s, %g, %e, %d, %ls, %rs, %tm, %h : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// A factor whose product with the GEMM's scale leaves float32's range
// (the runtime's alpha) stays a scale of its own.
// CHECK-LABEL: func.func @out_of_range
// CHECK-NEXT: %[[M:.+]] = mp.matmul %arg0, %arg1 scale 1.000000e+30 :
// CHECK-NEXT: mp.scale %[[M]] by 1.000000e+30
// INEXACT-LABEL: func.func @out_of_range
// INEXACT-NEXT: mp.matmul
// INEXACT-NEXT: mp.scale
func.func @out_of_range(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = mp.matmul %a, %b scale 1.0e+30 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = mp.scale %m by 1.0e+30 : tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}
