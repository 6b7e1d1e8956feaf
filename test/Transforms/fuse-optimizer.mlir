// RUN: mp-opt %s -split-input-file --mp-fuse-optimizer | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-fuse-optimizer --mp-lower-to-runtime | FileCheck %s --check-prefix=LOWERED
// RUN: mp-opt %mp_src_root/examples/ffn/ffn.mlir --mp-train-step="optimizer=sgd momentum=0.9 nesterov=true max-grad-norm=1.0" --mp-fuse-optimizer --mp-lower-to-runtime | FileCheck %s --check-prefix=SGD
// RUN: mp-opt %mp_src_root/examples/ffn/ffn.mlir --mp-train-step="optimizer=adamw max-grad-norm=1.0" --mp-fuse-optimizer | FileCheck %s --check-prefix=CLIP
// RUN: mp-opt %mp_src_root/examples/ffn/ffn.mlir --mp-train-step="optimizer=adamw max-grad-norm=1.0" --mp-fuse-optimizer --mp-lower-to-runtime | FileCheck %s --check-prefix=CLIP-LOWERED

// The updates of w1 and w2, returned only, move to the end, adjacent; the
// update whose new parameter another op reads stays.
// CHECK-LABEL: func.func @step
// CHECK: mp.adamw %arg2
// CHECK: mp.relu
// CHECK-NEXT: mp.adamw %arg0
// CHECK-NEXT: mp.adamw %arg1
// CHECK-NEXT: return
// The two adjacent updates are one call over two tensors of 8 and 4
// elements; the third stays an update of its own.
// LOWERED-LABEL: func.func @step
// LOWERED: call @mp_adamw_f32(
// LOWERED: call @mp_adamw_multi_f32(%{{.*}}, %c2_i32,
// LOWERED-NOT: call @mp_adamw_f32(
// LOWERED: return
func.func @step(%w1: tensor<8xf32> {mp.param = "w1"}, %w2: tensor<4xf32> {mp.param = "w2"},
                %w3: tensor<4xf32> {mp.param = "w3"},
                %m1: tensor<8xf32> {mp.state = "w1.exp_avg"}, %v1: tensor<8xf32> {mp.state = "w1.exp_avg_sq"},
                %m2: tensor<4xf32> {mp.state = "w2.exp_avg"}, %v2: tensor<4xf32> {mp.state = "w2.exp_avg_sq"},
                %m3: tensor<4xf32> {mp.state = "w3.exp_avg"}, %v3: tensor<4xf32> {mp.state = "w3.exp_avg_sq"},
                %step: tensor<f32> {mp.state = "step"}, %g: tensor<8xf32> {mp.input = "g"})
    -> (tensor<8xf32> {mp.output = "w1"}, tensor<4xf32> {mp.output = "w2"}, tensor<4xf32> {mp.output = "r"},
        tensor<8xf32> {mp.output = "w1.exp_avg"}, tensor<8xf32> {mp.output = "w1.exp_avg_sq"},
        tensor<4xf32> {mp.output = "w2.exp_avg"}, tensor<4xf32> {mp.output = "w2.exp_avg_sq"}) {
  %p1, %n1, %s1 = mp.adamw %w1, %g, %m1, %v1, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<8xf32>, tensor<f32>
  %h = mp.relu %w2 : tensor<4xf32>
  %p2, %n2, %s2 = mp.adamw %w2, %h, %m2, %v2, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<4xf32>, tensor<f32>
  %p3, %n3, %s3 = mp.adamw %w3, %h, %m3, %v3, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<4xf32>, tensor<f32>
  %r = mp.relu %p3 : tensor<4xf32>
  return %p1, %p2, %r, %n1, %s1, %n2, %s2 : tensor<8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4xf32>, tensor<4xf32>
}

// SGD with momentum: the FFN's three updates, one call with their momentum
// buffers, Nesterov and the clipping coefficient. (Without clipping, its
// weight gradients of 8 rows are computed by their updates, each alone:
// Conversion/MPToRuntime/gradient-in-update.mlir.)
// SGD-LABEL: func.func @ffn_train_step
// SGD: call @mp_sgd_multi_f32(%{{.*}}, %c3_i32, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c1_i32, %{{.*}})
// SGD-NOT: call @mp_sgd_f32(

// Gradient clipping: each gradient times the broadcast coefficient feeds
// one update only, so every update takes the unscaled gradient and the
// coefficient, and no product or broadcast is left.
// CLIP-LABEL: func.func @ffn_train_step
// CLIP: %[[COEF:.*]] = mp.clip_coefficient
// CLIP-NOT: mp.broadcast %[[COEF]]
// CLIP-NOT: mp.mul %{{.*}}, %{{.*}} : tensor<8192x8192xf32>
// CLIP-COUNT-3: mp.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} grad_scale %[[COEF]]
// CLIP-NEXT: return
// The three updates share the step and the scale: one call, whose last
// argument is the coefficient's buffer.
// CLIP-LOWERED-LABEL: func.func @ffn_train_step
// CLIP-LOWERED: call @mp_clip_coefficient_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[COEF:[0-9]+]])
// CLIP-LOWERED: call @mp_adamw_multi_f32(%{{.*}}, %c3_i32, {{.*}}, %[[COEF]])
// CLIP-LOWERED-NOT: call @mp_adamw_f32(

// -----

// What folds: a product by a broadcast scalar, by a splat constant (made a
// rank-0 constant), or by a rank-0 tensor; the scale keeps updates with
// other scales (or none) out of one call.
// CHECK-LABEL: func.func @fold_scales
// CHECK-DAG: %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: mp.sgd %arg0, %arg4 grad_scale %arg6 {
// CHECK-DAG: mp.sgd_momentum %arg1, %arg4, %arg3 grad_scale %[[HALF]] {
// CHECK-DAG: mp.adamw %arg2, %arg5, %arg7, %arg8, %arg6 grad_scale %arg6 {
// CHECK-NOT: mp.mul
// CHECK-NOT: mp.broadcast
// LOWERED-LABEL: func.func @fold_scales
// LOWERED-COUNT-2: call @mp_sgd_f32(
// LOWERED: call @mp_adamw_f32(
func.func @fold_scales(%w1: tensor<8xf32> {mp.param = "w1"}, %w2: tensor<8xf32> {mp.param = "w2"},
                       %w3: tensor<f32> {mp.param = "w3"},
                       %buf: tensor<8xf32> {mp.state = "w2.momentum_buffer"},
                       %g: tensor<8xf32> {mp.input = "g"}, %g3: tensor<f32> {mp.input = "g3"},
                       %s: tensor<f32> {mp.input = "s"},
                       %m3: tensor<f32> {mp.state = "w3.exp_avg"}, %v3: tensor<f32> {mp.state = "w3.exp_avg_sq"})
    -> (tensor<8xf32> {mp.output = "w1"}, tensor<8xf32> {mp.output = "w2"}, tensor<8xf32> {mp.output = "w2.momentum_buffer"},
        tensor<f32> {mp.output = "w3"}, tensor<f32> {mp.output = "w3.exp_avg"}, tensor<f32> {mp.output = "w3.exp_avg_sq"}) {
  %spread = mp.broadcast %s dims [0] : tensor<f32> -> tensor<8xf32>
  %g1 = mp.mul %g, %spread : tensor<8xf32>
  %p1 = mp.sgd %w1, %g1 {lr = 1.0e-1 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>
  %half = arith.constant dense<0.5> : tensor<8xf32>
  %g2 = mp.mul %half, %g : tensor<8xf32>
  %p2, %b2 = mp.sgd_momentum %w2, %g2, %buf {lr = 1.0e-1 : f64, momentum = 0.9 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>
  %g3s = mp.mul %g3, %s : tensor<f32>
  %p3, %n3, %q3 = mp.adamw %w3, %g3s, %m3, %v3, %s {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<f32>, tensor<f32>
  return %p1, %p2, %b2, %p3, %n3, %q3 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// What stays: a product read elsewhere too, and a product by a tensor that
// is not one repeated scalar.
// CHECK-LABEL: func.func @keep_products
// CHECK: %[[SHARED:.*]] = mp.mul %arg3, %{{.*}}
// CHECK: %[[VARYING:.*]] = mp.mul %arg3, %arg4
// CHECK: mp.sgd %arg0, %[[SHARED]] {
// CHECK: mp.sgd %arg1, %[[VARYING]] {
func.func @keep_products(%w1: tensor<8xf32> {mp.param = "w1"}, %w2: tensor<8xf32> {mp.param = "w2"},
                         %s: tensor<f32> {mp.input = "s"},
                         %g: tensor<8xf32> {mp.input = "g"}, %h: tensor<8xf32> {mp.input = "h"})
    -> (tensor<8xf32> {mp.output = "w1"}, tensor<8xf32> {mp.output = "w2"}, tensor<8xf32> {mp.output = "g1"}) {
  %spread = mp.broadcast %s dims [0] : tensor<f32> -> tensor<8xf32>
  %g1 = mp.mul %g, %spread : tensor<8xf32>
  %g2 = mp.mul %g, %h : tensor<8xf32>
  %p1 = mp.sgd %w1, %g1 {lr = 1.0e-1 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>
  %p2 = mp.sgd %w2, %g2 {lr = 1.0e-1 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>
  return %p1, %p2, %g1 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}
