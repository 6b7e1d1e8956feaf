// Every op the reference interpreter runs, one small function each, on
// constants whose results are worked out by hand (transcendental values to
// the 7 digits printed).
//
// RUN: mp-run %s --entry=linear_batched --print | FileCheck %s --check-prefix=LINEAR
// RUN: mp-run %s --entry=matmul_batched --print | FileCheck %s --check-prefix=MATMUL
// RUN: mp-run %s --entry=matmul_shared_rhs --print | FileCheck %s --check-prefix=SHARED
// RUN: mp-run %s --entry=matmul_scaled --print | FileCheck %s --check-prefix=SCALED
// RUN: mp-run %s --entry=binary --print | FileCheck %s --check-prefix=BINARY
// RUN: mp-run %s --entry=unary --print | FileCheck %s --check-prefix=UNARY
// RUN: mp-run %s --entry=gelu --print | FileCheck %s --check-prefix=GELU
// RUN: mp-run %s --entry=silu_grad --print | FileCheck %s --check-prefix=SILUGRAD
// RUN: mp-run %s --entry=swiglu --print | FileCheck %s --check-prefix=SWIGLU
// RUN: mp-run %s --entry=scale --print | FileCheck %s --check-prefix=SCALE
// RUN: mp-run %s --entry=reductions --print | FileCheck %s --check-prefix=REDUCE
// RUN: mp-run %s --entry=reshape --print | FileCheck %s --check-prefix=RESHAPE
// RUN: mp-run %s --entry=transpose --print | FileCheck %s --check-prefix=TRANSPOSE
// RUN: mp-run %s --entry=mse_loss --print | FileCheck %s --check-prefix=MSE
// RUN: mp-run %s --entry=cross_entropy --print | FileCheck %s --check-prefix=XENT
// RUN: mp-run %s --entry=identities --print | FileCheck %s --check-prefix=IDENT
// RUN: mp-run %s --entry=constants --print | FileCheck %s --check-prefix=CONST

mp.mesh @mesh = <a = 2>

// x·Wᵀ with a leading batch dim: W's rows pick x's entries 0, 1, 2 and
// their sum.
// LINEAR: result #0: [2x1x4]
// LINEAR-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 6.000000e+00
// LINEAR-NEXT: 4.000000e+00 5.000000e+00 6.000000e+00 1.500000e+01
// LINEAR-NOT: result
func.func @linear_batched() -> tensor<2x1x4xf32> {
  %x = arith.constant dense<[[[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0]]]> : tensor<2x1x3xf32>
  %w = arith.constant dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]> : tensor<4x3xf32>
  %y = mp.linear %x, %w : (tensor<2x1x3xf32>, tensor<4x3xf32>) -> tensor<2x1x4xf32>
  return %y : tensor<2x1x4xf32>
}

// Batch 0: [1, 2]·I = [1, 2]; batch 1: [3, 4]·diag(2, 3) = [6, 12].
// MATMUL: result #0: [2x1x2]
// MATMUL-NEXT: 1.000000e+00 2.000000e+00
// MATMUL-NEXT: 6.000000e+00 1.200000e+01
// MATMUL-NOT: result
func.func @matmul_batched() -> tensor<2x1x2xf32> {
  %a = arith.constant dense<[[[1.0, 2.0]], [[3.0, 4.0]]]> : tensor<2x1x2xf32>
  %b = arith.constant dense<[[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 3.0]]]> : tensor<2x2x2xf32>
  %c = mp.matmul %a, %b : (tensor<2x1x2xf32>, tensor<2x2x2xf32>) -> tensor<2x1x2xf32>
  return %c : tensor<2x1x2xf32>
}

// One [2, 3] rhs for both batches: [a, b] -> [a, b, a + b].
// SHARED: result #0: [2x1x3]
// SHARED-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00
// SHARED-NEXT: 3.000000e+00 4.000000e+00 7.000000e+00
// SHARED-NOT: result
func.func @matmul_shared_rhs() -> tensor<2x1x3xf32> {
  %a = arith.constant dense<[[[1.0, 2.0]], [[3.0, 4.0]]]> : tensor<2x1x2xf32>
  %b = arith.constant dense<[[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]> : tensor<2x3xf32>
  %c = mp.matmul %a, %b : (tensor<2x1x2xf32>, tensor<2x3xf32>) -> tensor<2x1x3xf32>
  return %c : tensor<2x1x3xf32>
}

// The shared-rhs product times -0.25.
// SCALED: result #0: [2x1x3]
// SCALED-NEXT: -2.500000e-01 -5.000000e-01 -7.500000e-01
// SCALED-NEXT: -7.500000e-01 -1.000000e+00 -1.750000e+00
// SCALED-NOT: result
func.func @matmul_scaled() -> tensor<2x1x3xf32> {
  %a = arith.constant dense<[[[1.0, 2.0]], [[3.0, 4.0]]]> : tensor<2x1x2xf32>
  %b = arith.constant dense<[[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]> : tensor<2x3xf32>
  %c = mp.matmul %a, %b scale -0.25 : (tensor<2x1x2xf32>, tensor<2x3xf32>) -> tensor<2x1x3xf32>
  return %c : tensor<2x1x3xf32>
}

// a = [1, 2, 3, 4], b = [2, 4, -1, 0.5].
// BINARY: result #0: [4]
// BINARY-NEXT: 3.000000e+00 6.000000e+00 2.000000e+00 4.500000e+00
// BINARY-NEXT: result #1: [4]
// BINARY-NEXT: -1.000000e+00 -2.000000e+00 4.000000e+00 3.500000e+00
// BINARY-NEXT: result #2: [4]
// BINARY-NEXT: 2.000000e+00 8.000000e+00 -3.000000e+00 2.000000e+00
// BINARY-NEXT: result #3: [4]
// BINARY-NEXT: 5.000000e-01 5.000000e-01 -3.000000e+00 8.000000e+00
// BINARY-NEXT: result #4: [4]
// BINARY-NEXT: -1.000000e+00 -2.000000e+00 -3.000000e+00 -4.000000e+00
// BINARY-NOT: result
func.func @binary() -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %a = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %b = arith.constant dense<[2.0, 4.0, -1.0, 0.5]> : tensor<4xf32>
  %add = mp.add %a, %b : tensor<4xf32>
  %sub = mp.sub %a, %b : tensor<4xf32>
  %mul = mp.mul %a, %b : tensor<4xf32>
  %div = mp.div %a, %b : tensor<4xf32>
  %neg = mp.neg %a : tensor<4xf32>
  return %add, %sub, %mul, %div, %neg : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// On x = [0, 1, -1, 2]: exp = [1, e, 1/e, e²]; relu; sigmoid σ(1) =
// 0.7310586, σ(-1) = 1 - σ(1), σ(2) = 0.8807971; silu x·σ(x).
// UNARY: result #0: [4]
// UNARY-NEXT: 1.000000e+00 2.718282e+00 3.678794e-01 7.389056e+00
// UNARY-NEXT: result #1: [4]
// UNARY-NEXT: 0.000000e+00 1.000000e+00 0.000000e+00 2.000000e+00
// UNARY-NEXT: result #2: [4]
// UNARY-NEXT: 5.000000e-01 7.310586e-01 2.689414e-01 8.807971e-01
// UNARY-NEXT: result #3: [4]
// UNARY-NEXT: 0.000000e+00 7.310586e-01 -2.689414e-01 1.761594e+00
// UNARY-NOT: result
func.func @unary() -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %x = arith.constant dense<[0.0, 1.0, -1.0, 2.0]> : tensor<4xf32>
  %exp = mp.exp %x : tensor<4xf32>
  %relu = mp.relu %x : tensor<4xf32>
  %sigmoid = mp.sigmoid %x : tensor<4xf32>
  %silu = mp.silu %x : tensor<4xf32>
  return %exp, %relu, %sigmoid, %silu : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// Exact GELU x·Φ(x): Φ(1) = 0.8413447, -Φ(-1) = -0.1586553, 2·Φ(2) =
// 1.9545000. The tanh form 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))):
// 0.8411920, -0.1588080, 1.9545977.
// GELU: result #0: [4]
// GELU-NEXT: 0.000000e+00 8.413447e-01 -1.586553e-01 1.954500e+00
// GELU-NEXT: result #1: [4]
// GELU-NEXT: 0.000000e+00 8.411920e-01 -1.588080e-01 1.954598e+00
// GELU-NOT: result
func.func @gelu() -> (tensor<4xf32>, tensor<4xf32>) {
  %x = arith.constant dense<[0.0, 1.0, -1.0, 2.0]> : tensor<4xf32>
  %exact = mp.gelu %x : tensor<4xf32>
  %tanh = mp.gelu %x tanh : tensor<4xf32>
  return %exact, %tanh : tensor<4xf32>, tensor<4xf32>
}

// silu'(x) = σ(x)·(1 + x·(1 - σ(x))), times the gradient [1, 2, 1, 0.5]
// at x = [0, 1, -1, 2]: 1/2, 2·0.9276705, 0.07232949, 0.5·1.090784.
// SILUGRAD: result #0: [4]
// SILUGRAD-NEXT: 5.000000e-01 1.855341e+00 7.232949e-02 5.453921e-01
// SILUGRAD-NOT: result
func.func @silu_grad() -> tensor<4xf32> {
  %x = arith.constant dense<[0.0, 1.0, -1.0, 2.0]> : tensor<4xf32>
  %g = arith.constant dense<[1.0, 2.0, 1.0, 0.5]> : tensor<4xf32>
  %dx = mp.silu_grad %g, %x : tensor<4xf32>
  return %dx : tensor<4xf32>
}

// silu(x)·u with u = [3, 2, -1, 0.5] at x = [0, 1, -1, 2]: 0, 2·0.7310586,
// 0.2689414, 0.5·1.761594.
// SWIGLU: result #0: [4]
// SWIGLU-NEXT: 0.000000e+00 1.462117e+00 2.689414e-01 8.807971e-01
// SWIGLU-NOT: result
func.func @swiglu() -> tensor<4xf32> {
  %x = arith.constant dense<[0.0, 1.0, -1.0, 2.0]> : tensor<4xf32>
  %u = arith.constant dense<[3.0, 2.0, -1.0, 0.5]> : tensor<4xf32>
  %y = mp.swiglu %x, %u : tensor<4xf32>
  return %y : tensor<4xf32>
}

// SCALE: result #0: [3]
// SCALE-NEXT: 5.000000e-01 -1.000000e+00 1.500000e+00
// SCALE-NEXT: result #1: [3]
// SCALE-NEXT: -3.000000e+00 6.000000e+00 -9.000000e+00
// SCALE-NOT: result
func.func @scale() -> (tensor<3xf32>, tensor<3xf32>) {
  %x = arith.constant dense<[1.0, -2.0, 3.0]> : tensor<3xf32>
  %half = mp.scale %x by 0.5 : tensor<3xf32>
  %minus3 = mp.scale %x by -3.0 : tensor<3xf32>
  return %half, %minus3 : tensor<3xf32>, tensor<3xf32>
}

// x = [[1, 2, 3], [4, 5, 6]]: sum 21, column sums [5, 7, 9], row means
// [2, 5], mean 3.5. y = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] summed over
// dims 0 and 2: [1+2+5+6, 3+4+7+8] = [14, 22]; its mean over dims 0 and 2
// divides by 4.
// REDUCE: result #0: []
// REDUCE-NEXT: 2.100000e+01
// REDUCE-NEXT: result #1: [3]
// REDUCE-NEXT: 5.000000e+00 7.000000e+00 9.000000e+00
// REDUCE-NEXT: result #2: [2]
// REDUCE-NEXT: 2.000000e+00 5.000000e+00
// REDUCE-NEXT: result #3: []
// REDUCE-NEXT: 3.500000e+00
// REDUCE-NEXT: result #4: [2]
// REDUCE-NEXT: 1.400000e+01 2.200000e+01
// REDUCE-NEXT: result #5: [2]
// REDUCE-NEXT: 3.500000e+00 5.500000e+00
// REDUCE-NOT: result
func.func @reductions() -> (tensor<f32>, tensor<3xf32>, tensor<2xf32>, tensor<f32>, tensor<2xf32>, tensor<2xf32>) {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %sum = mp.sum %x : tensor<2x3xf32> -> tensor<f32>
  %cols = mp.sum %x dims [0] : tensor<2x3xf32> -> tensor<3xf32>
  %rows = mp.mean %x dims [1] : tensor<2x3xf32> -> tensor<2xf32>
  %mean = mp.mean %x : tensor<2x3xf32> -> tensor<f32>
  %y = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]> : tensor<2x2x2xf32>
  %outer = mp.sum %y dims [0, 2] : tensor<2x2x2xf32> -> tensor<2xf32>
  %outerMean = mp.mean %y dims [0, 2] : tensor<2x2x2xf32> -> tensor<2xf32>
  return %sum, %cols, %rows, %mean, %outer, %outerMean : tensor<f32>, tensor<3xf32>, tensor<2xf32>, tensor<f32>, tensor<2xf32>, tensor<2xf32>
}

// Row-major order is kept: 1..6 as [2, 3] read as [3, 2] and as [6].
// RESHAPE: result #0: [3x2]
// RESHAPE-NEXT: 1.000000e+00 2.000000e+00
// RESHAPE-NEXT: 3.000000e+00 4.000000e+00
// RESHAPE-NEXT: 5.000000e+00 6.000000e+00
// RESHAPE-NEXT: result #1: [6]
// RESHAPE-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00 5.000000e+00 6.000000e+00
// RESHAPE-NOT: result
func.func @reshape() -> (tensor<3x2xf32>, tensor<6xf32>) {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %a = mp.reshape %x : tensor<2x3xf32> -> tensor<3x2xf32>
  %b = mp.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  return %a, %b : tensor<3x2xf32>, tensor<6xf32>
}

// Result dim i is input dim perm[i]. x = [[[1, 2, 3], [4, 5, 6]]] of shape
// [1, 2, 3] with perm [2, 0, 1] is [3, 1, 2] with r[i][0][k] = x[0][k][i].
// y = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] with perm [1, 2, 0] has
// r[i][j][k] = y[k][i][j]: [[[1, 5], [2, 6]], [[3, 7], [4, 8]]].
// TRANSPOSE: result #0: [3x1x2]
// TRANSPOSE-NEXT: 1.000000e+00 4.000000e+00
// TRANSPOSE-NEXT: 2.000000e+00 5.000000e+00
// TRANSPOSE-NEXT: 3.000000e+00 6.000000e+00
// TRANSPOSE-NEXT: result #1: [2x2x2]
// TRANSPOSE-NEXT: 1.000000e+00 5.000000e+00
// TRANSPOSE-NEXT: 2.000000e+00 6.000000e+00
// TRANSPOSE-NEXT: 3.000000e+00 7.000000e+00
// TRANSPOSE-NEXT: 4.000000e+00 8.000000e+00
// TRANSPOSE-NOT: result
func.func @transpose() -> (tensor<3x1x2xf32>, tensor<2x2x2xf32>) {
  %x = arith.constant dense<[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]> : tensor<1x2x3xf32>
  %a = mp.transpose %x perm [2, 0, 1] : tensor<1x2x3xf32> -> tensor<3x1x2xf32>
  %y = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]> : tensor<2x2x2xf32>
  %b = mp.transpose %y perm [1, 2, 0] : tensor<2x2x2xf32> -> tensor<2x2x2xf32>
  return %a, %b : tensor<3x1x2xf32>, tensor<2x2x2xf32>
}

// (a - b)² = [1, 4, 0]: mean 5/3, sum 5.
// MSE: result #0: []
// MSE-NEXT: 1.666667e+00
// MSE-NEXT: result #1: []
// MSE-NEXT: 5.000000e+00
// MSE-NOT: result
func.func @mse_loss() -> (tensor<f32>, tensor<f32>) {
  %a = arith.constant dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
  %b = arith.constant dense<[[0.0, 4.0, 3.0]]> : tensor<1x3xf32>
  %mean = mp.mse_loss %a, %b : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<f32>
  %sum = mp.mse_loss %a, %b reduction sum : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<f32>
  return %mean, %sum : tensor<f32>, tensor<f32>
}

// Logits [[1, 2, 3], [0, 0, 0]], targets [0, 1]: row 0 is
// log(e + e² + e³) - 1 = 3.4076060 - 1 = 2.4076060, row 1 is log 3 =
// 1.0986123; sum 3.5062183, mean 1.7531091. The same rows as [2, 1, 3]
// logits with [2, 1] i32 targets give the same losses.
// XENT: result #0: []
// XENT-NEXT: 1.753109e+00
// XENT-NEXT: result #1: []
// XENT-NEXT: 3.506218e+00
// XENT-NEXT: result #2: []
// XENT-NEXT: 1.753109e+00
// XENT-NOT: result
func.func @cross_entropy() -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  %logits = arith.constant dense<[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]> : tensor<2x3xf32>
  %targets = arith.constant dense<[0, 1]> : tensor<2xi64>
  %mean = mp.cross_entropy %logits, %targets : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %sum = mp.cross_entropy %logits, %targets reduction sum : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %logits3 = arith.constant dense<[[[1.0, 2.0, 3.0]], [[0.0, 0.0, 0.0]]]> : tensor<2x1x3xf32>
  %targets3 = arith.constant dense<[[0], [1]]> : tensor<2x1xi32>
  %mean3 = mp.cross_entropy %logits3, %targets3 : (tensor<2x1x3xf32>, tensor<2x1xi32>) -> tensor<f32>
  return %mean, %sum, %mean3 : tensor<f32>, tensor<f32>, tensor<f32>
}

// mp.annotate and mp.reshard return their operand.
// IDENT: result #0: [2]
// IDENT-NEXT: 1.000000e+00 -2.000000e+00
// IDENT-NEXT: result #1: [2]
// IDENT-NEXT: 1.000000e+00 -2.000000e+00
// IDENT-NOT: result
func.func @identities() -> (tensor<2xf32>, tensor<2xf32>) {
  %x = arith.constant dense<[1.0, -2.0]> : tensor<2xf32>
  %a = mp.annotate %x <@mesh, [[a]]> : tensor<2xf32>
  %r = mp.reshard %a <@mesh, [[]]> : tensor<2xf32>
  return %a, %r : tensor<2xf32>, tensor<2xf32>
}

// Splat and non-splat, float and integer constants of every element type,
// computed in double: 0.1 as f64 times 3 is 0.3; 0.1 as bf16 is 0.10009766.
// CONST: result #0: [2x2]
// CONST-NEXT: 2.500000e+00 2.500000e+00
// CONST-NEXT: 2.500000e+00 2.500000e+00
// CONST-NEXT: result #1: [3]
// CONST-NEXT: 7.000000e+00 7.000000e+00 7.000000e+00
// CONST-NEXT: result #2: [3]
// CONST-NEXT: -1.000000e+00 0.000000e+00 5.000000e+00
// CONST-NEXT: result #3: [1]
// CONST-NEXT: 3.000000e-01
// CONST-NEXT: result #4: [1]
// CONST-NEXT: 1.000977e-01
// CONST-NEXT: result #5: [2]
// CONST-NEXT: 5.000000e-01 -1.500000e+00
// CONST-NOT: result
func.func @constants() -> (tensor<2x2xf32>, tensor<3xi64>, tensor<3xi32>, tensor<1xf64>, tensor<1xbf16>, tensor<2xf16>) {
  %splat = arith.constant dense<2.5> : tensor<2x2xf32>
  %isplat = arith.constant dense<7> : tensor<3xi64>
  %ints = arith.constant dense<[-1, 0, 5]> : tensor<3xi32>
  %tenth = arith.constant dense<[0.1]> : tensor<1xf64>
  %f64 = mp.scale %tenth by 3.0 : tensor<1xf64>
  %bf16 = arith.constant dense<[0.1]> : tensor<1xbf16>
  %f16 = arith.constant dense<[0.5, -1.5]> : tensor<2xf16>
  return %splat, %isplat, %ints, %f64, %bf16, %f16 : tensor<2x2xf32>, tensor<3xi64>, tensor<3xi32>, tensor<1xf64>, tensor<1xbf16>, tensor<2xf16>
}
