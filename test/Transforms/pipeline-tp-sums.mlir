// RUN: mp-opt %s -split-input-file --mp-pipeline-tp-sums | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-pipeline-tp-sums="chunks=3" | FileCheck %s --check-prefix=THREE
// RUN: mp-opt %s -split-input-file --mp-pipeline-tp-sums --mp-schedule-collectives | FileCheck %s --check-prefix=SCHEDULED
// RUN: mp-opt %s -split-input-file --mp-pipeline-tp-sums --mp-schedule-collectives --mp-memory-report=output=- -o /dev/null | FileCheck %s --check-prefixes=MEMORY,CHUNKED
// RUN: mp-opt %s -split-input-file --mp-schedule-collectives --mp-memory-report=output=- -o /dev/null | FileCheck %s --check-prefixes=MEMORY,WHOLE
// RUN: not mp-opt %s -split-input-file --mp-pipeline-tp-sums="chunks=1" 2>&1 | FileCheck %s --check-prefix=BAD

// A rowwise layer's forward: the GEMM's partial sum plus the residual,
// all-reduced over tp, then the norm and the next residual add. Each chunk
// of rows computes its GEMM and residual add on slices and is summed
// alone; the ops after the sum that read it as rows follow in the same
// chunks, one step later (chunk 0's norm after chunk 1's sum is issued),
// and only the value read after them is joined.
// CHECK-LABEL: func.func @rowwise
// CHECK-NEXT: %[[X:.+]] = mp.transpose %arg0
// CHECK-NEXT: %[[R:.+]] = mp.transpose %arg2
// CHECK-NEXT: %[[X0:.+]] = mp.slice %[[X]] dim 0 offset 0 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[Y0:.+]] = mp.linear %[[X0]], %arg1 : (tensor<2x8x16xf32>, tensor<32x16xf32>) -> tensor<2x8x32xf32>
// CHECK-NEXT: %[[R0:.+]] = mp.slice %[[R]] dim 0 offset 0 : tensor<4x8x32xf32> -> tensor<2x8x32xf32>
// CHECK-NEXT: %[[V0:.+]] = mp.add %[[R0]], %[[Y0]] : tensor<2x8x32xf32>
// CHECK-NEXT: %[[S0:.+]] = mp.all_reduce %[[V0]] on @mesh axes ["tp"] origin "'wo' (rowwise) -> mp.rms_norm" : tensor<2x8x32xf32>
// CHECK-NEXT: %[[X1:.+]] = mp.slice %[[X]] dim 0 offset 2
// CHECK-NEXT: %[[Y1:.+]] = mp.linear %[[X1]], %arg1
// CHECK-NEXT: %[[R1:.+]] = mp.slice %[[R]] dim 0 offset 2
// CHECK-NEXT: %[[V1:.+]] = mp.add %[[R1]], %[[Y1]]
// CHECK-NEXT: %[[S1:.+]] = mp.all_reduce %[[V1]]
// CHECK-NEXT: %[[N0:.+]] = mp.rms_norm %[[S0]], %arg3 {{.*}} -> tensor<2x8x32xf32>
// CHECK-NEXT: %[[O0:.+]] = mp.add %[[V0]], %[[N0]]
// CHECK-NEXT: %[[N1:.+]] = mp.rms_norm %[[S1]], %arg3
// CHECK-NEXT: %[[O1:.+]] = mp.add %[[V1]], %[[N1]]
// CHECK-NEXT: %[[O:.+]] = mp.concat %[[O0]], %[[O1]] dim 0 : (tensor<2x8x32xf32>, tensor<2x8x32xf32>) -> tensor<4x8x32xf32>
// CHECK-NEXT: return %[[O]]
// Chunks as even as the rows allow: 2, 1, 1.
// THREE-LABEL: func.func @rowwise
// THREE: mp.slice %0 dim 0 offset 0 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
// THREE: mp.slice %0 dim 0 offset 2 : tensor<4x8x16xf32> -> tensor<1x8x16xf32>
// THREE: mp.slice %0 dim 0 offset 3 : tensor<4x8x16xf32> -> tensor<1x8x16xf32>
// THREE: mp.concat {{.*}} : (tensor<2x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>) -> tensor<4x8x32xf32>
// Scheduled, chunk 0's sum runs beside chunk 1's GEMM (it is waited for
// when chunk 1's sum is issued: one sum in flight), and chunk 1's beside
// chunk 0's norm and add.
// SCHEDULED-LABEL: func.func @rowwise
// SCHEDULED: %[[S0:.+]] = mp.all_reduce {{.*}} {mp.async = [[SLOT:[0-9]+]] : i64}
// SCHEDULED-NEXT: mp.slice %0 dim 0 offset 2
// SCHEDULED-NEXT: mp.linear
// SCHEDULED-NEXT: mp.slice %1 dim 0 offset 2
// SCHEDULED-NEXT: mp.add
// SCHEDULED-NEXT: %[[W0:.+]] = mp.wait %[[S0]]
// SCHEDULED-NEXT: %[[S1:.+]] = mp.all_reduce {{.*}} {mp.async = [[SLOT]] : i64}
// SCHEDULED-NEXT: mp.rms_norm %[[W0]]
// SCHEDULED-NEXT: mp.add
// SCHEDULED-NEXT: %[[W1:.+]] = mp.wait %[[S1]]
// SCHEDULED-NEXT: mp.rms_norm %[[W1]]
// The slices are views and the chunks are computed in place in the joined
// buffer: the plan needs no more than the unchunked step's (each is the
// most bytes live at once), and the kernels touch only the weights once
// more (both chunks read the GEMM's 2 KB and the norm's 128 bytes; copying
// the 4 KB result alone would add 8 KB).
// MEMORY: "function": "rowwise"
// MEMORY: "arena_bytes": 12288
// CHUNKED: "kernel_bytes": 55552
// WHOLE: "kernel_bytes": 53376
// BAD: error: mp-pipeline-tp-sums needs chunks >= 2, not 1
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @rowwise(%input: tensor<8x4x16xf32>, %w: tensor<32x16xf32>,
                   %stream: tensor<8x4x32xf32>, %g: tensor<32xf32>)
    -> tensor<4x8x32xf32> attributes {mp.partitioned} {
  %x = mp.transpose %input perm [1, 0, 2] : tensor<8x4x16xf32> -> tensor<4x8x16xf32>
  %residual = mp.transpose %stream perm [1, 0, 2] : tensor<8x4x32xf32> -> tensor<4x8x32xf32>
  %y = mp.linear %x, %w : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
  %v = mp.add %residual, %y : tensor<4x8x32xf32>
  %s = mp.all_reduce %v on @mesh axes ["tp"] origin "'wo' (rowwise) -> mp.rms_norm" : tensor<4x8x32xf32>
  %n = mp.rms_norm %s, %g eps 1.0e-05 : (tensor<4x8x32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
  %out = mp.add %v, %n : tensor<4x8x32xf32>
  return %out : tensor<4x8x32xf32>
}

// -----

// The backward input gradient of two colwise layers (dX of both summed,
// then all-reduced): both GEMMs and the add are chunked; the GEMMs' inputs
// are sliced, the weights read whole.
// CHECK-LABEL: func.func @colwise_backward
// CHECK-NEXT: mp.slice %arg0 dim 0 offset 0 : tensor<8x16xf32> -> tensor<4x16xf32>
// CHECK-NEXT: mp.linear {{.*}}, %arg2
// CHECK-NEXT: mp.slice %arg1 dim 0 offset 0
// CHECK-NEXT: mp.linear {{.*}}, %arg3
// CHECK-NEXT: mp.add
// CHECK-NEXT: mp.all_reduce
// CHECK: mp.all_reduce
// CHECK-NEXT: %[[S:.+]] = mp.concat
// CHECK-NEXT: return %[[S]]
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @colwise_backward(%dy1: tensor<8x16xf32>, %dy3: tensor<8x16xf32>,
                            %w1t: tensor<32x16xf32>, %w3t: tensor<32x16xf32>)
    -> tensor<8x32xf32> attributes {mp.partitioned} {
  %a = mp.linear %dy1, %w1t : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %b = mp.linear %dy3, %w3t : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %dx = mp.add %a, %b : tensor<8x32xf32>
  %s = mp.all_reduce %dx on @mesh axes ["tp"] : tensor<8x32xf32>
  return %s : tensor<8x32xf32>
}

// -----

// Stay as they are: a sum that no GEMM computes (an activation's), a sum
// of a GEMM whose result other ops read too (its rows are needed whole
// anyway), a reduce_scatter over dim 0 (the chunked dim), and a sum of a
// GEMM on a vector (one row).
// CHECK-LABEL: func.func @unchanged
// CHECK-NOT: mp.slice
// CHECK-NOT: mp.concat
// CHECK: return
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @unchanged(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>,
                     %v: tensor<16xf32>)
    -> (tensor<8x16xf32>, tensor<8x32xf32>, tensor<8x32xf32>,
        tensor<4x32xf32>, tensor<32xf32>) attributes {mp.partitioned} {
  %r = mp.relu %x : tensor<8x16xf32>
  %s0 = mp.all_reduce %r on @mesh axes ["tp"] : tensor<8x16xf32>
  %y = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %e = mp.exp %y : tensor<8x32xf32>
  %s1 = mp.all_reduce %e on @mesh axes ["tp"] : tensor<8x32xf32>
  %z = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %s2 = mp.reduce_scatter %z on @mesh axes ["tp"] dim 0 : tensor<8x32xf32> -> tensor<4x32xf32>
  %u = mp.linear %v, %w : (tensor<16xf32>, tensor<32x16xf32>) -> tensor<32xf32>
  %s3 = mp.all_reduce %u on @mesh axes ["tp"] : tensor<32xf32>
  return %s0, %y, %s1, %s2, %s3 : tensor<8x16xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<4x32xf32>, tensor<32xf32>
}
