// RUN: mp-opt %s --mp-lower-to-runtime -split-input-file | FileCheck %s
// RUN: mp-opt %mp_src_root/examples/ffn/ffn.mlir --mp-train-step="optimizer=adamw" --mp-lower-to-runtime | FileCheck %s --check-prefix=FFN
// RUN: mp-opt %mp_src_root/examples/ffn/ffn.mlir --mp-train-step="optimizer=sgd" --mp-lower-to-runtime | FileCheck %s --check-prefix=FFN-SGD

// A weight gradient of few rows (k = 8) that only its AdamW update reads is
// computed by the update: one mp_adamw_outer_f32 call with the GEMM's
// precision, k, m, n and alpha, reading the output gradient (the transposed
// view's input, [k, m]) and the input ([k, n]); no GEMM, and no arena
// buffer for the gradient (the arena is empty: the update runs in place in
// the arguments' buffers). Written by a GEMM, the gradient takes the 1536
// bytes that @many_rows's arena holds.
// CHECK-LABEL: func.func @few_rows
// CHECK-SAME: arena 0
// CHECK-NOT: call @mp_gemm
// CHECK: call @mp_adamw_outer_f32(%{{.*}}, %c1_i32, %c8_i64, %c16_i64, %c24_i64, %cst, %[[G:[0-9]+]], %[[X:[0-9]+]],
// CHECK-NOT: call @mp_gemm
// CHECK-NOT: call @mp_adamw_f32
// CHECK: return
func.func @few_rows(%w: tensor<16x24xf32> {mp.param = "w"},
                    %m: tensor<16x24xf32> {mp.state = "w.exp_avg"},
                    %v: tensor<16x24xf32> {mp.state = "w.exp_avg_sq"},
                    %step: tensor<f32> {mp.state = "step"},
                    %g: tensor<8x16xf32> {mp.input = "g"},
                    %x: tensor<8x24xf32> {mp.input = "x"})
    -> (tensor<16x24xf32> {mp.output = "w"}, tensor<16x24xf32> {mp.output = "w.exp_avg"},
        tensor<16x24xf32> {mp.output = "w.exp_avg_sq"}) {
  %gt = mp.transpose %g perm [1, 0] : tensor<8x16xf32> -> tensor<16x8xf32>
  %dw = mp.matmul %gt, %x : (tensor<16x8xf32>, tensor<8x24xf32>) -> tensor<16x24xf32>
  %p, %n, %s = mp.adamw %w, %dw, %m, %v, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<16x24xf32>, tensor<f32>
  return %p, %n, %s : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>
}

// -----

// The product's operands live until the update reads them: the output
// gradient (an arena value here, 512 bytes) keeps its buffer past the
// GEMM's place, so the value computed between them takes another (1024
// bytes of arena, not 512).
// CHECK-LABEL: func.func @operands_live
// CHECK-SAME: arena 1024
// CHECK: call @mp_adamw_outer_f32(
func.func @operands_live(%w: tensor<16x24xf32> {mp.param = "w"},
                         %m: tensor<16x24xf32> {mp.state = "w.exp_avg"},
                         %v: tensor<16x24xf32> {mp.state = "w.exp_avg_sq"},
                         %step: tensor<f32> {mp.state = "step"},
                         %h: tensor<8x16xf32> {mp.input = "h"},
                         %x: tensor<8x24xf32> {mp.input = "x"},
                         %y: tensor<8x16xf32> {mp.input = "y"})
    -> (tensor<16x24xf32> {mp.output = "w"}, tensor<16x24xf32> {mp.output = "w.exp_avg"},
        tensor<16x24xf32> {mp.output = "w.exp_avg_sq"}, tensor<8x16xf32> {mp.output = "o"}) {
  %g = mp.relu %h : tensor<8x16xf32>
  %gt = mp.transpose %g perm [1, 0] : tensor<8x16xf32> -> tensor<16x8xf32>
  %dw = mp.matmul %gt, %x : (tensor<16x8xf32>, tensor<8x24xf32>) -> tensor<16x24xf32>
  %o = mp.relu %y : tensor<8x16xf32>
  %p, %n, %s = mp.adamw %w, %dw, %m, %v, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<16x24xf32>, tensor<f32>
  return %p, %n, %s, %o : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>, tensor<8x16xf32>
}

// -----

// In bf16 precision with a scale: the call takes precision 2 and alpha.
// CHECK-LABEL: func.func @bf16_scaled
// CHECK: %[[ALPHA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: call @mp_adamw_outer_f32(%{{.*}}, %c2_i32, %c32_i64, %c16_i64, %c24_i64, %[[ALPHA]],
// CHECK-NOT: call @mp_gemm
func.func @bf16_scaled(%w: tensor<16x24xf32> {mp.param = "w"},
                       %m: tensor<16x24xf32> {mp.state = "w.exp_avg"},
                       %v: tensor<16x24xf32> {mp.state = "w.exp_avg_sq"},
                       %step: tensor<f32> {mp.state = "step"},
                       %g: tensor<32x16xf32> {mp.input = "g"},
                       %x: tensor<32x24xf32> {mp.input = "x"})
    -> (tensor<16x24xf32> {mp.output = "w"}, tensor<16x24xf32> {mp.output = "w.exp_avg"},
        tensor<16x24xf32> {mp.output = "w.exp_avg_sq"}) {
  %gt = mp.transpose %g perm [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
  %dw = mp.matmul %gt, %x scale 5.000000e-01 precision <bf16> : (tensor<16x32xf32>, tensor<32x24xf32>) -> tensor<16x24xf32>
  %p, %n, %s = mp.adamw %w, %dw, %m, %v, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<16x24xf32>, tensor<f32>
  return %p, %n, %s : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>
}

// -----

// 33 rows: the GEMM is bound by its FLOPs soon enough that it runs as one
// (a cuBLAS GEMM), writing the gradient that the update reads.
// CHECK-LABEL: func.func @many_rows
// CHECK-SAME: arena 1536
// CHECK: call @mp_gemm_batched_f32(
// CHECK: call @mp_adamw_f32(
// CHECK-NOT: mp_adamw_outer_f32
func.func @many_rows(%w: tensor<16x24xf32> {mp.param = "w"},
                     %m: tensor<16x24xf32> {mp.state = "w.exp_avg"},
                     %v: tensor<16x24xf32> {mp.state = "w.exp_avg_sq"},
                     %step: tensor<f32> {mp.state = "step"},
                     %g: tensor<33x16xf32> {mp.input = "g"},
                     %x: tensor<33x24xf32> {mp.input = "x"})
    -> (tensor<16x24xf32> {mp.output = "w"}, tensor<16x24xf32> {mp.output = "w.exp_avg"},
        tensor<16x24xf32> {mp.output = "w.exp_avg_sq"}) {
  %gt = mp.transpose %g perm [1, 0] : tensor<33x16xf32> -> tensor<16x33xf32>
  %dw = mp.matmul %gt, %x : (tensor<16x33xf32>, tensor<33x24xf32>) -> tensor<16x24xf32>
  %p, %n, %s = mp.adamw %w, %dw, %m, %v, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<16x24xf32>, tensor<f32>
  return %p, %n, %s : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>
}

// -----

// A gradient another op reads too (here: returned), or whose right factor
// is read transposed, is written by its GEMM.
// CHECK-LABEL: func.func @read_twice
// CHECK: call @mp_gemm_batched_f32(
// CHECK: call @mp_adamw_f32(
// CHECK-NOT: mp_adamw_outer_f32
func.func @read_twice(%w: tensor<16x24xf32> {mp.param = "w"},
                      %m: tensor<16x24xf32> {mp.state = "w.exp_avg"},
                      %v: tensor<16x24xf32> {mp.state = "w.exp_avg_sq"},
                      %step: tensor<f32> {mp.state = "step"},
                      %g: tensor<8x16xf32> {mp.input = "g"},
                      %x: tensor<8x24xf32> {mp.input = "x"})
    -> (tensor<16x24xf32> {mp.output = "w"}, tensor<16x24xf32> {mp.output = "w.exp_avg"},
        tensor<16x24xf32> {mp.output = "w.exp_avg_sq"}, tensor<16x24xf32> {mp.output = "grad"}) {
  %gt = mp.transpose %g perm [1, 0] : tensor<8x16xf32> -> tensor<16x8xf32>
  %dw = mp.matmul %gt, %x : (tensor<16x8xf32>, tensor<8x24xf32>) -> tensor<16x24xf32>
  %p, %n, %s = mp.adamw %w, %dw, %m, %v, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<16x24xf32>, tensor<f32>
  return %p, %n, %s, %dw : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>
}

// -----

// CHECK-LABEL: func.func @both_transposed
// CHECK: call @mp_gemm_batched_f32(
// CHECK: call @mp_adamw_f32(
// CHECK-NOT: mp_adamw_outer_f32
func.func @both_transposed(%w: tensor<16x24xf32> {mp.param = "w"},
                           %m: tensor<16x24xf32> {mp.state = "w.exp_avg"},
                           %v: tensor<16x24xf32> {mp.state = "w.exp_avg_sq"},
                           %step: tensor<f32> {mp.state = "step"},
                           %g: tensor<8x16xf32> {mp.input = "g"},
                           %x: tensor<24x8xf32> {mp.input = "x"})
    -> (tensor<16x24xf32> {mp.output = "w"}, tensor<16x24xf32> {mp.output = "w.exp_avg"},
        tensor<16x24xf32> {mp.output = "w.exp_avg_sq"}) {
  %gt = mp.transpose %g perm [1, 0] : tensor<8x16xf32> -> tensor<16x8xf32>
  %xt = mp.transpose %x perm [1, 0] : tensor<24x8xf32> -> tensor<8x24xf32>
  %dw = mp.matmul %gt, %xt : (tensor<16x8xf32>, tensor<8x24xf32>) -> tensor<16x24xf32>
  %p, %n, %s = mp.adamw %w, %dw, %m, %v, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 1.0e-3 : f64, weight_decay = 0.01 : f64} : tensor<16x24xf32>, tensor<f32>
  return %p, %n, %s : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>
}

// -----

// SGD computes such a gradient too (mp_sgd_outer_f32): without momentum
// its buffer pointer is null and momentum, dampening and nesterov 0.
// CHECK-LABEL: func.func @sgd_few_rows
// CHECK-SAME: arena 0
// CHECK-NOT: call @mp_gemm
// CHECK: %[[NONE:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[LR:.*]] = arith.constant 1.000000e-01 : f64
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[DECAY:.*]] = arith.constant 1.000000e-02 : f64
// CHECK: call @mp_sgd_outer_f32(%{{.*}}, %c1_i32, %c8_i64, %c16_i64, %c24_i64, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[NONE]], %[[LR]], %[[ZERO]], %[[ZERO]], %[[DECAY]], %c0_i32)
// CHECK-NOT: call @mp_sgd_f32
func.func @sgd_few_rows(%w: tensor<16x24xf32> {mp.param = "w"},
                        %g: tensor<8x16xf32> {mp.input = "g"},
                        %x: tensor<8x24xf32> {mp.input = "x"})
    -> (tensor<16x24xf32> {mp.output = "w"}) {
  %gt = mp.transpose %g perm [1, 0] : tensor<8x16xf32> -> tensor<16x8xf32>
  %dw = mp.matmul %gt, %x : (tensor<16x8xf32>, tensor<8x24xf32>) -> tensor<16x24xf32>
  %p = mp.sgd %w, %dw {lr = 1.000000e-01 : f64, weight_decay = 1.000000e-02 : f64} : tensor<16x24xf32>
  return %p : tensor<16x24xf32>
}

// -----

// With momentum: its buffer, momentum, dampening and Nesterov's flag.
// CHECK-LABEL: func.func @sgd_momentum_few_rows
// CHECK: %[[MOMENTUM:.*]] = arith.constant 9.000000e-01 : f64
// CHECK: call @mp_sgd_outer_f32(%{{.*}}, %c1_i32, %c8_i64, %c16_i64, %c24_i64, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[MOMENTUM]], %{{.*}}, %{{.*}}, %c1_i32)
// CHECK-NOT: call @mp_sgd_f32
func.func @sgd_momentum_few_rows(%w: tensor<16x24xf32> {mp.param = "w"},
                                 %b: tensor<16x24xf32> {mp.state = "w.momentum_buffer"},
                                 %g: tensor<8x16xf32> {mp.input = "g"},
                                 %x: tensor<8x24xf32> {mp.input = "x"})
    -> (tensor<16x24xf32> {mp.output = "w"}, tensor<16x24xf32> {mp.output = "w.momentum_buffer"}) {
  %gt = mp.transpose %g perm [1, 0] : tensor<8x16xf32> -> tensor<16x8xf32>
  %dw = mp.matmul %gt, %x : (tensor<16x8xf32>, tensor<8x24xf32>) -> tensor<16x24xf32>
  %p, %nb = mp.sgd_momentum %w, %dw, %b {dampening = 0.000000e+00 : f64, lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, nesterov, weight_decay = 0.000000e+00 : f64} : tensor<16x24xf32>
  return %p, %nb : tensor<16x24xf32>, tensor<16x24xf32>
}

// The seed's FFN at batch 8: its three weight gradients are computed by
// their updates; the GEMMs left are the forward's three and the gradient
// through w2.
// FFN-LABEL: func.func @ffn_train_step
// FFN-COUNT-4: call @mp_gemm_f32(
// FFN-NOT: call @mp_gemm_f32(
// FFN-COUNT-3: call @mp_adamw_outer_f32(%{{.*}}, %c1_i32, %c8_i64, %c8192_i64, %c8192_i64,
// FFN-NOT: call @mp_adamw_f32(

// FFN-SGD-LABEL: func.func @ffn_train_step
// FFN-SGD-COUNT-4: call @mp_gemm_f32(
// FFN-SGD-NOT: call @mp_gemm_f32(
// FFN-SGD-COUNT-3: call @mp_sgd_outer_f32(%{{.*}}, %c1_i32, %c8_i64, %c8192_i64, %c8192_i64,
// FFN-SGD-NOT: call @mp_sgd_f32(
