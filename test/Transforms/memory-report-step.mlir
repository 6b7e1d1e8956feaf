// The seed's FFN AdamW step partitioned on data_parallel=2 x
// tensor_parallel=2 (dim 64, hidden 128, batch 8): per rank, 3 weight
// shards of 128·64·4/4 = 8192 bytes, their 6 AdamW moments, the step count
// (4) and the batch shard 4·64·4 = 1024 are persistent: 74756 bytes.
// RUN: mp-opt %s --mp-apply-plan --mp-train-step --mp-spmd --mp-memory-report -o /dev/null | FileCheck %s --check-prefix=STEP
// STEP: "function": "ffn_train_step",
// STEP-NEXT: "partitioned": true,
// STEP-NEXT: "persistent_bytes": 74756,
// STEP-NEXT: "arena_bytes": {{[0-9]+}},
// STEP-NEXT: "unpooled_bytes": {{[0-9]+}},
// STEP-NEXT: "peak_bytes": {{[0-9]+}},
// STEP-NEXT: "buffers": {{[0-9]+}},
// The 3 new weights, their 6 new moments and the new step count are
// computed by AdamW over the old ones, which nothing reads after: they are
// written in place and take no arena space.
// STEP-NEXT: "in_place_updates": 10
// Per rank, batch 8/2 and hidden 128/2: 3 forward GEMMs and 4 backward
// ones (dW of each weight, dG through w2; none for the input x) of
// 2·4·64·64 = 32768 FLOPs each.
// STEP-NEXT: "gemm_flops": 229376,
// STEP-NEXT: "kernel_bytes": {{[0-9]+}}
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
