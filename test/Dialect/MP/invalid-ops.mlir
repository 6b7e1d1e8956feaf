// RUN: mp-opt %s -split-input-file -verify-diagnostics

func.func @linear_weight_rank(%x: tensor<8x16xf32>, %w: tensor<32x16x2xf32>) {
  // expected-error@+2 {{mp.linear weight must be [out, in], got rank 3}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16x2xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @linear_accumulator_shape(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>, %g: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.linear accumulates into 'tensor<8x16xf32>' but its product is 'tensor<8x32xf32>'; the accumulator must be float32 of the product's type}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w accumulate %g : (tensor<8x16xf32>, tensor<32x16xf32>, tensor<8x16xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @matmul_accumulator_bf16(%a: tensor<4x8xbf16>, %b: tensor<8x4xbf16>, %g: tensor<4x4xbf16>) {
  // expected-error@+2 {{mp.matmul accumulates into 'tensor<4x4xbf16>' but its product is 'tensor<4x4xbf16>'; the accumulator must be float32 of the product's type}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b accumulate %g : (tensor<4x8xbf16>, tensor<8x4xbf16>, tensor<4x4xbf16>) -> tensor<4x4xbf16>
  return
}

// -----

func.func @linear_features(%x: tensor<8x16xf32>, %w: tensor<32x8xf32>) {
  // expected-error@+2 {{mp.linear input has 16 features but the [out, in] weight expects 8}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x8xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @linear_element_types(%x: tensor<8x16xf32>, %w: tensor<32x16xbf16>) {
  // expected-error@+2 {{mp.linear input and weight element types differ: 'f32' vs 'bf16'}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xbf16>) -> tensor<8x32xf32>
  return
}

// -----

func.func @linear_rank0(%x: tensor<f32>, %w: tensor<32x16xf32>) {
  // expected-error@+2 {{mp.linear input needs at least one dim [..., in]}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w : (tensor<f32>, tensor<32x16xf32>) -> tensor<32xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>) {
  // expected-error@+2 {{'mp.linear' op inferred type(s) 'tensor<8x32xf32>' are incompatible with return type(s) of operation 'tensor<8x16xf32>'}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) {
  // expected-error@+2 {{mp.matmul operands need rank 2 or more, got 1 and 2}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<8x16xf32>, %b: tensor<8x4xf32>) {
  // expected-error@+2 {{mp.matmul contracts lhs dim of size 16 with rhs dim of size 8}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<8x16xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x8x16xf32>, %b: tensor<3x16x4xf32>) {
  // expected-error@+2 {{mp.matmul batch dims differ; rhs must have the lhs's batch dims or none}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<2x8x16xf32>, tensor<3x16x4xf32>) -> tensor<2x8x4xf32>
  return
}

// -----

func.func @matmul_scale_overflow(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>) {
  // expected-error@+2 {{mp.matmul scale 1.000000e+39 is not a finite, nonzero float32}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b scale 1.0e+39 : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @matmul_scale_zero(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>) {
  // expected-error@+2 {{mp.matmul scale 0.000000e+00 is not a finite, nonzero float32}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b scale 0.0 : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<8x16xf32>, %b: tensor<16x4xf16>) {
  // expected-error@+2 {{mp.matmul element types differ: 'f32' vs 'f16'}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<8x16xf32>, tensor<16x4xf16>) -> tensor<8x4xf32>
  return
}

// -----

func.func @elementwise_types(%a: tensor<8x16xf32>, %b: tensor<8x8xf32>) {
  // expected-error@+1 {{'mp.add' op all non-scalar operands/results must have the same shape and base type}}
  %0 = "mp.add"(%a, %b) : (tensor<8x16xf32>, tensor<8x8xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @integer_operand(%a: tensor<8xi32>) {
  // expected-error@+1 {{'mp.relu' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<8xi32>'}}
  %0 = "mp.relu"(%a) : (tensor<8xi32>) -> tensor<8xi32>
  return
}

// -----

func.func @dynamic_shape(%a: tensor<?x8xf32>) {
  // expected-error@+1 {{'mp.neg' op operand #0 must be statically shaped tensor}}
  %0 = "mp.neg"(%a) : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @unranked(%a: tensor<*xf32>) {
  // expected-error@+1 {{'mp.exp' op operand #0 must be statically shaped tensor}}
  %0 = "mp.exp"(%a) : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sum_dim_range(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.sum dim 2 is out of range for rank 2}}
  // expected-error@+1 {{'mp.sum' op failed to infer returned types}}
  %0 = mp.sum %x dims [2] : tensor<8x16xf32> -> tensor<8xf32>
  return
}

// -----

func.func @mean_dim_repeated(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.mean dim 1 is repeated}}
  // expected-error@+1 {{'mp.mean' op failed to infer returned types}}
  %0 = mp.mean %x dims [1, 1] : tensor<8x16xf32> -> tensor<8xf32>
  return
}

// -----

func.func @sum_result(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{'mp.sum' op inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<8xf32>'}}
  // expected-error@+1 {{'mp.sum' op failed to infer returned types}}
  %0 = mp.sum %x : tensor<8x16xf32> -> tensor<8xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.reshape' op cannot reshape [8, 16] (128 elements) to [8, 8] (64 elements)}}
  %0 = mp.reshape %x : tensor<8x16xf32> -> tensor<8x8xf32>
  return
}

// -----

func.func @reshape_type(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.reshape' op cannot change the element type from 'f32' to 'f64'}}
  %0 = mp.reshape %x : tensor<8x16xf32> -> tensor<128xf64>
  return
}

// -----

func.func @transpose_length(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.transpose permutation has 3 entries for rank 2}}
  // expected-error@+1 {{'mp.transpose' op failed to infer returned types}}
  %0 = mp.transpose %x perm [0, 1, 2] : tensor<8x16xf32> -> tensor<8x16xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.transpose permutation is not a permutation of 0..1}}
  // expected-error@+1 {{'mp.transpose' op failed to infer returned types}}
  %0 = mp.transpose %x perm [1, 1] : tensor<8x16xf32> -> tensor<16x16xf32>
  return
}

// -----

func.func @mse_types(%a: tensor<8x4xf32>, %b: tensor<8x2xf32>) {
  // expected-error@+2 {{mp.mse_loss input 'tensor<8x4xf32>' and target 'tensor<8x2xf32>' must have one type}}
  // expected-error@+1 {{'mp.mse_loss' op failed to infer returned types}}
  %0 = mp.mse_loss %a, %b : (tensor<8x4xf32>, tensor<8x2xf32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_target(%x: tensor<8x10xf32>, %t: tensor<4xi64>) {
  // expected-error@+2 {{mp.cross_entropy target 'tensor<4xi64>' must have the input's shape without its class dim, as 'tensor<8x10xf32>' has}}
  // expected-error@+1 {{'mp.cross_entropy' op failed to infer returned types}}
  %0 = mp.cross_entropy %x, %t : (tensor<8x10xf32>, tensor<4xi64>) -> tensor<f32>
  return
}

// -----

// PyTorch's mean over the kept samples is written as a sum and a count.
func.func @cross_entropy_ignore_mean(%x: tensor<8x10xf32>, %t: tensor<8xi64>) {
  // expected-error@+1 {{'mp.cross_entropy' op with ignore_index takes reduction sum: the mean over the samples kept is that sum divided by the sum of mp.target_mask}}
  %0 = mp.cross_entropy %x, %t ignore_index -100 : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  return
}

// -----

func.func @target_mask_shape(%t: tensor<8xi64>) {
  // expected-error@+1 {{'mp.target_mask' op result 'tensor<8x1xf32>' must have the target's shape 'tensor<8xi64>'}}
  %0 = mp.target_mask %t ignore_index -100 : tensor<8xi64> -> tensor<8x1xf32>
  return
}

// -----

func.func @cross_entropy_float_target(%x: tensor<8x10xf32>, %t: tensor<8xf32>) {
  // expected-error@+1 {{'mp.cross_entropy' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<8xf32>'}}
  %0 = "mp.cross_entropy"(%x, %t) : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<f32>
  return
}

// -----

func.func @annotate_no_mesh(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op refers to @mesh, which is not an mp.mesh}}
  %0 = mp.annotate %x <@mesh, [[], []]> : tensor<8x16xf32>
  return
}

// -----

func.func private @mesh()
func.func @annotate_not_a_mesh(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op refers to @mesh, which is not an mp.mesh}}
  %0 = mp.annotate %x <@mesh, [[], []]> : tensor<8x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @annotate_rank(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op sharding has 1 dims but 'tensor<8x16xf32>' has rank 2}}
  %0 = mp.annotate %x <@mesh, [[dp]]> : tensor<8x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @annotate_type(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op requires the same type for all operands and results}}
  %0 = "mp.annotate"(%x) {sharding = #mp.sharding<@mesh, [[dp], []]>} : (tensor<8x16xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @mesh_in_function() {
  // expected-error@+1 {{'mp.mesh' op expects parent op 'builtin.module'}}
  mp.mesh @mesh = <dp = 2>
  return
}

// -----

//===----------------------------------------------------------------------===//
// GEMMs: operand constraints, result types.
//===----------------------------------------------------------------------===//

func.func @linear_integer(%x: tensor<8x4xi32>, %w: tensor<4x4xi32>) {
  // expected-error@+1 {{'mp.linear' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<8x4xi32>'}}
  %0 = mp.linear %x, %w : (tensor<8x4xi32>, tensor<4x4xi32>) -> tensor<8x4xi32>
  return
}

// -----

func.func @linear_dynamic(%x: tensor<?x4xf32>, %w: tensor<4x4xf32>) {
  // expected-error@+1 {{'mp.linear' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<?x4xf32>'}}
  %0 = mp.linear %x, %w : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @linear_unranked_weight(%x: tensor<8x4xf32>, %w: tensor<*xf32>) {
  // expected-error@+1 {{'mp.linear' op operand #1 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<*xf32>'}}
  %0 = mp.linear %x, %w : (tensor<8x4xf32>, tensor<*xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @linear_result_element_type(%x: tensor<8x16xbf16>, %w: tensor<32x16xbf16>) {
  // expected-error@+2 {{'mp.linear' op inferred type(s) 'tensor<8x32xbf16>' are incompatible with return type(s) of operation 'tensor<8x32xf32>'}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w : (tensor<8x16xbf16>, tensor<32x16xbf16>) -> tensor<8x32xf32>
  return
}

// -----

func.func @linear_missing_operand(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.linear' op expected 2 or more operands, but found 1}}
  %0 = "mp.linear"(%x) : (tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @matmul_rhs_rank(%a: tensor<8x16xf32>, %b: tensor<16xf32>) {
  // expected-error@+2 {{mp.matmul operands need rank 2 or more, got 2 and 1}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8xf32>
  return
}

// -----

// A batched rhs needs a batched lhs: only the rhs may drop the batch dims.
func.func @matmul_batched_rhs_only(%a: tensor<8x16xf32>, %b: tensor<2x16x4xf32>) {
  // expected-error@+2 {{mp.matmul batch dims differ; rhs must have the lhs's batch dims or none}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<8x16xf32>, tensor<2x16x4xf32>) -> tensor<2x8x4xf32>
  return
}

// -----

func.func @matmul_batch_rank(%a: tensor<2x3x8x16xf32>, %b: tensor<3x16x4xf32>) {
  // expected-error@+2 {{mp.matmul batch dims differ; rhs must have the lhs's batch dims or none}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<2x3x8x16xf32>, tensor<3x16x4xf32>) -> tensor<2x3x8x4xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>) {
  // expected-error@+2 {{'mp.matmul' op inferred type(s) 'tensor<8x4xf32>' are incompatible with return type(s) of operation 'tensor<8x4xf16>'}}
  // expected-error@+1 {{'mp.matmul' op failed to infer returned types}}
  %0 = mp.matmul %a, %b : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf16>
  return
}

// -----

func.func @matmul_dynamic(%a: tensor<8x?xf32>, %b: tensor<16x4xf32>) {
  // expected-error@+1 {{'mp.matmul' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<8x?xf32>'}}
  %0 = mp.matmul %a, %b : (tensor<8x?xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Elementwise ops: one type for all operands and the result, or float32
// and bfloat16 mixed.
//===----------------------------------------------------------------------===//

func.func @binary_element_types(%a: tensor<8x16xf32>, %b: tensor<8x16xf16>) {
  // expected-error@+1 {{'mp.sub' op takes tensors of one element type, or float32 and bfloat16 ones (a float32 computation held in bfloat16)}}
  %0 = "mp.sub"(%a, %b) : (tensor<8x16xf32>, tensor<8x16xf16>) -> tensor<8x16xf32>
  return
}

// -----

func.func @binary_result_type(%a: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.div' op takes tensors of one element type, or float32 and bfloat16 ones (a float32 computation held in bfloat16)}}
  %0 = "mp.div"(%a, %a) : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf16>
  return
}

// -----

// The functional form lists every operand and result type.
func.func @storage_types_count(%a: tensor<8xbf16>) {
  // expected-error@+1 {{expected 2 operand and result types, got 3}}
  %0 = mp.neg %a : (tensor<8xbf16>, tensor<8xbf16>) -> tensor<8xf32>
  return
}

// -----

func.func @gemm_bf16_result_accumulates(%x: tensor<8x16xbf16>, %w: tensor<32x16xbf16>, %acc: tensor<8x32xf32>) {
  // expected-error@+1 {{'mp.linear' op returns bfloat16 only as a bf16 GEMM that accumulates into nothing}}
  %0 = mp.linear %x, %w accumulate %acc precision <bf16> : (tensor<8x16xbf16>, tensor<32x16xbf16>, tensor<8x32xf32>) -> tensor<8x32xbf16>
  return
}

// -----

func.func @gemm_bf16_result_tf32(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) {
  // expected-error@+1 {{'mp.matmul' op returns bfloat16 only as a bf16 GEMM that accumulates into nothing}}
  %0 = mp.matmul %x, %w precision <tf32> : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xbf16>
  return
}

// -----

func.func @binary_rank0_and_tensor(%a: tensor<f32>, %b: tensor<8xf32>) {
  // expected-error@+1 {{'mp.mul' op all non-scalar operands/results must have the same shape and base type}}
  %0 = "mp.mul"(%a, %b) : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @binary_dynamic_rhs(%a: tensor<8x16xf32>, %b: tensor<?x16xf32>) {
  // expected-error@+1 {{'mp.add' op operand #1 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<?x16xf32>'}}
  %0 = "mp.add"(%a, %b) : (tensor<8x16xf32>, tensor<?x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @transpose_result_element_type(%a: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.transpose' op takes tensors of one element type, or float32 and bfloat16 ones (a float32 computation held in bfloat16)}}
  %0 = mp.transpose %a perm [1, 0] : tensor<8x16xf32> -> tensor<16x8xf64>
  return
}

// -----

func.func @unary_result_element_type(%a: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.exp' op takes tensors of one element type, or float32 and bfloat16 ones (a float32 computation held in bfloat16)}}
  %0 = "mp.exp"(%a) : (tensor<8x16xf32>) -> tensor<8x16xf64>
  return
}

// -----

func.func @unary_result_shape(%a: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.sigmoid' op all non-scalar operands/results must have the same shape and base type}}
  %0 = "mp.sigmoid"(%a) : (tensor<8x16xf32>) -> tensor<16x8xf32>
  return
}

// -----

func.func @unary_unranked_result(%a: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.silu' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<*xf32>'}}
  %0 = "mp.silu"(%a) : (tensor<8x16xf32>) -> tensor<*xf32>
  return
}

// -----

// The custom form names any type; the operand's must be a static tensor.
func.func @unary_unranked_custom(%a: tensor<*xf32>) {
  // expected-error@+1 {{'mp.gelu' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<*xf32>'}}
  %0 = mp.gelu %a : tensor<*xf32>
  return
}

// -----

func.func @unary_vector(%a: vector<4xf32>) {
  // expected-error@+1 {{'mp.neg' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'vector<4xf32>'}}
  %0 = mp.neg %a : vector<4xf32>
  return
}

// -----

func.func @gelu_integer(%a: tensor<8xi64>) {
  // expected-error@+1 {{'mp.gelu' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<8xi64>'}}
  %0 = mp.gelu %a tanh : tensor<8xi64>
  return
}

// -----

func.func @scale_integer_factor(%a: tensor<8xf32>) {
  // expected-error@+2 {{unexpected decimal integer literal for a floating point value}}
  // expected-note@+1 {{add a trailing dot to make the literal a float}}
  %0 = mp.scale %a by 2 : tensor<8xf32>
  return
}

// -----

func.func @scale_f32_factor(%a: tensor<8xf32>) {
  // expected-error@+1 {{'mp.scale' op attribute 'factor' failed to satisfy constraint: 64-bit float attribute}}
  %0 = "mp.scale"(%a) {factor = 2.0 : f32} : (tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @scale_no_factor(%a: tensor<8xf32>) {
  // expected-error@+1 {{'mp.scale' op requires attribute 'factor'}}
  %0 = "mp.scale"(%a) : (tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Reductions and layout.
//===----------------------------------------------------------------------===//

func.func @mean_negative_dim(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.mean dim -1 is out of range for rank 2}}
  // expected-error@+1 {{'mp.mean' op failed to infer returned types}}
  %0 = mp.mean %x dims [-1] : tensor<8x16xf32> -> tensor<8xf32>
  return
}

// -----

func.func @sum_rank0_dim(%x: tensor<f32>) {
  // expected-error@+2 {{mp.sum dim 0 is out of range for rank 0}}
  // expected-error@+1 {{'mp.sum' op failed to infer returned types}}
  %0 = mp.sum %x dims [0] : tensor<f32> -> tensor<f32>
  return
}

// -----

func.func @sum_dim_repeated(%x: tensor<2x8x16xf32>) {
  // expected-error@+2 {{mp.sum dim 0 is repeated}}
  // expected-error@+1 {{'mp.sum' op failed to infer returned types}}
  %0 = mp.sum %x dims [0, 2, 0] : tensor<2x8x16xf32> -> tensor<8xf32>
  return
}

// -----

func.func @mean_result(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{'mp.mean' op inferred type(s) 'tensor<16xf32>' are incompatible with return type(s) of operation 'tensor<8xf32>'}}
  // expected-error@+1 {{'mp.mean' op failed to infer returned types}}
  %0 = mp.mean %x dims [0] : tensor<8x16xf32> -> tensor<8xf32>
  return
}

// -----

func.func @mean_result_element_type(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{'mp.mean' op inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<f64>'}}
  // expected-error@+1 {{'mp.mean' op failed to infer returned types}}
  %0 = mp.mean %x : tensor<8x16xf32> -> tensor<f64>
  return
}

// -----

func.func @sum_integer(%x: tensor<8xi32>) {
  // expected-error@+1 {{'mp.sum' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<8xi32>'}}
  %0 = mp.sum %x : tensor<8xi32> -> tensor<i32>
  return
}

// -----

func.func @reshape_dynamic_result(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.reshape' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<?x16xf32>'}}
  %0 = mp.reshape %x : tensor<8x16xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @reshape_count_3d(%x: tensor<2x3x4xbf16>) {
  // expected-error@+1 {{'mp.reshape' op cannot reshape [2, 3, 4] (24 elements) to [] (1 elements)}}
  %0 = mp.reshape %x : tensor<2x3x4xbf16> -> tensor<bf16>
  return
}

// -----

func.func @transpose_out_of_range(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.transpose permutation is not a permutation of 0..1}}
  // expected-error@+1 {{'mp.transpose' op failed to infer returned types}}
  %0 = mp.transpose %x perm [0, 2] : tensor<8x16xf32> -> tensor<8x16xf32>
  return
}

// -----

func.func @transpose_negative(%x: tensor<2x3x4xf32>) {
  // expected-error@+2 {{mp.transpose permutation is not a permutation of 0..2}}
  // expected-error@+1 {{'mp.transpose' op failed to infer returned types}}
  %0 = mp.transpose %x perm [0, -1, 1] : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  return
}

// -----

func.func @transpose_too_short(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{mp.transpose permutation has 1 entries for rank 2}}
  // expected-error@+1 {{'mp.transpose' op failed to infer returned types}}
  %0 = mp.transpose %x perm [0] : tensor<8x16xf32> -> tensor<8xf32>
  return
}

// -----

func.func @transpose_result(%x: tensor<8x16xf32>) {
  // expected-error@+2 {{'mp.transpose' op inferred type(s) 'tensor<16x8xf32>' are incompatible with return type(s) of operation 'tensor<8x16xf32>'}}
  // expected-error@+1 {{'mp.transpose' op failed to infer returned types}}
  %0 = mp.transpose %x perm [1, 0] : tensor<8x16xf32> -> tensor<8x16xf32>
  return
}

// -----

func.func @transpose_no_permutation(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.transpose' op requires attribute 'permutation'}}
  %0 = "mp.transpose"(%x) : (tensor<8x16xf32>) -> tensor<16x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Losses.
//===----------------------------------------------------------------------===//

func.func @mse_element_types(%a: tensor<8x4xf32>, %b: tensor<8x4xf16>) {
  // expected-error@+2 {{mp.mse_loss input 'tensor<8x4xf32>' and target 'tensor<8x4xf16>' must have one type}}
  // expected-error@+1 {{'mp.mse_loss' op failed to infer returned types}}
  %0 = mp.mse_loss %a, %b : (tensor<8x4xf32>, tensor<8x4xf16>) -> tensor<f32>
  return
}

// -----

func.func @mse_result(%a: tensor<8x4xf32>) {
  // expected-error@+2 {{'mp.mse_loss' op inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<1xf32>'}}
  // expected-error@+1 {{'mp.mse_loss' op failed to infer returned types}}
  %0 = mp.mse_loss %a, %a : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<1xf32>
  return
}

// -----

func.func @mse_unknown_reduction(%a: tensor<8x4xf32>) {
  // expected-error@+1 {{expected string or keyword containing one of the following enum values for attribute 'reduction' [mean, sum]}}
  %0 = mp.mse_loss %a, %a reduction max : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  return
}

// -----

func.func @mse_reduction_value(%a: tensor<8x4xf32>) {
  // expected-error@+1 {{'mp.mse_loss' op attribute 'reduction' failed to satisfy constraint: how a loss reduces over its elements (PyTorch's `reduction=`)}}
  %0 = "mp.mse_loss"(%a, %a) {reduction = 2 : i32} : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_rank0(%x: tensor<f32>, %t: tensor<i64>) {
  // expected-error@+2 {{mp.cross_entropy input needs a class dim}}
  // expected-error@+1 {{'mp.cross_entropy' op failed to infer returned types}}
  %0 = mp.cross_entropy %x, %t : (tensor<f32>, tensor<i64>) -> tensor<f32>
  return
}

// -----

// The target has no class dim.
func.func @cross_entropy_target_rank(%x: tensor<8x10xf32>, %t: tensor<8x10xi32>) {
  // expected-error@+2 {{mp.cross_entropy target 'tensor<8x10xi32>' must have the input's shape without its class dim, as 'tensor<8x10xf32>' has}}
  // expected-error@+1 {{'mp.cross_entropy' op failed to infer returned types}}
  %0 = mp.cross_entropy %x, %t : (tensor<8x10xf32>, tensor<8x10xi32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_i16_target(%x: tensor<8x10xf32>, %t: tensor<8xi16>) {
  // expected-error@+1 {{'mp.cross_entropy' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<8xi16>'}}
  %0 = mp.cross_entropy %x, %t : (tensor<8x10xf32>, tensor<8xi16>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_integer_logits(%x: tensor<8x10xi64>, %t: tensor<8xi64>) {
  // expected-error@+1 {{'mp.cross_entropy' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<8x10xi64>'}}
  %0 = mp.cross_entropy %x, %t : (tensor<8x10xi64>, tensor<8xi64>) -> tensor<i64>
  return
}

// -----

func.func @cross_entropy_result(%x: tensor<8x10xf32>, %t: tensor<8xi64>) {
  // expected-error@+2 {{'mp.cross_entropy' op inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<8xf32>'}}
  // expected-error@+1 {{'mp.cross_entropy' op failed to infer returned types}}
  %0 = mp.cross_entropy %x, %t : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Annotations and meshes.
//===----------------------------------------------------------------------===//

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @annotate_unknown_axis(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op mesh @mesh has no axis 'pp'}}
  %0 = mp.annotate %x <@mesh, [[dp], [pp]]> : tensor<8x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @annotate_unknown_partial_axis(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op mesh @mesh has no axis 'pp'}}
  %0 = mp.annotate %x <@mesh, [[], []], partial = [pp]> : tensor<8x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @annotate_rank0(%x: tensor<f32>) {
  // expected-error@+1 {{'mp.annotate' op sharding has 1 dims but 'tensor<f32>' has rank 0}}
  %0 = mp.annotate %x <@mesh, [[]]> : tensor<f32>
  return
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @annotate_element_type(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op requires the same type for all operands and results}}
  %0 = "mp.annotate"(%x) {sharding = #mp.sharding<@mesh, [[dp], []]>} : (tensor<8x16xf32>) -> tensor<8x16xf16>
  return
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @annotate_unranked(%x: tensor<*xf32>) {
  // expected-error@+1 {{'mp.annotate' op operand #0 must be ranked tensor of any type values, but got 'tensor<*xf32>'}}
  %0 = "mp.annotate"(%x) {sharding = #mp.sharding<@mesh, []>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @annotate_no_sharding(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.annotate' op requires attribute 'sharding'}}
  %0 = "mp.annotate"(%x) : (tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @annotate_axis_twice(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{mesh axis 'dp' appears more than once in the sharding}}
  %0 = mp.annotate %x <@mesh, [[dp], [dp]]> : tensor<8x16xf32>
  return
}

// -----

// expected-note@+1 {{see existing symbol definition here}}
mp.mesh @mesh = <dp = 2>
// expected-error@+1 {{redefinition of symbol named 'mesh'}}
mp.mesh @mesh = <tp = 2>

// -----

func.func @convert_shape(%x: tensor<4xf32>) -> tensor<8xbf16> {
  // expected-error@+1 {{'mp.convert' op all non-scalar operands/results must have the same shape and base type}}
  %c = mp.convert %x : tensor<4xf32> -> tensor<8xbf16>
  return %c : tensor<8xbf16>
}

// -----

func.func @squared_norm_of_f64(%x: tensor<4xf64>) -> tensor<f32> {
  // expected-error@+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %0 = mp.squared_norm %x : tensor<4xf64>
  return %0 : tensor<f32>
}

// -----

func.func @grad_scale_not_a_scalar(%w: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{operand #2 must be 0D tensor of 32-bit float values}}
  %0 = "mp.sgd"(%w, %g, %g) {lr = 0.1 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @attention_rank(%q: tensor<8xf32>) {
  // expected-error@+2 {{mp.attention takes query, key and value of one rank, 2 or more ([..., seq, dim])}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %q, %q scale 1.0 : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<f32>)
  return
}

// -----

func.func @attention_heads(%q: tensor<2x6x8xf32>, %k: tensor<3x6x8xf32>) {
  // expected-error@+2 {{mp.attention key and value heads 3 do not divide the query's 2}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %k, %k scale 1.0 : (tensor<2x6x8xf32>, tensor<3x6x8xf32>, tensor<3x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @attention_batch(%q: tensor<2x4x6x8xf32>, %k: tensor<3x2x6x8xf32>) {
  // expected-error@+2 {{mp.attention query, key and value have different leading dims}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %k, %k scale 1.0 : (tensor<2x4x6x8xf32>, tensor<3x2x6x8xf32>, tensor<3x2x6x8xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6xf32>)
  return
}

// -----

func.func @attention_value_heads(%q: tensor<2x4x6x8xf32>, %k: tensor<2x2x6x8xf32>, %v: tensor<2x4x6x8xf32>) {
  // expected-error@+2 {{mp.attention query, key and value have different leading dims}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %k, %v scale 1.0 : (tensor<2x4x6x8xf32>, tensor<2x2x6x8xf32>, tensor<2x4x6x8xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6xf32>)
  return
}

// -----

func.func @attention_head_dim(%q: tensor<2x6x8xf32>, %k: tensor<2x6x4xf32>) {
  // expected-error@+2 {{mp.attention key dim 4 differs from the query's 8}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %k, %k scale 1.0 : (tensor<2x6x8xf32>, tensor<2x6x4xf32>, tensor<2x6x4xf32>) -> (tensor<2x6x4xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @attention_values(%q: tensor<2x6x8xf32>, %v: tensor<2x5x8xf32>) {
  // expected-error@+2 {{mp.attention has 6 keys but 5 values}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %q, %v scale 1.0 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x5x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @attention_element_types(%q: tensor<2x6x8xf32>, %k: tensor<2x6x8xf64>) {
  // expected-error@+2 {{mp.attention element types differ}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %k, %q scale 1.0 : (tensor<2x6x8xf32>, tensor<2x6x8xf64>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @attention_storage_precision(%q: tensor<2x6x8xbf16>, %v: tensor<2x6x8xf32>) {
  // expected-error@+1 {{'mp.attention' op holds bfloat16 beside float32 tensors only in bf16 precision}}
  %0:2 = mp.attention %q, %q, %v scale 1.0 precision <tf32> : (tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @attention_grad_storage_grad(%q: tensor<2x6x8xbf16>, %v: tensor<2x6x8xf32>, %lse: tensor<2x6xf32>) {
  // expected-error@+1 {{'mp.attention_grad' op takes a float32 grad where it mixes bfloat16 and float32 tensors}}
  %0:3 = mp.attention_grad %q, %q, %v, %v, %lse, %q scale 1.0 precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6xf32>, tensor<2x6x8xbf16>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return
}

// -----

func.func @attention_grad_storage_results(%q: tensor<2x6x8xbf16>, %g: tensor<2x6x8xf32>, %lse: tensor<2x6xf32>) {
  // expected-error@+2 {{'mp.attention_grad' op inferred type(s) 'tensor<2x6x8xf32>', 'tensor<2x6x8xf32>', 'tensor<2x6x8xf32>' are incompatible}}
  // expected-error@+1 {{'mp.attention_grad' op failed to infer returned types}}
  %0:3 = mp.attention_grad %q, %q, %q, %q, %lse, %g scale 1.0 precision <bf16> : (tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6x8xbf16>, tensor<2x6xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xbf16>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return
}

// -----

func.func @attention_scale(%q: tensor<2x6x8xf32>) {
  // expected-error@+2 {{mp.attention scale 1.000000e+39 is not a finite, nonzero float32}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %q, %q scale 1.0e+39 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @attention_chunk(%q: tensor<2x6x8xf32>) {
  // expected-error@+2 {{mp.attention chunk_bytes must be positive}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %q, %q scale 1.0 chunk_bytes 0 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6xf32>)
  return
}

// -----

func.func @attention_scratch(%q: tensor<1073741824x1x1xf32>, %k: tensor<1073741824x1073741824x1xf32>) {
  // expected-error@+2 {{mp.attention scores of a query row need more bytes than int64 counts}}
  // expected-error@+1 {{'mp.attention' op failed to infer returned types}}
  %0:2 = mp.attention %q, %k, %k scale 1.0 : (tensor<1073741824x1x1xf32>, tensor<1073741824x1073741824x1xf32>, tensor<1073741824x1073741824x1xf32>) -> (tensor<1073741824x1x1xf32>, tensor<1073741824x1xf32>)
  return
}

// -----

func.func @attention_grad_type(%q: tensor<2x6x8xf32>, %g: tensor<2x6x4xf32>, %lse: tensor<2x6xf32>) {
  // expected-error@+2 {{mp.attention_grad grad 'tensor<2x6x4xf32>' does not match the attention's 'tensor<2x6x8xf32>'}}
  // expected-error@+1 {{'mp.attention_grad' op failed to infer returned types}}
  %0:3 = mp.attention_grad %q, %q, %q, %q, %lse, %g scale 1.0 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6xf32>, tensor<2x6x4xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return
}

// -----

func.func @attention_grad_output(%q: tensor<2x6x8xf32>, %o: tensor<2x6x4xf32>, %lse: tensor<2x6xf32>) {
  // expected-error@+2 {{mp.attention_grad output 'tensor<2x6x4xf32>' does not match the attention's 'tensor<2x6x8xf32>'}}
  // expected-error@+1 {{'mp.attention_grad' op failed to infer returned types}}
  %0:3 = mp.attention_grad %q, %q, %q, %o, %lse, %q scale 1.0 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x4xf32>, tensor<2x6xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return
}

// -----

func.func @attention_grad_lse(%q: tensor<2x6x8xf32>, %lse: tensor<2x5xf32>) {
  // expected-error@+2 {{mp.attention_grad lse 'tensor<2x5xf32>' does not match the attention's 'tensor<2x6xf32>'}}
  // expected-error@+1 {{'mp.attention_grad' op failed to infer returned types}}
  %0:3 = mp.attention_grad %q, %q, %q, %q, %lse, %q scale 1.0 : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x5xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return
}

// -----

func.func @rsqrt_eps(%x: tensor<8xf32>) {
  // expected-error@+1 {{'mp.rsqrt' op eps must be finite and non-negative, got -1}}
  %0 = mp.rsqrt %x eps -1.0 : tensor<8xf32>
  return
}

// -----

func.func @clamp_unordered(%x: tensor<8xf32>) {
  // expected-error@+1 {{'mp.clamp' op needs min <= max, got [2.000000e+00, -2.000000e+00]}}
  %0 = mp.clamp %x min 2.0 max -2.0 : tensor<8xf32>
  return
}

// -----

func.func @clamp_mask_nan(%x: tensor<8xf32>) {
  // expected-error@+1 {{'mp.clamp_mask' op needs min <= max, got [nan, 1.000000e+00]}}
  %0 = mp.clamp_mask %x min 0x7FF8000000000000 max 1.0 : tensor<8xf32>
  return
}
