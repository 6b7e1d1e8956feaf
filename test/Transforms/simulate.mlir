// The predicted time of a partitioned function against the model worked by
// hand, on a machine of round numbers (Inputs/machine-round.json: 1e9
// FLOP/s and bytes/s per rank, 1 us per op; the tp link 1e9 bytes/s and
// 1 us per ring step, dp 1e8 bytes/s and 10 us), with and without overlap.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/step.mlir --mp-simulate=machine=%S/Inputs/machine-round.json -o /dev/null | FileCheck %s
// RUN: sed 's/"overlap": false/"overlap": true/' %S/Inputs/machine-round.json > %t/overlap.json
// RUN: mp-opt %t/step.mlir --mp-simulate="machine=%t/overlap.json output=%t/overlap-report.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=OVERLAP < %t/overlap-report.json
// RUN: mp-opt %t/step.mlir --mp-simulate=machine=%t/factors.json -o /dev/null | FileCheck %s --check-prefix=FACTORS
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/badkind.json 2>&1 | FileCheck %s --check-prefix=BADKIND
// RUN: mp-opt %t/precision.mlir --mp-simulate=machine=%t/precision.json -o /dev/null | FileCheck %s --check-prefix=PRECISION
// RUN: mp-opt %t/async.mlir --mp-simulate=machine=%S/Inputs/machine-round.json -o /dev/null | FileCheck %s --check-prefix=ASYNC
// RUN: sed 's/"overlap": false/"overlap": false, "async_overlap": false/' %S/Inputs/machine-round.json > %t/no-async.json
// RUN: mp-opt %t/async.mlir --mp-simulate=machine=%t/no-async.json -o /dev/null | FileCheck %s --check-prefix=NOASYNC
// RUN: sed 's/"overlap": false/"overlap": false, "async_overlap": 1/' %S/Inputs/machine-round.json > %t/bad-async.json
// RUN: not mp-opt %t/async.mlir --mp-simulate=machine=%t/bad-async.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADASYNC
// RUN: mp-opt %t/widen.mlir --mp-simulate=machine=%t/precision.json -o /dev/null | FileCheck %s --check-prefix=WIDEN
// RUN: sed 's/"op_seconds"/"bf16_gemm_operands": "float32_copies", "op_seconds"/' %t/precision.json > %t/copies.json
// RUN: mp-opt %t/widen.mlir --mp-simulate=machine=%t/copies.json -o /dev/null | FileCheck %s --check-prefix=COPIES
// RUN: sed 's/"op_seconds"/"bf16_gemm_operands": "bf16", "op_seconds"/' %t/precision.json > %t/bad-operands.json
// RUN: not mp-opt %t/widen.mlir --mp-simulate=machine=%t/bad-operands.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADOPERANDS
// RUN: mp-opt %t/grouped.mlir --mp-simulate=machine=%S/Inputs/machine-round.json -o /dev/null | FileCheck %s --check-prefix=GROUPED
// RUN: mp-opt %t/grouped-async.mlir --mp-simulate=machine=%S/Inputs/machine-round.json -o /dev/null | FileCheck %s --check-prefix=GROUPED-ASYNC
// RUN: sed 's/"overlap": false/"overlap": false, "strided_collectives": "copies"/' %S/Inputs/machine-round.json > %t/copies-strided.json
// RUN: mp-opt %t/strided.mlir --mp-simulate=machine=%t/copies-strided.json -o /dev/null | FileCheck %s --check-prefix=STRIDED
// RUN: mp-opt %t/strided.mlir --mp-simulate=machine=%S/Inputs/machine-round.json -o /dev/null | FileCheck %s --check-prefix=ROW-CALLS
// RUN: sed 's/"overlap": false/"overlap": false, "strided_collectives": "packed"/' %S/Inputs/machine-round.json > %t/bad-strided.json
// RUN: not mp-opt %t/strided.mlir --mp-simulate=machine=%t/bad-strided.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD-STRIDED
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/badprecision.json 2>&1 | FileCheck %s --check-prefix=BADPRECISION
// RUN: mp-opt %t/attention.mlir --mp-simulate=machine=%t/launches.json -o /dev/null | FileCheck %s --check-prefix=ATTENTION
// RUN: mp-opt %t/attention.mlir --mp-simulate=machine=%t/on-chip.json -o /dev/null | FileCheck %s --check-prefix=ON-CHIP
// RUN: mp-opt %t/attention.mlir --mp-simulate=machine=%t/on-chip-bf16.json -o /dev/null | FileCheck %s --check-prefix=ATTENTION
// RUN: mp-opt %t/attention.mlir --mp-simulate=machine=%t/on-chip-small.json -o /dev/null | FileCheck %s --check-prefix=ATTENTION
// RUN: mp-opt %t/attention-bf16.mlir --mp-simulate=machine=%t/launches.json -o /dev/null | FileCheck %s --check-prefix=ATTENTION-BF16
// RUN: mp-opt %t/attention-bf16.mlir --mp-simulate=machine=%t/on-chip-bf16.json -o /dev/null | FileCheck %s --check-prefix=ON-CHIP-BF16
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/on-chip-fp8.json 2>&1 | FileCheck %s --check-prefix=ON-CHIP-FP8
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/on-chip-zero.json 2>&1 | FileCheck %s --check-prefix=ON-CHIP-ZERO
// RUN: mp-opt %t/reshape.mlir --mp-simulate=machine=%S/Inputs/machine-round.json -o /dev/null | FileCheck %s --check-prefix=RESHAPE
// RUN: not mp-opt %t/step.mlir --mp-simulate 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/bad.json 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/nolink.json 2>&1 | FileCheck %s --check-prefix=NOLINK
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/extra.json 2>&1 | FileCheck %s --check-prefix=EXTRA
// Each number finite, their products and sums not: refused, no report.
// RUN: sed 's/"op_seconds": 1e-6/"op_seconds": 1e308/' %S/Inputs/machine-round.json > %t/slow-ops.json
// RUN: not mp-opt %t/step.mlir --mp-simulate="machine=%t/slow-ops.json output=%t/slow-ops-report.json" 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// RUN: not test -e %t/slow-ops-report.json
// RUN: sed 's/"latency_seconds": 1e-6/"latency_seconds": 1e308/' %S/Inputs/machine-round.json > %t/slow-link.json
// RUN: not mp-opt %t/step.mlir --mp-simulate=machine=%t/slow-link.json 2>&1 | FileCheck %s --check-prefix=OVERFLOW
//
// linear [8, 16] x [32, 16]^T: 2·8·32·16 = 8192 FLOPs (8.192 us), bytes
// (128 + 512 + 256)·4 = 3584 (3.584 us): 8.192 + 1 = 9.192 us.
// relu [8, 32]: 2·256·4 = 2048 bytes: 2.048 + 1 = 3.048 us.
// all_reduce over tp (4 ranks) of 1024 bytes: a ring sends 2·3/4·1024 =
// 1536 bytes (1.536 us) in 2·3 steps (6 us), + 1 us: 8.536 us.
// all_gather over dp (2 ranks) of [8, 32] -> [16, 32]: sends 1/2 of 2048 =
// 1024 bytes at 1e8 (10.24 us), 1 step (10 us), + 1 us: 21.24 us.
// Compute 12.24 us, communication 29.776 us, step 42.016 us (overlap:
// 29.776 us).
// CHECK: "functions": [
// CHECK-NEXT: {
// CHECK-NEXT: "function": "step",
// CHECK-NEXT: "partitioned": true,
// CHECK-NEXT: "step_seconds": {{4\.201(6|59)[0-9]*e-05}},
// CHECK-NEXT: "compute_seconds": {{1\.22(4|39)[0-9]*e-05}},
// CHECK-NEXT: "comm_seconds": {{2\.977(6|59)[0-9]*e-05}},
// CHECK-NEXT: "comm_seconds_per_axes": {
// CHECK-NEXT: "tp": {{8\.53(6|59)[0-9]*e-06}},
// CHECK-NEXT: "dp": {{2\.12(4|39)[0-9]*e-05}}
// CHECK-NEXT: },
// CHECK-NEXT: "comm_seconds_per_kind": {
// CHECK-NEXT: "all_reduce": {{8\.53(6|59)[0-9]*e-06}},
// CHECK-NEXT: "all_gather": {{2\.12(4|39)[0-9]*e-05}}
// CHECK-NEXT: },
// CHECK-NEXT: "compute_seconds_per_op": {
// CHECK-NEXT: "mp.linear": {{9\.19(2|19)[0-9]*e-06}},
// CHECK-NEXT: "mp.relu": {{3\.04(8|79)[0-9]*e-06}}
// CHECK-NEXT: },
// CHECK-NEXT: "gemm_flops": 8192,
// CHECK-NEXT: "kernel_bytes": 5632,
// CHECK-NEXT: "bytes_sent_per_rank": 2560,
// OVERLAP: "overlap": true,
// OVERLAP: "step_seconds": {{2\.977(6|59)[0-9]*e-05}},
// A collective kind's factor scales the time of its bytes, not its latency
// or op cost: the all_gather at factor 2 is 2 x 10.24 + 10 + 1 = 31.48 us,
// the step 12.24 + 8.536 + 31.48 = 52.256 us.
// FACTORS: "step_seconds": {{5\.225(6|59)[0-9]*e-05}},
// FACTORS: "all_gather": {{3\.14(8|79)[0-9]*e-05}}
// A GEMM runs at its precision's rate where the file gives one: the bf16
// linear's 8192 FLOPs at 4e9 (2.048 us, under its 3.584 us of bytes), the
// fp32 one's at 1e9 (8.192 us), the tf32 one's at gemm_flops_per_second,
// 2e9 (4.096 us), each + 1 us: 3.584 + 8.192 + 4.096 + 3 = 18.872 us.
// PRECISION: "compute_seconds": {{1\.887(2|19)[0-9]*e-05}},
// ATTENTION: "compute_seconds": 89,
// ATTENTION: "gemm_flops": 9792,
// ATTENTION: "function": "windowed"
// ATTENTION: "gemm_flops": 7808,
// ATTENTION: "function": "whole"
// ATTENTION: "compute_seconds": 12,
// ATTENTION: "function": "capped"
// ATTENTION: "compute_seconds": 15,
// ATTENTION: "function": "falcon"
// ATTENTION: "compute_seconds": 16,
// On a machine that runs tf32 attention with head dims up to 8 on chip
// (the same chunked ops: tf32 is their default precision), one launch
// forward and two backward; every row in one block of 64, which computes
// the 6 keys its last row sees: 36 scores per matrix. FLOPs: 2·4·36·(8 + 8)
// = 4608 forward, 2·4·36·(4·8 + 3·8) = 16128 backward. Bytes (4 each):
// forward 4·6·16 keys and values + 4·6·17 of q, the output and the
// log-sum-exp = 792 floats; backward 2·4·6·16 (the keys and values per
// block of rows, the query side per block of keys) + 2·4·6·17 (q, grad,
// the output, dq, the log-sum-exp and Σ grad·output) + 2·2·6·16 (k, v, dk,
// dv) = 1968 floats; 11040 bytes in all. Only a head dim within the limit
// of the op's precision runs so (the machines of the ATTENTION lines
// above: bf16 named, or tf32 up to 4).
// ON-CHIP: "function": "step"
// ON-CHIP: "compute_seconds": 3,
// ON-CHIP: "gemm_flops": 20736,
// ON-CHIP-NEXT: "kernel_bytes": 11040,
// The same in bf16 with q, k, v and the output held in bf16: 2 bytes each
// where they are read or written. On chip, forward 2·4·6·16 keys and
// values + 2·4·6·16 of q and the output + 4·4·6 of the log-sum-exp = 1632
// bytes; backward 2·2·4·6·16 keys and values + 2·2·4·6·8 of q + 2·4·4·6·9
// (grad, dq, the log-sum-exp and Σ grad·output, float32) + 2·4·2·6·16 (k,
// v, dk, dv, as above) = 5568; 7200 in all. In chunks (the ATTENTION case):
// forward 4 float passes over 4·24 scores (1536) + the 12 key and value
// rows each matrix reads (2·4·12·16 = 1536) + q and the output (2·4·6·16
// = 768) + the log-sum-exp (96) = 3936; backward 10 passes over 4·21
// scores (3360) + 21 key and value rows (2688) + q once in bf16 (384) and
// grad once (768) + 2 float passes over the query side (3072) and 3 over
// the key side (4608) = 14880; 18816 in all.
// ATTENTION-BF16: "gemm_flops": 9792,
// ATTENTION-BF16-NEXT: "kernel_bytes": 18816,
// ON-CHIP-BF16: "gemm_flops": 20736,
// ON-CHIP-BF16-NEXT: "kernel_bytes": 7200,
// ON-CHIP: "function": "whole"
// ON-CHIP: "compute_seconds": 3,
// ON-CHIP-FP8: error: machine file '{{.*}}on-chip-fp8.json': unknown precision 'fp8' in 'on_chip_attention' (fp32, tf32 or bf16)
// ON-CHIP-ZERO: error: machine file '{{.*}}on-chip-zero.json': 'on_chip_attention' of 'bf16' must be a head dim of 1 or more
// An asynchronous collective (mp-schedule-collectives) runs beside the
// compute up to its mp.wait: the all_gather above (21.24 us) beside the
// linear and the relu (12.24 us) takes the step to 21.24 us, not 33.48.
// ASYNC: "step_seconds": {{2\.12(4|39)[0-9]*e-05}},
// ASYNC-NEXT: "compute_seconds": {{1\.22(4|39)[0-9]*e-05}},
// ASYNC-NEXT: "comm_seconds": {{2\.12(4|39)[0-9]*e-05}},
// Where the machine runs an asynchronous collective at its call (MPI on
// the host: "async_overlap": false), it holds compute as a synchronous
// one: 21.24 + 12.24 = 33.48 us.
// NOASYNC: "step_seconds": {{3\.34(8|79)[0-9]*e-05}},
// BADASYNC: error: machine file '{{.*}}bad-async.json': 'async_overlap' must be true or false
// A bf16 GEMM reading one bf16 operand converts the smaller operand first,
// by a kernel of its own of 6 bytes per element (mp_gemm_f32 on CUDA).
// @round: the f32 activation (128 elements) is rounded to bf16 (0.768 us +
// 1 us) and the native bf16 GEMM reads (128·2 + 512·2 + 256·4) = 2304
// bytes, 2.304 us over its 2.048 us of FLOPs, + 1 us: 5.072 us in all.
// @widen: the bf16 weight (512 elements, against 1024) is widened (3.072
// us + 1 us) and the GEMM reads the 4-byte copy: (1024 + 512 + 2048)·4 =
// 14336 bytes, 14.336 us under its 65536 FLOPs' 16.384 us, + 1 us: 21.456
// us in all. @native: both operands bf16, no conversion: 3.304 us.
// WIDEN: "function": "round",
// WIDEN: "compute_seconds": {{5\.0(72|719)[0-9]*e-06}},
// WIDEN: "kernel_bytes": 3072,
// WIDEN: "function": "widen",
// WIDEN: "compute_seconds": {{2\.145(6|59)[0-9]*e-05}},
// WIDEN: "kernel_bytes": 17408,
// WIDEN: "function": "native",
// WIDEN: "compute_seconds": {{3\.30(4|39)[0-9]*e-06}},
// WIDEN: "kernel_bytes": 2304,
// @writes_bf16 (mp-fuse-conversions): a GEMM writing bf16 runs natively,
// its float32 operand rounded first (1024 elements: 6.144 + 1 us); it
// reads (1024 + 512)·2 and writes 2048·2 bytes, 7.168 us under its 16.384
// us of FLOPs, + 1 us: 24.528 us, 13312 bytes.
// WIDEN: "function": "writes_bf16",
// WIDEN: "compute_seconds": {{2\.452(8|79)[0-9]*e-05}},
// WIDEN: "kernel_bytes": 13312,
// The host's SGEMM reads float32 copies of both operands of a bf16 GEMM
// ("bf16_gemm_operands": "float32_copies"): a float32 operand is rounded
// in float32 (8 bytes per element), a bf16 one widened (6), in one kernel
// before the GEMM, which then reads 4 bytes per operand element. @round:
// 128·8 + 512·6 = 4096 bytes (4.096 us + 1 us), then the GEMM's (128 + 512
// + 256)·4 = 3584 bytes over its 2.048 us of FLOPs + 1 us: 9.68 us, 7680
// bytes. @widen: 1024·8 + 512·6 = 11264 bytes (12.264 us), the GEMM's
// 14336 bytes under its 16.384 us of FLOPs (17.384 us): 29.648 us, 25600
// bytes. @native: 128·6 + 512·6 = 3840 bytes (4.84 us), the GEMM 4.584 us:
// 9.424 us, 7424 bytes.
// COPIES: "function": "round",
// COPIES: "compute_seconds": {{9\.6(8|79)[0-9]*e-06}},
// COPIES: "kernel_bytes": 7680,
// COPIES: "function": "widen",
// COPIES: "compute_seconds": {{2\.964(8|79)[0-9]*e-05}},
// COPIES: "kernel_bytes": 25600,
// COPIES: "function": "native",
// COPIES: "compute_seconds": {{9\.42(4|39)[0-9]*e-06}},
// COPIES: "kernel_bytes": 7424,
// @writes_bf16: the operands' copies (1024·8 + 512·6) and the rounding
// of the float32 product written first (2048·6): 23552 bytes (24.552
// us); the GEMM moves float32, 14336 bytes under its FLOPs' 16.384 us
// (17.384 us): 41.936 us, 37888 bytes.
// COPIES: "function": "writes_bf16",
// COPIES: "compute_seconds": {{4\.193(6|59)[0-9]*e-05}},
// COPIES: "kernel_bytes": 37888,
// BADOPERANDS: error: machine file '{{.*}}bad-operands.json': 'bf16_gemm_operands' must be "native" or "float32_copies"
// A grouped call (mp-group-fsdp) of two all_gathers over dp pays dp's
// latency (10 us) and one op (1 us) once: 2 · 10.24 + 10 + 1 = 31.48 us;
// it packs both inputs first (2 · 1024 bytes read and written: 4.096 us +
// 1 launch) and unpacks both results after (2 · 2048 read and written:
// 8.192 us + 1 launch for its 4 copies): 5.096 + 31.48 + 9.192 = 45.768 us.
// GROUPED: "step_seconds": {{4\.576(8|79)[0-9]*e-05}},
// GROUPED-NEXT: "compute_seconds": {{1\.428(8|79)[0-9]*e-05}},
// GROUPED-NEXT: "comm_seconds": {{3\.14(8|79)[0-9]*e-05}},
// GROUPED: "kernel_bytes": 12288,
// Scheduled (one slot, a wait per member): the linear and relu (12.24 us)
// run beside the collective; the first wait unpacks: 5.096 + 31.48 +
// 9.192 = 45.768 us, against 58.008 us with them after it.
// GROUPED-ASYNC: "step_seconds": {{4\.576(8|79)[0-9]*e-05}},
// GROUPED-ASYNC-NEXT: "compute_seconds": {{2\.652(8|79)[0-9]*e-05}},
// Collectives called alone over dim 1 (tp: 4 ranks, 1 us latency, 1 GB/s),
// on a machine that packs strided pieces ("strided_collectives":
// "copies", MPI's way): a reduce_scatter of [2, 8, 32] packs its input
// first (2048 bytes read and written: 4.096 us + 1 launch) and sends 3/4
// of it (1.536 + 3 · 1 + 1 us): 10.632 us; one of [1, 8, 32] (pieces
// contiguous) only sends (0.768 + 4 us); an all_gather of [2, 8, 32]
// sends 3 · 2048 bytes (6.144 + 4 us) and unpacks its [2, 32, 32] result
// after (8192 bytes: 16.384 + 1 us): 27.528 us; one of [40, 2, 4] sends 3
// · 1280 bytes (3.84 + 4 us) and unpacks 5120 (10.24 + 1 us): 19.08 us.
// On the communication stream: 62.008 us, of which the copies are 33.72
// us and 30720 kernel bytes.
// STRIDED: "step_seconds": {{6\.20(08|079)[0-9]*e-05}},
// STRIDED-NEXT: "compute_seconds": 0,
// STRIDED-NEXT: "comm_seconds": {{6\.20(08|079)[0-9]*e-05}},
// STRIDED: "comm_seconds_per_kind": {
// STRIDED-NEXT: "reduce_scatter": {{1\.03(04|039)[0-9]*e-05}},
// STRIDED-NEXT: "strided_copies": {{3\.37(2|19)[0-9]*e-05}},
// STRIDED-NEXT: "all_gather": {{1\.79(84|839)[0-9]*e-05}}
// STRIDED: "kernel_bytes": 30720,
// By default ("row_calls", NCCL's way) the collectives of up to 32 rows
// are a call per row, grouped, and copy nothing: only the 40 rows' gather
// unpacks: 39.528 us, of which the copies are 11.24 us.
// ROW-CALLS: "step_seconds": {{3\.952(8|79)[0-9]*e-05}},
// ROW-CALLS: "strided_copies": {{1\.12(4|39)[0-9]*e-05}}{{$}}
// ROW-CALLS: "kernel_bytes": 10240,
// BAD-STRIDED: error: machine file '{{.*}}bad-strided.json': 'strided_collectives' must be "row_calls" or "copies"
// A reshape runs no kernel where its result takes over its operand's
// buffer (the sum's, read by nothing else); a reshape of the argument %x
// copies it (1024 bytes each way: 2.048 + 1 us). The sum reads 2 · 1024
// and writes 1024 bytes (3.072 + 1 us): 7.12 us, 5120 bytes.
// RESHAPE: "compute_seconds": {{7\.1(2|19)[0-9]*e-06}},
// RESHAPE: "compute_seconds_per_op": {
// RESHAPE-NEXT: "mp.add": {{4\.07(2|19)[0-9]*e-06}},
// RESHAPE-NEXT: "mp.reshape": {{3\.04(8|79)[0-9]*e-06}}
// RESHAPE-NEXT: },
// RESHAPE-NEXT: "gemm_flops": 0,
// RESHAPE-NEXT: "kernel_bytes": 5120,
// BADPRECISION: error: machine file '{{.*}}badprecision.json': unknown precision 'fp8' in 'gemm_flops_per_second_by_precision' (fp32, tf32 or bf16)
// BADKIND: error: machine file '{{.*}}badkind.json': unknown collective kind 'broadcast' in 'collective_factors'
// NOFILE: error: mp-simulate needs machine=FILE.json
// BAD: error: machine file '{{.*}}bad.json': 'gemm_flops_per_second' must be above 0, got -1
// NOLINK: error: machine file '{{.*}}nolink.json': 'links' must be an object with a 'default' link
// EXTRA: error: machine file '{{.*}}extra.json': link 'tp': unknown link field 'bandwidth'
// OVERFLOW: error: mp-simulate: machine file '{{.*}}.json': its rates and times make the predicted time overflow (a rate too small or a time too large)

//--- step.mlir
mp.mesh @mesh = <dp = 2, tp = 4>
func.func @step(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>) -> tensor<16x32xf32>
    attributes {mp.partitioned} {
  %y = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %s = mp.all_reduce %y on @mesh axes ["tp"] : tensor<8x32xf32>
  %r = mp.relu %s : tensor<8x32xf32>
  %g = mp.all_gather %r on @mesh axes ["dp"] dim 0 : tensor<8x32xf32> -> tensor<16x32xf32>
  return %g : tensor<16x32xf32>
}
//--- reshape.mlir
func.func @step(%x: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %flat = mp.reshape %x : tensor<8x32xf32> -> tensor<256xf32>
  %sum = mp.add %flat, %flat : tensor<256xf32>
  %y = mp.reshape %sum : tensor<256xf32> -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

//--- bad.json
{"gemm_flops_per_second": -1, "memory_bytes_per_second": 1e9, "op_seconds": 0,
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- nolink.json
{"gemm_flops_per_second": 1e9, "memory_bytes_per_second": 1e9, "op_seconds": 0,
 "links": {"tp": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- extra.json
{"gemm_flops_per_second": 1e9, "memory_bytes_per_second": 1e9, "op_seconds": 0,
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0},
           "tp": {"bandwidth": 1e9, "latency_seconds": 0}}}
//--- factors.json
{"gemm_flops_per_second": 1e9, "memory_bytes_per_second": 1e9, "op_seconds": 1e-6,
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 1e-6},
           "dp": {"bytes_per_second": 1e8, "latency_seconds": 1e-5}},
 "collective_factors": {"all_gather": 2}}
//--- badkind.json
{"gemm_flops_per_second": 1e9, "memory_bytes_per_second": 1e9, "op_seconds": 0,
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}},
 "collective_factors": {"broadcast": 2}}
//--- precision.mlir
func.func @step(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>)
    -> (tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>)
    attributes {mp.partitioned} {
  %b = mp.linear %x, %w precision <bf16> : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %f = mp.linear %x, %w precision <fp32> : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %t = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  return %b, %f, %t : tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>
}
//--- attention.mlir
// 4 query heads over 2 key heads, causal, 6 rows: chunks of 2 rows forward
// (3 chunks: 2 GEMMs per query head of a group and a softmax each) and of
// 1 backward (6 chunks of 5 GEMMs per query head, a softmax and its
// gradient; the key gradients zeroed first): 15 + 74 launches. The GEMM
// FLOPs count the keys each chunk sees: 24 scores per matrix forward (2, 4,
// 6 keys for 2 rows each), 21 backward (1 to 6).
func.func @step(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %g: tensor<1x4x6x8xf32>)
    -> (tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>) attributes {mp.partitioned} {
  %o, %lse = mp.attention %q, %k, %v scale 1.0 causal chunk_bytes 192 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x4x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 1.0 causal chunk_bytes 192 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x4x6x8xf32>, tensor<1x4x6xf32>, tensor<1x4x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
  return %o, %dq : tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>
}
// With a sliding window of 2 a chunk computes the scores of the keys from
// its first row's window on, and chunk_bytes holds more of its rows: 3
// rows forward (4 x 3 x 4 floats, 192 bytes; 2 rows of every key), which
// see 3 and 4 keys (21 scores per matrix, not 24), and 2 backward (twice
// 4 x 2 x 3 floats; 1 row of every key), which see 2, 3 and 3 (16, not
// 21): 2·4·21·(8 + 8) + 2·4·16·(3·8 + 2·8) = 7808 FLOPs.
func.func @windowed(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %g: tensor<1x4x6x8xf32>)
    -> (tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>) attributes {mp.partitioned} {
  %o, %lse = mp.attention %q, %k, %v scale 1.0 causal window 2 chunk_bytes 192 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x4x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 1.0 causal window 2 chunk_bytes 192 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x4x6x8xf32>, tensor<1x4x6xf32>, tensor<1x4x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
  return %o, %dq : tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>
}
// Unmasked, one chunk holds every row: a group's query matrices are
// consecutive, so each GEMM is one call (1 + 1 + 1 forward; 2 zeroings, 5
// GEMMs, the softmax and its gradient backward): 12 launches.
func.func @whole(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %g: tensor<1x4x6x8xf32>)
    -> (tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>) attributes {mp.partitioned} {
  %o, %lse = mp.attention %q, %k, %v scale 1.0 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x4x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 1.0 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x4x6x8xf32>, tensor<1x4x6xf32>, tensor<1x4x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
  return %o, %dq : tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>
}
// Soft-capped, the chunk caps its scores (a launch forward) and the
// gradient's chunk caps them again and multiplies by the cap's slope (two
// launches backward): 15 launches.
func.func @capped(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %g: tensor<1x4x6x8xf32>)
    -> (tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>) attributes {mp.partitioned} {
  %o, %lse = mp.attention %q, %k, %v scale 1.0 softcap 2.0 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x4x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 1.0 softcap 2.0 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x4x6x8xf32>, tensor<1x4x6xf32>, tensor<1x4x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
  return %o, %dq : tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>
}
// With Falcon's ALiBi (in bfloat16, before the scale) the chunk biases its
// unscaled scores, then scales them in a pass of its own, forward and
// backward: 12 + 2 + 2 = 16 launches.
func.func @falcon(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %g: tensor<1x4x6x8xf32>, %s: tensor<4xf32>)
    -> (tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>) attributes {mp.partitioned} {
  %o, %lse = mp.attention %q, %k, %v alibi %s bf16_bias scale 1.0 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<4xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x4x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g alibi %s bf16_bias scale 1.0 : (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x4x6x8xf32>, tensor<1x4x6xf32>, tensor<1x4x6x8xf32>, tensor<4xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
  return %o, %dq : tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>
}
//--- attention-bf16.mlir
func.func @step(%q: tensor<1x4x6x8xbf16>, %k: tensor<1x2x6x8xbf16>, %v: tensor<1x2x6x8xbf16>, %g: tensor<1x4x6x8xf32>)
    -> (tensor<1x4x6x8xbf16>, tensor<1x4x6x8xf32>) attributes {mp.partitioned} {
  %o, %lse = mp.attention %q, %k, %v scale 1.0 causal chunk_bytes 192 precision <bf16> : (tensor<1x4x6x8xbf16>, tensor<1x2x6x8xbf16>, tensor<1x2x6x8xbf16>) -> (tensor<1x4x6x8xbf16>, tensor<1x4x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 1.0 causal chunk_bytes 192 precision <bf16> : (tensor<1x4x6x8xbf16>, tensor<1x2x6x8xbf16>, tensor<1x2x6x8xbf16>, tensor<1x4x6x8xbf16>, tensor<1x4x6xf32>, tensor<1x4x6x8xf32>) -> (tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
  return %o, %dq : tensor<1x4x6x8xbf16>, tensor<1x4x6x8xf32>
}
//--- launches.json
{"gemm_flops_per_second": 1e30, "memory_bytes_per_second": 1e30, "op_seconds": 1,
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- on-chip.json
{"gemm_flops_per_second": 1e30, "memory_bytes_per_second": 1e30, "op_seconds": 1,
 "on_chip_attention": {"tf32": 8},
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- on-chip-bf16.json
{"gemm_flops_per_second": 1e30, "memory_bytes_per_second": 1e30, "op_seconds": 1,
 "on_chip_attention": {"bf16": 128},
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- on-chip-small.json
{"gemm_flops_per_second": 1e30, "memory_bytes_per_second": 1e30, "op_seconds": 1,
 "on_chip_attention": {"tf32": 4},
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- on-chip-fp8.json
{"gemm_flops_per_second": 1e9, "memory_bytes_per_second": 1e9, "op_seconds": 0,
 "on_chip_attention": {"fp8": 64},
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- on-chip-zero.json
{"gemm_flops_per_second": 1e9, "memory_bytes_per_second": 1e9, "op_seconds": 0,
 "on_chip_attention": {"bf16": 0},
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- precision.json
{"gemm_flops_per_second": 2e9, "memory_bytes_per_second": 1e9, "op_seconds": 1e-6,
 "gemm_flops_per_second_by_precision": {"bf16": 4e9, "fp32": 1e9},
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- badprecision.json
{"gemm_flops_per_second": 1e9, "memory_bytes_per_second": 1e9, "op_seconds": 0,
 "gemm_flops_per_second_by_precision": {"fp8": 4e9},
 "links": {"default": {"bytes_per_second": 1e9, "latency_seconds": 0}}}
//--- async.mlir
mp.mesh @mesh = <dp = 2, tp = 4>
func.func @step(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>, %v: tensor<8x32xf32>)
    -> (tensor<16x32xf32>, tensor<8x32xf32>) attributes {mp.partitioned} {
  %g = mp.all_gather %v on @mesh axes ["dp"] dim 0 {mp.async = 0 : i64} : tensor<8x32xf32> -> tensor<16x32xf32>
  %y = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %r = mp.relu %y : tensor<8x32xf32>
  %d = mp.wait %g keeps %v : tensor<8x32xf32> : tensor<16x32xf32>
  return %d, %r : tensor<16x32xf32>, tensor<8x32xf32>
}
//--- widen.mlir
func.func @round(%x: tensor<8x16xf32>, %w: tensor<32x16xbf16>) -> tensor<8x32xf32>
    attributes {mp.partitioned} {
  %y = mp.linear %x, %w precision <bf16> : (tensor<8x16xf32>, tensor<32x16xbf16>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
func.func @widen(%x: tensor<64x16xf32>, %w: tensor<32x16xbf16>) -> tensor<64x32xf32>
    attributes {mp.partitioned} {
  %y = mp.linear %x, %w precision <bf16> : (tensor<64x16xf32>, tensor<32x16xbf16>) -> tensor<64x32xf32>
  return %y : tensor<64x32xf32>
}
func.func @native(%x: tensor<8x16xbf16>, %w: tensor<32x16xbf16>) -> tensor<8x32xf32>
    attributes {mp.partitioned} {
  %y = mp.linear %x, %w precision <bf16> : (tensor<8x16xbf16>, tensor<32x16xbf16>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
func.func @writes_bf16(%x: tensor<64x16xf32>, %w: tensor<32x16xbf16>) -> tensor<64x32xbf16>
    attributes {mp.partitioned} {
  %y = mp.linear %x, %w precision <bf16> : (tensor<64x16xf32>, tensor<32x16xbf16>) -> tensor<64x32xbf16>
  return %y : tensor<64x32xbf16>
}
//--- grouped.mlir
mp.mesh @mesh = <dp = 2, tp = 4>
func.func @step(%a: tensor<8x32xf32>, %b: tensor<8x32xf32>)
    -> (tensor<16x32xf32>, tensor<16x32xf32>) attributes {mp.partitioned} {
  %ga = mp.all_gather %a on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<8x32xf32> -> tensor<16x32xf32>
  %gb = mp.all_gather %b on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<8x32xf32> -> tensor<16x32xf32>
  return %ga, %gb : tensor<16x32xf32>, tensor<16x32xf32>
}
//--- strided.mlir
mp.mesh @mesh = <dp = 2, tp = 4>
func.func @step(%a: tensor<2x8x32xf32>, %b: tensor<1x8x32xf32>, %c: tensor<40x2x4xf32>)
    -> (tensor<2x2x32xf32>, tensor<1x2x32xf32>, tensor<2x32x32xf32>, tensor<40x8x4xf32>) attributes {mp.partitioned} {
  %s = mp.reduce_scatter %a on @mesh axes ["tp"] dim 1 : tensor<2x8x32xf32> -> tensor<2x2x32xf32>
  %t = mp.reduce_scatter %b on @mesh axes ["tp"] dim 1 : tensor<1x8x32xf32> -> tensor<1x2x32xf32>
  %g = mp.all_gather %a on @mesh axes ["tp"] dim 1 : tensor<2x8x32xf32> -> tensor<2x32x32xf32>
  %h = mp.all_gather %c on @mesh axes ["tp"] dim 1 : tensor<40x2x4xf32> -> tensor<40x8x4xf32>
  return %s, %t, %g, %h : tensor<2x2x32xf32>, tensor<1x2x32xf32>, tensor<2x32x32xf32>, tensor<40x8x4xf32>
}
//--- grouped-async.mlir
mp.mesh @mesh = <dp = 2, tp = 4>
func.func @step(%a: tensor<8x32xf32>, %b: tensor<8x32xf32>, %x: tensor<8x16xf32>,
                %w: tensor<32x16xf32>)
    -> (tensor<16x32xf32>, tensor<16x32xf32>, tensor<8x32xf32>) attributes {mp.partitioned} {
  %ga = mp.all_gather %a on @mesh axes ["dp"] dim 0 {mp.async = 0 : i64, mp.fsdp_group = "layers.0"} : tensor<8x32xf32> -> tensor<16x32xf32>
  %gb = mp.all_gather %b on @mesh axes ["dp"] dim 0 {mp.async = 0 : i64, mp.fsdp_group = "layers.0"} : tensor<8x32xf32> -> tensor<16x32xf32>
  %y = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %r = mp.relu %y : tensor<8x32xf32>
  %wa = mp.wait %ga keeps %a : tensor<8x32xf32> : tensor<16x32xf32>
  %wb = mp.wait %gb keeps %b : tensor<8x32xf32> : tensor<16x32xf32>
  return %wa, %wb, %r : tensor<16x32xf32>, tensor<16x32xf32>, tensor<8x32xf32>
}
