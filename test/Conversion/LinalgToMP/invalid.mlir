// RUN: mp-opt %s --mp-import -split-input-file -verify-diagnostics

func.func @convolution(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>, %o: tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32> {
  // expected-error @below {{cannot import 'linalg.conv_2d_nhwc_hwcf': mp imports func.func, func.return, arith.constant}}
  %0 = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) outs(%o : tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32>
  return %0 : tensor<1x6x6x4xf32>
}

// -----

func.func @tosa_left(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{cannot import 'tosa.exp'}}
  // expected-note @below {{lower TOSA first: --mp-import-tosa}}
  %0 = tosa.exp %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// expected-error @below {{cannot import an argument of type 'tensor<?x8xf32>': dynamic shapes are not supported yet}}
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  return %x : tensor<?x8xf32>
}

// -----

// expected-error @below {{cannot import an argument of type 'tensor<4x8xf64>': mp imports f32, bf16 and f16 models}}
func.func @double(%x: tensor<4x8xf64>) -> tensor<4x8xf64> {
  return %x : tensor<4x8xf64>
}

// -----

// Integer arguments (token ids) are i32 or i64; a bool mask is not yet.
// expected-error @below {{cannot import an argument of type 'tensor<4x4xi1>': mp takes integer inputs (token ids) as i32 or i64 (call .long() on it before exporting)}}
func.func @bool_mask(%mask: tensor<4x4xi1>) -> tensor<4x4xi1> {
  return %mask : tensor<4x4xi1>
}

// -----

func.func @double_weight(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{cannot import a weight of type 'tensor<8x8xf64>': mp imports f32, bf16 and f16 models}}
  %w = arith.constant dense_resource<torch_tensor_8_8_torch.float64> : tensor<8x8xf64>
  return %x : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @sqrt(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  // expected-error @below {{cannot import this linalg.generic: its body computes nothing mp has an op for}}
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.sqrt %in : f32
    linalg.yield %t : f32
  } -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @add_constant(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %one = arith.constant 1.000000e+00 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  // expected-error @below {{arith.addf %in, %cst : f32}}
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %one : f32
    linalg.yield %a : f32
  } -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#rows = affine_map<(d0, d1) -> (d0)>
func.func @max_reduction(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  // expected-error @below {{cannot import this linalg.generic: a reduction must add into its output (a sum)}}
  %0 = linalg.generic {indexing_maps = [#id, #rows], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @max_reduce(%x: tensor<4x8xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{cannot import this linalg.reduce: mp has sum and mean reductions, not max, min or products}}
  %0 = linalg.reduce ins(%x : tensor<4x8xf32>) outs(%init : tensor<4xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  return %0 : tensor<4xf32>
}

// -----

#skew = affine_map<(d0, d1) -> (d0 + d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @skewed_map(%x: tensor<11xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  // expected-error @below {{cannot import an operand of type 'tensor<11xf32>' indexed by affine_map<(d0, d1) -> (d0 + d1)>}}
  %0 = linalg.generic {indexing_maps = [#skew, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<11xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @nonzero_accumulator(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %one = arith.constant 1.000000e+00 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  // expected-error @below {{cannot import a product accumulated into a fill of 1.000000e+00: mp has no op to add a constant}}
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A one-element splat is a scalar (TOSA's broadcast constants), not a
// weight: as a matmul operand it is refused, naming it.
func.func @constant_operand(%a: tensor<4x1xf32>) -> tensor<4x1xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %b = arith.constant dense<1.000000e+00> : tensor<1x1xf32>
  %e = tensor.empty() : tensor<4x1xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x1xf32>) -> tensor<4x1xf32>
  // expected-error @below {{cannot import operand #1 of linalg.matmul: it is a arith.constant, and mp has no constant tensors}}
  %0 = linalg.matmul ins(%a, %b : tensor<4x1xf32>, tensor<1x1xf32>) outs(%f : tensor<4x1xf32>) -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

// A generic that broadcasts a constant (torch.full) computes a constant
// tensor: the error blames the constant, not the body.
#scalar = affine_map<(d0, d1) -> ()>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @constant_generic(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-note @below {{operand #0 is this constant, read as a scalar}}
  %two = arith.constant dense<2.000000e+00> : tensor<f32>
  %e = tensor.empty() : tensor<4x8xf32>
  // expected-error @below {{cannot import this linalg.generic: its value is a constant (it reads no tensor the model computes), and mp has no constant tensors}}
  %0 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel"]} ins(%two : tensor<f32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x8xf32>
  %1 = linalg.add ins(%x, %0 : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// A transpose generic of a splat weight is data movement (the weight is a
// parameter); one whose body computes something mp has no op for is
// refused for its body.
#t = affine_map<(d0, d1) -> (d1, d0)>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @transpose_log(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  %e = tensor.empty() : tensor<8x4xf32>
  // expected-error @below {{cannot import this linalg.generic: its body computes nothing mp has an op for}}
  %0 = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %l = math.log %in : f32
    linalg.yield %l : f32
  } -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @constant_result() -> tensor<4xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<4xf32>
  // expected-error @below {{cannot import 'linalg.fill' as a value of the model: mp has no constant tensors}}
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %f : tensor<4xf32>
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d2)>
#rhs = affine_map<(d0, d1, d2) -> (d2, d1)>
#outT = affine_map<(d0, d1, d2) -> (d1, d0)>
func.func @matmul_transposed_result(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<16x4xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<16x4xf32>
  %1 = linalg.fill ins(%zero : f32) outs(%0 : tensor<16x4xf32>) -> tensor<16x4xf32>
  // expected-error @below {{cannot import linalg.matmul writing its result through affine_map<(d0, d1, d2) -> (d1, d0)>}}
  %y = linalg.matmul indexing_maps = [#lhs, #rhs, #outT] ins(%x, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%1 : tensor<16x4xf32>) -> tensor<16x4xf32>
  return %y : tensor<16x4xf32>
}

// -----

// A bf16 or f16 model is read as the f32 model it rounds, which has no bit
// pattern of a 16-bit value to reinterpret.
func.func @bitcast_bf16(%x: tensor<4xbf16>) -> tensor<4xi16> {
  // expected-error @below {{cannot import a bitcast of bf16 values: mp imports bf16 and f16 models as the f32 ones they round}}
  %r = arith.bitcast %x : tensor<4xbf16> to tensor<4xi16>
  return %r : tensor<4xi16>
}

// -----

func.func @bitcast_to_f16(%x: tensor<4xi16>) -> tensor<4xf16> {
  // expected-error @below {{cannot import a bitcast of f16 values: mp imports bf16 and f16 models as the f32 ones they round}}
  %r = arith.bitcast %x : tensor<4xi16> to tensor<4xf16>
  return %r : tensor<4xf16>
}

// -----

func.func @tensor_bitcast_bf16(%x: tensor<4xi16>) -> tensor<4xbf16> {
  // expected-error @below {{cannot import a bitcast of bf16 values: mp imports bf16 and f16 models as the f32 ones they round}}
  %r = tensor.bitcast %x : tensor<4xi16> to tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// -----

// A blob of fewer bytes than its type needs holds no bf16 numbers.
func.func @short_blob() -> tensor<4xbf16> {
  // expected-error @below {{dense_resource blob 'short' holds 4 bytes, not 2 for each element of 'tensor<4xbf16>'}}
  %w = arith.constant dense_resource<short> : tensor<4xbf16>
  return %w : tensor<4xbf16>
}
{-#
  dialect_resources: {
    builtin: {
      short: "0x02000000803F0040"
    }
  }
#-}
