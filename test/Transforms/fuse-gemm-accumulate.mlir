// RUN: mp-opt %s --mp-fuse-gemm-accumulate -split-input-file | FileCheck %s

// The normed input's gradient in an attention block: three products summed.
// Each later product adds into the sum so far, where it was computed.
// CHECK-LABEL: func.func @three_products
// CHECK-NEXT: %[[Q:.+]] = mp.linear %arg0, %arg3 :
// CHECK-NEXT: %[[K:.+]] = mp.linear %arg1, %arg4 accumulate %[[Q]] : (tensor<8x16xf32>, tensor<16x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
// CHECK-NEXT: %[[V:.+]] = mp.linear %arg2, %arg5 accumulate %[[K]] :
// CHECK-NEXT: return %[[V]]
func.func @three_products(%dq: tensor<8x16xf32>, %dk: tensor<8x16xf32>, %dv: tensor<8x16xf32>,
                          %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>) -> tensor<8x16xf32> {
  %q = mp.linear %dq, %wq : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %k = mp.linear %dk, %wk : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %s = mp.add %q, %k : tensor<8x16xf32>
  %v = mp.linear %dv, %wv : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %t = mp.add %v, %s : tensor<8x16xf32>
  return %t : tensor<8x16xf32>
}

// -----

// A running sum computed after the product: the fused GEMM runs at the add,
// once the sum exists. A scaled batched product keeps its scale, which
// multiplies the product alone.
// CHECK-LABEL: func.func @sum_after_product
// CHECK-NEXT: %[[G:.+]] = mp.neg %arg2
// CHECK-NEXT: %[[S:.+]] = mp.matmul %arg0, %arg1 accumulate %[[G]] scale 5.000000e-01 : (tensor<2x4x8xf32>, tensor<2x8x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
// CHECK-NEXT: return %[[S]]
func.func @sum_after_product(%a: tensor<2x4x8xf32>, %b: tensor<2x8x4xf32>, %g: tensor<2x4x4xf32>) -> tensor<2x4x4xf32> {
  %p = mp.matmul %a, %b scale 5.000000e-01 : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  %n = mp.neg %g : tensor<2x4x4xf32>
  %s = mp.add %n, %p : tensor<2x4x4xf32>
  return %s : tensor<2x4x4xf32>
}

// -----

// A sum read again later keeps its buffer, and a product read twice is
// needed whole: neither add is fused.
// CHECK-LABEL: func.func @read_again
// CHECK-COUNT-2: mp.add
// CHECK-NOT: accumulate
func.func @read_again(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %g: tensor<8x16xf32>)
    -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %n = mp.neg %g : tensor<8x16xf32>
  %p = mp.linear %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %s = mp.add %p, %n : tensor<8x16xf32>
  %r = mp.linear %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %m = mp.neg %g : tensor<8x16xf32>
  %t = mp.add %r, %m : tensor<8x16xf32>
  return %s, %n, %r : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// A GEMM that already accumulates adds nothing more; bfloat16 sums are not
// what GEMMs sum into.
// CHECK-LABEL: func.func @not_fused
// CHECK: mp.add
// CHECK: mp.add
func.func @not_fused(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %g: tensor<8x16xf32>, %h: tensor<8x16xf32>,
                     %a: tensor<8x16xbf16>, %b: tensor<16x16xbf16>, %c: tensor<8x16xbf16>)
    -> (tensor<8x16xf32>, tensor<8x16xbf16>) {
  %p = mp.linear %x, %w accumulate %g : (tensor<8x16xf32>, tensor<16x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %s = mp.add %p, %h : tensor<8x16xf32>
  %q = mp.linear %a, %b : (tensor<8x16xbf16>, tensor<16x16xbf16>) -> tensor<8x16xbf16>
  %t = mp.add %q, %c : tensor<8x16xbf16>
  return %s, %t : tensor<8x16xf32>, tensor<8x16xbf16>
}
