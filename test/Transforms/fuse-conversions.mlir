// RUN: mp-opt %s -split-input-file --mp-fuse-conversions | FileCheck %s

// A saved-dtype=bf16 feed-forward: the GEMMs' results are rounded where
// they are made and widened where SwiGLU, its gradient and the down
// projection read them. Every rounding folds into the op that made its
// input and every widening into its readers: no conversion is left.
// CHECK-LABEL: func.func @swiglu_block
// CHECK-NOT: mp.convert
// CHECK: %[[G:.+]] = mp.linear %arg0, %arg1 precision <bf16> : (tensor<4x16xbf16>, tensor<32x16xbf16>) -> tensor<4x32xbf16>
// CHECK-NEXT: %[[U:.+]] = mp.linear %arg0, %arg2 precision <bf16> : (tensor<4x16xbf16>, tensor<32x16xbf16>) -> tensor<4x32xbf16>
// CHECK-NEXT: %[[H:.+]] = mp.swiglu %[[G]], %[[U]] : tensor<4x32xbf16>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[H]], %arg3 precision <bf16> : (tensor<4x32xbf16>, tensor<16x32xbf16>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[R:.+]] = mp.add %arg4, %[[Y]] : (tensor<4x16xbf16>, tensor<4x16xf32>) -> tensor<4x16xbf16>
// CHECK-NEXT: %{{.+}}, %{{.+}} = mp.swiglu_grad %arg5, %[[G]], %[[U]] : (tensor<4x32xf32>, tensor<4x32xbf16>, tensor<4x32xbf16>) -> (tensor<4x32xf32>, tensor<4x32xf32>)
func.func @swiglu_block(%x: tensor<4x16xbf16>, %w1: tensor<32x16xbf16>, %w3: tensor<32x16xbf16>, %w2: tensor<16x32xbf16>, %res: tensor<4x16xbf16>, %dh: tensor<4x32xf32>) -> (tensor<4x16xbf16>, tensor<4x32xf32>, tensor<4x32xf32>) {
  %g = mp.linear %x, %w1 precision <bf16> : (tensor<4x16xbf16>, tensor<32x16xbf16>) -> tensor<4x32xf32>
  %gr = mp.convert %g : tensor<4x32xf32> -> tensor<4x32xbf16>
  %gw = mp.convert %gr : tensor<4x32xbf16> -> tensor<4x32xf32>
  %u = mp.linear %x, %w3 precision <bf16> : (tensor<4x16xbf16>, tensor<32x16xbf16>) -> tensor<4x32xf32>
  %ur = mp.convert %u : tensor<4x32xf32> -> tensor<4x32xbf16>
  %uw = mp.convert %ur : tensor<4x32xbf16> -> tensor<4x32xf32>
  %h = mp.swiglu %gw, %uw : tensor<4x32xf32>
  %hr = mp.convert %h : tensor<4x32xf32> -> tensor<4x32xbf16>
  %hw = mp.convert %hr : tensor<4x32xbf16> -> tensor<4x32xf32>
  %y = mp.linear %hw, %w2 precision <bf16> : (tensor<4x32xf32>, tensor<16x32xbf16>) -> tensor<4x16xf32>
  %resw = mp.convert %res : tensor<4x16xbf16> -> tensor<4x16xf32>
  %sum = mp.add %resw, %y : tensor<4x16xf32>
  %sumr = mp.convert %sum : tensor<4x16xf32> -> tensor<4x16xbf16>
  %gb = mp.convert %gr : tensor<4x32xbf16> -> tensor<4x32xf32>
  %ub = mp.convert %ur : tensor<4x32xbf16> -> tensor<4x32xf32>
  %dg, %du = mp.swiglu_grad %dh, %gb, %ub : tensor<4x32xf32>
  return %sumr, %dg, %du : tensor<4x16xbf16>, tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// A widening read through a reshape: the reshape moves the bf16 value and
// its readers fold the widening after it; one rounding of an already
// rounded value is the value itself.
// CHECK-LABEL: func.func @through_reshape
// CHECK-NEXT: %[[R:.+]] = mp.reshape %arg0 : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
// CHECK-NEXT: %[[E:.+]] = mp.exp %[[R]] : (tensor<8x8xbf16>) -> tensor<8x8xf32>
// CHECK-NEXT: return %[[E]], %[[R]]
func.func @through_reshape(%a: tensor<2x4x8xbf16>) -> (tensor<8x8xf32>, tensor<8x8xbf16>) {
  %w = mp.convert %a : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
  %r = mp.reshape %w : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %e = mp.exp %r : tensor<8x8xf32>
  %again = mp.convert %r : tensor<8x8xf32> -> tensor<8x8xbf16>
  return %e, %again : tensor<8x8xf32>, tensor<8x8xbf16>
}

// -----

// What stays: a rounding of a value that other ops read in float32 (they
// would read it rounded), of a GEMM that accumulates (its sum is float32),
// of a tf32 GEMM and of a function argument; a widening that a softmax,
// a tf32 GEMM or the function's result reads.
// CHECK-LABEL: func.func @kept
// CHECK-NEXT: %[[E:.+]] = mp.exp %arg0 : tensor<4x8xf32>
// CHECK-NEXT: mp.convert %[[E]] : tensor<4x8xf32> -> tensor<4x8xbf16>
// CHECK-NEXT: mp.neg %[[E]] : tensor<4x8xf32>
// CHECK-NEXT: %[[A:.+]] = mp.linear %arg1, %arg2 accumulate %arg3 precision <bf16>
// CHECK-NEXT: mp.convert %[[A]] : tensor<4x8xf32> -> tensor<4x8xbf16>
// CHECK-NEXT: %[[T:.+]] = mp.linear %arg1, %arg2 precision <tf32>
// CHECK-NEXT: mp.convert %[[T]] : tensor<4x8xf32> -> tensor<4x8xbf16>
// CHECK-NEXT: mp.convert %arg0 : tensor<4x8xf32> -> tensor<4x8xbf16>
// CHECK-NEXT: %[[W:.+]] = mp.convert %arg4 : tensor<4x8xbf16> -> tensor<4x8xf32>
// CHECK-NEXT: mp.softmax %[[W]] : tensor<4x8xf32>
// CHECK-NEXT: mp.linear %[[W]], %arg5 precision <tf32>
func.func @kept(%a: tensor<4x8xf32>, %x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %acc: tensor<4x8xf32>, %b: tensor<4x8xbf16>, %v: tensor<8x8xf32>) -> (tensor<4x8xbf16>, tensor<4x8xf32>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = mp.exp %a : tensor<4x8xf32>
  %er = mp.convert %e : tensor<4x8xf32> -> tensor<4x8xbf16>
  %n = mp.neg %e : tensor<4x8xf32>
  %acc2 = mp.linear %x, %w accumulate %acc precision <bf16> : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %accr = mp.convert %acc2 : tensor<4x8xf32> -> tensor<4x8xbf16>
  %t = mp.linear %x, %w precision <tf32> : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %tr = mp.convert %t : tensor<4x8xf32> -> tensor<4x8xbf16>
  %ar = mp.convert %a : tensor<4x8xf32> -> tensor<4x8xbf16>
  %bw = mp.convert %b : tensor<4x8xbf16> -> tensor<4x8xf32>
  %s = mp.softmax %bw : tensor<4x8xf32>
  %p = mp.linear %bw, %v precision <tf32> : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %er, %n, %accr, %tr, %ar, %s, %p, %bw : tensor<4x8xbf16>, tensor<4x8xf32>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// RMSNorm reads its input and writes its result in bf16 (its float32
// weight stays), and its gradients read the saved bf16 input; a widening
// of the weight stays (only the input is held).
// CHECK-LABEL: func.func @rms_norm
// CHECK-NEXT: %[[N:.+]] = mp.rms_norm %arg0, %arg1 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<8xf32>) -> tensor<4x8xbf16>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[N]], %arg2 precision <bf16> : (tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<4x8xf32>
// CHECK-NEXT: mp.rms_norm_grad %arg0, %arg1, %arg3 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: mp.rms_norm_weight_grad %arg0, %arg3 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<4x8xf32>) -> tensor<8xf32>
// CHECK-NEXT: %[[W:.+]] = mp.convert %arg4 : tensor<8xbf16> -> tensor<8xf32>
// CHECK-NEXT: mp.rms_norm %arg0, %[[W]] eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<8xf32>) -> tensor<4x8xf32>
func.func @rms_norm(%x: tensor<4x8xbf16>, %w: tensor<8xf32>, %v: tensor<8x8xbf16>, %g: tensor<4x8xf32>, %wb: tensor<8xbf16>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) {
  %xf = mp.convert %x : tensor<4x8xbf16> -> tensor<4x8xf32>
  %n = mp.rms_norm %xf, %w eps 1.0e-5 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %nr = mp.convert %n : tensor<4x8xf32> -> tensor<4x8xbf16>
  %y = mp.linear %nr, %v precision <bf16> : (tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<4x8xf32>
  %dx = mp.rms_norm_grad %xf, %w, %g eps 1.0e-5 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %dw = mp.rms_norm_weight_grad %xf, %g eps 1.0e-5 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8xf32>
  %wf = mp.convert %wb : tensor<8xbf16> -> tensor<8xf32>
  %m = mp.rms_norm %xf, %wf eps 1.0e-5 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y, %dx, %dw, %m : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>
}

// -----

// The rotary embedding reads the bf16 projection and writes the bf16 value
// that bf16 attention reads, computing in float32.
// CHECK-LABEL: func.func @rope
// CHECK-NEXT: %[[Q:.+]] = mp.rope %arg0 theta 1.000000e+04 : tensor<1x4x2x8xbf16>
// CHECK-NEXT: return %[[Q]]
func.func @rope(%q: tensor<1x4x2x8xbf16>) -> tensor<1x4x2x8xbf16> {
  %w = mp.convert %q : tensor<1x4x2x8xbf16> -> tensor<1x4x2x8xf32>
  %r = mp.rope %w theta 1.0e4 : tensor<1x4x2x8xf32>
  %n = mp.convert %r : tensor<1x4x2x8xf32> -> tensor<1x4x2x8xbf16>
  return %n : tensor<1x4x2x8xbf16>
}

// -----

// LayerNorm as RMSNorm: its input and result in bf16 beside its float32
// weight and bias, and its gradients read the saved bf16 input and a
// gradient tensor parallelism summed in bf16; their results stay float32.
// CHECK-LABEL: func.func @layer_norm
// CHECK-NEXT: %[[N:.+]] = mp.layer_norm %arg0, %arg1, %arg2 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xbf16>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[N]], %arg3 precision <bf16> : (tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[DX:.+]] = mp.layer_norm_grad %arg0, %arg1, %arg4 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<4x8xbf16>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[DW:.+]], %[[DB:.+]] = mp.layer_norm_weight_grad %arg0, %arg4 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<4x8xbf16>) -> (tensor<8xf32>, tensor<8xf32>)
// CHECK-NEXT: return %[[Y]], %[[DX]], %[[DW]], %[[DB]]
func.func @layer_norm(%x: tensor<4x8xbf16>, %w: tensor<8xf32>, %b: tensor<8xf32>, %v: tensor<8x8xbf16>, %sum: tensor<4x8xbf16>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %xf = mp.convert %x : tensor<4x8xbf16> -> tensor<4x8xf32>
  %n = mp.layer_norm %xf, %w, %b eps 1.0e-5 : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %nr = mp.convert %n : tensor<4x8xf32> -> tensor<4x8xbf16>
  %y = mp.linear %nr, %v precision <bf16> : (tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<4x8xf32>
  %g = mp.convert %sum : tensor<4x8xbf16> -> tensor<4x8xf32>
  %dx = mp.layer_norm_grad %xf, %w, %g eps 1.0e-5 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %dw, %db = mp.layer_norm_weight_grad %xf, %g eps 1.0e-5 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %y, %dx, %dw, %db : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// Attention's inputs saved in bf16: the transposes that lay q out for it
// round as they copy, and a transpose of a saved value widens as it copies
// (one copy each, where a conversion added a pass of its own).
// CHECK-LABEL: func.func @transposes
// CHECK-NOT: mp.convert
// CHECK: %[[Q:.+]] = mp.transpose %arg0 perm [0, 2, 1, 3] : tensor<2x3x4x8xf32> -> tensor<2x4x3x8xbf16>
// CHECK-NEXT: %[[B:.+]] = mp.transpose %arg1 perm [0, 2, 1, 3] : tensor<2x4x3x8xbf16> -> tensor<2x3x4x8xf32>
// CHECK-NEXT: return %[[Q]], %[[B]]
func.func @transposes(%q: tensor<2x3x4x8xf32>, %saved: tensor<2x4x3x8xbf16>) -> (tensor<2x4x3x8xbf16>, tensor<2x3x4x8xf32>) {
  %t = mp.transpose %q perm [0, 2, 1, 3] : tensor<2x3x4x8xf32> -> tensor<2x4x3x8xf32>
  %r = mp.convert %t : tensor<2x4x3x8xf32> -> tensor<2x4x3x8xbf16>
  %w = mp.convert %saved : tensor<2x4x3x8xbf16> -> tensor<2x4x3x8xf32>
  %back = mp.transpose %w perm [0, 2, 1, 3] : tensor<2x4x3x8xf32> -> tensor<2x3x4x8xf32>
  return %r, %back : tensor<2x4x3x8xbf16>, tensor<2x3x4x8xf32>
}

// -----

// A transposed view (a weight that its GEMM reads with the other transpose
// flag) copies nothing: where its GEMMs take bf16 it views the bf16 value
// itself; where one does not (tf32), the widening stays and the view reads
// it, as computing a widening transpose would copy what the view does not.
// CHECK-LABEL: func.func @transposed_views
// CHECK: %[[V:.+]] = mp.transpose %arg1 perm [1, 0] : tensor<32x16xbf16> -> tensor<16x32xbf16>
// CHECK-NEXT: mp.linear %arg0, %[[V]] precision <bf16> : (tensor<4x32xf32>, tensor<16x32xbf16>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[W:.+]] = mp.convert %arg1 : tensor<32x16xbf16> -> tensor<32x16xf32>
// CHECK-NEXT: %[[T:.+]] = mp.transpose %[[W]] perm [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
// CHECK-NEXT: mp.linear %arg0, %[[T]] precision <tf32>
// A view that a bf16 GEMM and a tf32 one both read stays a view of the
// widened value.
// CHECK-NEXT: %[[W2:.+]] = mp.convert %arg1 : tensor<32x16xbf16> -> tensor<32x16xf32>
// CHECK-NEXT: %[[S:.+]] = mp.transpose %[[W2]] perm [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
// CHECK-NEXT: mp.linear %arg0, %[[S]] precision <bf16>
// CHECK-NEXT: mp.linear %arg0, %[[S]] precision <tf32>
func.func @transposed_views(%x: tensor<4x32xf32>, %saved: tensor<32x16xbf16>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %w = mp.convert %saved : tensor<32x16xbf16> -> tensor<32x16xf32>
  %v = mp.transpose %w perm [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
  %y = mp.linear %x, %v precision <bf16> : (tensor<4x32xf32>, tensor<16x32xf32>) -> tensor<4x16xf32>
  %w2 = mp.convert %saved : tensor<32x16xbf16> -> tensor<32x16xf32>
  %t = mp.transpose %w2 perm [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
  %z = mp.linear %x, %t precision <tf32> : (tensor<4x32xf32>, tensor<16x32xf32>) -> tensor<4x16xf32>
  %w3 = mp.convert %saved : tensor<32x16xbf16> -> tensor<32x16xf32>
  %s = mp.transpose %w3 perm [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
  %a = mp.linear %x, %s precision <bf16> : (tensor<4x32xf32>, tensor<16x32xf32>) -> tensor<4x16xf32>
  %b = mp.linear %x, %s precision <tf32> : (tensor<4x32xf32>, tensor<16x32xf32>) -> tensor<4x16xf32>
  return %y, %z, %a, %b : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Attention in bf16 reads q, k, v saved in bf16 and writes its output
// rounded (ABI 10: its GEMMs round them anyway); its gradient reads them
// and the saved output. In tf32 the widenings stay: tf32 attention takes
// float32 tensors.
// CHECK-LABEL: func.func @attention
// CHECK-NOT: mp.convert
// CHECK: %[[O:.+]], %[[L:.+]] = mp.attention %arg0, %arg1, %arg2 scale 5.000000e-01 causal precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xbf16>) -> (tensor<2x6x8xbf16>, tensor<2x6xf32>)
// CHECK-NEXT: mp.attention_grad %arg0, %arg1, %arg2, %[[O]], %[[L]], %arg3 scale 5.000000e-01 causal precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
// CHECK-NEXT: %[[W:.+]] = mp.convert %arg0 : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
// CHECK-NEXT: mp.attention %[[W]], %[[W]], %[[W]] scale 5.000000e-01 causal precision <tf32>
func.func @attention(%q: tensor<2x6x8xbf16>, %k: tensor<2x6x8xbf16>, %v: tensor<2x6x8xbf16>, %g: tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) {
  %qw = mp.convert %q : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %kw = mp.convert %k : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %vw = mp.convert %v : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %o, %lse = mp.attention %qw, %kw, %vw scale 0.5 causal precision <bf16> : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  %or = mp.convert %o : tensor<2x6x8xf32> -> tensor<2x6x8xbf16>
  %qb = mp.convert %q : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %kb = mp.convert %k : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %vb = mp.convert %v : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %ob = mp.convert %or : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %dq, %dk, %dv = mp.attention_grad %qb, %kb, %vb, %ob, %lse, %g scale 0.5 causal precision <bf16> : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  %qt = mp.convert %q : tensor<2x6x8xbf16> -> tensor<2x6x8xf32>
  %t, %tlse = mp.attention %qt, %qt, %qt scale 0.5 causal precision <tf32> : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  return %dq, %dk, %dv, %t : tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>
}

// -----

// Attention's log-sum-exp is float32: its rounding stays.
// CHECK-LABEL: func.func @attention_lse
// CHECK: %{{.+}}, %[[L:.+]] = mp.attention %arg0, %arg0, %arg0 scale 5.000000e-01 precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xbf16>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
// CHECK-NEXT: mp.convert %[[L]] : tensor<2x6xf32> -> tensor<2x6xbf16>
func.func @attention_lse(%q: tensor<2x6x8xbf16>) -> (tensor<2x6x8xf32>, tensor<2x6xbf16>) {
  %o, %lse = mp.attention %q, %q, %q scale 0.5 precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xbf16>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  %r = mp.convert %lse : tensor<2x6xf32> -> tensor<2x6xbf16>
  return %o, %r : tensor<2x6x8xf32>, tensor<2x6xbf16>
}

// -----

// A transpose that widens a bf16 value whose readers all take bf16 or
// round it back (attention's output laid back out for the output
// projection, and saved for its weight gradient) copies it in bf16: no
// widening and no rounding left. One that a softmax reads in f32 still
// widens as it copies.
// CHECK-LABEL: func.func @widening_transposes
// CHECK-NOT: mp.convert
// CHECK: %[[T:.+]] = mp.transpose %arg0 perm [0, 2, 1, 3] : tensor<2x4x3x8xbf16> -> tensor<2x3x4x8xbf16>
// CHECK-NEXT: %[[R:.+]] = mp.reshape %[[T]] : tensor<2x3x4x8xbf16> -> tensor<6x32xbf16>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[R]], %arg1 precision <bf16> : (tensor<6x32xbf16>, tensor<16x32xbf16>) -> tensor<6x16xf32>
// CHECK-NEXT: %[[U:.+]] = mp.transpose %arg2 perm [0, 2, 1, 3] : tensor<2x4x3x8xbf16> -> tensor<2x3x4x8xf32>
// CHECK-NEXT: mp.softmax %[[U]]
// CHECK-NEXT: mp.reshape %[[U]] : tensor<2x3x4x8xf32> -> tensor<6x32xf32>
// CHECK-NEXT: mp.linear
// CHECK-NEXT: return %[[Y]], %[[R]]
func.func @widening_transposes(%o: tensor<2x4x3x8xbf16>, %w: tensor<16x32xbf16>, %x: tensor<2x4x3x8xbf16>) -> (tensor<6x16xf32>, tensor<6x32xbf16>, tensor<2x3x4x8xf32>, tensor<6x16xf32>) {
  %t = mp.transpose %o perm [0, 2, 1, 3] : tensor<2x4x3x8xbf16> -> tensor<2x3x4x8xf32>
  %r = mp.reshape %t : tensor<2x3x4x8xf32> -> tensor<6x32xf32>
  %s = mp.convert %r : tensor<6x32xf32> -> tensor<6x32xbf16>
  %y = mp.linear %r, %w precision <bf16> : (tensor<6x32xf32>, tensor<16x32xbf16>) -> tensor<6x16xf32>
  %u = mp.transpose %x perm [0, 2, 1, 3] : tensor<2x4x3x8xbf16> -> tensor<2x3x4x8xf32>
  %e = mp.softmax %u : tensor<2x3x4x8xf32>
  %ur = mp.reshape %u : tensor<2x3x4x8xf32> -> tensor<6x32xf32>
  %z = mp.linear %ur, %w precision <bf16> : (tensor<6x32xf32>, tensor<16x32xbf16>) -> tensor<6x16xf32>
  return %y, %s, %e, %z : tensor<6x16xf32>, tensor<6x32xbf16>, tensor<2x3x4x8xf32>, tensor<6x16xf32>
}

// -----

// Row chunks (mp-pipeline-tp-sums): each chunk widened its piece of a bf16
// value, and the pieces are joined and sliced again for the next region.
// The concatenation joins the bf16 pieces and a slice moves bf16 values,
// so the widenings fold into the readers (bf16 attention, a norm's input)
// and none is left. Where a reader of the whole needs float32 (a softmax),
// the pieces stay widened.
// CHECK-LABEL: func.func @row_chunks
// CHECK-NOT: mp.convert
// CHECK: %[[K:.+]] = mp.concat %arg0, %arg1 dim 0 : (tensor<1x2x4x8xbf16>, tensor<1x2x4x8xbf16>) -> tensor<2x2x4x8xbf16>
// CHECK: mp.attention %{{.*}}, %[[K]], %[[K]] {{.*}} : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xbf16>, tensor<2x2x4x8xbf16>) -> (tensor<2x2x4x8xf32>, tensor<2x2x4xf32>)
// CHECK: %[[H:.+]] = mp.concat %arg2, %arg3 dim 0 : (tensor<1x4x8xbf16>, tensor<1x4x8xbf16>) -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[S:.+]] = mp.slice %[[H]] dim 0 offset 1 : tensor<2x4x8xbf16> -> tensor<1x4x8xbf16>
// CHECK-NEXT: mp.rms_norm %[[S]], %arg5 {{.*}} : (tensor<1x4x8xbf16>, tensor<8xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT: %[[W0:.+]] = mp.convert %arg0 : tensor<1x2x4x8xbf16> -> tensor<1x2x4x8xf32>
// CHECK-NEXT: %[[W1:.+]] = mp.convert %arg1 : tensor<1x2x4x8xbf16> -> tensor<1x2x4x8xf32>
// CHECK-NEXT: %[[J:.+]] = mp.concat %[[W0]], %[[W1]] dim 0 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<2x2x4x8xf32>
// CHECK-NEXT: mp.softmax %[[J]]
func.func @row_chunks(%k0: tensor<1x2x4x8xbf16>, %k1: tensor<1x2x4x8xbf16>, %h0: tensor<1x4x8xbf16>, %h1: tensor<1x4x8xbf16>, %q: tensor<2x2x4x8xf32>, %w: tensor<8xf32>) -> (tensor<2x2x4x8xf32>, tensor<1x4x8xf32>, tensor<2x2x4x8xf32>) {
  %wk0 = mp.convert %k0 : tensor<1x2x4x8xbf16> -> tensor<1x2x4x8xf32>
  %wk1 = mp.convert %k1 : tensor<1x2x4x8xbf16> -> tensor<1x2x4x8xf32>
  %k = mp.concat %wk0, %wk1 dim 0 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  %o, %lse = mp.attention %q, %k, %k scale 5.000000e-01 causal precision <bf16> : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> (tensor<2x2x4x8xf32>, tensor<2x2x4xf32>)
  %wh0 = mp.convert %h0 : tensor<1x4x8xbf16> -> tensor<1x4x8xf32>
  %wh1 = mp.convert %h1 : tensor<1x4x8xbf16> -> tensor<1x4x8xf32>
  %h = mp.concat %wh0, %wh1 dim 0 : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<2x4x8xf32>
  %s = mp.slice %h dim 0 offset 1 : tensor<2x4x8xf32> -> tensor<1x4x8xf32>
  %n = mp.rms_norm %s, %w eps 1.000000e-05 : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %vk0 = mp.convert %k0 : tensor<1x2x4x8xbf16> -> tensor<1x2x4x8xf32>
  %vk1 = mp.convert %k1 : tensor<1x2x4x8xbf16> -> tensor<1x2x4x8xf32>
  %j = mp.concat %vk0, %vk1 dim 0 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  %e = mp.softmax %j : tensor<2x2x4x8xf32>
  return %o, %n, %e : tensor<2x2x4x8xf32>, tensor<1x4x8xf32>, tensor<2x2x4x8xf32>
}

// -----

// A gradient that tensor parallelism summed in bf16 (tp-reduce-dtype=bf16)
// is widened for the RMSNorm gradients, which read it in bf16 themselves,
// beside a bf16-held input; their results stay float32.
// CHECK-LABEL: func.func @norm_gradients
// CHECK-NOT: mp.convert
// CHECK: mp.rms_norm_grad %arg0, %arg2, %arg1 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<4x8xbf16>) -> tensor<4x8xf32>
// CHECK-NEXT: mp.rms_norm_weight_grad %arg0, %arg1 eps 1.000000e-05 : (tensor<4x8xbf16>, tensor<4x8xbf16>) -> tensor<8xf32>
func.func @norm_gradients(%x: tensor<4x8xbf16>, %sum: tensor<4x8xbf16>, %w: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>) {
  %g = mp.convert %sum : tensor<4x8xbf16> -> tensor<4x8xf32>
  %dx = mp.rms_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %dw = mp.rms_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<4x8xbf16>, tensor<4x8xf32>) -> tensor<8xf32>
  return %dx, %dw : tensor<4x8xf32>, tensor<8xf32>
}
