// The interpreter catches a partitioned program that computes something
// else: here the tensor-parallel all_reduce after the rowwise GEMM is gone,
// so the ranks return different partial sums for a replicated result.
//
// RUN: split-file %s %t
// RUN: not mp-run %t/broken.mlir --entry=ffn --reference=%t/global.mlir 2>&1 | FileCheck %s --check-prefix=MISMATCH
// RUN: mp-run %t/fixed.mlir --entry=ffn --reference=%t/global.mlir | FileCheck %s --check-prefix=MATCH
// RUN: not mp-run %t/global.mlir --entry=nope 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not mp-run %t/unsupported.mlir --entry=f 2>&1 | FileCheck %s --check-prefix=BADOP

// MISMATCH: error: result #0 differs between ranks 0 and 1, which should hold the same replica
// MATCH: max abs error: {{.*}} over 1 results: match
// ENTRY: mp-run: no function @nope in {{.*}}global.mlir
// BADOP: error: the interpreter cannot run 'arith.addf'
// RUN: not mp-run %t/scalar.mlir --entry=f 2>&1 | FileCheck %s --check-prefix=SCALAR
// SCALAR: error: argument #0 is 'f32'; the interpreter runs on statically shaped tensors
// RUN: not mp-run %t/target.mlir --entry=f 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: target 7 of sample 0 is not a class in [0, 3)
// RUN: not mp-run %t/unsharded.mlir --entry=f 2>&1 | FileCheck %s --check-prefix=UNSHARDED
// UNSHARDED: error: argument #1 of a partitioned function has no sharding

//--- global.mlir
func.func @ffn(%x: tensor<4x8xf32>, %w1: tensor<8x8xf32>, %w2: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %h = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %y = mp.linear %h, %w2 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

//--- fixed.mlir
mp.mesh @mesh = <tp = 2>
func.func @ffn(%x: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
               %w1: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>},
               %w2: tensor<8x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %h = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  %p = mp.linear %h, %w2 : (tensor<4x4xf32>, tensor<8x4xf32>) -> tensor<4x8xf32>
  %y = mp.all_reduce %p on @mesh axes ["tp"] : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

//--- broken.mlir
mp.mesh @mesh = <tp = 2>
func.func @ffn(%x: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
               %w1: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>},
               %w2: tensor<8x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>})
    -> (tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %h = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  %p = mp.linear %h, %w2 : (tensor<4x4xf32>, tensor<8x4xf32>) -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

//--- unsupported.mlir
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

//--- scalar.mlir
func.func @f(%x: f32) -> f32 {
  return %x : f32
}

//--- target.mlir
func.func @f() -> tensor<f32> {
  %logits = arith.constant dense<[[0.0, 1.0, 2.0]]> : tensor<1x3xf32>
  %labels = arith.constant dense<7> : tensor<1xi64>
  %l = mp.cross_entropy %logits, %labels : (tensor<1x3xf32>, tensor<1xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

//--- unsharded.mlir
mp.mesh @mesh = <tp = 2>
func.func @f(%x: tensor<2xf32> {mp.sharding = #mp.sharding<@mesh, [[tp]]>}, %y: tensor<4xf32>)
    -> (tensor<2xf32> {mp.sharding = #mp.sharding<@mesh, [[tp]]>}) attributes {mp.partitioned} {
  return %x : tensor<2xf32>
}
