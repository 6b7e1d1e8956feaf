// RUN: mp-opt %s --mp-lower-to-runtime=backend=host -split-input-file | FileCheck %s --check-prefixes=CHECK,HOST
// RUN: mp-opt %s --mp-lower-to-runtime=backend=cuda -split-input-file | FileCheck %s --check-prefixes=CHECK,CUDA
// RUN: mp-opt %s --mp-lower-to-runtime -split-input-file | FileCheck %s --check-prefixes=CHECK,ANY
// RUN: mp-opt %s --mp-memory-report=backend=host -split-input-file -o /dev/null | FileCheck %s --check-prefix=REPORT

// A collective along a dim that rows precede stages its pieces in scratch
// planned in the arena, of the bytes the runtime's
// mp_collective_scratch_bytes gives for the backend planned for (`any`: the
// larger), passed last (ABI 14): the host's MPI collectives always, CUDA's
// beyond 32 rows (fewer run as a grouped NCCL call per row). The runtime
// then allocates nothing of its own for it.

// An all_gather along dim 1 of 4 rows: the host gathers the pieces into
// 192 bytes (the output's) and concatenates them; CUDA calls per row.
// CHECK-LABEL: func.func @gather_rows
// HOST-SAME: arena 384
// CUDA-SAME: arena 192
// ANY-SAME: arena 384
// HOST: %[[STAGING:[0-9]+]] = llvm.getelementptr %{{.+}}[%c192_i64]
// HOST: call @mp_all_gather({{.+}}, %c1_i32, %[[STAGING]], %c192_i64)
// CUDA: %[[NONE:[0-9]+]] = llvm.mlir.zero : !llvm.ptr
// CUDA: call @mp_all_gather({{.+}}, %c1_i32, %[[NONE]], %c0_i64)
// ANY: call @mp_all_gather({{.+}}, %c192_i64)
// REPORT: "function": "gather_rows"
// REPORT: "collective_staging_bytes": 192
mp.mesh @mesh = <dp = 2>
func.func @gather_rows(%x: tensor<4x6xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[], [dp]]>}) -> (tensor<4x12xf32> {mp.output = "y"}) attributes {mp.partitioned} {
  %y = mp.all_gather %x on @mesh axes ["dp"] dim 1 : tensor<4x6xf32> -> tensor<4x12xf32>
  return %y : tensor<4x12xf32>
}

// -----

// 64 rows: CUDA packs too.
// CHECK-LABEL: func.func @gather_many_rows
// CHECK-SAME: arena 8192
// CHECK: call @mp_all_gather({{.+}}, %c4096_i64)
mp.mesh @mesh = <dp = 2>
func.func @gather_many_rows(%x: tensor<64x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[], [dp]]>}) -> (tensor<64x16xf32> {mp.output = "y"}) attributes {mp.partitioned} {
  %y = mp.all_gather %x on @mesh axes ["dp"] dim 1 : tensor<64x8xf32> -> tensor<64x16xf32>
  return %y : tensor<64x16xf32>
}

// -----

// A reduce_scatter packs its input's 128 bytes by piece on the host.
// CHECK-LABEL: func.func @scatter_rows
// HOST: call @mp_reduce_scatter({{.+}}, %c128_i64)
// CUDA: call @mp_reduce_scatter({{.+}}, %c0_i64)
// ANY: call @mp_reduce_scatter({{.+}}, %c128_i64)
mp.mesh @mesh = <dp = 2>
func.func @scatter_rows(%x: tensor<4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[], []]>}) -> (tensor<4x4xf32> {mp.output = "y"}) attributes {mp.partitioned} {
  %y = mp.reduce_scatter %x on @mesh axes ["dp"] dim 1 : tensor<4x8xf32> -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}

// -----

// An all_to_all from dim 1 to dim 0 packs its pieces of dim 1 (rows
// precede it) on both backends, and receives them where they go (none
// precede dim 0).
// CHECK-LABEL: func.func @all_to_all
// CHECK: call @mp_all_to_all({{.+}}, %c1_i32, %c0_i32, %{{.+}}, %c128_i64)
mp.mesh @mesh = <tp = 2>
func.func @all_to_all(%x: tensor<4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[tp], []]>}) -> (tensor<8x4xf32> {mp.output = "y"}) attributes {mp.partitioned} {
  %y = mp.all_to_all %x on @mesh axes ["tp"] split 1 concat 0 : tensor<4x8xf32> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// -----

// The leading dim's pieces are where MPI and NCCL put them: no staging.
// CHECK-LABEL: func.func @gather_leading
// CHECK: call @mp_all_gather({{.+}}, %c0_i64)
// REPORT: "function": "gather_leading"
// REPORT-NOT: collective_staging_bytes
// REPORT: "function": "async_gather"
mp.mesh @mesh = <dp = 2>
func.func @gather_leading(%x: tensor<4x6xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[dp], []]>}) -> (tensor<8x6xf32> {mp.output = "y"}) attributes {mp.partitioned} {
  %y = mp.all_gather %x on @mesh axes ["dp"] dim 0 : tensor<4x6xf32> -> tensor<8x6xf32>
  return %y : tensor<8x6xf32>
}

// -----

// An asynchronous collective stages until its wait: the staging (192 to
// 384) is not reused by the ReLUs computed beside it (at 384); the
// gathered result is at 0.
// CHECK-LABEL: func.func @async_gather
// HOST-SAME: arena 576
// HOST: %[[STAGING:[0-9]+]] = llvm.getelementptr %{{.+}}[%c192_i64]
// HOST: call @mp_async_begin
// HOST-NEXT: call @mp_all_gather({{.+}}, %[[STAGING]], %c192_i64)
// HOST: %[[R:[0-9]+]] = llvm.getelementptr %{{.+}}[%c384_i64]
// HOST: call @mp_unary_f32({{.+}}, %[[R]], %{{.+}})
// HOST: call @mp_async_wait
mp.mesh @mesh = <dp = 2>
func.func @async_gather(%x: tensor<4x6xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[], [dp]]>}, %z: tensor<4x12xf32> {mp.input = "z", mp.sharding = #mp.sharding<@mesh, [[], []]>}) -> (tensor<4x12xf32> {mp.output = "y"}) attributes {mp.partitioned} {
  %g = mp.all_gather %x on @mesh axes ["dp"] dim 1 {mp.async = 0 : i64} : tensor<4x6xf32> -> tensor<4x12xf32>
  %r = mp.relu %z : tensor<4x12xf32>
  %s = mp.relu %r : tensor<4x12xf32>
  %w = mp.wait %g keeps %x : tensor<4x6xf32> : tensor<4x12xf32>
  %y = mp.add %w, %s : tensor<4x12xf32>
  return %y : tensor<4x12xf32>
}
