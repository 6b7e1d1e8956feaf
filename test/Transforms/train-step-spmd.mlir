// The training step partitioned in 2D (data_parallel=2 x tensor_parallel=2,
// FSDP on data_parallel): its exact collectives, the gradient-sync proof,
// and the communication report against the ZeRO-3 + Megatron-LM formulas.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan --mp-train-step="lr=3e-3" --mp-spmd --mp-verify-gradient-sync | FileCheck %s --check-prefix=FFN --implicit-check-not=mp.all_to_all --implicit-check-not=mp.shard_slice
// RUN: mp-opt %t/mlp.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1" --mp-spmd --mp-verify-gradient-sync --mp-comm-report=%t/mlp.json | FileCheck %s --check-prefix=MLP --implicit-check-not=mp.all_to_all --implicit-check-not=mp.shard_slice
// RUN: FileCheck %s --check-prefix=REPORT < %t/mlp.json
// RUN: mp-opt %t/ddp.mlir --mp-apply-plan --mp-train-step="optimizer=sgd momentum=0.9" --mp-spmd --mp-verify-gradient-sync | FileCheck %s --check-prefix=DDP
// RUN: mp-opt %t/tp_only.mlir --mp-apply-plan --mp-train-step --mp-spmd --mp-verify-gradient-sync | FileCheck %s --check-prefix=TPONLY
// RUN: mp-opt %t/sp_output.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1" --mp-spmd --mp-verify-gradient-sync | FileCheck %s --check-prefix=SPOUT

// The seed's FFN with its output.sum() loss. Forward: FSDP2's all_gather of
// each weight on data_parallel. The loss is linear in the rowwise GEMM's
// partial output, so instead of Megatron's all_reduce of the [batch, dim]
// output only the scalar loss is reduced (over both axes, 4 bytes); and the
// input needs no gradient, so the backward pass has no tensor-parallel
// all_reduce (the mirror appears in @mlp below, where it is needed).
// Backward: ZeRO-3's reduce_scatter of each gradient on data_parallel into
// the weight's storage shard, which AdamW updates locally.

// FFN-LABEL: func.func @ffn_train_step(
// FFN-SAME: %[[W1:[^:]+]]: tensor<32x64xf32> {mp.param = "w1"
// FFN-COUNT-1: mp.all_gather %[[W1]] on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w1" : tensor<32x64xf32> -> tensor<64x64xf32>
// FFN-NEXT: mp.all_gather %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w2" : tensor<32x64xf32> -> tensor<64x64xf32>
// FFN-NEXT: mp.all_gather %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w3" : tensor<32x64xf32> -> tensor<64x64xf32>
// FFN-NOT: mp.all_reduce
// FFN-NOT: mp.reduce_scatter
// FFN: %[[G1:.+]] = mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.adamw of 'w1'" : tensor<64x64xf32> -> tensor<32x64xf32>
// FFN-NEXT: mp.adamw %[[W1]], %[[G1]]
// FFN-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.adamw of 'w2'" : tensor<64x64xf32> -> tensor<32x64xf32>
// FFN-NEXT: mp.adamw
// FFN-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.adamw of 'w3'" : tensor<64x64xf32> -> tensor<32x64xf32>
// FFN-NEXT: mp.adamw
// FFN-NEXT: %[[LOSS:.+]] = mp.all_reduce %{{.+}} on @mesh axes ["data_parallel", "tensor_parallel"] origin "'x' (batch), 'w2' (rowwise) -> func.return" : tensor<f32>
// FFN-NEXT: return {{.*}}%[[LOSS]] :

// Two colwise/rowwise blocks with an MSE loss: Megatron's tensor-parallel
// all_reduce after each rowwise GEMM in forward, and its mirror in backward
// where the gradient enters the first block's output; ZeRO-3 around it.

// MLP-LABEL: func.func @mlp_train_step(
// MLP-COUNT-4: mp.all_gather %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): l{{[12]}}.{{up|down}}"
// MLP-NOT: mp.reduce_scatter
// MLP: mp.all_reduce %{{.+}} on @mesh axes ["tensor_parallel"] origin "'l1.down' (rowwise) -> mp.gelu" : tensor<4x64xf32>
// MLP-NOT: mp.reduce_scatter
// MLP: mp.all_reduce %{{.+}} on @mesh axes ["tensor_parallel"] origin "'l2.down' (rowwise) -> mp.mse_loss" : tensor<4x64xf32>
// MLP-NEXT: mp.mse_loss
// MLP-NOT: mp.reduce_scatter
// MLP: mp.all_reduce %{{.+}} on @mesh axes ["tensor_parallel"] origin "'l2.up' (colwise) -> mp.gelu_grad" : tensor<4x64xf32>
// MLP-NOT: mp.all_reduce
// MLP: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.sgd of 'l1.up'"
// MLP-NEXT: mp.sgd
// MLP-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.sgd of 'l1.down'"
// MLP-NEXT: mp.sgd
// MLP-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'y' (batch) -> mp.sgd of 'l2.up'"
// MLP-NEXT: mp.sgd
// MLP-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.sgd of 'l2.down'"
// MLP-NEXT: mp.sgd
// MLP-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["data_parallel"] origin "'y' (batch) -> func.return" : tensor<f32>
// MLP-NEXT: return

// Per rank, B = 8, D = 64, H = 128, f32, d = t = 2. Each weight is H·D·4 =
// 32768 bytes, 16384 per tensor-parallel shard. ZeRO-3: an all_gather
// (forward) and a reduce_scatter (backward) of each of the 4 shards, each
// sending (d-1)/d · 16384 = 8192: 8 · 8192 = 65536, plus the mean loss's
// all_reduce over d (2(d-1)/d · 4 = 4): 65540 on data_parallel in 9
// collectives. Megatron: 3 all_reduces of (B/d)·D·4 = 1024 bytes on
// tensor_parallel, each sending 2(t-1)/t · 1024 = 1024: 3072. Per step:
// 68612 per rank, 274448 over the 4 ranks.
// REPORT: "function": "mlp_train_step"
// REPORT: "per_axes": {
// REPORT-NEXT: "data_parallel": {
// REPORT-NEXT: "count": 9,
// REPORT-NEXT: "bytes_per_rank": 65540,
// REPORT-NEXT: "bytes_global": 262160
// REPORT-NEXT: },
// REPORT-NEXT: "tensor_parallel": {
// REPORT-NEXT: "count": 3,
// REPORT-NEXT: "bytes_per_rank": 3072,
// REPORT-NEXT: "bytes_global": 12288
// REPORT-NEXT: }
// REPORT-NEXT: },
// REPORT-NEXT: "total": {
// REPORT-NEXT: "count": 12,
// REPORT-NEXT: "bytes_per_rank": 68612,
// REPORT-NEXT: "bytes_global": 274448

// DDP (data parallelism without FSDP): parameters and momentum buffers are
// replicated, each gradient is all_reduced on data_parallel.
// DDP-LABEL: func.func @ffn_train_step(
// DDP-SAME: tensor<128x64xf32> {mp.param = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}
// DDP-NOT: mp.all_gather
// DDP: %[[G:.+]] = mp.all_reduce %{{.+}} on @mesh axes ["data_parallel"] origin "'x' (batch) -> mp.sgd_momentum of 'w1'" : tensor<128x64xf32>
// DDP-NEXT: mp.sgd_momentum %{{.+}}, %[[G]]
// DDP-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["data_parallel"] origin "'x' (batch) -> mp.sgd_momentum of 'w2'" : tensor<64x128xf32>
// DDP-NEXT: mp.sgd_momentum
// DDP-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["data_parallel"] origin "'x' (batch) -> mp.sgd_momentum of 'w3'" : tensor<128x64xf32>
// DDP-NEXT: mp.sgd_momentum
// DDP-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["data_parallel"] origin "'x' (batch) -> func.return" : tensor<f32>

// Tensor parallelism alone, on a mesh whose FSDP axis has size 1: the
// weights' gradients are computed on their shards and need no reduction;
// the only collective of the step is the loss's. The gradient-sync proof
// ignores the size-1 axis, as partitioning does.
// TPONLY-LABEL: func.func @ffn_train_step(
// TPONLY-NOT: mp.all_gather
// TPONLY-NOT: mp.reduce_scatter
// TPONLY: mp.all_reduce %{{.+}} on @mesh axes ["tensor_parallel"] origin "'x' (batch), 'w2' (rowwise) -> func.return" : tensor<f32>
// TPONLY-NEXT: return

// sequence_parallel on a model output that the training step does not
// return (the loss is computed from it): the style still holds inside the
// step. The rowwise GEMM's output is reduce_scattered onto the sequence dim,
// not all_reduced, and its gradient gathered back in the backward pass
// (silu_grad's result takes its split from silu's input, the rowwise
// GEMM's reduce_scattered output, which the gather names).
// SPOUT-LABEL: func.func @ffn_train_step
// SPOUT: mp.reduce_scatter %{{.+}} on @mesh axes ["tp"] dim 0 origin "out" : tensor<8x16xf32> -> tensor<2x16xf32>
// SPOUT: mp.silu %{{.+}} : tensor<2x16xf32>
// SPOUT: mp.silu_grad %{{.+}}, %{{.+}} : tensor<2x16xf32>
// SPOUT: mp.all_gather %{{.+}} on @mesh axes ["tp"] dim 0 origin "'w2' (rowwise) -> mp.linear; 'w2' (rowwise) -> mp.matmul" : tensor<2x16xf32> -> tensor<8x16xf32>
// SPOUT-NOT: mp.all_reduce %{{.+}} : tensor<8x16xf32>

//--- tp_only.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 1, tensor_parallel = 4>
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

//--- ffn.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
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
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {"*.up" = colwise, "*.down" = rowwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
  func.func @mlp(%x: tensor<8x64xf32> {mp.input = "x"}, %y: tensor<8x64xf32> {mp.target = "y"},
                 %u1: tensor<128x64xf32> {mp.param = "l1.up"}, %d1: tensor<64x128xf32> {mp.param = "l1.down"},
                 %u2: tensor<128x64xf32> {mp.param = "l2.up"}, %d2: tensor<64x128xf32> {mp.param = "l2.down"}) -> tensor<f32> {
    %a1 = mp.linear %x, %u1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %r1 = mp.relu %a1 : tensor<8x128xf32>
    %h1 = mp.linear %r1, %d1 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    %g1 = mp.gelu %h1 : tensor<8x64xf32>
    %a2 = mp.linear %g1, %u2 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %r2 = mp.relu %a2 : tensor<8x128xf32>
    %h2 = mp.linear %r2, %d2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    %loss = mp.mse_loss %h2, %y : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- ddp.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, batch_axis = data_parallel, styles = {}>} {
  mp.mesh @mesh = <data_parallel = 4>
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

//--- sp_output.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {w1 = colwise, w2 = rowwise, out = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 4>
  func.func @ffn(%x: tensor<8x16xf32> {mp.input = "x"},
                 %w1: tensor<32x16xf32> {mp.param = "w1"},
                 %w2: tensor<16x32xf32> {mp.param = "w2"}) -> (tensor<f32>, tensor<8x16xf32> {mp.output = "out"}) {
    %h = mp.linear %x, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %a = mp.silu %h : tensor<8x32xf32>
    %out = mp.linear %a, %w2 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %y = mp.silu %out : tensor<8x16xf32>
    %loss = mp.sum %y : tensor<8x16xf32> -> tensor<f32>
    return %loss, %out : tensor<f32>, tensor<8x16xf32>
  }
}
