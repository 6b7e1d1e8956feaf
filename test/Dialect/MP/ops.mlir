// RUN: mp-opt %s | FileCheck %s
// RUN: mp-opt %s | mp-opt | FileCheck %s
// RUN: mp-opt %s --mlir-print-op-generic | mp-opt | FileCheck %s

// CHECK: mp.mesh @mesh = <dp = 2, tp = 2>{{$}}
mp.mesh @mesh = <dp = 2, tp = 2>

// CHECK-LABEL: func.func @gemms
func.func @gemms(%x: tensor<8x16xf32>, %x3: tensor<2x4x16xf32>, %w: tensor<32x16xf32>,
                 %a: tensor<4x8x16xbf16>, %b: tensor<4x16x32xbf16>, %r: tensor<16x32xbf16>) {
  // CHECK-NEXT: mp.linear %arg0, %arg2 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %0 = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: mp.linear %arg1, %arg2 : (tensor<2x4x16xf32>, tensor<32x16xf32>) -> tensor<2x4x32xf32>
  %1 = mp.linear %x3, %w : (tensor<2x4x16xf32>, tensor<32x16xf32>) -> tensor<2x4x32xf32>
  // CHECK-NEXT: mp.matmul %arg3, %arg4 : (tensor<4x8x16xbf16>, tensor<4x16x32xbf16>) -> tensor<4x8x32xbf16>
  %2 = mp.matmul %a, %b : (tensor<4x8x16xbf16>, tensor<4x16x32xbf16>) -> tensor<4x8x32xbf16>
  // CHECK-NEXT: mp.matmul %arg3, %arg5 : (tensor<4x8x16xbf16>, tensor<16x32xbf16>) -> tensor<4x8x32xbf16>
  %3 = mp.matmul %a, %r : (tensor<4x8x16xbf16>, tensor<16x32xbf16>) -> tensor<4x8x32xbf16>
  return
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<8x16xf32>, %y: tensor<8x16xf32>, %h: tensor<4xf16>, %d: tensor<2x2xf64>) {
  // CHECK-NEXT: mp.add %arg0, %arg1 : tensor<8x16xf32>
  %0 = mp.add %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.sub %arg0, %arg1 : tensor<8x16xf32>
  %1 = mp.sub %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.mul %arg0, %arg1 : tensor<8x16xf32>
  %2 = mp.mul %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.div %arg0, %arg1 : tensor<8x16xf32>
  %3 = mp.div %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.neg %arg2 : tensor<4xf16>
  %4 = mp.neg %h : tensor<4xf16>
  // CHECK-NEXT: mp.exp %arg3 : tensor<2x2xf64>
  %5 = mp.exp %d : tensor<2x2xf64>
  // CHECK-NEXT: mp.relu %arg0 : tensor<8x16xf32>
  %6 = mp.relu %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.sigmoid %arg0 : tensor<8x16xf32>
  %7 = mp.sigmoid %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.silu %arg0 : tensor<8x16xf32>
  %8 = mp.silu %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.gelu %arg0 : tensor<8x16xf32>
  %9 = mp.gelu %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.gelu %arg0 tanh : tensor<8x16xf32>
  %10 = mp.gelu %x tanh : tensor<8x16xf32>
  // CHECK-NEXT: mp.scale %arg0 by 5.000000e-01 : tensor<8x16xf32>
  %11 = mp.scale %x by 0.5 : tensor<8x16xf32>
  return
}

// CHECK-LABEL: func.func @reductions_and_layout
func.func @reductions_and_layout(%x: tensor<2x4x8xf32>) {
  // CHECK-NEXT: mp.sum %arg0 : tensor<2x4x8xf32> -> tensor<f32>
  %0 = mp.sum %x : tensor<2x4x8xf32> -> tensor<f32>
  // CHECK-NEXT: mp.sum %arg0 dims [0, 2] : tensor<2x4x8xf32> -> tensor<4xf32>
  %1 = mp.sum %x dims [0, 2] : tensor<2x4x8xf32> -> tensor<4xf32>
  // CHECK-NEXT: mp.mean %arg0 : tensor<2x4x8xf32> -> tensor<f32>
  %2 = mp.mean %x : tensor<2x4x8xf32> -> tensor<f32>
  // CHECK-NEXT: mp.mean %arg0 dims [1] : tensor<2x4x8xf32> -> tensor<2x8xf32>
  %3 = mp.mean %x dims [1] : tensor<2x4x8xf32> -> tensor<2x8xf32>
  // CHECK-NEXT: mp.reshape %arg0 : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %4 = mp.reshape %x : tensor<2x4x8xf32> -> tensor<8x8xf32>
  // CHECK-NEXT: mp.transpose %arg0 perm [2, 0, 1] : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
  %5 = mp.transpose %x perm [2, 0, 1] : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
  return
}

// CHECK-LABEL: func.func @losses
func.func @losses(%p: tensor<8x4xf32>, %t: tensor<8x4xf32>, %logits: tensor<2x8x10xf32>,
                  %l64: tensor<2x8xi64>, %l32: tensor<2x8xi32>) {
  // CHECK-NEXT: mp.mse_loss %arg0, %arg1 : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  %0 = mp.mse_loss %p, %t : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  // CHECK-NEXT: mp.mse_loss %arg0, %arg1 reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  %1 = mp.mse_loss %p, %t reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  // CHECK-NEXT: mp.cross_entropy %arg2, %arg3 : (tensor<2x8x10xf32>, tensor<2x8xi64>) -> tensor<f32>
  %2 = mp.cross_entropy %logits, %l64 : (tensor<2x8x10xf32>, tensor<2x8xi64>) -> tensor<f32>
  // CHECK-NEXT: mp.cross_entropy %arg2, %arg4 reduction sum : (tensor<2x8x10xf32>, tensor<2x8xi32>) -> tensor<f32>
  %3 = mp.cross_entropy %logits, %l32 reduction sum : (tensor<2x8x10xf32>, tensor<2x8xi32>) -> tensor<f32>
  return
}

// CHECK-LABEL: func.func @annotations
func.func @annotations(%x: tensor<8x16xf32>) {
  // CHECK-NEXT: mp.annotate %arg0 <@mesh, {{\[}}[dp], [tp]]> : tensor<8x16xf32>
  %0 = mp.annotate %x <@mesh, [[dp], [tp]]> : tensor<8x16xf32>
  // CHECK-NEXT: mp.annotate %arg0 <@mesh, {{\[}}[tp, dp], []]> entry "fsdp(dp): w1" : tensor<8x16xf32>
  %1 = mp.annotate %x <@mesh, [[tp, dp], []]> entry "fsdp(dp): w1" : tensor<8x16xf32>
  return
}
