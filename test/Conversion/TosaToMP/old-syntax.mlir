// RUN: mp-opt %s -split-input-file -verify-diagnostics

// mp reads TOSA v1.0 (MLIR 20 and later). Pre-1.0 spellings, such as the
// reshape with a new_shape attribute or the matmul without zero points, are
// rejected by upstream's TOSA verifier when the file is read, with a note
// naming the version mp reads.

func.func @reshape_attribute(%x: tensor<8x16xf32>) -> tensor<1x8x16xf32> {
  // expected-error @below {{'tosa.reshape' op expected 2 operands, but found 1}}
  // expected-note @below {{mp reads TOSA v1.0 (MLIR 20 and later); this looks like an earlier TOSA spelling: export the model again with a current frontend}}
  %0 = tosa.reshape %x {new_shape = array<i64: 1, 8, 16>} : (tensor<8x16xf32>) -> tensor<1x8x16xf32>
  return %0 : tensor<1x8x16xf32>
}

// -----

func.func @matmul_without_zero_points(%a: tensor<1x8x16xf32>, %b: tensor<1x16x32xf32>) -> tensor<1x8x32xf32> {
  // expected-error @below {{'tosa.matmul' op expected 4 operands, but found 2}}
  // expected-note @below {{mp reads TOSA v1.0 (MLIR 20 and later); this looks like an earlier TOSA spelling: export the model again with a current frontend}}
  %0 = tosa.matmul %a, %b : (tensor<1x8x16xf32>, tensor<1x16x32xf32>) -> tensor<1x8x32xf32>
  return %0 : tensor<1x8x32xf32>
}
