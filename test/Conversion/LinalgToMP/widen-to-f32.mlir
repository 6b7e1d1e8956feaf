// RUN: mp-opt %s --mp-widen-to-f32 -split-input-file | FileCheck %s

// Types and scalars become f32; the largest bf16 as a clamp bound (only
// a minimum reads it: the end of the type's range) becomes the largest
// f32, another scalar widens exactly (0.333333 in bf16 is 0.333984375). Conversions between bf16 and f32 go; one to or
// from another type (f64) stays, from and to f32.

// CHECK-LABEL: func.func @body
// CHECK-SAME: (%{{.+}}: tensor<4xf32>, %[[S:.+]]: f64) -> tensor<4xf32>
// CHECK-DAG: %[[BIG:.+]] = arith.constant 3.40282347E+38 : f32
// CHECK-DAG: %[[THIRD:.+]] = arith.constant 0.333984375 : f32
// CHECK: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[M:.+]] = arith.minimumf %[[IN]], %[[BIG]] : f32
// CHECK-NEXT: %[[T:.+]] = arith.mulf %[[M]], %[[THIRD]] : f32
// CHECK-NEXT: %[[D:.+]] = arith.extf %[[T]] : f32 to f64
// CHECK-NEXT: %[[P:.+]] = arith.mulf %[[D]], %[[S]] : f64
// CHECK-NEXT: %[[B:.+]] = arith.truncf %[[P]] : f64 to f32
// CHECK-NEXT: linalg.yield %[[B]] : f32
// CHECK-NEXT: } -> tensor<4xf32>
func.func @body(%x: tensor<4xbf16>, %s: f64) -> tensor<4xbf16> {
  %e = tensor.empty() : tensor<4xbf16>
  %big = arith.constant 3.38953139E+38 : bf16
  %third = arith.constant 0.333333 : bf16
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xbf16>) outs(%e : tensor<4xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %w = arith.extf %in : bf16 to f32
    %n = arith.truncf %w : f32 to bf16
    %m = arith.minimumf %n, %big : bf16
    %t = arith.mulf %m, %third : bf16
    %d = arith.extf %t : bf16 to f64
    %p = arith.mulf %d, %s : f64
    %b = arith.truncf %p : f64 to bf16
    linalg.yield %b : bf16
  } -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// -----

// Literals: dense values, a splat and a global's value widen exactly (1.1
// in bf16 is 1.1015625); a dense_resource blob becomes the f32 blob of its
// values (bf16 0x3F80 0xC000 = 1, -2); an elided one stays elided.

// CHECK: ml_program.global private @g(dense<[5.000000e-01, -1.500000e+00]> : tensor<2xf32>) : tensor<2xf32>
// CHECK-LABEL: func.func @literals
// CHECK-NEXT: arith.constant dense<[2.500000e-01, 3.000000e+00]> : tensor<2xf32>
// CHECK-NEXT: arith.constant dense<1.1015625> : tensor<2xf32>
// CHECK-NEXT: arith.constant dense_resource<[[BLOB:blob[_0-9]*]]> : tensor<2xf32>
// CHECK-NEXT: arith.constant dense_resource<__elided__> : tensor<2xf32>
// CHECK-NEXT: ml_program.global_load @g : tensor<2xf32>
// CHECK: [[BLOB]]: "0x040000000000803F000000C0"
ml_program.global private @g(dense<[0.5, -1.5]> : tensor<2xbf16>) : tensor<2xbf16>
func.func @literals() -> (tensor<2xbf16>, tensor<2xbf16>, tensor<2xbf16>, tensor<2xbf16>, tensor<2xbf16>) {
  %dense = arith.constant dense<[0.25, 3.0]> : tensor<2xbf16>
  %splat = arith.constant dense<1.1> : tensor<2xbf16>
  %blob = arith.constant dense_resource<blob> : tensor<2xbf16>
  %elided = arith.constant dense_resource<__elided__> : tensor<2xbf16>
  %global = ml_program.global_load @g : tensor<2xbf16>
  return %dense, %splat, %blob, %elided, %global : tensor<2xbf16>, tensor<2xbf16>, tensor<2xbf16>, tensor<2xbf16>, tensor<2xbf16>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x02000000803F00C0"
    }
  }
#-}

// -----

// f16 as bf16: the largest f16 (65504) becomes the largest f32, a splat
// widens exactly (0.1 in f16 is 0.0999755859375), and a blob's values too,
// whatever they are (f16 0x3C00 0x0001 0x7C00 0x8000 = 1, the smallest
// subnormal 2^-24, +inf, -0), through an f32 product that rounds back.

// CHECK-LABEL: func.func @half
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>) -> tensor<4xf32>
// CHECK-DAG: arith.constant 3.40282347E+38 : f32
// CHECK-DAG: arith.constant dense<0.0999755859> : tensor<4xf32>
// CHECK-DAG: arith.constant dense_resource<[[HALF:half[_0-9]*]]> : tensor<4xf32>
// CHECK-NOT: arith.extf
// CHECK-NOT: arith.truncf
// CHECK: [[HALF]]: "0x040000000000803F000080330000807F00000080"
func.func @half(%x: tensor<4xf16>) -> tensor<4xf16> {
  %big = arith.constant 65504.0 : f16
  %tenth = arith.constant dense<0.1> : tensor<4xf16>
  %blob = arith.constant dense_resource<half> : tensor<4xf16>
  %e = tensor.empty() : tensor<4xf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x, %tenth, %blob : tensor<4xf16>, tensor<4xf16>, tensor<4xf16>) outs(%e : tensor<4xf16>) {
  ^bb0(%in: f16, %t: f16, %b: f16, %out: f16):
    %m = arith.minimumf %in, %big : f16
    %w = arith.extf %m : f16 to f32
    %tw = arith.extf %t : f16 to f32
    %p = arith.mulf %w, %tw : f32
    %n = arith.truncf %p : f32 to f16
    %s = arith.addf %n, %b : f16
    linalg.yield %s : f16
  } -> tensor<4xf16>
  return %r : tensor<4xf16>
}
{-#
  dialect_resources: {
    builtin: {
      half: "0x02000000003C0100007C0080"
    }
  }
#-}

// -----

// The largest bf16 that is not a clamp bound (a fill that a select
// writes, as torch.finfo(dtype).min) widens exactly, as any value.

// CHECK-LABEL: func.func @fill
// CHECK: arith.constant -3.38953139E+38 : f32
func.func @fill(%x: tensor<4xbf16>, %keep: tensor<4xi1>) -> tensor<4xbf16> {
  %lowest = arith.constant -3.38953139E+38 : bf16
  %e = tensor.empty() : tensor<4xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x, %keep : tensor<4xbf16>, tensor<4xi1>) outs(%e : tensor<4xbf16>) {
  ^bb0(%in: bf16, %k: i1, %out: bf16):
    %s = arith.select %k, %in, %lowest : bf16
    linalg.yield %s : bf16
  } -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// -----

// A model without 16-bit floats is unchanged, a conversion from f64
// included.

// CHECK-LABEL: func.func @f32_model
// CHECK-NEXT: arith.truncf %{{.+}} : tensor<4xf64> to tensor<4xf32>
func.func @f32_model(%x: tensor<4xf64>) -> tensor<4xf32> {
  %w = arith.truncf %x : tensor<4xf64> to tensor<4xf32>
  return %w : tensor<4xf32>
}
