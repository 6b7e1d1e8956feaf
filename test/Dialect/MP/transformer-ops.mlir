// RUN: mp-opt %s | FileCheck %s
// RUN: mp-opt %s | mp-opt | FileCheck %s
// RUN: mp-opt %s --mlir-print-op-generic | mp-opt | FileCheck %s

mp.mesh @mesh = <dp = 2, tp = 2>

// CHECK-LABEL: func.func @forward
func.func @forward(%ids: tensor<2x6xi64>, %table: tensor<32x16xf32>,
                   %w: tensor<16xf32>, %q: tensor<2x6x4x4xf32>,
                   %s: tensor<2x4x6x6xf32>, %b: tensor<16xf32>) {
  // CHECK-NEXT: mp.embedding %arg0, %arg1 : (tensor<2x6xi64>, tensor<32x16xf32>) -> tensor<2x6x16xf32>
  %h = mp.embedding %ids, %table : (tensor<2x6xi64>, tensor<32x16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.embedding %arg0, %arg1 padding_idx 31 : (tensor<2x6xi64>, tensor<32x16xf32>) -> tensor<2x6x16xf32>
  %padded = mp.embedding %ids, %table padding_idx 31 : (tensor<2x6xi64>, tensor<32x16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.iota dim 1 : tensor<2x6xi64>
  %positions = mp.iota dim 1 : tensor<2x6xi64>
  // CHECK-NEXT: mp.iota dim 1 start 2 : tensor<2x6xi64>
  %opt_positions = mp.iota dim 1 start 2 : tensor<2x6xi64>
  // The last starts whose entries fit: INT32_MAX for one entry, INT64_MAX
  // - 15 for 16.
  // CHECK-NEXT: mp.iota dim 0 start 2147483647 : tensor<1xi32>
  %last_i32 = mp.iota dim 0 start 2147483647 : tensor<1xi32>
  // CHECK-NEXT: mp.iota dim 1 start 9223372036854775792 : tensor<2x16xi64>
  %last_i64 = mp.iota dim 1 start 9223372036854775792 : tensor<2x16xi64>
  // CHECK-NEXT: mp.rms_norm %{{.*}}, %arg2 eps 1.000000e-05 : (tensor<2x6x16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  %n = mp.rms_norm %h, %w eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.rms_norm %{{.*}}, %arg2 eps 1.000000e-05 weight_offset 1.000000e+00 : (tensor<2x6x16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  %gemma = mp.rms_norm %h, %w eps 1.0e-5 weight_offset 1.0 : (tensor<2x6x16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.layer_norm %{{.*}}, %arg2, %arg5 eps 1.000000e-05 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  %ln = mp.layer_norm %h, %w, %b eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.rope %arg3 theta 1.000000e+04 : tensor<2x6x4x4xf32>
  %r = mp.rope %q theta 1.0e4 : tensor<2x6x4x4xf32>
  // CHECK-NEXT: mp.rope %arg3 theta 5.000000e+05 inverse : tensor<2x6x4x4xf32>
  %ri = mp.rope %q theta 5.0e5 inverse : tensor<2x6x4x4xf32>
  // CHECK-NEXT: mp.rope %arg3 theta 5.000000e+05 llama3_scaling [8.000000e+00, 1.000000e+00, 4.000000e+00, 8.192000e+03] inverse : tensor<2x6x4x4xf32>
  %rs = mp.rope %q theta 5.0e5 llama3_scaling [8.0, 1.0, 4.0, 8192.0] inverse : tensor<2x6x4x4xf32>
  // CHECK-NEXT: mp.rope %arg3 theta 1.000000e+06 linear_scaling 8.000000e+00 inverse : tensor<2x6x4x4xf32>
  %rl = mp.rope %q theta 1.0e6 linear_scaling 8.0 inverse : tensor<2x6x4x4xf32>
  // CHECK-NEXT: mp.rope %arg3 theta 1.000000e+06 : tensor<2x6x4x4xf32>
  %rd = mp.rope %q theta 1.0e6 linear_scaling 1.0 : tensor<2x6x4x4xf32>
  // CHECK-NEXT: mp.rope %arg3 theta 1.000000e+04 rotary_dims 2 longrope_factors [1.500000e+00] attention_factor 1.190000e+00 inverse : tensor<2x6x4x4xf32>
  %rp = mp.rope %q theta 1.0e4 rotary_dims 2 longrope_factors [1.5] attention_factor 1.19 inverse : tensor<2x6x4x4xf32>
  // CHECK-NEXT: mp.rope %arg3 theta 1.000000e+04 longrope_factors [1.000000e+00, 3.000000e+00] : tensor<2x6x4x4xf32>
  %rf = mp.rope %q theta 1.0e4 longrope_factors [1.0, 3.0] attention_factor 1.0 : tensor<2x6x4x4xf32>
  // Every digit survives the round trips (YaRN's divisors; a Llama 3.1
  // factor that is not a short decimal).
  // CHECK-NEXT: mp.rope %arg3 theta 1.000000e+02 llama3_scaling [8.0000000000000018, 1.000000e+00, 4.000000e+00, 8.192000e+03] longrope_factors [1.2307692307692308, 2.2857142857142856] : tensor<2x6x4x4xf32>
  %ry = mp.rope %q theta 1.0e2 llama3_scaling [8.0000000000000018, 1.0, 4.0, 8192.0] longrope_factors [1.2307692307692308, 2.2857142857142856] : tensor<2x6x4x4xf32>
  // CHECK-NEXT: mp.softmax %arg4 causal : tensor<2x4x6x6xf32>
  %p = mp.softmax %s causal : tensor<2x4x6x6xf32>
  // CHECK-NEXT: mp.softmax %arg4 : tensor<2x4x6x6xf32>
  %p2 = mp.softmax %s : tensor<2x4x6x6xf32>
  // CHECK-NEXT: mp.softmax %arg4 causal window 4 : tensor<2x4x6x6xf32>
  %p3 = mp.softmax %s causal window 4 : tensor<2x4x6x6xf32>
  return
}

// CHECK-LABEL: func.func @backward
func.func @backward(%ids: tensor<2x6xi64>, %g: tensor<2x6x16xf32>,
                    %x: tensor<2x6x16xf32>, %w: tensor<16xf32>,
                    %p: tensor<2x4x6x6xf32>, %gp: tensor<2x4x6x6xf32>,
                    %table: tensor<32x16xf32>) {
  // CHECK-NEXT: mp.embedding_grad %arg0, %arg1 like %arg6 : (tensor<2x6xi64>, tensor<2x6x16xf32>, tensor<32x16xf32>) -> tensor<32x16xf32>
  %dt = mp.embedding_grad %ids, %g like %table : (tensor<2x6xi64>, tensor<2x6x16xf32>, tensor<32x16xf32>) -> tensor<32x16xf32>
  // CHECK-NEXT: mp.rms_norm_grad %arg2, %arg3, %arg1 eps 1.000000e-05 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  %dx = mp.rms_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.rms_norm_grad %arg2, %arg3, %arg1 eps 1.000000e-05 weight_offset 1.000000e+00 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  %gemma_dx = mp.rms_norm_grad %x, %w, %g eps 1.0e-5 weight_offset 1.0 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.rms_norm_weight_grad %arg2, %arg1 eps 1.000000e-05 : (tensor<2x6x16xf32>, tensor<2x6x16xf32>) -> tensor<16xf32>
  %dw = mp.rms_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<2x6x16xf32>) -> tensor<16xf32>
  // CHECK-NEXT: mp.layer_norm_grad %arg2, %arg3, %arg1 eps 1.000000e-05 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  %ldx = mp.layer_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  // CHECK-NEXT: mp.layer_norm_weight_grad %arg2, %arg1 eps 1.000000e-05 : (tensor<2x6x16xf32>, tensor<2x6x16xf32>) -> (tensor<16xf32>, tensor<16xf32>)
  %ldw, %ldb = mp.layer_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<2x6x16xf32>) -> (tensor<16xf32>, tensor<16xf32>)
  // CHECK-NEXT: mp.softmax_grad %arg4, %arg5 : tensor<2x4x6x6xf32>
  %ds = mp.softmax_grad %p, %gp : tensor<2x4x6x6xf32>
  return
}

// CHECK-LABEL: func.func @localize
func.func @localize(%ids: tensor<2x6xi64>) {
  // CHECK-NEXT: mp.localize_index %arg0 on @mesh axes ["tp"] extent 32 : tensor<2x6xi64>
  %l = mp.localize_index %ids on @mesh axes ["tp"] extent 32 : tensor<2x6xi64>
  return
}

// CHECK-LABEL: func.func @mask_bias
func.func @mask_bias(%mask: tensor<6x6xi64>) {
  // CHECK-NEXT: mp.mask_bias %arg0 fill 0xFFF0000000000000 : tensor<6x6xi64> -> tensor<6x6xf32>
  %b = mp.mask_bias %mask fill 0xFFF0000000000000 : tensor<6x6xi64> -> tensor<6x6xf32>
  return
}

// CHECK-LABEL: func.func @alibi
func.func @alibi(%scores: tensor<2x6x5x5xf32>) {
  // CHECK-NEXT: %[[S:.*]] = mp.alibi_slopes : tensor<6xf32>
  %s = mp.alibi_slopes : tensor<6xf32>
  // CHECK-NEXT: mp.alibi_slopes max_bias 1.600000e+01 : tensor<6xf32>
  %m = mp.alibi_slopes max_bias 16.0 : tensor<6xf32>
  // CHECK-NEXT: mp.alibi %arg0, %[[S]] : tensor<2x6x5x5xf32>, tensor<6xf32>
  %b = mp.alibi %scores, %s : tensor<2x6x5x5xf32>, tensor<6xf32>
  // CHECK-NEXT: mp.alibi %arg0, %[[S]] bf16_bias : tensor<2x6x5x5xf32>, tensor<6xf32>
  %f = mp.alibi %scores, %s bf16_bias : tensor<2x6x5x5xf32>, tensor<6xf32>
  return
}

// CHECK-LABEL: func.func @loss_pieces
func.func @loss_pieces(%x: tensor<2x6x8xf32>, %t: tensor<2x6xi64>, %g: tensor<2x6xf32>) {
  // CHECK-NEXT: mp.block_max %arg0 : tensor<2x6x8xf32> -> tensor<2x6x4xf32>
  %b = mp.block_max %x : tensor<2x6x8xf32> -> tensor<2x6x4xf32>
  // CHECK-NEXT: mp.gather_last %arg0, %arg1 : (tensor<2x6x8xf32>, tensor<2x6xi64>) -> tensor<2x6xf32>
  %p = mp.gather_last %x, %t : (tensor<2x6x8xf32>, tensor<2x6xi64>) -> tensor<2x6xf32>
  // CHECK-NEXT: mp.scatter_last %arg1, %arg2 like %arg0 : (tensor<2x6xi64>, tensor<2x6xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %s = mp.scatter_last %t, %g like %x : (tensor<2x6xi64>, tensor<2x6xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  // CHECK-NEXT: mp.log %arg2 : tensor<2x6xf32>
  %l = mp.log %g : tensor<2x6xf32>
  return
}


// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<2x4x6x8xf32>, %k: tensor<2x4x10x8xf32>,
                     %v: tensor<2x4x10x3xf32>, %g: tensor<2x4x6x3xf32>,
                     %kg: tensor<2x2x10x8xf32>, %vg: tensor<2x2x10x3xf32>) {
  // CHECK-NEXT: %[[O:[a-z_0-9]+]], %[[LSE:[a-z_0-9]+]] = mp.attention %arg0, %arg1, %arg2 scale 2.500000e-01 causal chunk_bytes 4096 precision <bf16> : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  %o, %o_lse = mp.attention %q, %k, %v scale 0.25 causal chunk_bytes 4096 precision <bf16> : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  // CHECK-NEXT: mp.attention %arg0, %arg1, %arg2 scale 1.000000e+00 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  %o2, %o2_lse = mp.attention %q, %k, %v scale 1.0 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  // CHECK-NEXT: mp.attention_grad %arg0, %arg1, %arg2, %[[O]], %[[LSE]], %arg3 scale 5.000000e-01 causal chunk_bytes 2048 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %o_lse, %g scale 0.5 causal chunk_bytes 2048 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  // ALiBi's slopes, one per head, follow the value.
  // CHECK-NEXT: %[[SLOPES:.+]] = mp.alibi_slopes
  // CHECK-NEXT: %[[AO:[a-z_0-9]+]], %[[ALSE:[a-z_0-9]+]] = mp.attention %arg0, %arg1, %arg2 alibi %[[SLOPES]] scale 2.500000e-01 causal : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<4xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  // CHECK-NEXT: mp.attention_grad %arg0, %arg1, %arg2, %[[AO]], %[[ALSE]], %arg3 alibi %[[SLOPES]] scale 2.500000e-01 causal : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>, tensor<4xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %a, %a_lse = mp.attention %q, %k, %v alibi %slopes scale 0.25 causal : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<4xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  %aq, %ak, %av = mp.attention_grad %q, %k, %v, %a, %a_lse, %g alibi %slopes scale 0.25 causal : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>, tensor<4xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  // CHECK-NEXT: %[[FO:[a-z_0-9]+]], %[[FLSE:[a-z_0-9]+]] = mp.attention %arg0, %arg1, %arg2 alibi %[[SLOPES]] bf16_bias scale 2.500000e-01 causal :
  // CHECK-NEXT: mp.attention_grad %arg0, %arg1, %arg2, %[[FO]], %[[FLSE]], %arg3 alibi %[[SLOPES]] bf16_bias scale 2.500000e-01 causal :
  %f, %f_lse = mp.attention %q, %k, %v alibi %slopes bf16_bias scale 0.25 causal : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<4xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  %fq, %fk, %fv = mp.attention_grad %q, %k, %v, %f, %f_lse, %g alibi %slopes bf16_bias scale 0.25 causal : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>, tensor<4xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  // Sliding window attention: the window follows causal.
  // CHECK-NEXT: %[[WO:[a-z_0-9]+]], %[[WLSE:[a-z_0-9]+]] = mp.attention %arg0, %arg1, %arg2 scale 2.500000e-01 causal window 3 chunk_bytes 4096 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  %w, %w_lse = mp.attention %q, %k, %v scale 0.25 causal window 3 chunk_bytes 4096 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  // CHECK-NEXT: mp.attention_grad %arg0, %arg1, %arg2, %[[WO]], %[[WLSE]], %arg3 scale 2.500000e-01 causal window 3 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  %wq, %wk, %wv = mp.attention_grad %q, %k, %v, %w, %w_lse, %g scale 0.25 causal window 3 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  // Gemma 2's soft-capped scores: the cap follows the scale.
  // CHECK-NEXT: %[[CO:[a-z_0-9]+]], %[[CLSE:[a-z_0-9]+]] = mp.attention %arg0, %arg1, %arg2 scale 2.500000e-01 softcap 5.000000e+01 causal window 3 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  %c, %c_lse = mp.attention %q, %k, %v scale 0.25 softcap 50.0 causal window 3 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  // CHECK-NEXT: mp.attention_grad %arg0, %arg1, %arg2, %[[CO]], %[[CLSE]], %arg3 scale 2.500000e-01 softcap 5.000000e+01 causal window 3 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  %cq, %ck, %cv = mp.attention_grad %q, %k, %v, %c, %c_lse, %g scale 0.25 softcap 50.0 causal window 3 : (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>, tensor<2x4x6x3xf32>, tensor<2x4x6xf32>, tensor<2x4x6x3xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x10x8xf32>, tensor<2x4x10x3xf32>)
  // Grouped-query attention: 2 key and value heads for 4 query heads.
  // CHECK-NEXT: mp.attention %arg0, %arg4, %arg5 scale 1.000000e+00 causal : (tensor<2x4x6x8xf32>, tensor<2x2x10x8xf32>, tensor<2x2x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  %og, %og_lse = mp.attention %q, %kg, %vg scale 1.0 causal : (tensor<2x4x6x8xf32>, tensor<2x2x10x8xf32>, tensor<2x2x10x3xf32>) -> (tensor<2x4x6x3xf32>, tensor<2x4x6xf32>)
  return
}

// In bf16 precision q, k, v and the output may be held in bfloat16 beside
// float32 ones; the gradient's grad and gradients are float32.
// CHECK-LABEL: func.func @attention_bf16_storage
func.func @attention_bf16_storage(%q: tensor<2x6x8xbf16>, %k: tensor<2x10x8xbf16>,
                                  %v: tensor<2x10x3xf32>, %g: tensor<2x6x3xf32>) {
  // CHECK-NEXT: %[[O:[a-z_0-9]+]], %[[LSE:[a-z_0-9]+]] = mp.attention %arg0, %arg1, %arg2 scale 1.000000e+00 causal precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x10x8xbf16>, tensor<2x10x3xf32>) -> (tensor<2x6x3xbf16>, tensor<2x6xf32>)
  %o, %lse = mp.attention %q, %k, %v scale 1.0 causal precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x10x8xbf16>, tensor<2x10x3xf32>) -> (tensor<2x6x3xbf16>, tensor<2x6xf32>)
  // CHECK-NEXT: mp.attention_grad %arg0, %arg1, %arg2, %[[O]], %[[LSE]], %arg3 scale 1.000000e+00 causal precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x10x8xbf16>, tensor<2x10x3xf32>, tensor<2x6x3xbf16>, tensor<2x6xf32>, tensor<2x6x3xf32>) -> (tensor<2x6x8xf32>, tensor<2x10x8xf32>, tensor<2x10x3xf32>)
  %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 1.0 causal precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x10x8xbf16>, tensor<2x10x3xf32>, tensor<2x6x3xbf16>, tensor<2x6xf32>, tensor<2x6x3xf32>) -> (tensor<2x6x8xf32>, tensor<2x10x8xf32>, tensor<2x10x3xf32>)
  return
}
