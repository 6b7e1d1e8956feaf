// RUN: mp-opt %s --mp-import=loss=cross_entropy -split-input-file -verify-diagnostics
// RUN: not mp-opt %s --mp-import=loss=hinge -split-input-file 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// RUN: not mp-opt %s --mp-import="loss=cross_entropy ignore-index=pad" -split-input-file 2>&1 | FileCheck %s --check-prefix=NOINTEGER
// RUN: not mp-opt %s --mp-import="loss=mse ignore-index=-100" -split-input-file 2>&1 | FileCheck %s --check-prefix=NOTCE

// UNKNOWN: error: unknown loss 'hinge': choose none, sum, mean, mse or cross_entropy
// NOINTEGER: error: ignore-index 'pad' is no 64-bit integer
// NOTCE: error: ignore-index goes with loss=cross_entropy, not mse

// expected-error @below {{cannot append a cross_entropy loss to a function with 2 results: it needs one, the model's output}}
func.func @two_results(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  return %x, %x : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// expected-error @below {{cannot append a cross_entropy loss to an output of type 'tensor<f32>': it needs [..., classes]}}
func.func @scalar(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}
