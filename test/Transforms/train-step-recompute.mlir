// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 recompute=selective" | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1" | FileCheck %s --check-prefix=NONE
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 recompute=full" 2>/dev/null | FileCheck %s --check-prefix=FULL
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 recompute=full" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NO-LAYER
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 recompute=op" 2>/dev/null | FileCheck %s --check-prefix=OP
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 recompute=op recompute-full-layers=1" 2>/dev/null | FileCheck %s --check-prefix=OP-FIRST
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 recompute-full-layers=1" 2>/dev/null | FileCheck %s --check-prefix=FIRST

// The first two models have no numbered layer: full recomputation says so,
// and changes nothing.
// NO-LAYER-COUNT-2: warning: recompute=full found no layer to recompute: no parameter is in a numbered layer ('layers.<n>.') or in one of the plan's fsdp groups
// NO-LAYER-NOT: warning

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

// -----

// Full recomputation: each numbered layer is run again, from its input, just
// before its backward pass needs it (layer 1's, then layer 0's): the norm,
// the first GEMM and the activation. The second GEMM's value, which only the
// residual add reads, is not needed again; the residual stream (each layer's
// output, read by the next) and the head outside the layers stay saved. The
// layout annotation of layer 1's input (as sequence parallelism lays out a
// norm's input) is layer 1's: recomputed with it, from the held residual.
// FULL-LABEL: func.func @layers_train_step
// FULL-SAME: %[[N0:[^:]+]]: tensor<8xf32> {mp.param = "layers.0.norm"}
// FULL-SAME: %[[A0:[^:]+]]: tensor<16x8xf32> {mp.param = "layers.0.w1"}
// FULL-SAME: %[[N1:[^:]+]]: tensor<8xf32> {mp.param = "layers.1.norm"}
// FULL-SAME: %[[A1:[^:]+]]: tensor<16x8xf32> {mp.param = "layers.1.w1"}
// FULL-SAME: %[[X:[^:]+]]: tensor<4x8xf32> {mp.input = "x"}
// FULL: %[[R0:.+]] = mp.add %[[X]],
// FULL: %[[R1:.+]] = mp.add %[[R0]],
// FULL: mp.mse_loss
// FULL: mp.matmul %{{.+}}, %[[R1]]
// FULL: %[[R0A:.+]] = mp.annotate %[[R0]]
// FULL-NEXT: %[[H1:.+]] = mp.rms_norm %[[R0A]], %[[N1]]
// FULL-NEXT: %[[G1:.+]] = mp.linear %[[H1]], %[[A1]]
// FULL-NEXT: %[[S1:.+]] = mp.gelu %[[G1]]
// FULL-NEXT: mp.matmul %{{.+}}, %[[S1]]
// FULL-NEXT: mp.gelu_grad %{{.+}}, %[[G1]]
// FULL: mp.matmul %{{.+}}, %[[H1]]
// FULL: mp.rms_norm_grad %[[R0A]], %[[N1]]
// FULL: %[[H0:.+]] = mp.rms_norm %[[X]], %[[N0]]
// FULL-NEXT: %[[G0:.+]] = mp.linear %[[H0]], %[[A0]]
// FULL-NEXT: %[[S0:.+]] = mp.gelu %[[G0]]
// FULL-NEXT: mp.matmul %{{.+}}, %[[S0]]
// FULL-NOT: mp.rms_norm %
// FULL-NOT: mp.gelu %
// FULL-NOT: mp.annotate %
// FULL: return
// CHECK-LABEL: func.func @layers_train_step
// NONE-LABEL: func.func @layers(

// torchtitan's selective policy by op holds every other linear's value, a
// layer's first: the activation is run again from it, the norm (and the
// annotation before it) from the layer's input; no GEMM again.
// OP-LABEL: func.func @layers_train_step
// OP-SAME: %[[A1:[^:]+]]: tensor<16x8xf32> {mp.param = "layers.1.w1"}
// OP: %[[R0:.+]] = mp.add
// OP: %[[G1:.+]] = mp.linear %{{.+}}, %[[A1]]
// OP: mp.mse_loss
// OP: %[[S1:.+]] = mp.gelu %[[G1]]
// OP-NEXT: mp.matmul %{{.+}}, %[[S1]]
// OP-NEXT: mp.gelu_grad %{{.+}}, %[[G1]]
// OP: %[[R0A:.+]] = mp.annotate %[[R0]]
// OP-NEXT: %[[H1:.+]] = mp.rms_norm %[[R0A]]
// OP-NEXT: mp.matmul %{{.+}}, %[[H1]]
// OP-NOT: mp.linear %{{.+}}, %[[A1]]
// OP: return

// With the first layer recomputed fully on top (recompute-full-layers=1,
// Megatron-LM's block method): layer 1 by op, layer 0 from its input,
// its linear again.
// OP-FIRST-LABEL: func.func @layers_train_step
// OP-FIRST-SAME: %[[N0:[^:]+]]: tensor<8xf32> {mp.param = "layers.0.norm"}
// OP-FIRST-SAME: %[[A0:[^:]+]]: tensor<16x8xf32> {mp.param = "layers.0.w1"}
// OP-FIRST-SAME: %[[A1:[^:]+]]: tensor<16x8xf32> {mp.param = "layers.1.w1"}
// OP-FIRST-SAME: %[[X:[^:]+]]: tensor<4x8xf32> {mp.input = "x"}
// OP-FIRST: %[[G1:.+]] = mp.linear %{{.+}}, %[[A1]]
// OP-FIRST: mp.mse_loss
// OP-FIRST: %[[S1:.+]] = mp.gelu %[[G1]]
// OP-FIRST: %[[H0:.+]] = mp.rms_norm %[[X]], %[[N0]]
// OP-FIRST-NEXT: %[[G0:.+]] = mp.linear %[[H0]], %[[A0]]
// OP-FIRST-NEXT: mp.gelu %[[G0]]
// OP-FIRST-NOT: mp.linear %{{.+}}, %[[A1]]
// OP-FIRST: return

// Alone (recompute=none): layer 0 from its input, layer 1 holds all.
// FIRST-LABEL: func.func @layers_train_step
// FIRST-SAME: %[[N0:[^:]+]]: tensor<8xf32> {mp.param = "layers.0.norm"}
// FIRST-SAME: %[[A0:[^:]+]]: tensor<16x8xf32> {mp.param = "layers.0.w1"}
// FIRST-SAME: %[[A1:[^:]+]]: tensor<16x8xf32> {mp.param = "layers.1.w1"}
// FIRST-SAME: %[[X:[^:]+]]: tensor<4x8xf32> {mp.input = "x"}
// FIRST: %[[G1:.+]] = mp.linear %{{.+}}, %[[A1]]
// FIRST-NEXT: %[[S1:.+]] = mp.gelu %[[G1]]
// FIRST: mp.mse_loss
// FIRST: mp.matmul %{{.+}}, %[[S1]]
// FIRST: %[[H0:.+]] = mp.rms_norm %[[X]], %[[N0]]
// FIRST-NEXT: %[[G0:.+]] = mp.linear %[[H0]], %[[A0]]
// FIRST-NEXT: mp.gelu %[[G0]]
// FIRST-NOT: mp.rms_norm %
// FIRST-NOT: mp.gelu %
// FIRST: return
// NONE-LABEL: func.func @layers_train_step
// NONE-COUNT-2: mp.rms_norm %
// NONE-NOT: mp.rms_norm %
mp.mesh @mesh = <a = 2>
func.func @layers(%n0: tensor<8xf32> {mp.param = "layers.0.norm"}, %a0: tensor<16x8xf32> {mp.param = "layers.0.w1"},
                  %b0: tensor<8x16xf32> {mp.param = "layers.0.w2"}, %n1: tensor<8xf32> {mp.param = "layers.1.norm"},
                  %a1: tensor<16x8xf32> {mp.param = "layers.1.w1"}, %b1: tensor<8x16xf32> {mp.param = "layers.1.w2"},
                  %head: tensor<8x8xf32> {mp.param = "head"},
                  %x: tensor<4x8xf32> {mp.input = "x"}, %y: tensor<4x8xf32> {mp.target = "y"}) -> tensor<f32> {
  %h0 = mp.rms_norm %x, %n0 eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %g0 = mp.linear %h0, %a0 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s0 = mp.gelu %g0 : tensor<4x16xf32>
  %o0 = mp.linear %s0, %b0 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %r0 = mp.add %x, %o0 : tensor<4x8xf32>
  %r0a = mp.annotate %r0 <@mesh, [[a], []]> : tensor<4x8xf32>
  %h1 = mp.rms_norm %r0a, %n1 eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %g1 = mp.linear %h1, %a1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s1 = mp.gelu %g1 : tensor<4x16xf32>
  %o1 = mp.linear %s1, %b1 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %r1 = mp.add %r0, %o1 : tensor<4x8xf32>
  %p = mp.linear %r1, %head : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %loss = mp.mse_loss %p, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
