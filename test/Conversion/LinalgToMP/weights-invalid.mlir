// RUN: mp-opt %s --mp-import="weights=%t.safetensors" -verify-diagnostics

// A weight whose values the IR does not hold cannot be written.
func.func @elided(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  // expected-error @+1 {{weight 'param0' has no values in the IR (an elided dense_resource, or a global without a value): drop weights= and initialise it in the trainer}}
  %w = arith.constant dense_resource<__elided__> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %wt = linalg.transpose ins(%w : tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<4x2xf32>, tensor<2x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
