// RUN: mp-opt %s --mp-import -split-input-file | FileCheck %s

// Activation generics as torch-mlir's linalg-on-tensors output spells them.
// Each body is recognised by what it computes, whatever its spelling.

#id = affine_map<(d0, d1) -> (d0, d1)>
// F.relu: cmpf ugt + select.
// CHECK-LABEL: func.func @relu
// CHECK-NEXT: %[[R:.+]] = mp.relu %arg0 : tensor<4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @relu(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.000000e+00 : f32
    %c = arith.cmpf ugt, %in, %zero : f32
    %s = arith.select %c, %in, %zero : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// ReLU as maximumf with a zero captured from outside the body.
// CHECK-LABEL: func.func @relu_max
// CHECK-NEXT: %[[R:.+]] = mp.relu %arg0 : tensor<4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @relu_max(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
// torch.clamp(x, -0.45, 8) as torch-mlir spells it, its bounds 0-d
// tensors: cmpf ult + select, then cmpf ugt + select. mp.clamp by the
// bounds as float32 holds them.
// CHECK-LABEL: func.func @clamp
// CHECK-NEXT: %[[C:.+]] = mp.clamp %arg0 min -0.44999998807907104 max 8.000000e+00 : tensor<4x16xf32>
// CHECK-NEXT: return %[[C]]
func.func @clamp(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %lo = arith.constant dense<-4.500000e-01> : tensor<f32>
  %hi = arith.constant dense<8.000000e+00> : tensor<f32>
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #scalar, #scalar, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %lo, %hi : tensor<4x16xf32>, tensor<f32>, tensor<f32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %min: f32, %max: f32, %out: f32):
    %0 = arith.cmpf ult, %in, %min : f32
    %1 = arith.select %0, %min, %in : f32
    %2 = arith.cmpf ugt, %1, %max : f32
    %3 = arith.select %2, %max, %1 : f32
    linalg.yield %3 : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// torch.clamp(x, max=2) with maximumf's partner minimumf: the lower side
// open.
// CHECK-LABEL: func.func @clamp_max
// CHECK-NEXT: %[[C:.+]] = mp.clamp %arg0 min 0xFFF0000000000000 max 2.000000e+00 : tensor<4x16xf32>
// CHECK-NEXT: return %[[C]]
func.func @clamp_max(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %two = arith.constant 2.000000e+00 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.minimumf %in, %two : f32
    linalg.yield %m : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// F.silu: torch-mlir decomposes it into sigmoid (negf, exp, addf, divf)
// and a product, two generics; together they are one mp.silu.
// CHECK-LABEL: func.func @silu
// CHECK-NEXT: %[[R:.+]] = mp.silu %arg0 : tensor<4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @silu(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %one = arith.constant 1.000000e+00 : f32
    %ex = math.exp %n : f32
    %a = arith.addf %ex, %one : f32
    %d = arith.divf %one, %a : f32
    linalg.yield %d : f32
  } -> tensor<4x16xf32>
  %m = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %s : tensor<4x16xf32>, tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %p = arith.mulf %in, %in_0 : f32
    linalg.yield %p : f32
  } -> tensor<4x16xf32>
  return %m : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// SiLU fused in one body as x / (1 + exp(-x)); sigmoid alone.
// CHECK-LABEL: func.func @silu_fused
// CHECK-NEXT: %[[A:.+]] = mp.silu %arg0 : tensor<4x16xf32>
// CHECK-NEXT: %[[B:.+]] = mp.sigmoid %[[A]] : tensor<4x16xf32>
// CHECK-NEXT: return %[[B]]
func.func @silu_fused(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %one = arith.constant 1.000000e+00 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %ex = math.exp %n : f32
    %a = arith.addf %one, %ex : f32
    %d = arith.divf %in, %a : f32
    linalg.yield %d : f32
  } -> tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %ex = math.exp %n : f32
    %a = arith.addf %ex, %one : f32
    %d = arith.divf %one, %a : f32
    linalg.yield %d : f32
  } -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// torch.tanh as math.tanh; the same function spelled (e^2x - 1)/(e^2x + 1)
// is recognised by what it computes.
// CHECK-LABEL: func.func @tanh
// CHECK-NEXT: %[[A:.+]] = mp.tanh %arg0 : tensor<4x16xf32>
// CHECK-NEXT: %[[B:.+]] = mp.tanh %[[A]] : tensor<4x16xf32>
// CHECK-NEXT: return %[[B]]
func.func @tanh(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %one = arith.constant 1.000000e+00 : f32
  %two = arith.constant 2.000000e+00 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %d = arith.mulf %in, %two : f32
    %ex = math.exp %d : f32
    %n = arith.subf %ex, %one : f32
    %p = arith.addf %ex, %one : f32
    %q = arith.divf %n, %p : f32
    linalg.yield %q : f32
  } -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// F.gelu: torch-mlir's x * (0.5 * (1 + erf((x - 0) / (1 * sqrt(2))))).
// CHECK-LABEL: func.func @gelu
// CHECK-NEXT: %[[R:.+]] = mp.gelu %arg0 : tensor<4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @gelu(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.000000e+00 : f32
    %one = arith.constant 1.000000e+00 : f32
    %xm = arith.subf %in, %zero : f32
    %two = arith.constant 2.000000e+00 : f32
    %sqrt2 = math.sqrt %two : f32
    %den = arith.mulf %one, %sqrt2 : f32
    %arg = arith.divf %xm, %den : f32
    %erf = math.erf %arg : f32
    %one1 = arith.constant 1.000000e+00 : f32
    %p = arith.addf %one1, %erf : f32
    %half = arith.constant 5.000000e-01 : f32
    %cdf = arith.mulf %half, %p : f32
    %r = arith.mulf %in, %cdf : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// F.gelu(approximate="tanh"), with torch-mlir's constant for sqrt(2/pi).
// CHECK-LABEL: func.func @gelu_tanh
// CHECK-NEXT: %[[R:.+]] = mp.gelu %arg0 tanh : tensor<4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @gelu_tanh(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c3 = arith.constant 3 : i64
    %cube = math.fpowi %in, %c3 : f32, i64
    %alpha = arith.constant 4.471500e-02 : f32
    %a = arith.mulf %cube, %alpha : f32
    %s = arith.addf %in, %a : f32
    %beta = arith.constant 0.797724034 : f32
    %b = arith.mulf %beta, %s : f32
    %t = math.tanh %b : f32
    %one = arith.constant 1.000000e+00 : f32
    %p = arith.addf %one, %t : f32
    %half = arith.constant 5.000000e-01 : f32
    %m = arith.mulf %half, %p : f32
    %r = arith.mulf %in, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
// Binary ops with NumPy broadcasting: a [1, 16] operand indexed by 0 on its
// size-1 dim, a rank-0 splat constant, division by a constant, negation,
// exp, and an expression of two operands split into mp ops.
// CHECK-LABEL: func.func @binary
// CHECK-NEXT: %[[R:.+]] = mp.reshape %arg1 : tensor<1x16xf32> -> tensor<16xf32>
// CHECK-NEXT: %[[B:.+]] = mp.broadcast %[[R]] dims [0] : tensor<16xf32> -> tensor<4x16xf32>
// CHECK-NEXT: %[[D:.+]] = mp.sub %arg0, %[[B]] : tensor<4x16xf32>
// CHECK-NEXT: %[[S:.+]] = mp.scale %[[D]] by 5.000000e-01 : tensor<4x16xf32>
// CHECK-NEXT: %[[E:.+]] = mp.exp %arg0 : tensor<4x16xf32>
// CHECK-NEXT: %[[N:.+]] = mp.neg %[[B]] : tensor<4x16xf32>
// CHECK-NEXT: %[[M:.+]] = mp.mul %[[E]], %[[N]] : tensor<4x16xf32>
// CHECK-NEXT: %[[Q:.+]] = mp.div %[[S]], %[[M]] : tensor<4x16xf32>
// CHECK-NEXT: return %[[Q]]
func.func @binary(%x: tensor<4x16xf32>, %y: tensor<1x16xf32>) -> tensor<4x16xf32> {
  %two = arith.constant dense<2.000000e+00> : tensor<f32>
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #row, #scalar, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %y, %two : tensor<4x16xf32>, tensor<1x16xf32>, tensor<f32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_0: f32, %in_1: f32, %out: f32):
    %d = arith.subf %in, %in_0 : f32
    %h = arith.divf %d, %in_1 : f32
    %ex = math.exp %in : f32
    %n = arith.negf %in_0 : f32
    %m = arith.mulf %ex, %n : f32
    %q = arith.divf %h, %m : f32
    linalg.yield %q : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#in = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// A permuting generic (torch's transpose(1, 2)) is an mp.transpose.
// CHECK-LABEL: func.func @transpose
// CHECK-NEXT: %[[T:.+]] = mp.transpose %arg0 perm [0, 2, 1] : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose(%x: tensor<2x4x8xf32>) -> tensor<2x8x4xf32> {
  %e = tensor.empty() : tensor<2x8x4xf32>
  %0 = linalg.generic {indexing_maps = [#in, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<2x4x8xf32>) outs(%e : tensor<2x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x8x4xf32>
  return %0 : tensor<2x8x4xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d1)>
#unit = affine_map<(d0, d1) -> (0, d1)>
// Generics that only yield their input are data movement, read from their
// maps: torch-mlir's aten.t (the permutation on the output map), an
// expand of a [16] or [1, 16] operand to [4, 16] (a missing loop, a size-1
// dim read at 0), an identity copy (nothing); linalg.copy is nothing too.
// CHECK-LABEL: func.func @data_movement
// CHECK-SAME: (%[[X:.+]]: tensor<4x16xf32> {mp.input = "input0"}, %[[B:.+]]: tensor<16xf32> {mp.input = "input1"}, %[[U:.+]]: tensor<1x16xf32> {mp.input = "input2"})
// CHECK-NEXT: %[[T:.+]] = mp.transpose %[[X]] perm [1, 0] : tensor<4x16xf32> -> tensor<16x4xf32>
// CHECK-NEXT: %[[TT:.+]] = mp.transpose %[[T]] perm [1, 0] : tensor<16x4xf32> -> tensor<4x16xf32>
// CHECK-NEXT: %[[E:.+]] = mp.broadcast %[[B]] dims [0] : tensor<16xf32> -> tensor<4x16xf32>
// CHECK-NEXT: %[[R:.+]] = mp.reshape %[[U]] : tensor<1x16xf32> -> tensor<16xf32>
// CHECK-NEXT: %[[F:.+]] = mp.broadcast %[[R]] dims [0] : tensor<16xf32> -> tensor<4x16xf32>
// CHECK-NEXT: %[[S:.+]] = mp.add %[[TT]], %[[E]]
// CHECK-NEXT: %[[S2:.+]] = mp.add %[[S]], %[[F]]
// CHECK-NEXT: return %[[S2]]
func.func @data_movement(%x: tensor<4x16xf32>, %b: tensor<16xf32>, %u: tensor<1x16xf32>) -> tensor<4x16xf32> {
  %et = tensor.empty() : tensor<16x4xf32>
  %e = tensor.empty() : tensor<4x16xf32>
  %t = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%et : tensor<16x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<16x4xf32>
  %tt = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]} ins(%t : tensor<16x4xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x16xf32>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%tt : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x16xf32>
  %copied = linalg.copy ins(%c : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %eb = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x16xf32>
  %eu = linalg.generic {indexing_maps = [#unit, #id], iterator_types = ["parallel", "parallel"]} ins(%u : tensor<1x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x16xf32>
  %s = linalg.add ins(%copied, %eb : tensor<4x16xf32>, tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %s2 = linalg.add ins(%s, %eu : tensor<4x16xf32>, tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %s2 : tensor<4x16xf32>
}
