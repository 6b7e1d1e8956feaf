// RUN: mp-opt %s --mp-lower-to-runtime -split-input-file -verify-diagnostics | FileCheck %s

// A training step with SGD: arguments are loaded from `args`, intermediate
// values live in one arena at planned offsets, every op first names itself
// for error messages, the parameter is updated in place (no copy back), the
// loss is copied to outputs[0], and the function returns the sticky status.
// The weight gradient (4 rows) is computed by its update, mp_sgd_outer_f32
// reading dh and x (docs/training-step.md): no transpose, no GEMM and no
// buffer for it.

// CHECK: llvm.mlir.global internal constant @[[LINEAR_NAME:__mp_str_[0-9]+]]("mp.linear at {{.*}}lower-to-runtime.mlir:{{[0-9]+}}:{{[0-9]+}}\00")
// CHECK-LABEL: func.func @mlp_train_step
// CHECK-SAME: (%[[CTX:.*]]: !llvm.ptr, %[[ARGS:.*]]: !llvm.ptr, %[[OUTS:.*]]: !llvm.ptr) -> i32
// CHECK-SAME: mp.manifest = "mp-step 32\0Afunction mlp_train_step\0Amesh\0Aarena 640\0Apersistent 640\0Aarg w param f32 global 16 8 local 16 8 split - -\0Aarg x input f32 global 4 8 local 4 8 split - -\0Aresult w update 0\0Aresult loss output f32 local split\0A"
// CHECK: %[[W_SLOT:.*]] = llvm.getelementptr %[[ARGS]][0]
// CHECK: %[[W:.*]] = llvm.load %[[W_SLOT]]
// CHECK: %[[X_SLOT:.*]] = llvm.getelementptr %[[ARGS]][1]
// CHECK: %[[X:.*]] = llvm.load %[[X_SLOT]]
// CHECK: %[[ARENA:.*]] = call @mp_alloc(%[[CTX]], %c640_i64)
// CHECK: %[[OP0:.*]] = llvm.mlir.addressof @[[LINEAR_NAME]] : !llvm.ptr
// CHECK: call @mp_context_set_op(%[[CTX]], %[[OP0]])
// CHECK: %[[H:.*]] = llvm.getelementptr %[[ARENA]][%c0_i64]
// CHECK: call @mp_gemm_f32(%[[CTX]], %c1_i32, %c0_i32, %c0_i32, %c0_i32, %c1_i32, %c4_i64, %c16_i64, %c8_i64, %{{.*}}, %[[X]], %[[W]], %{{.*}}, %c0_i32, %[[H]], %{{.*}}, %c0_i64)
// CHECK: call @mp_unary_f32
// CHECK: %[[LOSS:.*]] = llvm.getelementptr %[[ARENA]][%c512_i64]
// CHECK: call @mp_reduce_sum_f32({{.*}}, %[[LOSS]])
// CHECK: call @mp_binary_f32(%[[CTX]], %c2_i32, %c64_i64, %c0_i32, %{{.*}}, %c0_i32, %{{.*}}, %c0_i32, %[[DH:[0-9]+]])
// CHECK-NOT: mp_transpose_f32
// CHECK-NOT: mp_gemm
// CHECK: call @mp_sgd_outer_f32(%[[CTX]], %c1_i32, %c4_i64, %c16_i64, %c8_i64, %{{.*}}, %[[DH]], %[[X]], %[[W]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c0_i32)
// CHECK: %[[OUT_SLOT:.*]] = llvm.getelementptr %[[OUTS]][0]
// CHECK: %[[OUT:.*]] = llvm.load %[[OUT_SLOT]]
// CHECK: call @mp_copy(%[[CTX]], %[[OUT]], %[[LOSS]], %{{.*}})
// CHECK-NOT: mp_copy
// CHECK: call @mp_free(%[[CTX]], %[[ARENA]])
// CHECK: %[[STATUS:.*]] = call @mp_context_status(%[[CTX]])
// CHECK: return %[[STATUS]] : i32
// CHECK: func.func private @mp_sgd_outer_f32(!llvm.ptr, i32, i64, i64, i64, f32, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, f64, f64, f64, f64, i32) -> i32
func.func @mlp_train_step(%w: tensor<16x8xf32> {mp.param = "w"}, %x: tensor<4x8xf32> {mp.input = "x"}) -> (tensor<16x8xf32> {mp.output = "w"}, tensor<f32> {mp.output = "loss"}) {
  %h = mp.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = mp.relu %h : tensor<4x16xf32>
  %loss = mp.mean %a : tensor<4x16xf32> -> tensor<f32>
  %one = arith.constant dense<1.000000e+00> : tensor<f32>
  %ones = mp.broadcast %one dims [0, 1] : tensor<f32> -> tensor<4x16xf32>
  %da = mp.scale %ones by 1.562500e-02 : tensor<4x16xf32>
  %mask = mp.step %h : tensor<4x16xf32>
  %dh = mp.mul %da, %mask : tensor<4x16xf32>
  %dht = mp.transpose %dh perm [1, 0] : tensor<4x16xf32> -> tensor<16x4xf32>
  %dw = mp.matmul %dht, %x : (tensor<16x4xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
  %new = mp.sgd %w, %dw {lr = 1.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<16x8xf32>
  return %new, %loss : tensor<16x8xf32>, tensor<f32>
}

// -----

// A partitioned function: collectives name their mesh axes by index (here
// data_parallel = 0, tensor_parallel = 1), the manifest records the mesh
// and each argument's global and local shape and split, and the mesh
// declaration is compiled away. The all_reduce reduces the linear's
// output in place: nothing else reads it.

// CHECK-NOT: mp.mesh
// CHECK: llvm.mlir.global internal constant @[[AXES_NAME:__mp_i32_[0-9]+]](dense<1> : tensor<1xi32>)
// CHECK-LABEL: func.func @rowwise
// CHECK-SAME: mesh data_parallel 2 tensor_parallel 2\0Aarena 64\0Apersistent 64\0Aarg x input f32 global 4 8 local 2 4 split data_parallel tensor_parallel\0Aarg w param f32 global 2 8 local 2 4 split - tensor_parallel\0Aresult y output f32 local 2 2 split data_parallel -\0A"
// CHECK: %[[AXES:.*]] = llvm.mlir.addressof @[[AXES_NAME]] : !llvm.ptr
// CHECK: %[[Y:.*]] = llvm.getelementptr %{{.*}}[%c0_i64]
// CHECK-NOT: mp_copy
// CHECK: call @mp_all_reduce(%{{.*}}, %[[AXES]], %c1_i32, %c0_i32, %[[Y]], %c4_i64)
mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
func.func @rowwise(%x: tensor<2x4xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[data_parallel], [tensor_parallel]]>},
                   %w: tensor<2x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], [tensor_parallel]]>})
    -> (tensor<2x2xf32> {mp.output = "y", mp.sharding = #mp.sharding<@mesh, [[data_parallel], []]>}) attributes {mp.partitioned} {
  %y = mp.linear %x, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %r = mp.all_reduce %y on @mesh axes ["tensor_parallel"] : tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

// A scaled product: its scale is the GEMM's alpha (and beta 0).
// CHECK-LABEL: func.func @scaled_matmul
// CHECK-DAG: %[[ALPHA:.+]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: %[[BETA:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: call @mp_gemm_batched_f32(%{{.*}}, %c1_i32, %c0_i32, %c0_i32, %c0_i32, %c0_i32, %c2_i64, %c4_i64, %c4_i64, %c8_i64, %[[ALPHA]], %{{.*}}, %c32_i64, %{{.*}}, %c32_i64, %[[BETA]],
func.func @scaled_matmul(%q: tensor<2x4x8xf32> {mp.input = "q"}, %kt: tensor<2x8x4xf32> {mp.input = "kt"})
    -> (tensor<2x4x4xf32> {mp.output = "s"}) {
  %s = mp.matmul %q, %kt scale 0.125 : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  return %s : tensor<2x4x4xf32>
}

// -----

// A bf16 GEMM's gathered weight moved as bf16 (mp-narrow-collectives):
// mp_convert to MP_DTYPE_BF16 (4) of the 16 local elements, the gather of
// bf16, mp_convert back of the 32 gathered ones, and the GEMM in bf16 (2).
// CHECK-LABEL: func.func @bf16_gather
// CHECK: call @mp_convert(%{{.*}}, %c0_i32, %c4_i32, %c16_i64, %[[W:.*]], %[[N:.*]]) :
// CHECK: call @mp_all_gather(%{{.*}}, %{{.*}}, %c1_i32, %c4_i32, %[[N]], %[[G:.*]], %c2_i32,
// CHECK: call @mp_convert(%{{.*}}, %c4_i32, %c0_i32, %c32_i64, %[[G]], %{{.*}}) :
// CHECK: call @mp_gemm_f32(%{{.*}}, %c2_i32,
mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
func.func @bf16_gather(%x: tensor<2x4xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[data_parallel], []]>},
                       %w: tensor<4x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[data_parallel], []]>})
    -> (tensor<2x8xf32> {mp.output = "y", mp.sharding = #mp.sharding<@mesh, [[data_parallel], []]>}) attributes {mp.partitioned} {
  %n = mp.convert %w : tensor<4x4xf32> -> tensor<4x4xbf16>
  %g = mp.all_gather %n on @mesh axes ["data_parallel"] dim 0 : tensor<4x4xbf16> -> tensor<8x4xbf16>
  %f = mp.convert %g : tensor<8x4xbf16> -> tensor<8x4xf32>
  %y = mp.linear %x, %f precision <bf16> : (tensor<2x4xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @f64_values(%x: tensor<4xf64> {mp.input = "x"}) -> tensor<4xf64> {
  // expected-error @+1 {{the runtime lowering takes static f32 tensors (and i64 ids and targets, bf16 conversions, collectives, transposes, elementwise kernels and bf16 GEMMs), not 'tensor<4xf64>'}}
  %y = mp.relu %x : tensor<4xf64>
  return %y : tensor<4xf64>
}

// -----

// expected-error @+1 {{the runtime lowering takes statically shaped tensors of f32, f64, i32 or i64 arguments, not 'tensor<?xf32>'}}
func.func @dynamic(%x: tensor<?xf32> {mp.input = "x"}) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}

// -----

// x·w as a linear of x and wᵀ (how a gradient flows back through a linear):
// the GEMM reads w untransposed, and the transpose is never computed.

// CHECK-LABEL: func.func @linear_of_transposed
// CHECK: %[[W_SLOT:.*]] = llvm.getelementptr %{{.*}}[1]
// CHECK: %[[W:.*]] = llvm.load %[[W_SLOT]]
// CHECK-NOT: mp_transpose_f32
// CHECK: call @mp_gemm_f32(%{{.*}}, %c1_i32, %c0_i32, %c0_i32, %c0_i32, %c0_i32, %c2_i64, %c4_i64, %c8_i64, %{{.*}}, %{{.*}}, %[[W]], %{{.*}}, %c0_i32, %{{.*}})
// CHECK-NOT: mp_transpose_f32
func.func @linear_of_transposed(%x: tensor<2x8xf32> {mp.input = "x"}, %w: tensor<8x4xf32> {mp.param = "w"}) -> tensor<2x4xf32> {
  %t = mp.transpose %w perm [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
  %y = mp.linear %x, %t : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}


// -----

// Asynchronous grouped calls (mp-schedule-collectives after
// mp-group-fsdp): each run names its slot before its one call, packs into
// scratch of its own (not the synchronous groups' shared scratch: both
// runs are in flight at once) that lives until the run's first wait, and
// only that wait calls mp_async_wait (it unpacks the run). Layer 0's
// scratch is reused after its wait.
// CHECK-LABEL: func.func @grouped_async
// CHECK: call @mp_async_begin(%{{.*}}, %c0_i32)
// CHECK: %[[S0:.+]] = llvm.getelementptr %[[ARENA:.+]][%c512_i64]
// CHECK-NEXT: call @mp_all_gather_group({{.*}}, %[[S0]])
// CHECK: call @mp_async_begin(%{{.*}}, %c1_i32)
// CHECK: %[[S1:.+]] = llvm.getelementptr %[[ARENA]][%c1792_i64]
// CHECK-NEXT: call @mp_all_gather_group({{.*}}, %[[S1]])
// CHECK: call @mp_async_wait(%{{.*}}, %c0_i32)
// CHECK-NOT: mp_async_wait
// CHECK: call @mp_gemm_f32({{.*}}, %[[S0]], {{.*}})
// CHECK-NOT: mp_async_wait
// CHECK: call @mp_async_wait(%{{.*}}, %c1_i32)
// CHECK-NOT: mp_async_wait
// CHECK: return
mp.mesh @mesh = <dp = 2>
func.func @grouped_async(%a0: tensor<4x8xf32> {mp.param = "layers.0.a", mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                         %b0: tensor<4x8xf32> {mp.param = "layers.0.b", mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                         %a1: tensor<4x8xf32> {mp.param = "layers.1.a", mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                         %b1: tensor<4x8xf32> {mp.param = "layers.1.b", mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                         %x: tensor<2x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<2x8xf32> {mp.output = "y", mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %ga0 = mp.all_gather %a0 on @mesh axes ["dp"] dim 0 {mp.async = 0 : i64, mp.fsdp_group = "layers.0"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %gb0 = mp.all_gather %b0 on @mesh axes ["dp"] dim 0 {mp.async = 0 : i64, mp.fsdp_group = "layers.0"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %ga1 = mp.all_gather %a1 on @mesh axes ["dp"] dim 0 {mp.async = 1 : i64, mp.fsdp_group = "layers.1"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %gb1 = mp.all_gather %b1 on @mesh axes ["dp"] dim 0 {mp.async = 1 : i64, mp.fsdp_group = "layers.1"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %wa0 = mp.wait %ga0 keeps %a0 : tensor<4x8xf32> : tensor<8x8xf32>
  %wb0 = mp.wait %gb0 keeps %b0 : tensor<4x8xf32> : tensor<8x8xf32>
  %h = mp.linear %x, %wa0 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %h0 = mp.linear %h, %wb0 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %wa1 = mp.wait %ga1 keeps %a1 : tensor<4x8xf32> : tensor<8x8xf32>
  %wb1 = mp.wait %gb1 keeps %b1 : tensor<4x8xf32> : tensor<8x8xf32>
  %h1 = mp.linear %h0, %wa1 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %y = mp.linear %h1, %wb1 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Coalesced all_reduces (mp-coalesce-reductions): one mp_all_reduce_group
// over the run, each tensor's element count given, packed in the run's
// scratch.
// CHECK: llvm.mlir.global internal constant @[[$COUNTS:__mp_i64_[0-9]+]](dense<[6, 2]> : tensor<2xi64>)
// CHECK-LABEL: func.func @coalesced
// CHECK-NOT: call @mp_all_reduce(
// CHECK: %[[C:.+]] = llvm.mlir.addressof @[[$COUNTS]]
// CHECK: call @mp_all_reduce_group(%{{.*}}, %{{.*}}, %c1_i32, %c0_i32, %c2_i32, %{{.*}}, %{{.*}}, %[[C]], %{{.*}})
// CHECK-NOT: call @mp_all_reduce
// CHECK: return
mp.mesh @mesh = <tp = 2>
func.func @coalesced(%a: tensor<6xf32> {mp.input = "a", mp.sharding = #mp.sharding<@mesh, [[]], partial = [tp]>},
                     %b: tensor<2xf32> {mp.input = "b", mp.sharding = #mp.sharding<@mesh, [[]], partial = [tp]>})
    -> (tensor<6xf32> {mp.output = "ra", mp.sharding = #mp.sharding<@mesh, [[]]>},
        tensor<2xf32> {mp.output = "rb", mp.sharding = #mp.sharding<@mesh, [[]]>}) attributes {mp.partitioned} {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] {mp.coalesced = 0 : i64} : tensor<6xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] {mp.coalesced = 0 : i64} : tensor<2xf32>
  return %ra, %rb : tensor<6xf32>, tensor<2xf32>
}

// -----

// Attention and its gradient: 6 matrices (2 x 3 heads) of 6 rows, chunks of
// 2 rows (300 bytes hold 2 rows of 6 x 6 floats, 144 bytes each) forward
// and of 1 backward (two buffers, 288 bytes a row). Each op's scratch is
// an arena buffer live while it runs, passed with its bytes (ABI 14): the
// forward's (at 960 after the 720 of its result and the 144 of its
// log-sum-exp) is free again for the gradient's dq. The forward's, in
// bf16, is its 288 bytes of scores (320 aligned) and the 1088 bytes of
// the host's float32 copies of its largest GEMM's operands, the chunk of
// q against every key (6 query matrices of 6 x 4 apart, the last chunk's
// 2 rows: 128 floats; all of k, 144); the gradient's, in tf32, its scores
// only (no GEMM of a few FLOPs per byte is transposed on CUDA). The
// gradient reads the forward's output and log-sum-exp. The soft cap
// follows the scale (ABI 22; 0 without one, @attention_bf16). A sliding
// window follows the causal flag, 0 without one (ABI 19;
// gemm-workspace.mlir lowers one).
// CHECK-LABEL: func.func @attention
// CHECK-SAME: arena 3200
// CHECK-DAG: %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[CAP:.+]] = arith.constant 3.000000e+00 : f32
// CHECK: %[[O:.+]] = llvm.getelementptr %{{.+}}[%c0_i64]
// CHECK: %[[LSE:.+]] = llvm.getelementptr %{{.+}}[%c768_i64]
// CHECK: %[[SCRATCH:.+]] = llvm.getelementptr %{{.+}}[%c960_i64]
// CHECK: call @mp_attention_f32(%arg0, %c2_i32, %c6_i64, %c1_i64, %c6_i64, %c6_i64, %c4_i64, %c5_i64, %[[HALF]], %[[CAP]], %c1_i32, %c0_i64, %c2_i64, %c0_i64, %{{[^,]+}}, %c0_i32, %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %c0_i32, %[[O]], %[[LSE]], %[[SCRATCH]], %c1408_i64)
// CHECK: %[[DK:.+]] = llvm.getelementptr %{{.+}}[%c1536_i64]
// CHECK: %[[DV:.+]] = llvm.getelementptr %{{.+}}[%c2112_i64]
// CHECK: %[[SCRATCH2:.+]] = llvm.getelementptr %{{.+}}[%c2880_i64]
// CHECK: call @mp_attention_grad_f32(%arg0, %c1_i32, %c6_i64, %c1_i64, %c6_i64, %c6_i64, %c4_i64, %c5_i64, %[[HALF]], %[[CAP]], %c1_i32, %c0_i64, %c1_i64, %c0_i64, %{{[^,]+}}, %c0_i32, %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %c0_i32, %[[O]], %[[LSE]], %{{.+}}, %[[SCRATCH]], %[[DK]], %[[DV]], %[[SCRATCH2]], %c320_i64)
func.func @attention(%q: tensor<2x3x6x4xf32> {mp.input = "q"}, %k: tensor<2x3x6x4xf32> {mp.input = "k"}, %v: tensor<2x3x6x5xf32> {mp.input = "v"}, %g: tensor<2x3x6x5xf32> {mp.input = "g"})
    -> (tensor<2x3x6x5xf32> {mp.output = "o"}, tensor<2x3x6x4xf32> {mp.output = "dq"}) {
  %o, %lse = mp.attention %q, %k, %v scale 0.5 softcap 3.0 causal chunk_bytes 300 precision <bf16> : (tensor<2x3x6x4xf32>, tensor<2x3x6x4xf32>, tensor<2x3x6x5xf32>) -> (tensor<2x3x6x5xf32>, tensor<2x3x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 0.5 softcap 3.0 causal chunk_bytes 300 : (tensor<2x3x6x4xf32>, tensor<2x3x6x4xf32>, tensor<2x3x6x5xf32>, tensor<2x3x6x5xf32>, tensor<2x3x6xf32>, tensor<2x3x6x5xf32>) -> (tensor<2x3x6x4xf32>, tensor<2x3x6x4xf32>, tensor<2x3x6x5xf32>)
  return %o, %dq : tensor<2x3x6x5xf32>, tensor<2x3x6x4xf32>
}

// -----

// In bf16 attention takes q, k, v and the output held in bf16 (ABI 10):
// each with its dtype (4: bf16) before it; the gradient's grad and
// results stay f32.
// CHECK-LABEL: func.func @attention_bf16
// CHECK-DAG: %[[NOCAP:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: call @mp_convert(%arg0, %c0_i32, %c4_i32, %c144_i64, %{{.+}}, %[[Q:[^)]+]])
// CHECK: call @mp_attention_f32(%arg0, %c2_i32, %c6_i64, %c1_i64, %c6_i64, %c6_i64, %c4_i64, %c5_i64, %{{[^,]+}}, %[[NOCAP]], %c1_i32, %c0_i64, %{{[^,]+}}, %c0_i64, %{{[^,]+}}, %c0_i32, %c4_i32, %[[Q]], %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %c4_i32, %[[O:[^,]+]], %[[LSE:[^,]+]], %{{.+}})
// CHECK: call @mp_attention_grad_f32(%arg0, %c2_i32, %c6_i64, %c1_i64, %c6_i64, %c6_i64, %c4_i64, %c5_i64, %{{[^,]+}}, %[[NOCAP]], %c1_i32, %c0_i64, %{{[^,]+}}, %c0_i64, %{{[^,]+}}, %c0_i32, %c4_i32, %[[Q]], %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %c4_i32, %[[O]], %[[LSE]], %{{.+}})
func.func @attention_bf16(%q: tensor<2x3x6x4xf32> {mp.input = "q"}, %k: tensor<2x3x6x4xf32> {mp.input = "k"}, %v: tensor<2x3x6x5xf32> {mp.input = "v"}, %g: tensor<2x3x6x5xf32> {mp.input = "g"})
    -> (tensor<2x3x6x4xf32> {mp.output = "dq"}) {
  %qb = mp.convert %q : tensor<2x3x6x4xf32> -> tensor<2x3x6x4xbf16>
  %o, %lse = mp.attention %qb, %k, %v scale 0.5 causal precision <bf16> : (tensor<2x3x6x4xbf16>, tensor<2x3x6x4xf32>, tensor<2x3x6x5xf32>) -> (tensor<2x3x6x5xbf16>, tensor<2x3x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %qb, %k, %v, %o, %lse, %g scale 0.5 causal precision <bf16> : (tensor<2x3x6x4xbf16>, tensor<2x3x6x4xf32>, tensor<2x3x6x5xf32>, tensor<2x3x6x5xbf16>, tensor<2x3x6xf32>, tensor<2x3x6x5xf32>) -> (tensor<2x3x6x4xf32>, tensor<2x3x6x4xf32>, tensor<2x3x6x5xf32>)
  return %dq : tensor<2x3x6x4xf32>
}

// -----

// GEMMs adding into an accumulator (beta = 1): in the accumulator's buffer
// where nothing reads it later; where the GEMM also reads it (as its
// transposed right factor) the sum goes to a buffer of its own, the
// accumulator copied there first.
// CHECK-LABEL: func.func @accumulate
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[G:.+]] = llvm.getelementptr %{{.+}}[%c0_i64]
// CHECK-NEXT: call @mp_unary_f32(%{{.+}}, %c0_i32, %c16_i64, %c0_i32, %{{.+}}, %c0_i32, %[[G]],
// CHECK-NOT: mp_copy
// CHECK: call @mp_gemm_f32({{.+}}, %[[ONE]], %c0_i32, %[[G]], {{.+}})
// CHECK: %[[H:.+]] = llvm.getelementptr %{{.+}}[%c64_i64]
// CHECK-NEXT: call @mp_unary_f32(%{{.+}}, %c0_i32, %c16_i64, %c0_i32, %{{.+}}, %c0_i32, %[[H]],
// CHECK: %[[U:.+]] = llvm.getelementptr %{{.+}}[%c128_i64]
// CHECK-NEXT: call @mp_copy(%{{.+}}, %[[U]], %[[H]], %c64_i64)
// CHECK-NEXT: call @mp_gemm_batched_f32(%{{.+}}, %c1_i32, %c0_i32, %c0_i32, %c0_i32, %c1_i32, {{.+}}, %[[H]], %c0_i64, %[[ONE]], %c0_i32, %[[U]], %c16_i64, {{.+}})
func.func @accumulate(%x: tensor<4x4xf32> {mp.input = "x"}, %w: tensor<4x4xf32> {mp.param = "w"}) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %g = mp.neg %x : tensor<4x4xf32>
  %s = mp.linear %x, %w accumulate %g : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %h = mp.neg %x : tensor<4x4xf32>
  %t = mp.transpose %h perm [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %u = mp.matmul %x, %t accumulate %h : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %s, %u : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// Float32 computations held in bfloat16 (mp-fuse-conversions): each
// tensor's dtype goes before it (MP_DTYPE_BF16 = 4); the bf16 GEMM writes
// bfloat16 (its c_type); transposes widen and round as they copy. The
// GEMM's workspace, for either backend: the host's float32 copies of A, B
// and C (256 + 2048 + 512 bytes) are more than CUDA's bf16 A and B (128 +
// 1024). The RMSNorm gradients' scratch (ABI 16): the rows' statistics (4
// x 16 bytes), then the host's float32 copies of the bfloat16 inputs (512
// bytes each).
// CHECK-LABEL: func.func @bf16_storage
// CHECK: %[[WS:[0-9]+]] = llvm.getelementptr %{{.+}}[%c{{[0-9]+}}_i64]
// CHECK: call @mp_gemm_f32(%{{.+}}, %c2_i32, %c0_i32, %c0_i32, %c0_i32, %c1_i32, %c4_i64, %c32_i64, %c16_i64, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %c4_i32, %[[G:[0-9]+]], %[[WS]], %c2816_i64)
// CHECK: call @mp_binary_f32(%{{.+}}, %c0_i32, %c128_i64, %c4_i32, %[[G]], %c0_i32, %{{.+}}, %c4_i32, %[[S:[0-9]+]])
// CHECK: call @mp_swiglu_grad_f32(%{{.+}}, %c128_i64, %c0_i32, %{{.+}}, %c4_i32, %[[G]], %c4_i32, %[[S]], %c0_i32, %{{.+}}, %c0_i32, %{{.+}})
// CHECK: call @mp_rms_norm_f32(%{{.+}}, %c4_i64, %c32_i64, %{{.+}}, %c4_i32, %[[S]], %{{.+}}, %{{.+}}, %c4_i32, %[[N:[0-9]+]])
// CHECK: call @mp_unary_f32(%{{.+}}, %c1_i32, %c128_i64, %c4_i32, %[[N]], %c0_i32, %{{.+}}, %{{.+}})
// CHECK: call @mp_rms_norm_grad_f32(%{{.+}}, %c4_i64, %c32_i64, %{{.+}}, %c4_i32, %[[S]], %{{.+}}, %{{.+}}, %c4_i32, %[[N]], %{{.+}}, %{{.+}}, %{{.+}}, %c1088_i64)
// CHECK: call @mp_rms_norm_grad_f32(%{{.+}}, %c4_i64, %c32_i64, %{{.+}}, %c0_i32, %{{.+}}, %{{.+}}, %{{.+}}, %c4_i32, %[[N]], %{{.+}}, %{{.+}}, %{{.+}}, %c576_i64)
// CHECK: call @mp_transpose_f32(%{{.+}}, %c2_i32, %{{.+}}, %{{.+}}, %c4_i32, %[[G]], %c0_i32, %{{.+}})
// CHECK: call @mp_transpose_f32(%{{.+}}, %c2_i32, %{{.+}}, %{{.+}}, %c0_i32, %{{.+}}, %c4_i32, %[[T:[0-9]+]])
// CHECK: call @mp_unary_f32(%{{.+}}, %c1_i32, %c128_i64, %c4_i32, %[[T]], %c0_i32, %{{.+}}, %{{.+}})
func.func @bf16_storage(%x: tensor<4x16xf32> {mp.input = "x"}, %w: tensor<32x16xf32> {mp.param = "w"}, %r: tensor<4x32xf32> {mp.input = "r"}, %nw: tensor<32xf32> {mp.param = "nw"})
    -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<32xf32>, tensor<32x4xf32>, tensor<32x4xf32>) {
  %g = mp.linear %x, %w precision <bf16> : (tensor<4x16xf32>, tensor<32x16xf32>) -> tensor<4x32xbf16>
  %s = mp.add %g, %r : (tensor<4x32xbf16>, tensor<4x32xf32>) -> tensor<4x32xbf16>
  %dg, %du = mp.swiglu_grad %r, %g, %s : (tensor<4x32xf32>, tensor<4x32xbf16>, tensor<4x32xbf16>) -> (tensor<4x32xf32>, tensor<4x32xf32>)
  %n = mp.rms_norm %s, %nw eps 1.0e-5 : (tensor<4x32xbf16>, tensor<32xf32>) -> tensor<4x32xbf16>
  %e = mp.exp %n : (tensor<4x32xbf16>) -> tensor<4x32xf32>
  %dn = mp.rms_norm_grad %s, %nw, %n eps 1.0e-5 : (tensor<4x32xbf16>, tensor<32xf32>, tensor<4x32xbf16>) -> tensor<4x32xf32>
  %dnw = mp.rms_norm_weight_grad %r, %n eps 1.0e-5 : (tensor<4x32xf32>, tensor<4x32xbf16>) -> tensor<32xf32>
  %t = mp.transpose %g perm [1, 0] : tensor<4x32xbf16> -> tensor<32x4xf32>
  %tb = mp.transpose %r perm [1, 0] : tensor<4x32xf32> -> tensor<32x4xbf16>
  %et = mp.exp %tb : (tensor<32x4xbf16>) -> tensor<32x4xf32>
  return %dg, %du, %e, %dn, %dnw, %t, %et : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<32xf32>, tensor<32x4xf32>, tensor<32x4xf32>
}

// -----

// LayerNorm's calls take its tensors' dtypes as RMSNorm's do (ABI 31): the
// input's and result's, its gradients' input's and gradient's (one of each
// bf16 here), and the same scratch (the rows' statistics, then the host's
// float32 copy of the bfloat16 input).
// CHECK-LABEL: func.func @bf16_layer_norm
// CHECK: call @mp_convert(%{{.+}}, %c0_i32, %c4_i32, %c128_i64, %{{.+}}, %[[S:[0-9]+]])
// CHECK: call @mp_layer_norm_f32(%{{.+}}, %c4_i64, %c32_i64, %{{.+}}, %c4_i32, %[[S]], %{{.+}}, %{{.+}}, %c4_i32, %[[N:[0-9]+]])
// CHECK: call @mp_layer_norm_grad_f32(%{{.+}}, %c4_i64, %c32_i64, %{{.+}}, %c0_i32, %[[X:[0-9]+]], %{{.+}}, %c4_i32, %[[N]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %c576_i64)
// CHECK: call @mp_layer_norm_grad_f32(%{{.+}}, %c4_i64, %c32_i64, %{{.+}}, %c4_i32, %[[S]], %{{.+}}, %c0_i32, %[[X]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %c576_i64)
func.func @bf16_layer_norm(%x: tensor<4x32xf32> {mp.input = "x"}, %nw: tensor<32xf32> {mp.param = "nw"}, %nb: tensor<32xf32> {mp.param = "nb"})
    -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %s = mp.convert %x : tensor<4x32xf32> -> tensor<4x32xbf16>
  %n = mp.layer_norm %s, %nw, %nb eps 1.0e-5 : (tensor<4x32xbf16>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x32xbf16>
  %e = mp.exp %n : (tensor<4x32xbf16>) -> tensor<4x32xf32>
  %dn = mp.layer_norm_grad %x, %nw, %n eps 1.0e-5 : (tensor<4x32xf32>, tensor<32xf32>, tensor<4x32xbf16>) -> tensor<4x32xf32>
  %dnw, %dnb = mp.layer_norm_weight_grad %s, %x eps 1.0e-5 : (tensor<4x32xbf16>, tensor<4x32xf32>) -> (tensor<32xf32>, tensor<32xf32>)
  return %e, %dn, %dnw, %dnb : tensor<4x32xf32>, tensor<4x32xf32>, tensor<32xf32>, tensor<32xf32>
}

// -----

// The manifest names the arguments' element types: bfloat16 ones are not
// taken (the trainer reads and writes float32, f64 and integer tensors).
// expected-error @+1 {{the runtime lowering takes statically shaped tensors of f32, f64, i32 or i64 arguments, not 'tensor<4xbf16>'}}
func.func @bf16_argument(%x: tensor<4xbf16> {mp.input = "x"}) -> tensor<4xf32> {
  %y = mp.convert %x : tensor<4xbf16> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// expected-error @+1 {{the runtime lowering returns statically shaped tensors of f32, f64, i32 or i64, not 'tensor<4xbf16>' (result #0)}}
func.func @bf16_result(%x: tensor<4xf32> {mp.input = "x"}) -> tensor<4xbf16> {
  %y = mp.convert %x : tensor<4xf32> -> tensor<4xbf16>
  return %y : tensor<4xbf16>
}

// -----

// A transpose that rounds is computed, though only a GEMM reads it: a view
// would read the float32 input as it is.
// CHECK-LABEL: func.func @rounding_transpose
// CHECK: call @mp_transpose_f32(%{{.+}}, %c2_i32, %{{.+}}, %{{.+}}, %c0_i32, %{{.+}}, %c4_i32, %[[T:[0-9]+]])
// CHECK: call @mp_gemm_f32(%{{.+}}, %c2_i32, %c0_i32, %c4_i32, %c0_i32, %c1_i32, %c4_i64, %c32_i64, %c16_i64, %{{.+}}, %{{.+}}, %[[T]],
func.func @rounding_transpose(%x: tensor<4x16xf32> {mp.input = "x"}, %w: tensor<16x32xf32> {mp.param = "w"}) -> tensor<4x32xf32> {
  %t = mp.transpose %w perm [1, 0] : tensor<16x32xf32> -> tensor<32x16xbf16>
  %y = mp.linear %x, %t precision <bf16> : (tensor<4x16xf32>, tensor<32x16xbf16>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// The window after the causal flag, 0 without one.
// CHECK-LABEL: func.func @softmax_window
// CHECK: call @mp_softmax_f32(%arg0, %c8_i64, %c6_i64, %c6_i64, %c1_i32, %c4_i64,
// CHECK: call @mp_softmax_f32(%arg0, %c8_i64, %c6_i64, %c6_i64, %c1_i32, %c0_i64,
func.func @softmax_window(%s: tensor<2x4x6x6xf32> {mp.input = "s"}) -> (tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>) {
  %w = mp.softmax %s causal window 4 : tensor<2x4x6x6xf32>
  %c = mp.softmax %s causal : tensor<2x4x6x6xf32>
  return %w, %c : tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>
}

// -----

// Llama 3.1's scaled rotary frequencies go to mp_rope_f32 as a constant
// mp_rope_scaling (four doubles); an unscaled rope passes null. The linear
// scaling follows (ABI 21), 1 where none is given. The rotated entries
// follow head_dim (ABI 23; head_dim where not given), and longrope's
// factors (a constant array, null where none) and the attention factor (1
// where none) follow the linear scaling.
// CHECK-DAG: llvm.mlir.global internal constant @[[SCALING:__mp_f64_[0-9]+]](dense<[8.000000e+00, 1.000000e+00, 4.000000e+00, 8.192000e+03]> : tensor<4xf64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[LONGROPE:__mp_f64_[0-9]+]](dense<1.500000e+00> : tensor<1xf64>)
// CHECK-LABEL: func.func @rope_llama3
// CHECK-DAG: %[[P:.+]] = llvm.mlir.addressof @[[SCALING]]
// CHECK-DAG: %[[FACTORS:.+]] = llvm.mlir.addressof @[[LONGROPE]]
// CHECK-DAG: %[[NULL:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG: %[[EIGHT:.+]] = arith.constant 8.000000e+00 : f64
// CHECK-DAG: %[[ATTENTION:.+]] = arith.constant 1.190000e+00 : f64
// CHECK: call @mp_rope_f32(%arg0, %c2_i64, %c6_i64, %c4_i64, %c4_i64, %c4_i64, %{{.+}}, %[[P]], %[[ONE]], %[[NULL]], %[[ONE]], %c0_i32,
// CHECK: call @mp_rope_f32(%arg0, %c2_i64, %c6_i64, %c4_i64, %c4_i64, %c4_i64, %{{.+}}, %[[NULL]], %[[ONE]], %[[NULL]], %[[ONE]], %c1_i32,
// CHECK: call @mp_rope_f32(%arg0, %c2_i64, %c6_i64, %c4_i64, %c4_i64, %c4_i64, %{{.+}}, %[[NULL]], %[[EIGHT]], %[[NULL]], %[[ONE]], %c0_i32,
// CHECK: call @mp_rope_f32(%arg0, %c2_i64, %c6_i64, %c4_i64, %c4_i64, %c2_i64, %{{.+}}, %[[NULL]], %[[ONE]], %[[FACTORS]], %[[ATTENTION]], %c1_i32,
func.func @rope_llama3(%q: tensor<2x6x4x4xf32> {mp.input = "q"}) -> (tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>) {
  %r = mp.rope %q theta 5.0e5 llama3_scaling [8.0, 1.0, 4.0, 8192.0] : tensor<2x6x4x4xf32>
  %u = mp.rope %q theta 5.0e5 inverse : tensor<2x6x4x4xf32>
  %l = mp.rope %q theta 1.0e6 linear_scaling 8.0 : tensor<2x6x4x4xf32>
  %p = mp.rope %q theta 1.0e4 rotary_dims 2 longrope_factors [1.5] attention_factor 1.19 inverse : tensor<2x6x4x4xf32>
  return %r, %u, %l, %p : tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>
}

// -----

// Gemma's norm (ABI 20): the weight offset goes after the weight, to the
// norm and to its input gradient; the weight's gradient passes 0.
// CHECK-LABEL: func.func @rms_norm_weight_offset
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f64
// CHECK: call @mp_rms_norm_f32(%arg0, %c4_i64, %c16_i64, %{{.+}}, %c0_i32, %{{.+}}, %{{.+}}, %[[ONE]], %c0_i32,
// CHECK: call @mp_rms_norm_grad_f32(%arg0, %c4_i64, %c16_i64, %{{.+}}, %c0_i32, %{{.+}}, %{{.+}}, %[[ONE]], %c0_i32,
// CHECK: call @mp_rms_norm_grad_f32(%arg0, %c4_i64, %c16_i64, %{{.+}}, %c0_i32, %{{.+}}, %{{.+}}, %[[ZERO]], %c0_i32,
func.func @rms_norm_weight_offset(%x: tensor<4x16xf32> {mp.input = "x"}, %w: tensor<16xf32> {mp.param = "w"}, %g: tensor<4x16xf32> {mp.input = "g"}) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<16xf32>) {
  %y = mp.rms_norm %x, %w eps 1.0e-6 weight_offset 1.0 : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %dx = mp.rms_norm_grad %x, %w, %g eps 1.0e-6 weight_offset 1.0 : (tensor<4x16xf32>, tensor<16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %dw = mp.rms_norm_weight_grad %x, %g eps 1.0e-6 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<16xf32>
  return %y, %dx, %dw : tensor<4x16xf32>, tensor<4x16xf32>, tensor<16xf32>
}

// -----

// mp.clamp and its mask: MP_UNARY_CLAMP (12) and MP_UNARY_CLAMP_MASK (13),
// the bounds as mp_unary_f32's scalar and upper (ABI 25).
// CHECK-LABEL: func.func @clamp
// CHECK-DAG: %[[LO:.+]] = arith.constant -8.000000e+00 : f64
// CHECK-DAG: %[[HI:.+]] = arith.constant 2.500000e-01 : f64
// CHECK: call @mp_unary_f32(%{{.+}}, %c12_i32, %c64_i64, %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %[[LO]], %[[HI]])
// CHECK: call @mp_unary_f32(%{{.+}}, %c13_i32, %c64_i64, %c0_i32, %{{.+}}, %c0_i32, %{{.+}}, %[[LO]], %[[HI]])
func.func @clamp(%x: tensor<4x16xf32> {mp.input = "x"}) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %c = mp.clamp %x min -8.0 max 0.25 : tensor<4x16xf32>
  %m = mp.clamp_mask %x min -8.0 max 0.25 : tensor<4x16xf32>
  return %c, %m : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// mp.iota: mp_iota_i64 over [outer, extent, inner] = [2, 3, 4] for dim 1
// from its start, 0 unless given (ABI 27), its positions read by an
// embedding as i64 ids.
// CHECK-LABEL: func.func @iota
// CHECK: call @mp_iota_i64(%{{.+}}, %c2_i64, %c3_i64, %c4_i64, %c0_i64, %[[POS:.+]]) :
// CHECK: call @mp_embedding_f32(%{{.+}}, %c24_i64, %c5_i64, %c8_i64, %[[POS]], %{{.+}}, %{{.+}}) :
func.func @iota(%table: tensor<5x8xf32> {mp.input = "table"}) -> tensor<2x3x4x8xf32> {
  %positions = mp.iota dim 1 : tensor<2x3x4xi64>
  %rows = mp.embedding %positions, %table : (tensor<2x3x4xi64>, tensor<5x8xf32>) -> tensor<2x3x4x8xf32>
  return %rows : tensor<2x3x4x8xf32>
}

// -----

// OPT's positions: from row 2 of its table.
// CHECK-LABEL: func.func @iota_start
// CHECK: call @mp_iota_i64(%{{.+}}, %c1_i64, %c3_i64, %c1_i64{{.*}}, %c2_i64, %[[POS:.+]]) :
// CHECK: call @mp_embedding_f32(%{{.+}}, %c3_i64{{.*}}, %c5_i64, %c8_i64, %[[POS]], %{{.+}}, %{{.+}}) :
func.func @iota_start(%table: tensor<5x8xf32> {mp.input = "table"}) -> tensor<3x8xf32> {
  %positions = mp.iota dim 0 start 2 : tensor<3xi64>
  %rows = mp.embedding %positions, %table : (tensor<3xi64>, tensor<5x8xf32>) -> tensor<3x8xf32>
  return %rows : tensor<3x8xf32>
}

// -----

// ALiBi (ABI 28): the slopes of the 4 heads at max bias 8, then the bias
// over [outer, heads, queries, keys] = [2, 4, 3, 5] of the scores, in float
// (0), then Falcon's in bfloat16 (1, ABI 30).
// CHECK-LABEL: func.func @alibi
// CHECK: call @mp_alibi_slopes_f32(%{{.+}}, %c4_i64, %{{.+}}, %[[SLOPES:.+]]) :
// CHECK: call @mp_alibi_f32(%{{.+}}, %c2_i64, %c4_i64, %c3_i64, %c5_i64, %c0_i32{{.*}}, %{{.+}}, %[[SLOPES]], %{{.+}}) :
// CHECK: call @mp_alibi_f32(%{{.+}}, %c2_i64, %c4_i64, %c3_i64, %c5_i64, %c1_i32{{.*}}, %{{.+}}, %[[SLOPES]], %{{.+}}) :
func.func @alibi(%scores: tensor<2x4x3x5xf32> {mp.input = "scores"}) -> (tensor<2x4x3x5xf32>, tensor<2x4x3x5xf32>) {
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %biased = mp.alibi %scores, %slopes : tensor<2x4x3x5xf32>, tensor<4xf32>
  %falcon = mp.alibi %scores, %slopes bf16_bias : tensor<2x4x3x5xf32>, tensor<4xf32>
  return %biased, %falcon : tensor<2x4x3x5xf32>, tensor<2x4x3x5xf32>
}

// -----

// Fused attention with ALiBi (ABI 29): after the chunk rows, the 4 heads
// and the slopes (0 and null without), then whether the bias is Falcon's
// (ABI 30); the gradient takes them too.
// CHECK-LABEL: func.func @alibi_attention
// CHECK: call @mp_alibi_slopes_f32(%{{.+}}, %c4_i64, %{{.+}}, %[[SLOPES:.+]]) :
// CHECK: call @mp_attention_f32(%{{.+}}, %c1_i32, %c8_i64, %c1_i64, %c6_i64, %c6_i64, %c8_i64, %c8_i64, %{{.+}}, %{{.+}}, %c1_i32, %c0_i64, %c6_i64, %c4_i64, %[[SLOPES]], %c0_i32, %c0_i32,
// CHECK: call @mp_attention_grad_f32(%{{.+}}, %c1_i32, %c8_i64, %c1_i64, %c6_i64, %c6_i64, %c8_i64, %c8_i64, %{{.+}}, %{{.+}}, %c1_i32, %c0_i64, %c{{[0-9]+}}_i64, %c4_i64, %[[SLOPES]], %c0_i32, %c0_i32,
// CHECK: call @mp_attention_f32(%{{.+}}, %c6_i64, %c0_i64, %{{[0-9]+}}, %c0_i32, %c0_i32,
// CHECK: call @mp_attention_f32(%{{.+}}, %c6_i64, %c4_i64, %[[SLOPES]], %c1_i32, %c0_i32,
func.func @alibi_attention(%q: tensor<2x4x6x8xf32> {mp.input = "q"}, %g: tensor<2x4x6x8xf32> {mp.input = "g"}) -> (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) {
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %o, %lse = mp.attention %q, %q, %q alibi %slopes scale 0.5 causal : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<4xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %q, %q, %o, %lse, %g alibi %slopes scale 0.5 causal : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6xf32>, tensor<2x4x6x8xf32>, tensor<4xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>)
  %o2, %lse2 = mp.attention %q, %q, %q scale 0.5 causal : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6xf32>)
  %o3, %lse3 = mp.attention %q, %q, %q alibi %slopes bf16_bias scale 0.5 causal : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<4xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6xf32>)
  %sum2 = mp.add %dq, %o2 : tensor<2x4x6x8xf32>
  %sum = mp.add %sum2, %o3 : tensor<2x4x6x8xf32>
  return %o, %sum : tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>
}

// -----

// The rotary embedding's call takes its tensors' dtypes (ABI 32) after
// `inverse`: here a bf16 input and a float32 result.
// CHECK-LABEL: func.func @bf16_rope
// CHECK: call @mp_rope_f32(%{{.+}}, %c1_i64, %c4_i64, %c2_i64, %c8_i64, %c8_i64, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %c0_i32, %c4_i32, %{{.+}}, %c0_i32, %{{.+}})
func.func @bf16_rope(%x: tensor<1x4x2x8xf32> {mp.input = "x"}) -> tensor<1x4x2x8xf32> {
  %b = mp.convert %x : tensor<1x4x2x8xf32> -> tensor<1x4x2x8xbf16>
  %r = mp.rope %b theta 1.0e4 : (tensor<1x4x2x8xbf16>) -> tensor<1x4x2x8xf32>
  return %r : tensor<1x4x2x8xf32>
}

// -----

// The runtime's norms read float32 parameters: a norm of a bf16 model (its
// weight bf16 too, which the interpreter runs) is refused.
func.func @bf16_norm_weight(%x: tensor<4x32xf32> {mp.input = "x"}, %w: tensor<32xf32> {mp.param = "w"}) -> tensor<4x32xf32> {
  %xb = mp.convert %x : tensor<4x32xf32> -> tensor<4x32xbf16>
  %wb = mp.convert %w : tensor<32xf32> -> tensor<32xbf16>
  // expected-error@+1 {{the runtime's norms take float32 parameters, not 'tensor<32xbf16>'}}
  %n = mp.rms_norm %xb, %wb eps 1.0e-5 : (tensor<4x32xbf16>, tensor<32xbf16>) -> tensor<4x32xbf16>
  %e = mp.exp %n : (tensor<4x32xbf16>) -> tensor<4x32xf32>
  return %e : tensor<4x32xf32>
}
