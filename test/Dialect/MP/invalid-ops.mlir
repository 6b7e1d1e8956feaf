// RUN: mp-opt %s -split-input-file -verify-diagnostics

func.func @linear_weight_rank(%x: tensor<8x16xf32>, %w: tensor<32x16x2xf32>) {
  // expected-error@+2 {{mp.linear weight must be [out, in], got rank 3}}
  // expected-error@+1 {{'mp.linear' op failed to infer returned types}}
  %0 = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16x2xf32>) -> tensor<8x32xf32>
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
