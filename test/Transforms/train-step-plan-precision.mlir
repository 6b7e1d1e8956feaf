// A plan's mixed precision (precision, reduce_dtype, tp_reduce_dtype,
// saved_dtype) is the training step's where --mp-train-step's options of
// those names do not say otherwise; an option overrides the plan's value,
// and a pair the step refuses names the plan's half.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/mixed.mlir --mp-train-step | FileCheck %s --check-prefix=PLAN
// RUN: mp-opt %t/mixed.mlir --mp-train-step="reduce-dtype=f32" | FileCheck %s --check-prefix=OVERRIDE
// RUN: not mp-opt %t/mixed.mlir --mp-train-step="precision=fp32" 2>&1 | FileCheck %s --check-prefix=PLAN-TP
// RUN: not mp-opt %t/saved.mlir --mp-train-step 2>&1 | FileCheck %s --check-prefix=PLAN-SAVED
// RUN: not mp-opt %t/saved.mlir --mp-train-step="saved-dtype=f32 tp-reduce-dtype=bf16" 2>&1 | FileCheck %s --check-prefix=OPTION-TP
// RUN: mp-opt %t/saved.mlir --mp-train-step="precision=bf16" | FileCheck %s --check-prefix=SAVED

// The plan's bf16 GEMMs, gradient sums and TP sums.
// PLAN-LABEL: func.func @model_train_step
// PLAN-SAME: attributes {mp.reduce_dtype = bf16, mp.tp_reduce_dtype = bf16}
// PLAN: mp.linear {{.*}} precision <bf16>
// PLAN: mp.matmul {{.*}} precision <bf16>
// PLAN-NOT: precision <
// PLAN: return

// reduce-dtype=f32 overrides the plan's bf16; the rest stays the plan's.
// OVERRIDE-LABEL: func.func @model_train_step
// OVERRIDE-SAME: attributes {mp.tp_reduce_dtype = bf16}
// OVERRIDE: mp.linear {{.*}} precision <bf16>
// OVERRIDE: mp.matmul {{.*}} precision <bf16>

// PLAN-TP: error: tp-reduce-dtype=bf16 (the plan's tp_reduce_dtype) needs precision=bf16 (it sums bf16 GEMMs' results), got fp32{{$}}
// PLAN-SAVED: error: saved-dtype=bf16 (the plan's saved_dtype) needs precision=bf16 (the activations of a bf16 forward pass), got tf32{{$}}
// OPTION-TP: error: tp-reduce-dtype=bf16 needs precision=bf16 (it sums bf16 GEMMs' results), got tf32{{$}}

// The plan's saved_dtype with the option's precision: the saved activation
// (the hidden linear's output, read by the second linear's weight gradient)
// is held in bf16.
// SAVED-LABEL: func.func @model_train_step
// SAVED: %[[H:.*]] = mp.linear {{.*}} precision <bf16>
// SAVED: mp.convert %[[H]] : tensor<4x16xf32> -> tensor<4x16xbf16>
// SAVED: return

//--- mixed.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, precision = bf16, reduce_dtype = bf16, tp_reduce_dtype = bf16>} {
  mp.mesh @mesh = <dp = 1>
  func.func @model(%w1: tensor<16x8xf32> {mp.param = "w1"},
                   %x: tensor<4x8xf32> {mp.input = "x"}) -> tensor<f32> {
    %h = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
    %loss = mp.sum %h : tensor<4x16xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- saved.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, saved_dtype = bf16>} {
  mp.mesh @mesh = <dp = 1>
  func.func @model(%w1: tensor<16x8xf32> {mp.param = "w1"},
                   %w2: tensor<4x16xf32> {mp.param = "w2"},
                   %x: tensor<4x8xf32> {mp.input = "x"}) -> tensor<f32> {
    %h = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
    %r = mp.relu %h : tensor<4x16xf32>
    %o = mp.linear %r, %w2 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x4xf32>
    %loss = mp.sum %o : tensor<4x4xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}
