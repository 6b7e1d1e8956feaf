// RUN: mp-opt %s | FileCheck %s
// RUN: mp-opt %s | mp-opt | FileCheck %s
// RUN: mp-opt %s --mlir-print-op-generic | mp-opt | FileCheck %s

// CHECK-LABEL: func.func @training_ops
func.func @training_ops(%x: tensor<8x10xf32>, %labels: tensor<8xi64>, %s: tensor<f32>, %v: tensor<10xf32>) {
  // CHECK-NEXT: mp.step %arg0 : tensor<8x10xf32>
  %0 = mp.step %x : tensor<8x10xf32>
  // CHECK-NEXT: mp.broadcast %arg3 dims [0] : tensor<10xf32> -> tensor<8x10xf32>
  %1 = mp.broadcast %v dims [0] : tensor<10xf32> -> tensor<8x10xf32>
  // CHECK-NEXT: mp.broadcast %arg2 dims [0, 1] : tensor<f32> -> tensor<8x10xf32>
  %2 = mp.broadcast %s dims [0, 1] : tensor<f32> -> tensor<8x10xf32>
  // CHECK-NEXT: mp.gelu_grad %{{.+}}, %arg0 : tensor<8x10xf32>
  %3 = mp.gelu_grad %2, %x : tensor<8x10xf32>
  // CHECK-NEXT: mp.gelu_grad %{{.+}}, %arg0 tanh : tensor<8x10xf32>
  %4 = mp.gelu_grad %2, %x tanh : tensor<8x10xf32>
  // CHECK-NEXT: mp.silu_grad %{{.+}}, %arg0 : tensor<8x10xf32>
  %silu = mp.silu_grad %2, %x : tensor<8x10xf32>
  // CHECK-NEXT: %gate_grad, %up_grad = mp.swiglu_grad %{{.+}}, %arg0, %arg0 : tensor<8x10xf32>
  %swiglu:2 = mp.swiglu_grad %2, %x, %x : tensor<8x10xf32>
  // CHECK-NEXT: mp.cross_entropy_grad %arg0, %arg1, %arg2 scale 1.250000e-01 : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
  %5 = mp.cross_entropy_grad %x, %labels, %s scale 0.125 : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
  // CHECK-NEXT: mp.cross_entropy_grad %arg0, %arg1, %arg2 scale 1.000000e+00 ignore_index -100 : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
  %ignored = mp.cross_entropy_grad %x, %labels, %s scale 1.0 ignore_index -100 : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
  // CHECK-NEXT: mp.clip_coefficient %arg2 max_norm 1.000000e+00 : tensor<f32>
  %6 = mp.clip_coefficient %s max_norm 1.0 : tensor<f32>
  // CHECK-NEXT: mp.sgd %arg0, %{{.+}} {lr = 1.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<8x10xf32>
  %7 = mp.sgd %x, %3 {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<8x10xf32>
  // CHECK-NEXT: mp.sgd_momentum %arg0, %{{.+}}, %{{.+}} {dampening = 0.000000e+00 : f64, lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, nesterov, weight_decay = 0.000000e+00 : f64} : tensor<8x10xf32>
  %8:2 = mp.sgd_momentum %x, %3, %4 {dampening = 0.0 : f64, lr = 0.1 : f64, momentum = 0.9 : f64, nesterov, weight_decay = 0.0 : f64} : tensor<8x10xf32>
  // CHECK-NEXT: mp.adamw %arg0, %{{.+}}, %{{.+}}, %{{.+}}, %arg2 {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, lr = 3.000000e-03 : f64, weight_decay = 1.000000e-02 : f64} : tensor<8x10xf32>, tensor<f32>
  %9:3 = mp.adamw %x, %3, %4, %1, %s {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 3.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<8x10xf32>, tensor<f32>
  // CHECK-NEXT: %[[SQ:.+]] = mp.squared_norm %arg0 : tensor<8x10xf32>
  %10 = mp.squared_norm %x : tensor<8x10xf32>
  // CHECK-NEXT: mp.sgd %arg0, %{{.+}} grad_scale %[[SQ]] {lr = 1.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<8x10xf32>
  %11 = mp.sgd %x, %3 grad_scale %10 {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<8x10xf32>
  // CHECK-NEXT: mp.sgd_momentum %arg0, %{{.+}}, %{{.+}} grad_scale %arg2 {dampening = 0.000000e+00 : f64, lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<8x10xf32>
  %12:2 = mp.sgd_momentum %x, %3, %4 grad_scale %s {dampening = 0.0 : f64, lr = 0.1 : f64, momentum = 0.9 : f64, weight_decay = 0.0 : f64} : tensor<8x10xf32>
  // CHECK-NEXT: mp.adamw %arg0, %{{.+}}, %{{.+}}, %{{.+}}, %arg2 grad_scale %arg2 {beta1
  %13:3 = mp.adamw %x, %3, %4, %1, %s grad_scale %s {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 3.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<8x10xf32>, tensor<f32>
  return
}
