// RUN: mp-opt %s -split-input-file --mp-coalesce-reductions | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-coalesce-reductions="max-bytes=16" | FileCheck %s --check-prefix=SMALL
// RUN: mp-opt %s -split-input-file --mp-coalesce-reductions --mp-memory-report -o /dev/null | FileCheck %s --check-prefix=MEMORY
// RUN: not mp-opt %s -split-input-file --mp-coalesce-reductions="max-bytes=-1" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: --mp-coalesce-reductions: max-bytes must be 0 or more, got -1

// Two split norms' mean squares (q's, then k's after q's use): k's square
// and mean move above q's reduction, which k's joins; then one call.
// CHECK-LABEL: func.func @norms
// CHECK-NEXT: %[[QS:.+]] = mp.mul %arg0, %arg0
// CHECK-NEXT: %[[QM:.+]] = mp.mean %[[QS]]
// CHECK-NEXT: %[[KS:.+]] = mp.mul %arg1, %arg1
// CHECK-NEXT: %[[KM:.+]] = mp.mean %[[KS]]
// CHECK-NEXT: %[[QR:.+]] = mp.all_reduce %[[QM]] on @mesh axes ["tp"] {mp.coalesced = 0 : i64}
// CHECK-NEXT: %[[KR:.+]] = mp.all_reduce %[[KM]] on @mesh axes ["tp"] {mp.coalesced = 0 : i64}
// CHECK-NEXT: mp.rsqrt %[[QR]]
// CHECK: mp.rsqrt %[[KR]]
// With max-bytes 16 the 24-byte reductions stay apart and untagged.
// SMALL-LABEL: func.func @norms
// SMALL-NOT: mp.coalesced
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @norms(%q: tensor<2x3x4xf32>, %k: tensor<2x3x2xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
    attributes {mp.partitioned} {
  %qs = mp.mul %q, %q : tensor<2x3x4xf32>
  %qm = mp.mean %qs dims [2] : tensor<2x3x4xf32> -> tensor<2x3xf32>
  %qr = mp.all_reduce %qm on @mesh axes ["tp"] : tensor<2x3xf32>
  %qi = mp.rsqrt %qr eps 1.0e-5 : tensor<2x3xf32>
  %ks = mp.mul %k, %k : tensor<2x3x2xf32>
  %km = mp.mean %ks dims [2] : tensor<2x3x2xf32> -> tensor<2x3xf32>
  %kr = mp.all_reduce %km on @mesh axes ["tp"] : tensor<2x3xf32>
  %ki = mp.rsqrt %kr eps 1.0e-5 : tensor<2x3xf32>
  return %qi, %ki : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Left apart: a reduction whose operand reads the first's result and a
// 2 MiB one (max-bytes is 1 MiB). Reductions over other axes make their
// own run, the later one joining it past the first's reader.
// CHECK-LABEL: func.func @apart
// SMALL-LABEL: func.func @apart
// SMALL: mp.coalesced
// CHECK: %[[A:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"] : tensor<4xf32>
// CHECK: %[[D1:.+]] = mp.all_reduce %arg2 on @mesh axes ["dp"] {mp.coalesced = 0 : i64}
// CHECK-NEXT: %[[D2:.+]] = mp.all_reduce %arg3 on @mesh axes ["dp"] {mp.coalesced = 0 : i64}
// CHECK: %[[B:.+]] = mp.all_reduce %{{.+}} on @mesh axes ["tp"] : tensor<4xf32>
// CHECK: mp.all_reduce %arg1 on @mesh axes ["tp"] : tensor<512x1024xf32>
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @apart(%a: tensor<4xf32>, %big: tensor<512x1024xf32>, %d: tensor<4xf32>, %e: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<512x1024xf32>, tensor<4xf32>, tensor<4xf32>)
    attributes {mp.partitioned} {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4xf32>
  %rd = mp.all_reduce %d on @mesh axes ["dp"] : tensor<4xf32>
  %s = mp.exp %ra : tensor<4xf32>
  %rb = mp.all_reduce %s on @mesh axes ["tp"] : tensor<4xf32>
  %rbig = mp.all_reduce %big on @mesh axes ["tp"] : tensor<512x1024xf32>
  %re = mp.all_reduce %e on @mesh axes ["dp"] : tensor<4xf32>
  return %rb, %rbig, %rd, %re : tensor<4xf32>, tensor<512x1024xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A reduction of a member's result stays out of its run (one call packs
// every input before it sums).
// CHECK-LABEL: func.func @chained
// CHECK-NEXT: mp.all_reduce %arg0 on @mesh axes ["tp"] : tensor<4xf32>
// CHECK-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["tp"] : tensor<4xf32>
mp.mesh @mesh = <tp = 2>
func.func @chained(%a: tensor<4xf32>) -> tensor<4xf32> attributes {mp.partitioned} {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4xf32>
  %rr = mp.all_reduce %ra on @mesh axes ["tp"] : tensor<4xf32>
  return %rr : tensor<4xf32>
}

// -----

// A GEMM stays where it is (a run would wait for it), and so does the
// reduction of its result.
// CHECK-LABEL: func.func @gemm
// CHECK-NEXT: mp.all_reduce %arg0 on @mesh axes ["tp"] : tensor<2x4xf32>
// CHECK-NEXT: mp.exp
// CHECK-NEXT: mp.linear
// CHECK-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["tp"] : tensor<2x4xf32>
mp.mesh @mesh = <tp = 2>
func.func @gemm(%a: tensor<2x4xf32>, %x: tensor<2x4xf32>, %w: tensor<4x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) attributes {mp.partitioned} {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<2x4xf32>
  %e = mp.exp %ra : tensor<2x4xf32>
  %h = mp.linear %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %rh = mp.all_reduce %h on @mesh axes ["tp"] : tensor<2x4xf32>
  return %e, %rh : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// The memory plan reserves one packed buffer for the run: its tensors'
// bytes together, 24 + 8 (an all_reduce sums in place, where a grouped
// gather's buffer is (group size + 1) times its shards).
// MEMORY: "function": "packed",
// MEMORY: "collective_scratch_bytes": 32,
mp.mesh @mesh = <tp = 2>
func.func @packed(%a: tensor<6xf32>, %b: tensor<2xf32>) -> (tensor<6xf32>, tensor<2xf32>)
    attributes {mp.partitioned} {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<6xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<2xf32>
  return %ra, %rb : tensor<6xf32>, tensor<2xf32>
}
