// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 recompute=selective" | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1" | FileCheck %s --check-prefix=NONE

// A pre-norm feed-forward block: the norm's value (read by w1's and w3's
// weight gradients) is computed again from x, which the norm weight's
// gradient reads anyway, and SwiGLU's product (read by w2's weight
// gradient) from the gate and up projections, which its gradient reads.
// The GEMMs' outputs stay saved. Each is recomputed once, before its first
// backward use; without the option, nothing is.
// CHECK-LABEL: func.func @block_train_step
// CHECK-SAME: %[[NW:[^:]+]]: tensor<8xf32> {mp.param = "norm"}
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x8xf32> {mp.input = "x"}
// CHECK: %[[H:.+]] = mp.rms_norm %[[X]], %[[NW]]
// CHECK: %[[G:.+]] = mp.linear %[[H]],
// CHECK: %[[U:.+]] = mp.linear %[[H]],
// CHECK: %[[S:.+]] = mp.swiglu %[[G]], %[[U]]
// CHECK: mp.mse_loss
// CHECK: %[[S2:.+]] = mp.swiglu %[[G]], %[[U]]
// CHECK-NEXT: mp.matmul %{{.+}}, %[[S2]]
// CHECK-NOT: mp.swiglu %
// CHECK: mp.swiglu_grad %{{.+}}, %[[G]], %[[U]]
// CHECK: %[[H2:.+]] = mp.rms_norm %[[X]], %[[NW]]
// CHECK-NEXT: mp.matmul %{{.+}}, %[[H2]]
// CHECK-NOT: mp.rms_norm %
// CHECK: mp.rms_norm_weight_grad %[[X]]
// NONE-LABEL: func.func @block_train_step
// NONE: mp.rms_norm %
// NONE: mp.swiglu %
// NONE-NOT: mp.swiglu %
// NONE-NOT: mp.rms_norm %
func.func @block(%n: tensor<8xf32> {mp.param = "norm"}, %w1: tensor<16x8xf32> {mp.param = "w1"},
                 %w3: tensor<16x8xf32> {mp.param = "w3"}, %w2: tensor<8x16xf32> {mp.param = "w2"},
                 %x: tensor<4x8xf32> {mp.input = "x"}, %y: tensor<4x8xf32> {mp.target = "y"}) -> tensor<f32> {
  %h = mp.rms_norm %x, %n eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %g = mp.linear %h, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = mp.linear %h, %w3 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s = mp.swiglu %g, %u : tensor<4x16xf32>
  %o = mp.linear %s, %w2 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %r = mp.add %x, %o : tensor<4x8xf32>
  %loss = mp.mse_loss %r, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Rotary embeddings and an exp of a projection the backward pass does not
// read (rope's gradient is the inverse rotation, exp's reads its own
// value): recomputing them would hold the projection instead, so their
// values stay saved, and their product, whose gradients read both, is
// computed again from them.
// CHECK-LABEL: func.func @rope_train_step
// CHECK: %[[R:.+]] = mp.rope
// CHECK: %[[E:.+]] = mp.exp
// CHECK: mp.mse_loss
// CHECK-NOT: mp.exp
// CHECK: %[[M:.+]] = mp.mul %[[R]], %[[E]]
// CHECK-NEXT: mp.reshape %[[M]]
// CHECK-NOT: mp.exp
func.func @rope(%w: tensor<4x4xf32> {mp.param = "w"}, %v: tensor<4x4xf32> {mp.param = "v"},
                %x: tensor<1x2x2x4xf32> {mp.input = "x"}, %y: tensor<1x2x2x4xf32> {mp.target = "y"}) -> tensor<f32> {
  %q = mp.linear %x, %w : (tensor<1x2x2x4xf32>, tensor<4x4xf32>) -> tensor<1x2x2x4xf32>
  %r = mp.rope %q theta 100.0 : tensor<1x2x2x4xf32>
  %e = mp.exp %q : tensor<1x2x2x4xf32>
  %m = mp.mul %r, %e : tensor<1x2x2x4xf32>
  %o = mp.linear %m, %v : (tensor<1x2x2x4xf32>, tensor<4x4xf32>) -> tensor<1x2x2x4xf32>
  %loss = mp.mse_loss %o, %y : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
