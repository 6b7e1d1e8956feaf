// RUN: mp-opt %s --mp-lower-to-runtime=backend=host -split-input-file | FileCheck %s --check-prefixes=CHECK,HOST
// RUN: mp-opt %s --mp-lower-to-runtime=backend=cuda -split-input-file | FileCheck %s --check-prefixes=CHECK,CUDA
// RUN: mp-opt %s --mp-lower-to-runtime -split-input-file | FileCheck %s --check-prefixes=CHECK,ANY
// RUN: mp-opt %s --mp-memory-report=backend=cuda -split-input-file -o /dev/null | FileCheck %s --check-prefix=REPORT
// RUN: mp-opt %s --mp-lower-to-runtime="backend=cuda cuda-archs=90" -split-input-file | FileCheck %s --check-prefix=SM90
// RUN: mp-opt %s --mp-lower-to-runtime="backend=cuda cuda-archs=90,89" -split-input-file | FileCheck %s --check-prefix=SM89
// RUN: mp-opt %s --mp-memory-report="backend=cuda cuda-archs=90" -split-input-file -o /dev/null | FileCheck %s --check-prefix=REPORT-SM90
// RUN: not mp-opt %s --mp-lower-to-runtime=backend=tpu 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mp-opt %s --mp-memory-report=backend=tpu 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mp-opt %s --mp-lower-to-runtime="backend=cuda cuda-archs=90,75" 2>&1 | FileCheck %s --check-prefix=BAD-ARCH
// RUN: not mp-opt %s --mp-memory-report="backend=host cuda-archs=90" 2>&1 | FileCheck %s --check-prefix=BAD-HOST-ARCH

// What a GEMM converts or lays out before it multiplies goes to a
// workspace in the arena, live while the GEMM runs, of the bytes the
// runtime's mp_gemm_workspace_bytes gives for the backend planned for
// (`any`: the larger), passed after C. The runtime then allocates nothing
// of its own for it.
// BAD: backend must be any, host or cuda, not 'tpu'
// BAD-ARCH: cuda-archs: the runtime does not know the shared memory of architecture 75 (it knows 80, 86, 87, 89, 90, 100, 120)
// BAD-HOST-ARCH: cuda-archs plans the CUDA backend's scratch, not the host's (backend=cuda or any)

// A bf16 linear of float32 operands: the host rounds copies of x and w
// into float32 (256 + 2048 bytes); CUDA rounds them inside cuBLAS
// (CUBLAS_COMPUTE_32F_FAST_16BF) and takes none.
// CHECK-LABEL: func.func @bf16_linear
// HOST-SAME: arena 2816
// CUDA-SAME: arena 512
// ANY-SAME: arena 2816
// HOST: %[[WS:[0-9]+]] = llvm.getelementptr %{{.+}}[%c512_i64]
// HOST: call @mp_gemm_f32({{.+}}, %[[WS]], %c2304_i64)
// CUDA: %[[NONE:[0-9]+]] = llvm.mlir.zero : !llvm.ptr
// CUDA: call @mp_gemm_f32({{.+}}, %[[NONE]], %c0_i64)
// ANY: call @mp_gemm_f32({{.+}}, %c2304_i64)
// REPORT: "function": "bf16_linear"
// REPORT-NOT: gemm_workspace_bytes
func.func @bf16_linear(%x: tensor<4x16xf32> {mp.input = "x"}, %w: tensor<32x16xf32> {mp.param = "w"}) -> tensor<4x32xf32> {
  %y = mp.linear %x, %w precision <bf16> : (tensor<4x16xf32>, tensor<32x16xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// A weight gradient's Aᵀ·B (cuBLAS's NT layout) bound by its FLOPs (512³:
// 64 FLOPs per byte) on tensor cores (tf32): CUDA writes A out transposed
// first, m · k floats (1 MiB), beside the 1 MiB result; the host
// transposes nothing.
// CHECK-LABEL: func.func @nt_gemm
// HOST-SAME: arena 1048576
// CUDA-SAME: arena 2097152
// ANY-SAME: arena 2097152
// HOST: call @mp_gemm_batched_f32({{.+}}, %c0_i64)
// CUDA: call @mp_gemm_batched_f32({{.+}}, %c1048576_i64)
// ANY: call @mp_gemm_batched_f32({{.+}}, %c1048576_i64)
// REPORT: "function": "nt_gemm"
// REPORT: "gemm_workspace_bytes": 1048576
func.func @nt_gemm(%g: tensor<512x512xf32> {mp.input = "g"}, %x: tensor<512x512xf32> {mp.input = "x"}) -> tensor<512x512xf32> {
  %gt = mp.transpose %g perm [1, 0] : tensor<512x512xf32> -> tensor<512x512xf32>
  %dw = mp.matmul %gt, %x : (tensor<512x512xf32>, tensor<512x512xf32>) -> tensor<512x512xf32>
  return %dw : tensor<512x512xf32>
}

// -----

// Below 64 FLOPs per byte (k = 128: 43), in strict fp32 (no tensor
// cores), or NN, the GEMM runs as it is: no workspace on either backend.
// CHECK-LABEL: func.func @nt_gemm_as_is
// CHECK-SAME: arena 3145728
// CHECK-COUNT-3: call @mp_gemm_batched_f32({{.+}}, %c0_i64)
// REPORT: "function": "nt_gemm_as_is"
// REPORT-NOT: gemm_workspace_bytes
func.func @nt_gemm_as_is(%g: tensor<128x512xf32> {mp.input = "g"}, %x: tensor<128x512xf32> {mp.input = "x"},
                         %h: tensor<512x512xf32> {mp.input = "h"}, %y: tensor<512x512xf32> {mp.input = "y"})
    -> (tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>) {
  %gt = mp.transpose %g perm [1, 0] : tensor<128x512xf32> -> tensor<512x128xf32>
  %thin = mp.matmul %gt, %x : (tensor<512x128xf32>, tensor<128x512xf32>) -> tensor<512x512xf32>
  %ht = mp.transpose %h perm [1, 0] : tensor<512x512xf32> -> tensor<512x512xf32>
  %strict = mp.matmul %ht, %y precision <fp32> : (tensor<512x512xf32>, tensor<512x512xf32>) -> tensor<512x512xf32>
  %nn = mp.matmul %h, %y : (tensor<512x512xf32>, tensor<512x512xf32>) -> tensor<512x512xf32>
  return %thin, %strict, %nn : tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>
}

// -----

// Mixed dtypes in bf16: CUDA converts the smaller operand (the bfloat16
// one, 512 elements, widened to float32: 2048 bytes); the host copies
// both into float32 (2048 + 32768 bytes).
// CHECK-LABEL: func.func @mixed_dtypes
// HOST: call @mp_gemm_batched_f32({{.+}}, %c34816_i64)
// CUDA: call @mp_gemm_batched_f32({{.+}}, %c2048_i64)
// ANY: call @mp_gemm_batched_f32({{.+}}, %c34816_i64)
// REPORT: "function": "mixed_dtypes"
// REPORT: "gemm_workspace_bytes": 2048
func.func @mixed_dtypes(%a: tensor<8x64xf32> {mp.input = "a"}, %b: tensor<64x128xf32> {mp.input = "b"}) -> tensor<8x128xf32> {
  %ab = mp.convert %a : tensor<8x64xf32> -> tensor<8x64xbf16>
  %c = mp.matmul %ab, %b precision <bf16> : (tensor<8x64xbf16>, tensor<64x128xf32>) -> tensor<8x128xf32>
  return %c : tensor<8x128xf32>
}

// -----

// Fused attention's GEMMs take their workspace in the op's scratch, after
// the score chunks (mp_attention_scratch_bytes, ABI 14). Here 4 query
// matrices in groups of 2 per key matrix, causal, in chunks of 4 rows (400
// bytes hold 4 rows of 4 x 6 scores): 384 bytes of scores. On the host in
// bf16 the largest GEMM's float32 copies are the first chunk's q · kᵀ, one
// call per query matrix of a group: q's 2 matrices 48 floats apart, 4 x 8
// each (128 floats), k's 2 matrices 48 apart, its 4 visible keys (80
// floats), 832 bytes. CUDA runs it on chip (bf16, head dim 8 <=
// MP_CUDA_ON_CHIP_ATTENTION_MAX_HEAD_DIM_BF16; ABI 16): no scratch, a null
// pointer and 0 bytes; `any` plans the host's.
// CHECK-LABEL: func.func @bf16_attention
// HOST-SAME: arena 2112
// CUDA-SAME: arena 896
// ANY-SAME: arena 2112
// HOST: %[[SCRATCH:[0-9]+]] = llvm.getelementptr %{{.+}}[%c896_i64]
// HOST: call @mp_attention_f32({{.+}}, %[[SCRATCH]], %c1216_i64)
// CUDA: %[[NULL:[0-9]+]] = llvm.mlir.zero : !llvm.ptr
// CUDA: call @mp_attention_f32({{.+}}, %[[NULL]], %c0_i64)
// ANY: call @mp_attention_f32({{.+}}, %c1216_i64)
// REPORT: "function": "bf16_attention"
// REPORT-NOT: "attention_scratch_bytes"
// REPORT: "peak_live"
func.func @bf16_attention(%q: tensor<4x6x8xf32> {mp.input = "q"}, %k: tensor<2x6x8xf32> {mp.input = "k"}, %v: tensor<2x6x8xf32> {mp.input = "v"}) -> tensor<4x6x8xf32> {
  %o, %lse = mp.attention %q, %k, %v scale 0.5 causal chunk_bytes 400 precision <bf16> : (tensor<4x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<4x6x8xf32>, tensor<4x6xf32>)
  return %o : tensor<4x6x8xf32>
}

// -----

// ALiBi's bias (the 4 heads' slopes after the chunk rows) runs on chip
// too: no scratch on CUDA, the host's chunks there.
// CHECK-LABEL: func.func @bf16_alibi_attention
// HOST: call @mp_attention_f32({{.+}}, %c4_i64, %{{.+}}, %c0_i32, {{.+}}, %c1216_i64)
// CUDA: call @mp_attention_f32({{.+}}, %c4_i64, %{{.+}}, %c0_i32, {{.+}}, %c0_i64)
// REPORT: "function": "bf16_alibi_attention"
// REPORT-NOT: "attention_scratch_bytes"
// REPORT: "peak_live"
func.func @bf16_alibi_attention(%q: tensor<4x6x8xf32> {mp.input = "q"}, %k: tensor<2x6x8xf32> {mp.input = "k"}, %v: tensor<2x6x8xf32> {mp.input = "v"}) -> tensor<4x6x8xf32> {
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %o, %lse = mp.attention %q, %k, %v alibi %slopes scale 0.5 causal chunk_bytes 400 precision <bf16> : (tensor<4x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<4xf32>) -> (tensor<4x6x8xf32>, tensor<4x6xf32>)
  return %o : tensor<4x6x8xf32>
}

// -----

// On chip the gradient keeps a float per query row (4 x 6: 96 bytes, 128
// planned) instead of the chunks' two score buffers (4 rows of 6 keys, 768
// bytes) and their GEMMs' workspace.
// CHECK-LABEL: func.func @bf16_attention_grad
// CUDA: call @mp_attention_grad_f32({{.+}}, %c128_i64)
// HOST: call @mp_attention_grad_f32({{.+}}, %c1600_i64)
// REPORT: "function": "bf16_attention_grad"
// REPORT: "attention_scratch_bytes": 128
func.func @bf16_attention_grad(%q: tensor<4x6x8xf32> {mp.input = "q"}, %k: tensor<2x6x8xf32> {mp.input = "k"}, %v: tensor<2x6x8xf32> {mp.input = "v"}, %o: tensor<4x6x8xf32> {mp.input = "o"}, %lse: tensor<4x6xf32> {mp.input = "lse"}, %g: tensor<4x6x8xf32> {mp.input = "g"}) -> tensor<4x6x8xf32> {
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 0.5 causal chunk_bytes 800 precision <bf16> : (tensor<4x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<4x6x8xf32>, tensor<4x6xf32>, tensor<4x6x8xf32>) -> (tensor<4x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return %dq : tensor<4x6x8xf32>
}

// -----

// In fp32 (no on-chip kernel: it is the strict mode) CUDA composes chunks
// too: the scores of all 6 rows, 4 x 6 x 6 floats.
// CHECK-LABEL: func.func @fp32_attention
// CUDA: call @mp_attention_f32({{.+}}, %c576_i64)
// REPORT: "function": "fp32_attention"
// REPORT: "attention_scratch_bytes": 576
func.func @fp32_attention(%q: tensor<4x6x8xf32> {mp.input = "q"}, %k: tensor<2x6x8xf32> {mp.input = "k"}, %v: tensor<2x6x8xf32> {mp.input = "v"}) -> tensor<4x6x8xf32> {
  %o, %lse = mp.attention %q, %k, %v scale 0.5 precision <fp32> : (tensor<4x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<4x6x8xf32>, tensor<4x6xf32>)
  return %o : tensor<4x6x8xf32>
}

// -----

// In tf32 the plan takes the on-chip scratch up to head dim 80, the
// largest whose tiles fit an A100's shared memory
// (mp_cuda_on_chip_attention_max_head_dim): at 80 none, at 96 the scores
// of all 4 rows (2 x 4 x 4 floats, 128 bytes). Planned for H100s and H200s
// only (cuda-archs=90: 227 KB per block), both run on chip; planned for
// GeForce GPUs too (89: 99 KB), neither does (tf32 on chip up to 16).
// CHECK-LABEL: func.func @tf32_attention_head_dims
// CUDA: call @mp_attention_f32({{.+}}, %c0_i64)
// CUDA: call @mp_attention_f32({{.+}}, %c128_i64)
// SM90-LABEL: func.func @tf32_attention_head_dims
// SM90: call @mp_attention_f32({{.+}}, %c0_i64)
// SM90: call @mp_attention_f32({{.+}}, %c0_i64)
// SM89-LABEL: func.func @tf32_attention_head_dims
// SM89: call @mp_attention_f32({{.+}}, %c128_i64)
// SM89: call @mp_attention_f32({{.+}}, %c128_i64)
// REPORT-SM90: "function": "tf32_attention_head_dims"
// REPORT-SM90-NOT: "attention_scratch_bytes"
// REPORT-SM90: "peak_live"
func.func @tf32_attention_head_dims(%q80: tensor<2x4x80xf32> {mp.input = "q80"}, %q96: tensor<2x4x96xf32> {mp.input = "q96"}) -> (tensor<2x4x80xf32>, tensor<2x4x96xf32>) {
  %o80, %l80 = mp.attention %q80, %q80, %q80 scale 0.5 precision <tf32> : (tensor<2x4x80xf32>, tensor<2x4x80xf32>, tensor<2x4x80xf32>) -> (tensor<2x4x80xf32>, tensor<2x4xf32>)
  %o96, %l96 = mp.attention %q96, %q96, %q96 scale 0.5 precision <tf32> : (tensor<2x4x96xf32>, tensor<2x4x96xf32>, tensor<2x4x96xf32>) -> (tensor<2x4x96xf32>, tensor<2x4xf32>)
  return %o80, %o96 : tensor<2x4x80xf32>, tensor<2x4x96xf32>
}

// -----

// The gradient's dk += dsᵀ · q and dv += pᵀ · grad are NT GEMMs; at 512
// keys, rows and head dims in tf32 they are FLOP-bound (64 FLOPs per
// byte), and CUDA writes ds and p out transposed first (1 MiB) after the
// two score buffers (2 MiB); the host takes the scores only. (Head dim
// 512 is past the on-chip kernels' 128.)
// CHECK-LABEL: func.func @nt_attention_grad
// HOST-SAME: arena 5242880
// CUDA-SAME: arena 6291456
// ANY-SAME: arena 6291456
// HOST: call @mp_attention_grad_f32({{.+}}, %c2097152_i64)
// CUDA: call @mp_attention_grad_f32({{.+}}, %c3145728_i64)
// ANY: call @mp_attention_grad_f32({{.+}}, %c3145728_i64)
// REPORT: "function": "nt_attention_grad"
// REPORT: "attention_scratch_bytes": 3145728
func.func @nt_attention_grad(%q: tensor<1x512x512xf32> {mp.input = "q"}, %k: tensor<1x512x512xf32> {mp.input = "k"}, %v: tensor<1x512x512xf32> {mp.input = "v"}, %o: tensor<1x512x512xf32> {mp.input = "o"}, %lse: tensor<1x512xf32> {mp.input = "lse"}, %g: tensor<1x512x512xf32> {mp.input = "g"}) -> tensor<1x512x512xf32> {
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 0.5 : (tensor<1x512x512xf32>, tensor<1x512x512xf32>, tensor<1x512x512xf32>, tensor<1x512x512xf32>, tensor<1x512xf32>, tensor<1x512x512xf32>) -> (tensor<1x512x512xf32>, tensor<1x512x512xf32>, tensor<1x512x512xf32>)
  return %dq : tensor<1x512x512xf32>
}

// -----

// Under a sliding window (ABI 19) a chunk's scores span its rows + window -
// 1 keys at most: 4 query matrices, window 8, chunks of 12 rows forward
// (chunk_bytes 4096 holds 4 x 12 x 19 floats, 3648 bytes, not 4 x 13 x
// 20; counted over all 64 keys it would hold 4 rows) and of 16 backward
// (the balance of scores computed in vain and keys read again over the
// window, sqrt(2 · 8 · 16 / 10) rounded up to 16; 16 over the sequence
// too): twice 4 x 16 x 23 floats (11776 bytes) instead of 32768 for every
// key. fp32 GEMMs take no workspace, and compose on CUDA too.
// CHECK-LABEL: func.func @windowed_attention
// CHECK: call @mp_attention_f32({{.+}}, %c1_i32, %c8_i64, %c12_i64, {{.+}}, %c3648_i64)
// CHECK: call @mp_attention_grad_f32({{.+}}, %c1_i32, %c8_i64, %c16_i64, {{.+}}, %c11776_i64)
func.func @windowed_attention(%q: tensor<4x64x8xf32> {mp.input = "q"}, %k: tensor<4x64x8xf32> {mp.input = "k"}, %v: tensor<4x64x8xf32> {mp.input = "v"}, %g: tensor<4x64x8xf32> {mp.input = "g"}) -> (tensor<4x64x8xf32>, tensor<4x64x8xf32>) {
  %o, %lse = mp.attention %q, %k, %v scale 0.5 causal window 8 chunk_bytes 4096 precision <fp32> : (tensor<4x64x8xf32>, tensor<4x64x8xf32>, tensor<4x64x8xf32>) -> (tensor<4x64x8xf32>, tensor<4x64xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 0.5 causal window 8 precision <fp32> : (tensor<4x64x8xf32>, tensor<4x64x8xf32>, tensor<4x64x8xf32>, tensor<4x64x8xf32>, tensor<4x64xf32>, tensor<4x64x8xf32>) -> (tensor<4x64x8xf32>, tensor<4x64x8xf32>, tensor<4x64x8xf32>)
  return %o, %dq : tensor<4x64x8xf32>, tensor<4x64x8xf32>
}
