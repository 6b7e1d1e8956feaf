// Partitioning never changes what a program computes: each model is
// partitioned for its plan and run on every rank of its mesh by the
// reference interpreter, on the same global inputs as the unpartitioned
// program, and every result must agree (rtol 1e-5): the FFN forward on
// meshes 1x1, 1x4 (tensor parallel), 4x1 (FSDP), 2x2, with sequence
// parallelism, with the seed's sum loss; its AdamW training step; a
// two-block MLP with cross entropy trained with SGD + Nesterov momentum +
// clipping, and with AdamW + weight decay + clipping + PyTorch's averaging.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/ffn_1x1.mlir --mp-apply-plan -o %t/ffn_1x1.global.mlir
// RUN: mp-opt %t/ffn_1x1.global.mlir --mp-spmd -o %t/ffn_1x1.spmd.mlir
// RUN: mp-run %t/ffn_1x1.spmd.mlir --entry=ffn --reference=%t/ffn_1x1.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_1x4.mlir --mp-apply-plan -o %t/ffn_1x4.global.mlir
// RUN: mp-opt %t/ffn_1x4.global.mlir --mp-spmd -o %t/ffn_1x4.spmd.mlir
// RUN: mp-run %t/ffn_1x4.spmd.mlir --entry=ffn --reference=%t/ffn_1x4.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_4x1.mlir --mp-apply-plan -o %t/ffn_4x1.global.mlir
// RUN: mp-opt %t/ffn_4x1.global.mlir --mp-spmd -o %t/ffn_4x1.spmd.mlir
// RUN: mp-run %t/ffn_4x1.spmd.mlir --entry=ffn --reference=%t/ffn_4x1.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_2x2.mlir --mp-apply-plan -o %t/ffn_2x2.global.mlir
// RUN: mp-opt %t/ffn_2x2.global.mlir --mp-spmd -o %t/ffn_2x2.spmd.mlir
// RUN: mp-run %t/ffn_2x2.spmd.mlir --entry=ffn --reference=%t/ffn_2x2.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_sp.mlir --mp-apply-plan -o %t/ffn_sp.global.mlir
// RUN: mp-opt %t/ffn_sp.global.mlir --mp-spmd -o %t/ffn_sp.spmd.mlir
// RUN: mp-run %t/ffn_sp.spmd.mlir --entry=ffn --reference=%t/ffn_sp.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_loss.mlir --mp-apply-plan -o %t/ffn_loss.global.mlir
// RUN: mp-opt %t/ffn_loss.global.mlir --mp-spmd -o %t/ffn_loss.spmd.mlir
// RUN: mp-run %t/ffn_loss.spmd.mlir --entry=ffn --reference=%t/ffn_loss.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_loss.mlir --mp-apply-plan --mp-train-step="optimizer=adamw lr=3e-3" -o %t/ffn_loss_step0.global.mlir
// RUN: mp-opt %t/ffn_loss_step0.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/ffn_loss_step0.spmd.mlir
// RUN: mp-run %t/ffn_loss_step0.spmd.mlir --entry=ffn_train_step --reference=%t/ffn_loss_step0.global.mlir | FileCheck %s
// RUN: mp-opt %t/mlp.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1 momentum=0.9 nesterov=true max-grad-norm=0.5" -o %t/mlp_step1.global.mlir
// RUN: mp-opt %t/mlp_step1.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/mlp_step1.spmd.mlir
// RUN: mp-run %t/mlp_step1.spmd.mlir --entry=mlp_train_step --reference=%t/mlp_step1.global.mlir | FileCheck %s
// RUN: mp-opt %t/mlp.mlir --mp-apply-plan --mp-train-step="optimizer=adamw lr=1e-2 weight-decay=0.1 max-grad-norm=1.0 pytorch-dp-average=true" -o %t/mlp_step2.global.mlir
// RUN: mp-opt %t/mlp_step2.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/mlp_step2.spmd.mlir
// RUN: mp-run %t/mlp_step2.spmd.mlir --entry=mlp_train_step --reference=%t/mlp_step2.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_1x4_loss.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1" -o %t/ffn_1x4_step.global.mlir
// RUN: mp-opt %t/ffn_1x4_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/ffn_1x4_step.spmd.mlir
// RUN: mp-run %t/ffn_1x4_step.spmd.mlir --entry=ffn_train_step --reference=%t/ffn_1x4_step.global.mlir | FileCheck %s
// The FFN step in bf16 on 2x2 (its FSDP weight gathers
// moved as bf16 by mp-narrow-collectives) against the global bf16 step.
// RUN: mp-opt %t/ffn_loss.mlir --mp-apply-plan --mp-train-step="optimizer=adamw lr=3e-3 precision=bf16" -o %t/ffn_sp_bf16.global.mlir
// RUN: mp-opt %t/ffn_sp_bf16.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/ffn_sp_bf16.spmd.mlir
// RUN: grep -c "xbf16> ->" %t/ffn_sp_bf16.spmd.mlir | FileCheck %s --check-prefix=NARROWED
// NARROWED: {{[1-9][0-9]*}}
// RUN: mp-run %t/ffn_sp_bf16.spmd.mlir --entry=ffn_train_step --reference=%t/ffn_sp_bf16.global.mlir | FileCheck %s
// Scheduled (asynchronous collectives and their mp.waits) and with every
// AdamW update at the end, the same.
// RUN: mp-opt %t/ffn_sp_bf16.spmd.mlir --mp-fuse-optimizer --mp-schedule-collectives --mp-verify-gradient-sync -o %t/ffn_scheduled.spmd.mlir
// RUN: grep -c "mp.wait" %t/ffn_scheduled.spmd.mlir | FileCheck %s --check-prefix=NARROWED
// RUN: mp-run %t/ffn_scheduled.spmd.mlir --entry=ffn_train_step --reference=%t/ffn_sp_bf16.global.mlir | FileCheck %s
// RUN: mp-opt %t/ffn_4x1_loss.mlir --mp-apply-plan --mp-train-step -o %t/ffn_4x1_step.global.mlir
// RUN: mp-opt %t/ffn_4x1_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/ffn_4x1_step.spmd.mlir
// RUN: mp-run %t/ffn_4x1_step.spmd.mlir --entry=ffn_train_step --reference=%t/ffn_4x1_step.global.mlir | FileCheck %s

// CHECK: max abs error: {{.*}}: match

//--- ffn_1x1.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 1, tp = 1>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffn_1x4.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 1, tp = 4>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffn_4x1.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 4, tp = 1>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffn_2x2.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffn_sp.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise, x = sequence_parallel, out = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffn_loss.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    %loss = mp.sum %out : tensor<8x64xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- mlp.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp,
                                      styles = {"*.up" = colwise, "*.down" = rowwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @mlp(%x: tensor<8x64xf32> {mp.input = "x"}, %y: tensor<8xi64> {mp.target = "y"},
                 %u1: tensor<128x64xf32> {mp.param = "l1.up"}, %d1: tensor<64x128xf32> {mp.param = "l1.down"},
                 %u2: tensor<128x64xf32> {mp.param = "l2.up"}, %d2: tensor<16x128xf32> {mp.param = "l2.down"}) -> tensor<f32> {
    %a1 = mp.linear %x, %u1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %r1 = mp.relu %a1 : tensor<8x128xf32>
    %h1 = mp.linear %r1, %d1 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    %g1 = mp.gelu %h1 : tensor<8x64xf32>
    %a2 = mp.linear %g1, %u2 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %r2 = mp.sigmoid %a2 : tensor<8x128xf32>
    %logits = mp.linear %r2, %d2 : (tensor<8x128xf32>, tensor<16x128xf32>) -> tensor<8x16xf32>
    %loss = mp.cross_entropy %logits, %y : (tensor<8x16xf32>, tensor<8xi64>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- ffn_1x4_loss.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 1, tp = 4>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    %loss = mp.sum %out : tensor<8x64xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- ffn_4x1_loss.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <dp = 4, tp = 1>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    %loss = mp.sum %out : tensor<8x64xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}
