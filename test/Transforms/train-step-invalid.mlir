// RUN: mp-opt %s -split-input-file --mp-train-step -verify-diagnostics
// RUN: not mp-opt %s -split-input-file --mp-train-step="optimizer=adam" 2>&1 | FileCheck %s --check-prefix=OPTIMIZER
// RUN: not mp-opt %s -split-input-file --mp-train-step="optimizer=sgd nesterov=true" 2>&1 | FileCheck %s --check-prefix=NESTEROV
// RUN: not mp-opt %s -split-input-file --mp-train-step="beta1=1.0" 2>&1 | FileCheck %s --check-prefix=BETA
// RUN: not mp-opt %s -split-input-file --mp-train-step="recompute=layer" 2>&1 | FileCheck %s --check-prefix=RECOMPUTE
// RUN: not mp-opt %s -split-input-file --mp-train-step="recompute-full-layers=-1" 2>&1 | FileCheck %s --check-prefix=FULL-LAYERS

// OPTIMIZER: error: unknown optimizer 'adam'; expected adamw or sgd
// NESTEROV: error: nesterov needs a positive momentum and zero dampening
// BETA: error: beta1 and beta2 must be in [0, 1)
// RECOMPUTE: error: unknown recompute 'layer'; expected none, selective, op or full
// FULL-LAYERS: error: recompute-full-layers must not be negative, got -1

// expected-error@+1 {{the training step needs the model's first result to be the scalar loss (a rank-0 float tensor), got '(tensor<4x4xf32>) -> tensor<4x4xf32>'}}
func.func @not_a_loss(%w: tensor<4x4xf32> {mp.param = "w"}) -> tensor<4x4xf32> {
  return %w : tensor<4x4xf32>
}

// -----

func.func @no_vjp(%w: tensor<4xf32> {mp.param = "w"}) -> tensor<f32> {
  // expected-error@+1 {{cannot differentiate 'arith.addf': it has no vector-Jacobian rule}}
  %d = arith.addf %w, %w : tensor<4xf32>
  %l = mp.sum %d : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The rows' log-sum-exp of attention is kept for the backward pass, not
// differentiated (a z-loss on it would need its own rule).
func.func @attention_lse(%q: tensor<2x4x8xf32> {mp.param = "q"}) -> tensor<f32> {
  // expected-error@+1 {{cannot differentiate through result #1 of 'mp.attention': its vector-Jacobian rule has no gradient for it}}
  %o, %lse = mp.attention %q, %q, %q scale 1.0 causal : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4xf32>)
  %l = mp.sum %lse : tensor<2x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Fused attention gives ALiBi's slopes no gradient: learned slopes would
// silently stay put (mp.alibi's rule trains them).
func.func @attention_learned_alibi(%q: tensor<2x2x4x8xf32> {mp.param = "q"}, %slopes: tensor<2xf32> {mp.param = "slopes"}) -> tensor<f32> {
  // expected-error@+1 {{cannot differentiate 'mp.attention' with respect to operand #3: its vector-Jacobian rule has no gradient for it}}
  %o, %lse = mp.attention %q, %q, %q alibi %slopes scale 1.0 causal : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2xf32>) -> (tensor<2x2x4x8xf32>, tensor<2x2x4xf32>)
  %l = mp.sum %o : tensor<2x2x4x8xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Falcon's bfloat16 bias rounds: its slopes get no gradient.
func.func @alibi_bf16_learned(%scores: tensor<2x2x4x4xf32> {mp.param = "scores"}, %slopes: tensor<2xf32> {mp.param = "slopes"}) -> tensor<f32> {
  // expected-error@+1 {{cannot differentiate 'mp.alibi' with respect to operand #1: its vector-Jacobian rule has no gradient for it}}
  %b = mp.alibi %scores, %slopes bf16_bias : tensor<2x2x4x4xf32>, tensor<2xf32>
  %l = mp.sum %b : tensor<2x2x4x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error@+1 {{argument #1 has no role; name it mp.param, mp.input or mp.target}}
func.func @unnamed(%w: tensor<4xf32> {mp.param = "w"}, %x: tensor<4xf32>) -> tensor<f32> {
  %p = mp.mul %w, %x : tensor<4xf32>
  %l = mp.sum %p : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error@+1 {{no model to train: a function with mp.param arguments}}
module {
  func.func @no_params(%x: tensor<4xf32> {mp.input = "x"}) -> tensor<f32> {
    %l = mp.sum %x : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}
