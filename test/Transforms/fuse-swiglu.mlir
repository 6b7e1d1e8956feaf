// RUN: mp-opt %s --mp-fuse-swiglu -split-input-file | FileCheck %s

// A Llama feed-forward's silu(w1(x)) * w3(x).
// CHECK-LABEL: func.func @feed_forward
// CHECK-NOT: mp.silu
// CHECK: %[[G:.+]] = mp.linear %arg0, %arg1
// CHECK: %[[U:.+]] = mp.linear %arg0, %arg2
// CHECK: %[[Y:.+]] = mp.swiglu %[[G]], %[[U]] : tensor<2x8x16xf32>
// CHECK-NOT: mp.mul
// CHECK: mp.linear %[[Y]], %arg3
func.func @feed_forward(%x: tensor<2x8x4xf32>, %w1: tensor<16x4xf32>, %w3: tensor<16x4xf32>, %w2: tensor<4x16xf32>) -> tensor<2x8x4xf32> {
  %g = mp.linear %x, %w1 : (tensor<2x8x4xf32>, tensor<16x4xf32>) -> tensor<2x8x16xf32>
  %u = mp.linear %x, %w3 : (tensor<2x8x4xf32>, tensor<16x4xf32>) -> tensor<2x8x16xf32>
  %s = mp.silu %g : tensor<2x8x16xf32>
  %y = mp.mul %s, %u : tensor<2x8x16xf32>
  %out = mp.linear %y, %w2 : (tensor<2x8x16xf32>, tensor<4x16xf32>) -> tensor<2x8x4xf32>
  return %out : tensor<2x8x4xf32>
}

// -----

// silu on the right of the product: the same op (the product commutes).
// CHECK-LABEL: func.func @silu_on_the_right
// CHECK-NEXT: %[[Y:.+]] = mp.swiglu %arg0, %arg1 : tensor<4x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @silu_on_the_right(%gate: tensor<4x8xf32>, %up: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = mp.silu %gate : tensor<4x8xf32>
  %y = mp.mul %up, %s : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// silu's value read elsewhere too: it would be computed anyway, so the pair
// stays.
// CHECK-LABEL: func.func @silu_read_twice
// CHECK: mp.silu
// CHECK: mp.mul
// CHECK-NOT: mp.swiglu
func.func @silu_read_twice(%gate: tensor<4x8xf32>, %up: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %s = mp.silu %gate : tensor<4x8xf32>
  %y = mp.mul %s, %up : tensor<4x8xf32>
  return %y, %s : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// silu of both factors: the left one is fused, the right one stays.
// CHECK-LABEL: func.func @silu_of_both
// CHECK-NEXT: %[[S:.+]] = mp.silu %arg1
// CHECK-NEXT: %[[Y:.+]] = mp.swiglu %arg0, %[[S]] : tensor<4x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @silu_of_both(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sa = mp.silu %a : tensor<4x8xf32>
  %sb = mp.silu %b : tensor<4x8xf32>
  %y = mp.mul %sa, %sb : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Not float32: the runtime's elementwise kernels are float32's.
// CHECK-LABEL: func.func @bf16
// CHECK: mp.silu
// CHECK: mp.mul
// CHECK-NOT: mp.swiglu
func.func @bf16(%gate: tensor<4x8xbf16>, %up: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %s = mp.silu %gate : tensor<4x8xbf16>
  %y = mp.mul %s, %up : tensor<4x8xbf16>
  return %y : tensor<4x8xbf16>
}
