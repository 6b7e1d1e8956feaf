// RUN: mp-opt %s --mp-lower-to-runtime=backend=host -split-input-file | FileCheck %s --check-prefixes=CHECK,HOST
// RUN: mp-opt %s --mp-lower-to-runtime=backend=cuda -split-input-file | FileCheck %s --check-prefixes=CHECK,CUDA
// RUN: mp-opt %s --mp-lower-to-runtime -split-input-file | FileCheck %s --check-prefixes=CHECK,ANY
// RUN: mp-opt %s --mp-memory-report=backend=cuda -split-input-file -o /dev/null | FileCheck %s --check-prefix=REPORT
// RUN: not mp-opt %s --mp-lower-to-runtime=backend=tpu 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mp-opt %s --mp-memory-report=backend=tpu 2>&1 | FileCheck %s --check-prefix=BAD

// What a GEMM converts or lays out before it multiplies goes to a
// workspace in the arena, live while the GEMM runs, of the bytes the
// runtime's mp_gemm_workspace_bytes gives for the backend planned for
// (`any`: the larger), passed after C. The runtime then allocates nothing
// of its own for it.
// BAD: backend must be any, host or cuda, not 'tpu'

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
