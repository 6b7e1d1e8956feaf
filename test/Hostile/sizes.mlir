// RUN: mp-opt %s -split-input-file -verify-diagnostics
//
// Sizes at the edges: every tensor an mp op or a model argument holds is
// non-empty and counts its bytes in int64 (the memory plan, the lowering,
// the manifest, the interpreter and the runtime multiply without checks
// after this). Refused at the op or the function that declares it.

// 2^31 and 2^32 elements are ordinary sizes.
mp.mesh @mesh = <replica = 1>
func.func @dims_2_31(%x: tensor<2147483648xf32> {mp.param = "w"},
                     %y: tensor<4294967296xf32> {mp.param = "v"}) -> tensor<f32> {
  %s = mp.sum %x : tensor<2147483648xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// 2^62 + 1 f32 elements: 2^64 + 4 bytes wrapped to 4 and compiled to a
// 4-byte buffer the trainer wrote past.
// expected-error@+1 {{argument #0 ('w'): 'tensor<4611686018427387905xf32>' has more bytes than int64 counts}}
func.func @dim_2_62(%x: tensor<4611686018427387905xf32> {mp.param = "w"}) {
  return
}

// -----

// [2^32, 2^32] elements wrapped to 0 bytes and "trained" to loss 0.
// expected-error@+1 {{argument #0 ('w'): 'tensor<4294967296x4294967296xf32>' has more bytes than int64 counts}}
func.func @dims_2_32_squared(%x: tensor<4294967296x4294967296xf32> {mp.param = "w"}) {
  return
}

// -----

// 2^63 - 1 elements of 4 bytes.
// expected-error@+1 {{has more bytes than int64 counts}}
func.func @dim_2_63(%x: tensor<9223372036854775807xf32> {mp.input = "x"}) {
  return
}

// -----

// 2^61 f32 elements are exactly 2^63 bytes: one too many.
// expected-error@+1 {{has more bytes than int64 counts}}
func.func @bytes_2_63(%x: tensor<2305843009213693952xf32> {mp.param = "w"}) {
  return
}

// -----

// An op's own result, from small operands.
func.func @broadcast_result(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mp.broadcast' op result #0: 'tensor<4611686018427387904x4xf32>' has more bytes than int64 counts}}
  %y = mp.broadcast %x dims [0] : tensor<4xf32> -> tensor<4611686018427387904x4xf32>
  return
}

// -----

// Zero-sized dims: mp takes no empty tensors (the lowering divided by them).
// expected-error@+1 {{argument #0 ('w'): 'tensor<0x8xf32>' is empty: mp takes no zero-sized dims}}
func.func @empty_param(%w: tensor<0x8xf32> {mp.param = "w"}) {
  return
}

// -----

func.func @empty_linear(%x: tensor<4x0xf32>, %w: tensor<8x0xf32>) {
  // expected-error@+1 {{'mp.linear' op operand #0: 'tensor<4x0xf32>' is empty}}
  %y = mp.linear %x, %w : (tensor<4x0xf32>, tensor<8x0xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @zero_classes(%x: tensor<4x0xf32>, %t: tensor<4xi64>) {
  // expected-error@+1 {{'mp.cross_entropy' op operand #0: 'tensor<4x0xf32>' is empty}}
  %l = mp.cross_entropy %x, %t : (tensor<4x0xf32>, tensor<4xi64>) -> tensor<f32>
  return
}
