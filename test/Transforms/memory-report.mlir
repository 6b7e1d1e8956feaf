// The static per-rank memory plan: arguments are persistent, values get
// arena offsets by first fit over the live ones, buffers are 64-byte
// aligned and reused once dead; an elementwise op whose operand nothing
// reads later writes over the operand's buffer.
//
// RUN: mp-opt %s -split-input-file --mp-memory-report -o /dev/null | FileCheck %s

// A chain of four 64-byte values: each overwrites the one before, so one
// buffer holds them all.
// CHECK: "function": "chain",
// CHECK-NEXT: "partitioned": false,
// CHECK-NEXT: "persistent_bytes": 64,
// CHECK-NEXT: "arena_bytes": 64,
// CHECK-NEXT: "unpooled_bytes": 256,
// CHECK-NEXT: "peak_bytes": 128,
// CHECK-NEXT: "buffers": 4
func.func @chain(%x: tensor<16xf32>) -> tensor<16xf32> {
  %a = mp.neg %x : tensor<16xf32>
  %b = mp.exp %a : tensor<16xf32>
  %c = mp.neg %b : tensor<16xf32>
  %d = mp.exp %c : tensor<16xf32>
  return %d : tensor<16xf32>
}

// -----

// A diamond: %c overwrites %a (its last reader), %d overwrites %b; the
// scalar %e then reuses the buffer of %a and %c, dead by then. Buffers are
// rounded up to 64 bytes (a 4-byte scalar takes 64).
// CHECK: "function": "diamond",
// CHECK-NEXT: "partitioned": false,
// CHECK-NEXT: "persistent_bytes": 68,
// CHECK-NEXT: "arena_bytes": 128,
// CHECK-NEXT: "unpooled_bytes": 320,
// CHECK-NEXT: "peak_bytes": 196,
// CHECK-NEXT: "buffers": 5
func.func @diamond(%x: tensor<16xf32>, %s: tensor<f32>) -> (tensor<16xf32>, tensor<f32>) {
  %a = mp.neg %x : tensor<16xf32>
  %b = mp.exp %a : tensor<16xf32>
  %c = mp.neg %a : tensor<16xf32>
  %d = mp.add %b, %c : tensor<16xf32>
  %e = mp.neg %s : tensor<f32>
  return %d, %e : tensor<16xf32>, tensor<f32>
}


// -----

// A GEMM adding into a sum nothing reads later computes in the sum's
// buffer: one buffer holds both. Its kernel reads x, w and the sum and
// writes the sum (256 bytes, after the negation's 128).
// CHECK: "function": "accumulate_in_place",
// CHECK-NEXT: "partitioned": false,
// CHECK-NEXT: "persistent_bytes": 128,
// CHECK-NEXT: "arena_bytes": 64,
// CHECK: "kernel_bytes": 384
func.func @accumulate_in_place(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %g = mp.neg %x : tensor<4x4xf32>
  %s = mp.linear %x, %w accumulate %g : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// -----

// The same sum also read as the GEMM's (transposed) weight: the GEMM reads
// it whole while it writes, so the sum gets a buffer of its own, and the
// accumulator is copied there first (128 bytes more).
// CHECK: "function": "accumulate_into_a_factor",
// CHECK-NEXT: "partitioned": false,
// CHECK-NEXT: "persistent_bytes": 64,
// CHECK-NEXT: "arena_bytes": 128,
// CHECK: "kernel_bytes": 512
func.func @accumulate_into_a_factor(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %g = mp.neg %x : tensor<4x4xf32>
  %t = mp.transpose %g perm [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %s = mp.linear %x, %t accumulate %g : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}
