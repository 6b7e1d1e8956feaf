// RUN: mp-opt %s -split-input-file -verify-diagnostics

func.func @embedding_table_rank(%ids: tensor<2x6xi64>, %t: tensor<32xf32>) {
  // expected-error@+2 {{mp.embedding table 'tensor<32xf32>' must be [vocab, dim]}}
  // expected-error@+1 {{'mp.embedding' op failed to infer returned types}}
  %0 = mp.embedding %ids, %t : (tensor<2x6xi64>, tensor<32xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

func.func @embedding_float_ids(%ids: tensor<2x6xf32>, %t: tensor<32x16xf32>) {
  // expected-error@+1 {{operand #0 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = mp.embedding %ids, %t : (tensor<2x6xf32>, tensor<32x16xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

func.func @embedding_padding_idx_past_vocab(%ids: tensor<2x6xi64>, %t: tensor<32x16xf32>) {
  // expected-error@+1 {{'mp.embedding' op padding_idx 32 is not a row of the table: it must be in [0, 32)}}
  %0 = mp.embedding %ids, %t padding_idx 32 : (tensor<2x6xi64>, tensor<32x16xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

func.func @embedding_padding_idx_negative(%ids: tensor<2x6xi64>, %t: tensor<32x16xf32>) {
  // expected-error@+1 {{'mp.embedding' op padding_idx -1 is not a row of the table: it must be in [0, 32)}}
  %0 = mp.embedding %ids, %t padding_idx -1 : (tensor<2x6xi64>, tensor<32x16xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<2x6x16xf32>, %w: tensor<8xf32>) {
  // expected-error@+1 {{'mp.rms_norm' op weight 'tensor<8xf32>' must be [16] of the input's element type}}
  %0 = mp.rms_norm %x, %w eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<8xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

func.func @rms_norm_eps(%x: tensor<2x16xf32>, %w: tensor<16xf32>) {
  // expected-error@+1 {{'mp.rms_norm' op eps must be non-negative, got -1}}
  %0 = mp.rms_norm %x, %w eps -1.0 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return
}

// -----

// An infinite offset (the f64 bits of +inf).
func.func @rms_norm_weight_offset(%x: tensor<2x16xf32>, %w: tensor<16xf32>) {
  // expected-error@+1 {{'mp.rms_norm' op weight_offset must be finite, got INF}}
  %0 = mp.rms_norm %x, %w eps 1.0e-5 weight_offset 0x7FF0000000000000 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @rms_norm_grad_weight_offset(%x: tensor<2x16xf32>, %w: tensor<16xf32>) {
  // expected-error@+1 {{'mp.rms_norm_grad' op weight_offset must be finite, got nan}}
  %0 = mp.rms_norm_grad %x, %w, %x eps 1.0e-5 weight_offset 0x7FF8000000000000 : (tensor<2x16xf32>, tensor<16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @rms_norm_rank0(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error@+1 {{'mp.rms_norm' op input needs a dim to normalize}}
  %0 = mp.rms_norm %x, %w eps 1.0e-5 : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<2x6x16xf32>, %w: tensor<8xf32>, %b: tensor<16xf32>) {
  // expected-error@+1 {{'mp.layer_norm' op weight 'tensor<8xf32>' must be [16] of the input's element type}}
  %0 = mp.layer_norm %x, %w, %b eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<8xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x6x16xf32>, %w: tensor<16xf32>, %b: tensor<6xf32>) {
  // expected-error@+1 {{'mp.layer_norm' op bias 'tensor<6xf32>' must be [16] of the input's element type}}
  %0 = mp.layer_norm %x, %w, %b eps 1.0e-5 : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<6xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

func.func @layer_norm_bias_type(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf64>) {
  // expected-error@+1 {{'mp.layer_norm' op bias 'tensor<16xf64>' must be [16] of the input's element type}}
  %0 = mp.layer_norm %x, %w, %b eps 1.0e-5 : (tensor<2x16xf32>, tensor<16xf32>, tensor<16xf64>) -> tensor<2x16xf32>
  return
}

// -----

func.func @layer_norm_eps(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error@+1 {{'mp.layer_norm' op eps must be non-negative, got -1}}
  %0 = mp.layer_norm %x, %w, %b eps -1.0 : (tensor<2x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @layer_norm_rank0(%x: tensor<f32>, %w: tensor<1xf32>, %b: tensor<1xf32>) {
  // expected-error@+1 {{'mp.layer_norm' op input needs a dim to normalize}}
  %0 = mp.layer_norm %x, %w, %b eps 1.0e-5 : (tensor<f32>, tensor<1xf32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @layer_norm_result(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error@+2 {{'mp.layer_norm' op inferred type(s) 'tensor<2x16xf32>' are incompatible with return type(s) of operation 'tensor<16xf32>'}}
  // expected-error@+1 {{'mp.layer_norm' op failed to infer returned types}}
  %0 = mp.layer_norm %x, %w, %b eps 1.0e-5 : (tensor<2x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @causal_rank(%x: tensor<6xf32>) {
  // expected-error@+1 {{'mp.softmax' op causal softmax needs [..., q, k], got rank 1}}
  %0 = mp.softmax %x causal : tensor<6xf32>
  return
}

// -----

func.func @window_without_causal(%x: tensor<4x4xf32>) {
  // expected-error@+1 {{'mp.softmax' op a window needs causal}}
  %0 = mp.softmax %x window 2 : tensor<4x4xf32>
  return
}

// -----

func.func @window_not_positive(%x: tensor<4x4xf32>) {
  // expected-error@+1 {{'mp.softmax' op window must be positive, got 0}}
  %0 = mp.softmax %x causal window 0 : tensor<4x4xf32>
  return
}

// -----

func.func @attention_window_without_causal(%q: tensor<2x4x4xf32>) {
  // expected-error@+1 {{'mp.attention' op a window needs causal}}
  %0:2 = mp.attention %q, %q, %q scale 1.0 window 2 : (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @attention_grad_window_not_positive(%q: tensor<2x4x4xf32>, %lse: tensor<2x4xf32>) {
  // expected-error@+1 {{'mp.attention_grad' op window must be positive, got -1}}
  %0:3 = mp.attention_grad %q, %q, %q, %q, %lse, %q scale 1.0 causal window -1 : (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4xf32>, tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

func.func @attention_softcap_not_positive(%q: tensor<2x4x4xf32>) {
  // expected-error@+1 {{'mp.attention' op softcap 0.000000e+00 is not a positive, finite float32}}
  %0:2 = mp.attention %q, %q, %q scale 1.0 softcap 0.0 causal : (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @attention_grad_softcap_past_float32(%q: tensor<2x4x4xf32>, %lse: tensor<2x4xf32>) {
  // expected-error@+1 {{'mp.attention_grad' op softcap 1.000000e+40 is not a positive, finite float32}}
  %0:3 = mp.attention_grad %q, %q, %q, %q, %lse, %q scale 1.0 softcap 1.0e40 : (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4xf32>, tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

func.func @attention_softcap_negative(%q: tensor<2x4x4xf32>) {
  // expected-error@+1 {{'mp.attention' op softcap -2.000000e+00 is not a positive, finite float32}}
  %0:2 = mp.attention %q, %q, %q scale 1.0 softcap -2.0 : (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @attention_alibi_not_per_head(%q: tensor<2x3x4x4xf32>, %slopes: tensor<2xf32>) {
  // expected-error@+1 {{'mp.attention' op alibi slopes 'tensor<2xf32>' must be one per head of the query 'tensor<2x3x4x4xf32>' (its dim before the sequence)}}
  %0:2 = mp.attention %q, %q, %q alibi %slopes scale 1.0 causal : (tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>, tensor<2xf32>) -> (tensor<2x3x4x4xf32>, tensor<2x3x4xf32>)
  return
}

// -----

func.func @attention_alibi_without_heads(%q: tensor<4x4xf32>, %slopes: tensor<4xf32>) {
  // expected-error@+1 {{'mp.attention' op alibi slopes 'tensor<4xf32>' must be one per head of the query 'tensor<4x4xf32>' (its dim before the sequence)}}
  %0:2 = mp.attention %q, %q, %q alibi %slopes scale 1.0 : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @attention_grad_alibi_and_softcap(%q: tensor<2x4x4xf32>, %lse: tensor<2x4xf32>, %slopes: tensor<2xf32>) {
  // expected-error@+1 {{'mp.attention_grad' op takes alibi slopes or a softcap, not both}}
  %0:3 = mp.attention_grad %q, %q, %q, %q, %lse, %q alibi %slopes scale 1.0 softcap 30.0 causal : (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4xf32>, tensor<2x4x4xf32>, tensor<2xf32>) -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

func.func @attention_bf16_bias_without_slopes(%q: tensor<2x4x4xf32>) {
  // expected-error@+1 {{'mp.attention' op bf16_bias is a form of alibi slopes it has none of}}
  %0:2 = mp.attention %q, %q, %q bf16_bias scale 1.0 causal : (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @softmax_rank0(%x: tensor<f32>) {
  // expected-error@+1 {{'mp.softmax' op softmax needs a dim, got rank 0}}
  %0 = mp.softmax %x : tensor<f32>
  return
}

// -----

func.func @rope_rank(%x: tensor<6x8xf32>) {
  // expected-error@+1 {{'mp.rope' op input must be [..., seq, heads, head_dim], got rank 2}}
  %0 = mp.rope %x theta 1.0e4 : tensor<6x8xf32>
  return
}

// -----

func.func @rope_odd_head_dim(%x: tensor<6x2x5xf32>) {
  // expected-error@+1 {{'mp.rope' op head_dim 5 must be even: its entries pair into rotations}}
  %0 = mp.rope %x theta 1.0e4 : tensor<6x2x5xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op theta must be positive, got 0}}
  %0 = mp.rope %x theta 0.0 : tensor<6x2x4xf32>
  return
}

// -----

func.func @rope_scaling_size(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op llama3_scaling must hold 4 values [factor, low_freq_factor, high_freq_factor, original_context], got 3}}
  %0 = mp.rope %x theta 1.0e4 llama3_scaling [8.0, 1.0, 4.0] : tensor<6x2x4xf32>
  return
}

// -----

func.func @rope_scaling_infinite(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op llama3_scaling: every value must be finite}}
  %0 = mp.rope %x theta 1.0e4 llama3_scaling [8.0, 1.0, 4.0, 0x7FF0000000000000] : tensor<6x2x4xf32>
  return
}

// -----

func.func @rope_scaling_factor(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op llama3_scaling: factor, low_freq_factor and original_context must be positive}}
  %0 = mp.rope %x theta 1.0e4 llama3_scaling [0.0, 1.0, 4.0, 8192.0] : tensor<6x2x4xf32>
  return
}

// -----

func.func @rope_scaling_bands(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op llama3_scaling: high_freq_factor must be above low_freq_factor}}
  %0 = mp.rope %x theta 1.0e4 llama3_scaling [8.0, 4.0, 4.0, 8192.0] : tensor<6x2x4xf32>
  return
}

// -----

func.func @rope_linear_scaling(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op linear_scaling must be positive and finite (rotary_dims 4 of head_dim 4, linear_scaling 0, attention_factor 1)}}
  %0 = mp.rope %x theta 1.0e4 linear_scaling 0.0 : tensor<6x2x4xf32>
  return
}

// -----

func.func @rope_linear_scaling_infinite(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op linear_scaling must be positive and finite (rotary_dims 4 of head_dim 4, linear_scaling inf, attention_factor 1)}}
  %0 = mp.rope %x theta 1.0e4 linear_scaling 0x7FF0000000000000 : tensor<6x2x4xf32>
  return
}

// -----

func.func @rope_rotary_dims_odd(%x: tensor<6x2x8xf32>) {
  // expected-error@+1 {{'mp.rope' op rotary_dims must be even, positive and at most head_dim (rotary_dims 5 of head_dim 8, linear_scaling 1, attention_factor 1)}}
  %0 = mp.rope %x theta 1.0e4 rotary_dims 5 : tensor<6x2x8xf32>
  return
}

// -----

func.func @rope_rotary_dims_past_head(%x: tensor<6x2x8xf32>) {
  // expected-error@+1 {{'mp.rope' op rotary_dims must be even, positive and at most head_dim (rotary_dims 10 of head_dim 8,}}
  %0 = mp.rope %x theta 1.0e4 rotary_dims 10 : tensor<6x2x8xf32>
  return
}

// -----

func.func @rope_rotary_dims_zero(%x: tensor<6x2x8xf32>) {
  // expected-error@+1 {{'mp.rope' op rotary_dims must be even, positive and at most head_dim (rotary_dims 0 of head_dim 8,}}
  %0 = mp.rope %x theta 1.0e4 rotary_dims 0 : tensor<6x2x8xf32>
  return
}

// -----

func.func @rope_longrope_count(%x: tensor<6x2x8xf32>) {
  // expected-error@+1 {{'mp.rope' op longrope_factors must hold one factor per rotated pair (3), got 4}}
  %0 = mp.rope %x theta 1.0e4 rotary_dims 6 longrope_factors [1.0, 2.0, 3.0, 4.0] : tensor<6x2x8xf32>
  return
}

// -----

func.func @rope_longrope_factor(%x: tensor<6x2x8xf32>) {
  // expected-error@+1 {{'mp.rope' op longrope_factors must be positive and finite (rotary_dims 8 of head_dim 8, linear_scaling 1, attention_factor 1)}}
  %0 = mp.rope %x theta 1.0e4 longrope_factors [1.0, 2.0, -3.0, 4.0] : tensor<6x2x8xf32>
  return
}

// -----

func.func @rope_longrope_pairs(%x: tensor<1x1x514xf32>) {
  // expected-error@+1 {{'mp.rope' op longrope_factors: more than MP_ROPE_MAX_LONGROPE_FACTORS (256) pairs (rotary_dims 514 of head_dim 514,}}
  %0 = mp.rope %x theta 1.0e4 longrope_factors [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] : tensor<1x1x514xf32>
  return
}

// -----

func.func @rope_attention_factor(%x: tensor<6x2x4xf32>) {
  // expected-error@+1 {{'mp.rope' op attention_factor must be positive and finite (rotary_dims 4 of head_dim 4, linear_scaling 1, attention_factor 0)}}
  %0 = mp.rope %x theta 1.0e4 attention_factor 0.0 : tensor<6x2x4xf32>
  return
}

// -----

func.func @embedding_grad_shape(%ids: tensor<2x6xi64>, %g: tensor<2x5x16xf32>, %t: tensor<32x16xf32>) {
  // expected-error@+1 {{'mp.embedding_grad' op grad 'tensor<2x5x16xf32>' must be the ids' shape plus a last dim}}
  %0 = mp.embedding_grad %ids, %g like %t : (tensor<2x6xi64>, tensor<2x5x16xf32>, tensor<32x16xf32>) -> tensor<32x16xf32>
  return
}

// -----

func.func @embedding_grad_table(%ids: tensor<2x6xi64>, %g: tensor<2x6x16xf32>, %t: tensor<32x8xf32>) {
  // expected-error@+1 {{'mp.embedding_grad' op table 'tensor<32x8xf32>' must be [vocab, 16] of grad's type}}
  %0 = mp.embedding_grad %ids, %g like %t : (tensor<2x6xi64>, tensor<2x6x16xf32>, tensor<32x8xf32>) -> tensor<32x8xf32>
  return
}

// -----

func.func @embedding_grad_result(%ids: tensor<2x6xi64>, %g: tensor<2x6x16xf32>, %t: tensor<32x16xf32>) {
  // expected-error@+1 {{'mp.embedding_grad' op failed to verify that all of {table, result} have same type}}
  %0 = mp.embedding_grad %ids, %g like %t : (tensor<2x6xi64>, tensor<2x6x16xf32>, tensor<32x16xf32>) -> tensor<30x16xf32>
  return
}

// -----

func.func @rms_norm_grad_types(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %g: tensor<2x8xf32>) {
  // expected-error@+1 {{'mp.rms_norm_grad' op failed to verify that all of {input, grad, result} have same shape}}
  %0 = mp.rms_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<16xf32>, tensor<2x8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @rms_norm_weight_grad_types(%x: tensor<2x16xf32>, %g: tensor<2x8xf32>) {
  // expected-error@+2 {{mp.rms_norm_weight_grad takes an input and grad of one ranked shape}}
  // expected-error@+1 {{'mp.rms_norm_weight_grad' op failed to infer returned types}}
  %0 = mp.rms_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<2x8xf32>) -> tensor<16xf32>
  return
}

// -----

// A bf16-held input takes an f32 weight and gradient, not the reverse.
func.func @rms_norm_f32_input_bf16_weight(%x: tensor<2x16xf32>, %w: tensor<16xbf16>) {
  // expected-error@+1 {{'mp.rms_norm' op weight 'tensor<16xbf16>' must be [16] of the input's element type (or f32 where it is bf16)}}
  %0 = mp.rms_norm %x, %w eps 1.0e-5 : (tensor<2x16xf32>, tensor<16xbf16>) -> tensor<2x16xf32>
  return
}

// -----

// The input and the gradient may be held in bf16 where the result is f32,
// not the reverse.
func.func @rms_norm_grad_f32_input_bf16_result(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %g: tensor<2x16xbf16>) {
  // expected-error@+1 {{'mp.rms_norm_grad' op input of 'f32' must be of the result's 'bf16' (or bf16 where it is f32)}}
  %0 = mp.rms_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<16xf32>, tensor<2x16xbf16>) -> tensor<2x16xbf16>
  return
}

// -----

func.func @rms_norm_grad_f32_grad_bf16_result(%x: tensor<2x16xbf16>, %w: tensor<16xf32>, %g: tensor<2x16xf32>) {
  // expected-error@+1 {{'mp.rms_norm_grad' op grad of 'f32' must be of the result's 'bf16' (or bf16 where it is f32)}}
  %0 = mp.rms_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x16xbf16>, tensor<16xf32>, tensor<2x16xf32>) -> tensor<2x16xbf16>
  return
}

// -----

func.func @rms_norm_weight_grad_f16_beside_f32(%x: tensor<2x16xf32>, %g: tensor<2x16xf16>) {
  // expected-error@+2 {{mp.rms_norm_weight_grad takes an input and grad of one element type (or bf16 beside f32)}}
  // expected-error@+1 {{'mp.rms_norm_weight_grad' op failed to infer returned types}}
  %0 = mp.rms_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<2x16xf16>) -> tensor<16xf32>
  return
}

// -----

func.func @layer_norm_grad_types(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %g: tensor<2x8xf32>) {
  // expected-error@+1 {{'mp.layer_norm_grad' op failed to verify that all of {input, grad, result} have same shape}}
  %0 = mp.layer_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<16xf32>, tensor<2x8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @layer_norm_weight_grad_types(%x: tensor<2x16xf32>, %g: tensor<2x8xf32>) {
  // expected-error@+2 {{mp.layer_norm_weight_grad takes an input and grad of one ranked shape}}
  // expected-error@+1 {{'mp.layer_norm_weight_grad' op failed to infer returned types}}
  %0:2 = mp.layer_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<2x8xf32>) -> (tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

func.func @layer_norm_weight_grad_rank0(%x: tensor<f32>, %g: tensor<f32>) {
  // expected-error@+2 {{mp.layer_norm_weight_grad takes an input and grad of one ranked shape}}
  // expected-error@+1 {{'mp.layer_norm_weight_grad' op failed to infer returned types}}
  %0:2 = mp.layer_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<f32>, tensor<f32>) -> (tensor<1xf32>, tensor<1xf32>)
  return
}

// -----

// LayerNorm holds bf16 as RMSNorm does: a bf16-held input beside float32
// parameters, not the reverse; its gradients' input and gradient in bf16
// where the result is f32, not the reverse.
func.func @layer_norm_f32_input_bf16_bias(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %b: tensor<16xbf16>) {
  // expected-error@+1 {{'mp.layer_norm' op bias 'tensor<16xbf16>' must be [16] of the input's element type (or f32 where it is bf16)}}
  %0 = mp.layer_norm %x, %w, %b eps 1.0e-5 : (tensor<2x16xf32>, tensor<16xf32>, tensor<16xbf16>) -> tensor<2x16xf32>
  return
}

// -----

func.func @layer_norm_grad_f32_grad_bf16_result(%x: tensor<2x16xbf16>, %w: tensor<16xf32>, %g: tensor<2x16xf32>) {
  // expected-error@+1 {{'mp.layer_norm_grad' op grad of 'f32' must be of the result's 'bf16' (or bf16 where it is f32)}}
  %0 = mp.layer_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x16xbf16>, tensor<16xf32>, tensor<2x16xf32>) -> tensor<2x16xbf16>
  return
}

// -----

// A float32 computation's parameter gradients are float32.
func.func @layer_norm_weight_grad_bf16_results(%x: tensor<2x16xf32>, %g: tensor<2x16xbf16>) {
  // expected-error@+2 {{'mp.layer_norm_weight_grad' op inferred type(s) 'tensor<16xf32>', 'tensor<16xf32>' are incompatible with return type(s) of operation 'tensor<16xbf16>', 'tensor<16xbf16>'}}
  // expected-error@+1 {{'mp.layer_norm_weight_grad' op failed to infer returned types}}
  %0:2 = mp.layer_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<2x16xbf16>) -> (tensor<16xbf16>, tensor<16xbf16>)
  return
}

// -----

func.func @layer_norm_grad_weight(%x: tensor<2x16xbf16>, %w: tensor<8xf32>, %g: tensor<2x16xbf16>) {
  // expected-error@+1 {{'mp.layer_norm_grad' op weight 'tensor<8xf32>' must be [16] of the input's element type (or f32 where it is bf16)}}
  %0 = mp.layer_norm_grad %x, %w, %g eps 1.0e-5 : (tensor<2x16xbf16>, tensor<8xf32>, tensor<2x16xbf16>) -> tensor<2x16xf32>
  return
}

// -----

func.func @layer_norm_weight_grad_f16_beside_f32(%x: tensor<2x16xf16>, %g: tensor<2x16xf32>) {
  // expected-error@+2 {{mp.layer_norm_weight_grad takes an input and grad of one element type (or bf16 beside f32)}}
  // expected-error@+1 {{'mp.layer_norm_weight_grad' op failed to infer returned types}}
  %0:2 = mp.layer_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x16xf16>, tensor<2x16xf32>) -> (tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

// The rotary embedding holds float32 computations in bf16, no other mix.
func.func @rope_f16_to_f32(%x: tensor<6x2x4xf16>) {
  // expected-error@+1 {{'mp.rope' op takes tensors of one element type, or float32 and bfloat16 ones (a float32 computation held in bfloat16)}}
  %0 = mp.rope %x theta 1.0e4 : (tensor<6x2x4xf16>) -> tensor<6x2x4xf32>
  return
}

// -----

func.func @layer_norm_weight_grad_results(%x: tensor<2x16xf32>, %g: tensor<2x16xf32>) {
  // expected-error@+2 {{'mp.layer_norm_weight_grad' op inferred type(s) 'tensor<16xf32>', 'tensor<16xf32>' are incompatible with return type(s) of operation 'tensor<16xf32>', 'tensor<8xf32>'}}
  // expected-error@+1 {{'mp.layer_norm_weight_grad' op failed to infer returned types}}
  %0:2 = mp.layer_norm_weight_grad %x, %g eps 1.0e-5 : (tensor<2x16xf32>, tensor<2x16xf32>) -> (tensor<16xf32>, tensor<8xf32>)
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 2>
func.func @localize_axis(%ids: tensor<2x6xi64>) {
  // expected-error@+1 {{'mp.localize_index' op mesh @mesh has no axis 'pp'}}
  %0 = mp.localize_index %ids on @mesh axes ["pp"] extent 32 : tensor<2x6xi64>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 2>
func.func @localize_extent(%ids: tensor<2x6xi64>) {
  // expected-error@+1 {{'mp.localize_index' op extent must be non-negative, got -3}}
  %0 = mp.localize_index %ids on @mesh axes ["tp"] extent -3 : tensor<2x6xi64>
  return
}

// -----

func.func @mask_bias_shape(%mask: tensor<6x6xi64>) {
  // expected-error@+1 {{'mp.mask_bias' op result 'tensor<1x6x6xf32>' must have the mask's shape 'tensor<6x6xi64>'}}
  %0 = mp.mask_bias %mask fill -1.0 : tensor<6x6xi64> -> tensor<1x6x6xf32>
  return
}

// -----

func.func @alibi_slopes_rank() {
  // expected-error@+1 {{'mp.alibi_slopes' op result 'tensor<2x4xf32>' must be one slope per head}}
  %0 = mp.alibi_slopes : tensor<2x4xf32>
  return
}

// -----

func.func @alibi_slopes_max_bias() {
  // expected-error@+1 {{'mp.alibi_slopes' op max_bias must be positive and finite, got 0}}
  %0 = mp.alibi_slopes max_bias 0.0 : tensor<4xf32>
  return
}

// -----

func.func @alibi_slopes_max_bias_inf() {
  // expected-error@+1 {{'mp.alibi_slopes' op max_bias must be positive and finite, got INF}}
  %0 = mp.alibi_slopes max_bias 0x7FF0000000000000 : tensor<4xf32>
  return
}

// -----

func.func @alibi_rank(%scores: tensor<4x6xf32>, %slopes: tensor<4xf32>) {
  // expected-error@+1 {{'mp.alibi' op scores 'tensor<4x6xf32>' must be [..., heads, queries, keys]}}
  %0 = mp.alibi %scores, %slopes : tensor<4x6xf32>, tensor<4xf32>
  return
}

// -----

func.func @alibi_heads(%scores: tensor<2x4x6x6xf32>, %slopes: tensor<2xf32>) {
  // expected-error@+1 {{'mp.alibi' op slopes 'tensor<2xf32>' must be one per head of 'tensor<2x4x6x6xf32>' (4)}}
  %0 = mp.alibi %scores, %slopes : tensor<2x4x6x6xf32>, tensor<2xf32>
  return
}

// -----

func.func @block_max_blocks(%x: tensor<2x6xf32>) {
  // expected-error@+1 {{'mp.block_max' op the last dim (6) does not cut into 4 equal blocks}}
  %0 = mp.block_max %x : tensor<2x6xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @block_max_rows(%x: tensor<2x6xf32>) {
  // expected-error@+1 {{'mp.block_max' op result 'tensor<3x2xf32>' must be the input 'tensor<2x6xf32>' with another last dim}}
  %0 = mp.block_max %x : tensor<2x6xf32> -> tensor<3x2xf32>
  return
}

// -----

func.func @gather_last_index(%x: tensor<2x6xf32>, %t: tensor<3xi64>) {
  // expected-error@+2 {{mp.gather_last index 'tensor<3xi64>' must have the input's shape without its last dim, as 'tensor<2x6xf32>' has}}
  // expected-error@+1 {{'mp.gather_last' op failed to infer returned types}}
  %0 = mp.gather_last %x, %t : (tensor<2x6xf32>, tensor<3xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @scatter_last_shapes(%t: tensor<2xi64>, %g: tensor<3xf32>, %x: tensor<2x6xf32>) {
  // expected-error@+1 {{'mp.scatter_last' op index 'tensor<2xi64>' and grad 'tensor<3xf32>' must have the shape of 'tensor<2x6xf32>' without its last dim}}
  %0 = mp.scatter_last %t, %g like %x : (tensor<2xi64>, tensor<3xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @iota_dim_past_rank() {
  // expected-error@+1 {{'mp.iota' op dim 2 is not a dim of 'tensor<2x16xi64>'}}
  %0 = mp.iota dim 2 : tensor<2x16xi64>
  return
}

// -----

func.func @iota_negative_dim() {
  // expected-error@+1 {{'mp.iota' op dim -1 is not a dim of 'tensor<2x16xi64>'}}
  %0 = mp.iota dim -1 : tensor<2x16xi64>
  return
}

// -----

func.func @iota_negative_start() {
  // expected-error@+1 {{'mp.iota' op start -1 is negative}}
  %0 = mp.iota dim 1 start -1 : tensor<2x16xi64>
  return
}

// -----

func.func @iota_start_past_i64() {
  // expected-error@+1 {{'mp.iota' op start 9223372036854775793 plus 15 overflows 'i64'}}
  %0 = mp.iota dim 1 start 9223372036854775793 : tensor<2x16xi64>
  return
}

// -----

func.func @iota_start_past_i32() {
  // expected-error@+1 {{'mp.iota' op start 2147483633 plus 15 overflows 'i32'}}
  %0 = mp.iota dim 1 start 2147483633 : tensor<2x16xi32>
  return
}

// -----

func.func @iota_float() {
  // expected-error@+1 {{'mp.iota' op result #0 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = mp.iota dim 0 : tensor<4xf32>
  return
}
