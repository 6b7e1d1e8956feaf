// RUN: mp-opt %s --mp-fuse-optimizer | FileCheck %s
// RUN: mp-opt %s --mp-fuse-optimizer --mp-lower-to-runtime | FileCheck %s --check-prefix=LOWERED
// RUN: mp-opt %mp_src_root/examples/ffn/ffn.mlir --mp-train-step="optimizer=sgd momentum=0.9 nesterov=true" --mp-fuse-optimizer --mp-lower-to-runtime | FileCheck %s --check-prefix=SGD

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
// buffers and Nesterov.
// SGD-LABEL: func.func @ffn_train_step
// SGD: call @mp_sgd_multi_f32(%{{.*}}, %c3_i32, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c1_i32)
// SGD-NOT: call @mp_sgd_f32(
