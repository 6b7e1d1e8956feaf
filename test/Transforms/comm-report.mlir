// The communication report's totals against the analytical formulas.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/ffn2d.mlir --mp-apply-plan --mp-spmd --mp-comm-report=%t/2d.json -o /dev/null
// RUN: FileCheck %s --check-prefix=FSDP < %t/2d.json
// RUN: mp-opt %t/ffnsp.mlir --mp-apply-plan --mp-spmd --mp-comm-report=%t/sp.json -o /dev/null
// RUN: FileCheck %s --check-prefix=SP < %t/sp.json
// RUN: mp-opt %t/ffnsp.mlir --mp-apply-plan --mp-spmd --mp-comm-report | FileCheck %s --check-prefix=STDOUT
// RUN: mp-opt %t/a2a.mlir --mp-comm-report=%t/a2a.json -o /dev/null
// RUN: FileCheck %s --check-prefix=A2A < %t/a2a.json

// FFN, batch B = 8, dim D = 64, hidden H = 128, f32 (4 bytes), on
// data_parallel d = 2 x tensor_parallel t = 2, FSDP on data_parallel.
//
// ZeRO-3 (FSDP) forward: each of the 3 weights (H·D·4 = 32768 bytes) is
// stored as 1/(d·t) and all_gathered over d from its tensor-parallel shard
// of H·D·4/t = 16384 bytes: a ring sends (d-1)/d of it, 8192 bytes per
// rank per weight, 3 · 8192 = 24576 per rank, ×4 ranks = 98304.
// Megatron-LM tensor parallelism: one all_reduce of the rowwise output,
// (B/d)·D·4 = 1024 bytes, a ring sends 2(t-1)/t of it: 1024 per rank,
// 4096 in all. Per step: 25600 per rank, 102400 in all.

// FSDP: "kind": "all_gather",
// FSDP: "origin": "fsdp(data_parallel): w1"
// FSDP: "kind": "all_gather",
// FSDP: "origin": "fsdp(data_parallel): w2"
// FSDP: "kind": "all_gather",
// FSDP: "origin": "fsdp(data_parallel): w3"
// FSDP: "kind": "all_reduce",
// FSDP: "group_size": 2,
// FSDP-NEXT: "element_type": "f32",
// FSDP: "input_bytes": 1024,
// FSDP-NEXT: "output_bytes": 1024,
// FSDP-NEXT: "bytes_per_rank": 1024,
// FSDP-NEXT: "bytes_global": 4096,
// FSDP-NEXT: "origin": "'w2' (rowwise) -> func.return"
// FSDP: "per_axes": {
// FSDP-NEXT: "data_parallel": {
// FSDP-NEXT: "count": 3,
// FSDP-NEXT: "bytes_per_rank": 24576,
// FSDP-NEXT: "bytes_global": 98304
// FSDP-NEXT: },
// FSDP-NEXT: "tensor_parallel": {
// FSDP-NEXT: "count": 1,
// FSDP-NEXT: "bytes_per_rank": 1024,
// FSDP-NEXT: "bytes_global": 4096
// FSDP-NEXT: }
// FSDP-NEXT: },
// FSDP-NEXT: "total": {
// FSDP-NEXT: "count": 4,
// FSDP-NEXT: "bytes_per_rank": 25600,
// FSDP-NEXT: "bytes_global": 102400

// Sequence parallelism on t = 4 (no data parallelism): the all_reduce
// becomes an all_gather of the input and a reduce_scatter of the output,
// each B·D·4 = 2048 bytes whole, each sending (t-1)/t of it: 1536 + 1536 =
// 3072 per rank, the same as the all_reduce's 2(t-1)/t · 2048, ×4 = 12288.

// SP: "kind": "all_gather",
// SP: "bytes_per_rank": 1536,
// SP: "kind": "reduce_scatter",
// SP: "bytes_per_rank": 1536,
// SP: "per_axes": {
// SP-NEXT: "tp": {
// SP-NEXT: "count": 2,
// SP-NEXT: "bytes_per_rank": 3072,
// SP-NEXT: "bytes_global": 12288
// SP: "total": {
// SP-NEXT: "count": 2,
// SP-NEXT: "bytes_per_rank": 3072,
// SP-NEXT: "bytes_global": 12288

// all_to_all over t = 4 of a rank's 8x16 f32 piece (512 bytes): it keeps
// 1/t of it and sends the other (t-1)/t, 384 bytes per rank; on the 2 x 4
// mesh, 8 · 384 = 3072 in all.

// A2A: "kind": "all_to_all",
// A2A: "group_size": 4,
// A2A: "input_bytes": 512,
// A2A-NEXT: "output_bytes": 512,
// A2A-NEXT: "bytes_per_rank": 384,
// A2A-NEXT: "bytes_global": 3072,
// A2A: "total": {
// A2A-NEXT: "count": 1,
// A2A-NEXT: "bytes_per_rank": 384,
// A2A-NEXT: "bytes_global": 3072

// STDOUT: "function": "ffn"
// STDOUT: "total": {
// STDOUT: func.func @ffn

//--- ffn2d.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> tensor<8x64xf32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

//--- ffnsp.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {w1 = colwise, w2 = rowwise, w3 = colwise, x = sequence_parallel, out = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 4>
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

//--- a2a.mlir
mp.mesh @mesh = <dp = 2, tp = 4>
func.func @a2a(%x: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<32x4xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>}) attributes {mp.partitioned} {
  %t = mp.all_to_all %x on @mesh axes ["tp"] split 1 concat 0 : tensor<8x16xf32> -> tensor<32x4xf32>
  return %t : tensor<32x4xf32>
}
