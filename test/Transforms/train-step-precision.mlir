// The training step's precision option: every GEMM of the forward and the
// backward pass takes it, unless the model gave the GEMM its own (the
// backward GEMMs of such a linear take the linear's); nothing else changes.
//
// RUN: mp-opt %s --mp-train-step="precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: mp-opt %s --mp-train-step="precision=fp32" | FileCheck %s --check-prefix=FP32
// RUN: mp-opt %s --mp-train-step | FileCheck %s --check-prefix=TF32
// RUN: not mp-opt %s --mp-train-step="precision=fp16" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: mp-opt %s --mp-train-step="precision=bf16 reduce-dtype=bf16" | FileCheck %s --check-prefix=REDUCE
// RUN: not mp-opt %s --mp-train-step="reduce-dtype=fp16" 2>&1 | FileCheck %s --check-prefix=BADREDUCE
// RUN: mp-opt %s --mp-train-step="precision=bf16 tp-reduce-dtype=bf16" | FileCheck %s --check-prefix=TPREDUCE
// RUN: not mp-opt %s --mp-train-step="precision=bf16 tp-reduce-dtype=fp16" 2>&1 | FileCheck %s --check-prefix=BADTPREDUCE
// RUN: not mp-opt %s --mp-train-step="tp-reduce-dtype=bf16" 2>&1 | FileCheck %s --check-prefix=TPREDUCETF32

// The hidden linear (w1) and the attention-like matmul have no precision of
// their own; the head (w2) is kept in fp32, as users keep an output
// projection in full precision.
// BF16-LABEL: func.func @model_train_step
// BF16: mp.linear %{{.*}}, %{{.*}} precision <bf16>
// BF16: mp.matmul %{{.*}}, %{{.*}} precision <bf16>
// BF16: mp.linear %{{.*}}, %{{.*}} precision <fp32>
// The backward pass: the head's two GEMMs in fp32, then the matmul's two and
// the hidden linear's weight gradient in bf16.
// BF16: mp.linear %{{.*}}, %{{.*}} precision <fp32>
// BF16: mp.matmul %{{.*}}, %{{.*}} precision <fp32>
// BF16: mp.matmul %{{.*}}, %{{.*}} precision <bf16>
// BF16: mp.matmul %{{.*}}, %{{.*}} precision <bf16>
// BF16: mp.matmul %{{.*}}, %{{.*}} precision <bf16>
// BF16-NOT: mp.linear
// BF16-NOT: mp.matmul
// BF16: return

// FP32-LABEL: func.func @model_train_step
// FP32-COUNT-8: precision <fp32>
// FP32-NOT: precision
// FP32: return

// tf32 is what a GEMM without the attribute runs in: only the head's.
// TF32-LABEL: func.func @model_train_step
// TF32-COUNT-3: precision <fp32>
// TF32-NOT: precision
// TF32: return

// BAD: error: unknown precision 'fp16'; expected fp32, tf32 or bf16

// reduce-dtype is recorded on the step for mp-narrow-collectives, which
// applies it after partitioning (test/Transforms/narrow-collectives.mlir).
// REDUCE: func.func @model_train_step
// REDUCE-SAME: attributes {mp.reduce_dtype = bf16}
// BADREDUCE: error: unknown reduce-dtype 'fp16'; expected f32 or bf16

// So is tp-reduce-dtype, which sums bf16 GEMMs' partial results: it needs
// bf16 GEMMs.
// TPREDUCE: func.func @model_train_step
// TPREDUCE-SAME: attributes {mp.tp_reduce_dtype = bf16}
// BADTPREDUCE: error: unknown tp-reduce-dtype 'fp16'; expected f32 or bf16
// TPREDUCETF32: error: tp-reduce-dtype=bf16 needs precision=bf16 (it sums bf16 GEMMs' results)

func.func @model(%w1: tensor<16x8xf32> {mp.param = "w1"},
                 %w2: tensor<4x8xf32> {mp.param = "w2"},
                 %x: tensor<2x8x8xf32> {mp.input = "x"}) -> tensor<f32> {
  %h = mp.linear %x, %w1 : (tensor<2x8x8xf32>, tensor<16x8xf32>) -> tensor<2x8x16xf32>
  %ht = mp.transpose %h perm [0, 2, 1] : tensor<2x8x16xf32> -> tensor<2x16x8xf32>
  %s = mp.matmul %h, %ht : (tensor<2x8x16xf32>, tensor<2x16x8xf32>) -> tensor<2x8x8xf32>
  %o = mp.linear %s, %w2 precision <fp32> : (tensor<2x8x8xf32>, tensor<4x8xf32>) -> tensor<2x8x4xf32>
  %loss = mp.sum %o : tensor<2x8x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}
