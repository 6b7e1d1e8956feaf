// Every op's vector-Jacobian rule against central finite differences in
// float64: the gradients are read off an SGD step with lr = 1 (new
// parameter = parameter - gradient) and compared element by element.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/every_op.mlir --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/every_op.step.mlir
// RUN: mp-run %t/every_op.step.mlir --entry=every_op --gradcheck | FileCheck %s --check-prefix=EVERY
// RUN: mp-opt %t/rest.mlir --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/rest.step.mlir
// RUN: mp-run %t/rest.step.mlir --entry=rest --gradcheck --seed=7 | FileCheck %s --check-prefix=REST
// RUN: not mp-run %t/rest.mlir --entry=rest --gradcheck 2>&1 | FileCheck %s --check-prefix=NOSTEP
// RUN: mp-opt %t/rope.mlir --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/rope.step.mlir
// RUN: mp-run %t/rope.step.mlir --entry=rope --gradcheck --seed=3 | FileCheck %s --check-prefix=ROPE
// RUN: mp-opt %t/ignored.mlir --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/ignored.step.mlir
// RUN: mp-run %t/ignored.step.mlir --entry=ignored --gradcheck --seed=10 | FileCheck %s --check-prefix=IGNORED
// RUN: mp-opt %t/ignored.mlir --mp-loss-parallel=blocks=2 --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/ignored.lp.mlir
// RUN: mp-run %t/ignored.lp.mlir --entry=ignored --gradcheck --seed=10 | FileCheck %s --check-prefix=IGNORED
// RUN: mp-run %t/ignored.mlir --entry=ignored --seed=10 --print | FileCheck %s --check-prefix=KEPT
// RUN: mp-opt %t/alibi.mlir --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/alibi.step.mlir
// RUN: mp-run %t/alibi.step.mlir --entry=alibi --gradcheck --seed=5 | FileCheck %s --check-prefix=ALIBI
// RUN: mp-opt %t/clamp.mlir --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/clamp.step.mlir
// RUN: mp-run %t/clamp.step.mlir --entry=clamp --gradcheck --seed=4 | FileCheck %s --check-prefix=CLAMP

// EVERY: gradcheck: 3 parameters, 131 elements, max abs error {{.*}}: match
// REST: gradcheck: 4 parameters, {{[0-9]+}} elements, max abs error {{.*}}: match
// NOSTEP: mp-run: --gradcheck needs @rest_train_step
// ROPE: gradcheck: 1 parameters, 96 elements, max abs error {{.*}}: match
// IGNORED: gradcheck: 1 parameters, 48 elements, max abs error {{.*}}: match
// CLAMP: gradcheck: 1 parameters, 24 elements, max abs error {{.*}}: match
// ALIBI: gradcheck: 2 parameters, 123 elements, max abs error {{.*}}: match
// KEPT: result #1: []
// KEPT-NEXT: 4.000000e+00

//--- every_op.mlir
// linear on 3-D input (also accumulating), gelu (tanh), relu, exp, sigmoid,
// tanh, div, neg, sub, scale, matmul with a shared rhs (scaled,
// accumulating), mean over a dim, mse_loss (mean),
// reshape, transpose, cross_entropy (mean), add; and an unused parameter.
func.func @every_op(%x: tensor<2x4x8xf32> {mp.input = "x"}, %y: tensor<8xi64> {mp.target = "y"},
                    %t: tensor<2x4xf32> {mp.target = "t"},
                    %w: tensor<8x8xf32> {mp.param = "w"}, %m: tensor<8x8xf32> {mp.param = "m"},
                    %unused: tensor<3xf32> {mp.param = "unused"}) -> tensor<f32> {
  %h = mp.linear %x, %w : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
  %g = mp.gelu %h tanh : tensor<2x4x8xf32>
  %r = mp.relu %g : tensor<2x4x8xf32>
  %e = mp.exp %r : tensor<2x4x8xf32>
  %s = mp.sigmoid %e : tensor<2x4x8xf32>
  %th = mp.tanh %s : tensor<2x4x8xf32>
  %d = mp.div %th, %e : tensor<2x4x8xf32>
  %n = mp.neg %d : tensor<2x4x8xf32>
  %nw = mp.linear %x, %w accumulate %n : (tensor<2x4x8xf32>, tensor<8x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %q = mp.sub %nw, %h : tensor<2x4x8xf32>
  %k = mp.scale %q by 0.5 : tensor<2x4x8xf32>
  %mm = mp.matmul %k, %m accumulate %q scale -1.5 : (tensor<2x4x8xf32>, tensor<8x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %mean = mp.mean %mm dims [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
  %mse = mp.mse_loss %mean, %t : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
  %flat = mp.reshape %mm : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %tr = mp.transpose %flat perm [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %ce = mp.cross_entropy %tr, %y : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
  %loss = mp.add %mse, %ce : tensor<f32>
  return %loss : tensor<f32>
}

//--- rest.mlir
// silu, gelu (exact), mul, swiglu, rsqrt, sum over dims, batched matmul (scaled), an explicit
// broadcast, mean, mse_loss and cross_entropy with sum reductions, an
// annotation on a 1-D mesh, and a parameter used twice.
mp.mesh @mesh = <tp = 2>
func.func @rest(%x: tensor<2x3x4xf32> {mp.input = "x"}, %y: tensor<2x3xi64> {mp.target = "y"},
                %a: tensor<2x4x4xf32> {mp.param = "a"}, %b: tensor<4xf32> {mp.param = "b"},
                %c: tensor<2x3x4xf32> {mp.param = "c"}, %v: tensor<3x4xf32> {mp.param = "v"}) -> tensor<f32> {
  %ann = mp.annotate %a <@mesh, [[tp], [], []]> : tensor<2x4x4xf32>
  %p = mp.matmul %x, %ann scale 0.75 : (tensor<2x3x4xf32>, tensor<2x4x4xf32>) -> tensor<2x3x4xf32>
  %bb = mp.broadcast %b dims [0, 1] : tensor<4xf32> -> tensor<2x3x4xf32>
  %q = mp.mul %p, %bb : tensor<2x3x4xf32>
  %s = mp.silu %q : tensor<2x3x4xf32>
  %g = mp.gelu %s : tensor<2x3x4xf32>
  %gc = mp.mul %g, %c : tensor<2x3x4xf32>
  %cc = mp.mul %gc, %c : tensor<2x3x4xf32>
  %sum = mp.sum %cc dims [0] : tensor<2x3x4xf32> -> tensor<3x4xf32>
  %mse = mp.mse_loss %sum, %v reduction sum : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<f32>
  %ce = mp.cross_entropy %cc, %y reduction sum : (tensor<2x3x4xf32>, tensor<2x3xi64>) -> tensor<f32>
  %m = mp.mean %g : tensor<2x3x4xf32> -> tensor<f32>
  %sw = mp.swiglu %gc, %c : tensor<2x3x4xf32>
  %msw = mp.mean %sw : tensor<2x3x4xf32> -> tensor<f32>
  %l1 = mp.add %mse, %ce : tensor<f32>
  %l2 = mp.add %l1, %m : tensor<f32>
  %sq = mp.mul %g, %g : tensor<2x3x4xf32>
  %msq = mp.mean %sq dims [2] : tensor<2x3x4xf32> -> tensor<2x3xf32>
  %rs = mp.rsqrt %msq eps 1.000000e-01 : tensor<2x3xf32>
  %mrs = mp.mean %rs : tensor<2x3xf32> -> tensor<f32>
  %l3 = mp.add %l2, %mrs : tensor<f32>
  %loss = mp.add %l3, %msw : tensor<f32>
  return %loss : tensor<f32>
}

//--- rope.mlir
// mp.rope over part of each head (rotary_dims), its frequencies scaled as
// Llama 3.1's (original context 32: the wavelengths 6.3, 29.2 and 135 of
// 100^(-2i/6) fall in each of its three bands), linearly and by
// longrope's factors, cos and sin times an attention factor: its gradient
// is the inverse rotation at the same frequencies times the same factor,
// and the entries that do not rotate pass their gradient as it is.
func.func @rope(%x: tensor<2x3x2x8xf32> {mp.input = "x"}, %t: tensor<2x3x2x8xf32> {mp.target = "t"},
                %w: tensor<2x3x2x8xf32> {mp.param = "w"}) -> tensor<f32> {
  %p = mp.mul %x, %w : tensor<2x3x2x8xf32>
  %r = mp.rope %p theta 100.0 llama3_scaling [8.0, 1.0, 4.0, 32.0] linear_scaling 2.0 rotary_dims 6 longrope_factors [1.0, 2.5, 4.0] attention_factor 1.3 : tensor<2x3x2x8xf32>
  %loss = mp.mse_loss %r, %t : (tensor<2x3x2x8xf32>, tensor<2x3x2x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

//--- ignored.mlir
// cross_entropy (sum) with ignore_index over the count of the labels kept
// (mp.target_mask, no gradient): the ignored rows' logits get none; also
// written as its pieces (--mp-loss-parallel: the per-row losses times the
// mask). Seed 10 keeps 4 of the 8 labels.
func.func @ignored(%x: tensor<8x8xf32> {mp.input = "x"}, %y: tensor<8xi64> {mp.target = "y"},
                   %w: tensor<6x8xf32> {mp.param = "w"}) -> (tensor<f32>, tensor<f32>) {
  %logits = mp.linear %x, %w : (tensor<8x8xf32>, tensor<6x8xf32>) -> tensor<8x6xf32>
  %sum = mp.cross_entropy %logits, %y reduction sum ignore_index 2 : (tensor<8x6xf32>, tensor<8xi64>) -> tensor<f32>
  %kept = mp.target_mask %y ignore_index 2 : tensor<8xi64> -> tensor<8xf32>
  %count = mp.sum %kept : tensor<8xf32> -> tensor<f32>
  %mean = mp.div %sum, %count : tensor<f32>
  return %mean, %count : tensor<f32>, tensor<f32>
}

//--- clamp.mlir
// mp.clamp: the gradient passes inside [min, max], bounds included, and
// nowhere else (mp.clamp_mask); with seed 4 some products fall below,
// some inside and some above.
func.func @clamp(%x: tensor<4x6xf32> {mp.input = "x"}, %t: tensor<4x6xf32> {mp.target = "t"},
                 %w: tensor<4x6xf32> {mp.param = "w"}) -> tensor<f32> {
  %p = mp.mul %x, %w : tensor<4x6xf32>
  %c = mp.clamp %p min -2.000000e-01 max 1.500000e-01 : tensor<4x6xf32>
  %loss = mp.mse_loss %c, %t : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

//--- alibi.mlir
// mp.alibi with learned slopes: the scores' gradient passes the bias, and
// slope h's is the sum over its head's entries of the gradient times the
// key's position.
func.func @alibi(%x: tensor<2x3x4x5xf32> {mp.input = "x"}, %t: tensor<2x3x4x5xf32> {mp.target = "t"},
                 %w: tensor<2x3x4x5xf32> {mp.param = "w"}, %slopes: tensor<3xf32> {mp.param = "slopes"}) -> tensor<f32> {
  %s = mp.mul %x, %w : tensor<2x3x4x5xf32>
  %b = mp.alibi %s, %slopes : tensor<2x3x4x5xf32>, tensor<3xf32>
  %p = mp.softmax %b causal : tensor<2x3x4x5xf32>
  %loss = mp.mse_loss %p, %t : (tensor<2x3x4x5xf32>, tensor<2x3x4x5xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
