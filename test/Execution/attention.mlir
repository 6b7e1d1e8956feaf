// mp.attention and mp.attention_grad on the reference interpreter:
//  - the gradients of causal attention (chunks of 2 rows forward and 1
//    backward, 5 queries; 3 queries against 6 keys), of sliding window
//    attention (window 2, chunks of 2 rows and 1), of soft-capped scores
//    (Gemma 2's 1.5 · tanh(t / 1.5)), of unmasked attention, of
//    grouped-query attention (4 query heads, 2 key and value heads) and of
//    ALiBi-biased scores under a window (BLOOM's and Falcon's), against
//    central finite differences;
//  - the forward values equal the unfused matmul, scale, softmax and
//    matmul's, in float32 GEMMs and in bf16 ones (operands and
//    probabilities rounded to bfloat16 alike), and with one key and value
//    head for 3 query heads as with them repeated (broadcast, reshape),
//    and with a sliding window (3 keys, 5 queries against 7 keys), and
//    soft-capped as the unfused scale, tanh and scale cap them, and biased
//    as mp.alibi biases them (3 heads, window 3 and chunks of 2 rows, whose
//    keys start past key 0), and with Falcon's bfloat16 bias before the
//    scale; mp-fuse-attention's rewrite of the unfused chain (reading the one
//    head) computes the same;
//  - the rows' log-sum-exp (the op's second result), causal and not,
//    equals the unfused scores' (t_0 - log p_0 and log Σ exp t), and with
//    ALiBi the biased scores';
//  - partitioned = global on a 2x2 mesh: query rows split (unmasked),
//    batch and query heads split (causal and capped, with a window, and
//    with ALiBi, BLOOM's and Falcon's), key heads split unevenly.
//
// RUN: split-file %s %t
// RUN: mp-opt %t/grad.mlir --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/grad.step.mlir
// RUN: mp-run %t/grad.step.mlir --entry=attn --gradcheck | FileCheck %s --check-prefix=GRAD
// GRAD: gradcheck: 9 parameters, {{[0-9]+}} elements, max abs error {{.*}}: match
// RUN: mp-run %t/fused.mlir --entry=attention --reference=%t/unfused.mlir --rtol 1e-15 --atol 0 | FileCheck %s
// RUN: mp-opt %t/unfused.mlir --mp-fuse-attention -o %t/rewritten.mlir
// RUN: FileCheck %s --check-prefix=REWRITTEN < %t/rewritten.mlir
// RUN: mp-run %t/rewritten.mlir --entry=attention --reference=%t/unfused.mlir --rtol 1e-15 --atol 0 | FileCheck %s
// RUN: mp-run %t/fused.mlir --entry=lse --reference=%t/unfused.mlir --rtol 1e-14 --atol 0 | FileCheck %s --check-prefix=LSE
// LSE: over 3 results: match
// RUN: mp-opt %t/partition.mlir --mp-train-step="optimizer=adamw lr=1e-2" -o %t/partition.global.mlir
// RUN: mp-opt %t/partition.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/partition.spmd.mlir
// RUN: FileCheck %s --check-prefix=SPMD < %t/partition.spmd.mlir
// RUN: mp-run %t/partition.spmd.mlir --entry=attn_train_step --reference=%t/partition.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s --check-prefix=PARTITION
// CHECK: over 7 results: match
// PARTITION: over 14 results: match
// Unmasked, the query rows stay split (the gradient gathers them); the 3
// key and value heads, which 2 ranks cannot split evenly, are gathered.
// SPMD-LABEL: func.func @attn_train_step
// SPMD: mp.attention %{{.+}}, %{{.+}}, %{{.+}} scale 0.69999999999999996 chunk_bytes 100 : (tensor<2x6x3x3xf32>, tensor<2x3x7x3xf32>, tensor<2x3x7x2xf32>) -> (tensor<2x6x3x2xf32>, tensor<2x6x3xf32>)
// With ALiBi, q2's batch split and its heads whole: all 6 slopes
// (spmd-every-op.mlir slices them with split heads).
// SPMD: mp.attention %{{.+}}, %{{.+}}, %{{.+}} alibi %{{.+}} scale 5.000000e-01 causal chunk_bytes 100 : (tensor<1x6x5x3xf32>, tensor<1x3x7x3xf32>, tensor<1x3x7x2xf32>, tensor<6xf32>) -> (
// SPMD: mp.attention %{{.+}}, %{{.+}}, %{{.+}} alibi %{{.+}} bf16_bias scale 5.000000e-01 causal chunk_bytes 100 : (tensor<1x6x5x3xf32>, tensor<1x3x7x3xf32>, tensor<1x3x7x2xf32>, tensor<6xf32>) -> (
// REWRITTEN-COUNT-2: mp.attention {{.*}} -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
// REWRITTEN: mp.attention {{.*}} : (tensor<2x3x5x4xf32>, tensor<2x1x7x4xf32>, tensor<2x1x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
// REWRITTEN: mp.attention {{.*}} scale 3.000000e-01 causal window 3 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>)
// REWRITTEN: mp.attention {{.*}} scale 3.000000e-01 softcap 8.000000e-01 causal window 3 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>)
// REWRITTEN: %[[SLOPES:.+]] = mp.alibi_slopes max_bias 4.000000e+00
// REWRITTEN: mp.attention %{{.+}}, %{{.+}}, %{{.+}} alibi %[[SLOPES]] scale 3.000000e-01 causal window 3 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>, tensor<3xf32>)
// REWRITTEN: %[[FALCON:.+]] = mp.alibi_slopes max_bias 3.000000e+00
// REWRITTEN: mp.attention %{{.+}}, %{{.+}}, %{{.+}} alibi %[[FALCON]] bf16_bias scale 3.000000e-01 causal window 3 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>, tensor<3xf32>)
// REWRITTEN-NOT: mp.alibi {{.*}}bf16_bias

//--- grad.mlir
func.func @attn(%t: tensor<2x2x5x3xf32> {mp.target = "t"}, %t2: tensor<2x3x3xf32> {mp.target = "t2"},
                %q: tensor<2x2x5x4xf32> {mp.param = "q"}, %k: tensor<2x2x5x4xf32> {mp.param = "k"},
                %v: tensor<2x2x5x3xf32> {mp.param = "v"}, %k2: tensor<2x6x4xf32> {mp.param = "k2"},
                %v2: tensor<2x6x3xf32> {mp.param = "v2"}, %qs: tensor<2x3x4xf32> {mp.param = "q2"},
                %t4: tensor<2x4x5x2xf32> {mp.target = "t4"}, %qg: tensor<2x4x5x3xf32> {mp.param = "qg"},
                %kg: tensor<2x2x5x3xf32> {mp.param = "kg"}, %vg: tensor<2x2x5x2xf32> {mp.param = "vg"}) -> tensor<f32> {
  %o, %o_lse = mp.attention %q, %k, %v scale 0.7 causal chunk_bytes 160 : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x3xf32>) -> (tensor<2x2x5x3xf32>, tensor<2x2x5xf32>)
  %l1 = mp.mse_loss %o, %t : (tensor<2x2x5x3xf32>, tensor<2x2x5x3xf32>) -> tensor<f32>
  %o2, %o2_lse = mp.attention %qs, %k2, %v2 scale -1.3 causal : (tensor<2x3x4xf32>, tensor<2x6x4xf32>, tensor<2x6x3xf32>) -> (tensor<2x3x3xf32>, tensor<2x3xf32>)
  %l2 = mp.mse_loss %o2, %t2 : (tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<f32>
  %o3, %o3_lse = mp.attention %qs, %k2, %v2 scale 0.5 chunk_bytes 96 : (tensor<2x3x4xf32>, tensor<2x6x4xf32>, tensor<2x6x3xf32>) -> (tensor<2x3x3xf32>, tensor<2x3xf32>)
  %l3 = mp.mse_loss %o3, %t2 : (tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<f32>
  %og, %og_lse = mp.attention %qg, %kg, %vg scale 0.6 causal chunk_bytes 100 : (tensor<2x4x5x3xf32>, tensor<2x2x5x3xf32>, tensor<2x2x5x2xf32>) -> (tensor<2x4x5x2xf32>, tensor<2x4x5xf32>)
  %l4 = mp.mse_loss %og, %t4 : (tensor<2x4x5x2xf32>, tensor<2x4x5x2xf32>) -> tensor<f32>
  %ow, %ow_lse = mp.attention %q, %k, %v scale 0.9 causal window 2 chunk_bytes 160 : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x3xf32>) -> (tensor<2x2x5x3xf32>, tensor<2x2x5xf32>)
  %l5 = mp.mse_loss %ow, %t : (tensor<2x2x5x3xf32>, tensor<2x2x5x3xf32>) -> tensor<f32>
  %oc, %oc_lse = mp.attention %q, %k, %v scale 0.9 softcap 1.5 causal chunk_bytes 160 : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x3xf32>) -> (tensor<2x2x5x3xf32>, tensor<2x2x5xf32>)
  %l6 = mp.mse_loss %oc, %t : (tensor<2x2x5x3xf32>, tensor<2x2x5x3xf32>) -> tensor<f32>
  %slopes = mp.alibi_slopes max_bias 2.0 : tensor<2xf32>
  %oa, %oa_lse = mp.attention %q, %k, %v alibi %slopes scale 0.9 causal window 3 chunk_bytes 80 : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x3xf32>, tensor<2xf32>) -> (tensor<2x2x5x3xf32>, tensor<2x2x5xf32>)
  %l7 = mp.mse_loss %oa, %t : (tensor<2x2x5x3xf32>, tensor<2x2x5x3xf32>) -> tensor<f32>
  %falcon_slopes = mp.alibi_slopes max_bias 3.0 : tensor<2xf32>
  %of, %of_lse = mp.attention %q, %k, %v alibi %falcon_slopes bf16_bias scale 0.9 causal window 3 chunk_bytes 80 : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x3xf32>, tensor<2xf32>) -> (tensor<2x2x5x3xf32>, tensor<2x2x5xf32>)
  %l8 = mp.mse_loss %of, %t : (tensor<2x2x5x3xf32>, tensor<2x2x5x3xf32>) -> tensor<f32>
  %l12 = mp.add %l1, %l2 : tensor<f32>
  %l34 = mp.add %l3, %l4 : tensor<f32>
  %l56 = mp.add %l5, %l6 : tensor<f32>
  %l567 = mp.add %l56, %l7 : tensor<f32>
  %l5678 = mp.add %l567, %l8 : tensor<f32>
  %l1234 = mp.add %l12, %l34 : tensor<f32>
  %loss = mp.add %l1234, %l5678 : tensor<f32>
  return %loss : tensor<f32>
}

//--- fused.mlir
func.func @attention(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x7x4xf32>, %v: tensor<2x3x7x6xf32>, %k1: tensor<2x1x7x4xf32>, %v1: tensor<2x1x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>) {
  %o, %o_lse = mp.attention %q, %k, %v scale 0.3 causal chunk_bytes 336 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %b, %b_lse = mp.attention %q, %k, %v scale 0.3 precision <bf16> : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %g, %g_lse = mp.attention %q, %k1, %v1 scale 0.3 causal : (tensor<2x3x5x4xf32>, tensor<2x1x7x4xf32>, tensor<2x1x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %w, %w_lse = mp.attention %q, %k, %v scale 0.3 causal window 3 chunk_bytes 168 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %c, %c_lse = mp.attention %q, %k, %v scale 0.3 softcap 0.8 causal window 3 chunk_bytes 168 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %slopes = mp.alibi_slopes max_bias 4.0 : tensor<3xf32>
  %a, %a_lse = mp.attention %q, %k, %v alibi %slopes scale 0.3 causal window 3 chunk_bytes 96 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>, tensor<3xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %falcon_slopes = mp.alibi_slopes max_bias 3.0 : tensor<3xf32>
  %f, %f_lse = mp.attention %q, %k, %v alibi %falcon_slopes bf16_bias scale 0.3 causal window 3 chunk_bytes 96 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>, tensor<3xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  return %o, %b, %g, %w, %c, %a, %f : tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>
}

func.func @lse(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x7x4xf32>, %v: tensor<2x3x7x6xf32>) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  %o, %lse = mp.attention %q, %k, %v scale 0.3 causal chunk_bytes 336 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %b, %lseb = mp.attention %q, %k, %v scale 0.3 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  %slopes = mp.alibi_slopes : tensor<3xf32>
  %a, %lsea = mp.attention %q, %k, %v alibi %slopes scale 0.3 chunk_bytes 96 : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>, tensor<3xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5xf32>)
  return %lse, %lseb, %lsea : tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>
}

//--- unfused.mlir
func.func @attention(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x7x4xf32>, %v: tensor<2x3x7x6xf32>, %k1: tensor<2x1x7x4xf32>, %v1: tensor<2x1x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>) {
  %kt = mp.transpose %k perm [0, 1, 3, 2] : tensor<2x3x7x4xf32> -> tensor<2x3x4x7xf32>
  %s = mp.matmul %q, %kt : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %t = mp.scale %s by 0.3 : tensor<2x3x5x7xf32>
  %p = mp.softmax %t causal : tensor<2x3x5x7xf32>
  %o = mp.matmul %p, %v : (tensor<2x3x5x7xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  %sb = mp.matmul %q, %kt precision <bf16> : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %tb = mp.scale %sb by 0.3 : tensor<2x3x5x7xf32>
  %pb = mp.softmax %tb : tensor<2x3x5x7xf32>
  %b = mp.matmul %pb, %v precision <bf16> : (tensor<2x3x5x7xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  %kb = mp.broadcast %k1 dims [2] : tensor<2x1x7x4xf32> -> tensor<2x1x3x7x4xf32>
  %kr = mp.reshape %kb : tensor<2x1x3x7x4xf32> -> tensor<2x3x7x4xf32>
  %krt = mp.transpose %kr perm [0, 1, 3, 2] : tensor<2x3x7x4xf32> -> tensor<2x3x4x7xf32>
  %vb = mp.broadcast %v1 dims [2] : tensor<2x1x7x6xf32> -> tensor<2x1x3x7x6xf32>
  %vr = mp.reshape %vb : tensor<2x1x3x7x6xf32> -> tensor<2x3x7x6xf32>
  %sg = mp.matmul %q, %krt : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %tg = mp.scale %sg by 0.3 : tensor<2x3x5x7xf32>
  %pg = mp.softmax %tg causal : tensor<2x3x5x7xf32>
  %g = mp.matmul %pg, %vr : (tensor<2x3x5x7xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  %sw = mp.matmul %q, %kt : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %tw = mp.scale %sw by 0.3 : tensor<2x3x5x7xf32>
  %pw = mp.softmax %tw causal window 3 : tensor<2x3x5x7xf32>
  %w = mp.matmul %pw, %v : (tensor<2x3x5x7xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  %sc = mp.matmul %q, %kt : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %tc = mp.scale %sc by 0.3 : tensor<2x3x5x7xf32>
  %tc1 = mp.scale %tc by 1.25 : tensor<2x3x5x7xf32>
  %tc2 = mp.tanh %tc1 : tensor<2x3x5x7xf32>
  %tc3 = mp.scale %tc2 by 0.8 : tensor<2x3x5x7xf32>
  %pc = mp.softmax %tc3 causal window 3 : tensor<2x3x5x7xf32>
  %c = mp.matmul %pc, %v : (tensor<2x3x5x7xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  %slopes = mp.alibi_slopes max_bias 4.0 : tensor<3xf32>
  %sa = mp.matmul %q, %kt : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %ta = mp.scale %sa by 0.3 : tensor<2x3x5x7xf32>
  %ba = mp.alibi %ta, %slopes : tensor<2x3x5x7xf32>, tensor<3xf32>
  %pa = mp.softmax %ba causal window 3 : tensor<2x3x5x7xf32>
  %a = mp.matmul %pa, %v : (tensor<2x3x5x7xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  %falcon_slopes = mp.alibi_slopes max_bias 3.0 : tensor<3xf32>
  %sf = mp.matmul %q, %kt : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %bf = mp.alibi %sf, %falcon_slopes bf16_bias : tensor<2x3x5x7xf32>, tensor<3xf32>
  %tf = mp.scale %bf by 0.3 : tensor<2x3x5x7xf32>
  %pf = mp.softmax %tf causal window 3 : tensor<2x3x5x7xf32>
  %f = mp.matmul %pf, %v : (tensor<2x3x5x7xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  return %o, %b, %g, %w, %c, %a, %f : tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>
}

// Every row sees key 0, so p_0 = exp(t_0 - lse) gives the causal rows'.
func.func @lse(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x7x4xf32>, %v: tensor<2x3x7x6xf32>) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  %kt = mp.transpose %k perm [0, 1, 3, 2] : tensor<2x3x7x4xf32> -> tensor<2x3x4x7xf32>
  %s = mp.matmul %q, %kt : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  %t = mp.scale %s by 0.3 : tensor<2x3x5x7xf32>
  %p = mp.softmax %t causal : tensor<2x3x5x7xf32>
  %first = arith.constant dense<0> : tensor<2x3x5xi64>
  %t0 = mp.gather_last %t, %first : (tensor<2x3x5x7xf32>, tensor<2x3x5xi64>) -> tensor<2x3x5xf32>
  %p0 = mp.gather_last %p, %first : (tensor<2x3x5x7xf32>, tensor<2x3x5xi64>) -> tensor<2x3x5xf32>
  %logp0 = mp.log %p0 : tensor<2x3x5xf32>
  %lse = mp.sub %t0, %logp0 : tensor<2x3x5xf32>
  %e = mp.exp %t : tensor<2x3x5x7xf32>
  %sum = mp.sum %e dims [3] : tensor<2x3x5x7xf32> -> tensor<2x3x5xf32>
  %lseb = mp.log %sum : tensor<2x3x5xf32>
  %slopes = mp.alibi_slopes : tensor<3xf32>
  %ta = mp.alibi %t, %slopes : tensor<2x3x5x7xf32>, tensor<3xf32>
  %ea = mp.exp %ta : tensor<2x3x5x7xf32>
  %suma = mp.sum %ea dims [3] : tensor<2x3x5x7xf32> -> tensor<2x3x5xf32>
  %lsea = mp.log %suma : tensor<2x3x5xf32>
  return %lse, %lseb, %lsea : tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>
}

//--- partition.mlir
mp.mesh @mesh = <a = 2, b = 2>
func.func @attn(%t: tensor<2x6x5x2xf32> {mp.target = "t"},
                %q: tensor<2x6x5x3xf32> {mp.param = "q", mp.sharding = #mp.sharding<@mesh, [[], [], [a], []]>},
                %k: tensor<2x3x7x3xf32> {mp.param = "k", mp.sharding = #mp.sharding<@mesh, [[a], [b], [], []]>},
                %v: tensor<2x3x7x2xf32> {mp.param = "v", mp.sharding = #mp.sharding<@mesh, [[], [b], [], []]>},
                %q2: tensor<2x6x5x3xf32> {mp.param = "q2", mp.sharding = #mp.sharding<@mesh, [[b], [a], [], []]>}) -> tensor<f32> {
  %o, %o_lse = mp.attention %q, %k, %v scale 0.7 chunk_bytes 100 : (tensor<2x6x5x3xf32>, tensor<2x3x7x3xf32>, tensor<2x3x7x2xf32>) -> (tensor<2x6x5x2xf32>, tensor<2x6x5xf32>)
  %o2, %o2_lse = mp.attention %q2, %k, %v scale 0.4 softcap 1.2 causal chunk_bytes 100 : (tensor<2x6x5x3xf32>, tensor<2x3x7x3xf32>, tensor<2x3x7x2xf32>) -> (tensor<2x6x5x2xf32>, tensor<2x6x5xf32>)
  %o3, %o3_lse = mp.attention %q2, %k, %v scale 0.6 causal window 2 chunk_bytes 100 : (tensor<2x6x5x3xf32>, tensor<2x3x7x3xf32>, tensor<2x3x7x2xf32>) -> (tensor<2x6x5x2xf32>, tensor<2x6x5xf32>)
  %slopes = mp.alibi_slopes : tensor<6xf32>
  %o4, %o4_lse = mp.attention %q2, %k, %v alibi %slopes scale 0.5 causal chunk_bytes 100 : (tensor<2x6x5x3xf32>, tensor<2x3x7x3xf32>, tensor<2x3x7x2xf32>, tensor<6xf32>) -> (tensor<2x6x5x2xf32>, tensor<2x6x5xf32>)
  %o5, %o5_lse = mp.attention %q2, %k, %v alibi %slopes bf16_bias scale 0.5 causal chunk_bytes 100 : (tensor<2x6x5x3xf32>, tensor<2x3x7x3xf32>, tensor<2x3x7x2xf32>, tensor<6xf32>) -> (tensor<2x6x5x2xf32>, tensor<2x6x5xf32>)
  %s2 = mp.add %o, %o2 : tensor<2x6x5x2xf32>
  %s3 = mp.add %s2, %o3 : tensor<2x6x5x2xf32>
  %s4 = mp.add %s3, %o4 : tensor<2x6x5x2xf32>
  %s = mp.add %s4, %o5 : tensor<2x6x5x2xf32>
  %l = mp.mse_loss %s, %t : (tensor<2x6x5x2xf32>, tensor<2x6x5x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
