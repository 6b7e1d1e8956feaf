// The memory plan of whole training steps: the seed's FFN, and a small step
// small enough to lay out by hand.
//
// The seed's FFN AdamW step partitioned on data_parallel=2 x
// tensor_parallel=2 (dim 64, hidden 128, batch 8): per rank, 3 weight
// shards of 128·64·4/4 = 8192 bytes, their 6 AdamW moments, the step count
// (4) and the batch shard 4·64·4 = 1024 are persistent: 74756 bytes.
// RUN: split-file %s %t
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan --mp-train-step --mp-spmd --mp-memory-report -o /dev/null | FileCheck %s --check-prefix=STEP
// RUN: mp-opt %t/small.mlir --mp-train-step="optimizer=sgd lr=0.1" --mp-memory-report -o /dev/null | FileCheck %s --check-prefix=SMALL
// RUN: mp-opt %t/by-size.mlir --mp-memory-report -o /dev/null | FileCheck %s --check-prefix=BYSIZE
// STEP: "function": "ffn_train_step",
// STEP-NEXT: "partitioned": true,
// STEP-NEXT: "persistent_bytes": 74756,
// The arena, its unpooled sum and the buffer count are pinned as the plan
// lays them out today (the small steps below derive such numbers by hand);
// peak = persistent + arena. The arena is the most bytes live at once (no
// gap: greedy by size; first fit in program order would need 62592).
// STEP-NEXT: "arena_bytes": 57408,
// STEP-NEXT: "unpooled_bytes": 133312,
// STEP-NEXT: "peak_bytes": 132164,
// STEP-NEXT: "buffers": 22,
// The 3 new weights, their 6 new moments and the new step count are
// computed by AdamW over the old ones, which nothing reads after: they are
// written in place and take no arena space.
// STEP-NEXT: "in_place_updates": 10
// Per rank, batch 8/2 and hidden 128/2: 3 forward GEMMs and 4 backward
// ones (dW of each weight, dG through w2; none for the input x) of
// 2·4·64·64 = 32768 FLOPs each.
// STEP-NEXT: "gemm_flops": 229376,
// STEP-NEXT: "kernel_bytes": 317472
// STEP: "peak_gap_bytes": 0,
// STEP-NEXT: "max_live_bytes": 57408
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

// A small SGD step where sharing a buffer would be wrong: %a is read by exp
// and again by the mul after it and by the backward, so exp's result must
// not take over %a's buffer though exp could run in place. The step
// mp-train-step builds, with each op's position and every 16xf32 (64 bytes)
// and scalar (4 bytes, aligned up to 64) value's last read:
//   0 %0 = mul x, w          last read 6 (%5)
//   1 %1 = exp %0            last read 8 (%7)     %0 read later: new buffer
//   2 %2 = mul %1, %0        last read 3
//   3 %3 = sum %2            returned (scalar)
//   4 %cst = constant 1.0    last read 5 (scalar)
//   5 %4 = broadcast %cst    last read 7
//   6 %5 = mul %4, %0        %0 last read here: takes %0's buffer
//   7 %6 = mul %4, %1        %4 last read here: takes %4's buffer
//   8 %7 = mul %5, %1        takes %5's (%0's) buffer
//   9 %8 = add %6, %7        takes %6's (%4's) buffer
//  10 %9 = mul %8, x         takes %8's (%4's) buffer
//  11 w' = sgd w, %9         w is read last here: updated in place
// Persistent: w and x, 2·64 = 128. Buffers: the 11 values but w', 11·64 =
// 704 unpooled. Four buffers are shared, so six are placed, first fit:
// %0 [0..9] at 0, %1 [1..8] at 64, %2 [2..3] at 128, %3 [3..end] at 192,
// %cst [4..5] at 128 (%2 is dead by 4), %4 [5..11] at 256 (%cst is still
// read at 5): arena 320, peak 128 + 320 = 448. Had exp taken %0's buffer,
// the arena would be 256.
// SMALL: "function": "step_train_step",
// SMALL-NEXT: "partitioned": false,
// SMALL-NEXT: "persistent_bytes": 128,
// SMALL-NEXT: "arena_bytes": 320,
// SMALL-NEXT: "unpooled_bytes": 704,
// SMALL-NEXT: "peak_bytes": 448,
// SMALL-NEXT: "buffers": 11,
// SMALL-NEXT: "in_place_updates": 1,
// The arena reaches its top placing %4 at position 5, where %0, %1, %3,
// %cst and %4 are live: 5 · 64 = 320 bytes, no gap.
// SMALL: "peak_live": [
// SMALL: "made_by": "arith.constant f32",
// SMALL-NEXT: "bytes": 64,
// SMALL-NEXT: "buffers": 1
// SMALL: "made_by": "mp.broadcast f32",
// SMALL: "made_by": "mp.exp f32",
// SMALL: "made_by": "mp.mul f32",
// SMALL: "made_by": "mp.sum f32",
// SMALL-NOT: "made_by"
// SMALL: "peak_gap_bytes": 0,
// SMALL-NEXT: "max_live_bytes": 320

// Where first fit in program order leaves a gap that placing the largest
// buffer first does not: %a (64 bytes) lives over positions [0..1], %b (64)
// over [1..end] (returned), %z (128) over [2..end]. First fit puts %a at 0,
// %b at 64 and, %a dead by 2, finds its 64 bytes too few for %z: 128,
// arena 256. By size: %z at 0, %b (live beside it) at 128, %a (live beside
// %b only) in the 128 bytes below %b: arena 192, what %b and %z need
// together at position 2.
// BYSIZE: "function": "by_size",
// BYSIZE: "arena_bytes": 192,
// BYSIZE: "peak_live": [
// BYSIZE: "made_by": "mp.broadcast f32",
// BYSIZE: "made_by": "mp.transpose f32",
// BYSIZE-NOT: "made_by"
// BYSIZE: "peak_gap_bytes": 0,
// BYSIZE-NEXT: "max_live_bytes": 192

//--- small.mlir
func.func @step(%x: tensor<16xf32> {mp.input = "x"}, %w: tensor<16xf32> {mp.param = "w"}) -> tensor<f32> {
  %a = mp.mul %x, %w : tensor<16xf32>
  %e = mp.exp %a : tensor<16xf32>
  %p = mp.mul %e, %a : tensor<16xf32>
  %l = mp.sum %p : tensor<16xf32> -> tensor<f32>
  return %l : tensor<f32>
}

//--- by-size.mlir
func.func @by_size(%x: tensor<4x4xf32> {mp.input = "x"}) -> (tensor<4x4xf32>, tensor<2x4x4xf32>) {
  %a = mp.exp %x : tensor<4x4xf32>
  %b = mp.transpose %a perm [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %z = mp.broadcast %x dims [0] : tensor<4x4xf32> -> tensor<2x4x4xf32>
  return %b, %z : tensor<4x4xf32>, tensor<2x4x4xf32>
}
