// Uneven splits compute what the global program computes: dims of 3, 5, 16
// and 17 on a 2x2 data_parallel x tensor_parallel mesh (FSDP over dp,
// colwise/rowwise over tp, the batch over dp), each padded to the larger
// piece. Forward and training steps run on every rank of the reference
// interpreter and equal the unpartitioned program (rtol 1e-9): a SwiGLU FFN
// with batch 5, dim 17 and hidden 3 (every dim uneven), one with hidden 16
// (dim 17 split by FSDP), both with AdamW + weight decay + clipping; an MLP
// with a bias and cross entropy, hidden 17, SGD + Nesterov + clipping.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/swiglu_5x17x3.mlir --mp-apply-plan -o %t/a.global.mlir
// RUN: mp-opt %t/a.global.mlir --mp-spmd -o %t/a.spmd.mlir
// RUN: mp-run %t/a.spmd.mlir --entry=ffn --reference=%t/a.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
// RUN: mp-opt %t/swiglu_5x17x3.mlir --mp-apply-plan --mp-train-step="optimizer=adamw lr=1e-2 weight-decay=0.1 max-grad-norm=1.0" -o %t/a_step.global.mlir
// RUN: mp-opt %t/a_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/a_step.spmd.mlir
// RUN: mp-run %t/a_step.spmd.mlir --entry=ffn_train_step --reference=%t/a_step.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
// RUN: mp-opt %t/swiglu_16x17x16.mlir --mp-apply-plan -o %t/b.global.mlir
// RUN: mp-opt %t/b.global.mlir --mp-spmd -o %t/b.spmd.mlir
// RUN: mp-run %t/b.spmd.mlir --entry=ffn --reference=%t/b.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
// RUN: mp-opt %t/swiglu_16x17x16.mlir --mp-apply-plan --mp-train-step="optimizer=adamw lr=1e-2 weight-decay=0.1 max-grad-norm=1.0" -o %t/b_step.global.mlir
// RUN: mp-opt %t/b_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/b_step.spmd.mlir
// RUN: mp-run %t/b_step.spmd.mlir --entry=ffn_train_step --reference=%t/b_step.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
// RUN: mp-opt %t/mlp_bias_ce.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1 momentum=0.9 nesterov=true max-grad-norm=0.5" -o %t/c_step.global.mlir
// RUN: mp-opt %t/c_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/c_step.spmd.mlir
// RUN: mp-run %t/c_step.spmd.mlir --entry=mlp_train_step --reference=%t/c_step.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
//
// The weights really are padded pieces (w1's 3 rows: 2 + 1 over tp, then
// 1 + 1 and 1 + 0 over dp; w2's 17 rows 9 + 8 over dp and 3 columns 2 + 1
// over tp), and padding is masked before reductions.
// RUN: FileCheck %s --check-prefix=PIECES < %t/a_step.spmd.mlir
// PIECES: tensor<1x17xf32> {mp.global_shape = array<i64: 3, 17>, mp.param = "w1"
// PIECES-SAME: tensor<9x2xf32> {mp.global_shape = array<i64: 17, 3>, mp.param = "w2"
// PIECES: mp.zero_padding

// CHECK: max abs error: {{.*}}: match

//--- swiglu_5x17x3.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, batch_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<5x17xf32> {mp.input = "x"},
                 %y: tensor<5x17xf32> {mp.target = "y"},
                 %w1: tensor<3x17xf32> {mp.param = "w1"},
                 %w2: tensor<17x3xf32> {mp.param = "w2"},
                 %w3: tensor<3x17xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<5x17xf32>, tensor<3x17xf32>) -> tensor<5x3xf32>
    %a = mp.silu %h1 : tensor<5x3xf32>
    %h3 = mp.linear %x, %w3 : (tensor<5x17xf32>, tensor<3x17xf32>) -> tensor<5x3xf32>
    %g = mp.mul %a, %h3 : tensor<5x3xf32>
    %out = mp.linear %g, %w2 : (tensor<5x3xf32>, tensor<17x3xf32>) -> tensor<5x17xf32>
    %loss = mp.mse_loss %out, %y : (tensor<5x17xf32>, tensor<5x17xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
//--- swiglu_16x17x16.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, batch_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<16x17xf32> {mp.input = "x"},
                 %y: tensor<16x17xf32> {mp.target = "y"},
                 %w1: tensor<16x17xf32> {mp.param = "w1"},
                 %w2: tensor<17x16xf32> {mp.param = "w2"},
                 %w3: tensor<16x17xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<16x17xf32>, tensor<16x17xf32>) -> tensor<16x16xf32>
    %a = mp.silu %h1 : tensor<16x16xf32>
    %h3 = mp.linear %x, %w3 : (tensor<16x17xf32>, tensor<16x17xf32>) -> tensor<16x16xf32>
    %g = mp.mul %a, %h3 : tensor<16x16xf32>
    %out = mp.linear %g, %w2 : (tensor<16x16xf32>, tensor<17x16xf32>) -> tensor<16x17xf32>
    %loss = mp.mse_loss %out, %y : (tensor<16x17xf32>, tensor<16x17xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
//--- mlp_bias_ce.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, batch_axis = dp, styles = {w1 = colwise, b1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @mlp(%x: tensor<8x6xf32> {mp.input = "x"},
                 %y: tensor<8xi64> {mp.target = "y"},
                 %w1: tensor<17x6xf32> {mp.param = "w1"},
                 %b1: tensor<17xf32> {mp.param = "b1"},
                 %w2: tensor<3x17xf32> {mp.param = "w2"}) -> tensor<f32> {
    %h = mp.linear %x, %w1 : (tensor<8x6xf32>, tensor<17x6xf32>) -> tensor<8x17xf32>
    %bb = mp.broadcast %b1 dims [0] : tensor<17xf32> -> tensor<8x17xf32>
    %hb = mp.add %h, %bb : tensor<8x17xf32>
    %a = mp.tanh %hb : tensor<8x17xf32>
    %logits = mp.linear %a, %w2 : (tensor<8x17xf32>, tensor<3x17xf32>) -> tensor<8x3xf32>
    %loss = mp.cross_entropy %logits, %y : (tensor<8x3xf32>, tensor<8xi64>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
