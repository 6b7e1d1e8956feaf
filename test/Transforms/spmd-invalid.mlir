// RUN: mp-opt %s -split-input-file --mp-spmd -verify-diagnostics

mp.mesh @a = <tp = 2>
mp.mesh @b = <tp = 2>
// expected-note@+1 {{mesh @a used here}}
func.func @two_meshes(%x: tensor<8x8xf32> {mp.sharding = #mp.sharding<@a, [[tp], []]>}) -> tensor<8x8xf32> {
  // expected-error@+1 {{sharding on mesh @b in a function already sharded on mesh @a; use one mesh per function}}
  %y = mp.annotate %x <@b, [[], [tp]]> : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// A partial sum only comes out of a contraction: an annotation cannot ask
// for one.
mp.mesh @mesh = <tp = 2>
func.func @make_partial(%x: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) -> tensor<8x8xf32> {
  // expected-error@+1 {{cannot make a value partial over 'tp'; partial sums come from contractions}}
  %y = mp.annotate %x <@mesh, [[], []], partial = [tp]> : tensor<8x8xf32>
  %z = mp.relu %y : tensor<8x8xf32>
  return %z : tensor<8x8xf32>
}

// -----

mp.mesh @mesh = <tp = 2>
func.func @unknown_axis(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error@+1 {{'mp.annotate' op mesh @mesh has no axis 'dp'}}
  %y = mp.annotate %x <@mesh, [[dp], []]> : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// A GEMM's accumulator must be partial exactly where its product is, which
// propagation cannot arrange: such GEMMs are formed after partitioning.
mp.mesh @mesh = <tp = 2>
func.func @accumulate_before_propagation(%x: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                                         %w: tensor<8x8xf32>, %g: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error@+1 {{accumulates into an operand before shardings are propagated; mp-fuse-gemm-accumulate forms such GEMMs on the partitioned step}}
  %y = mp.linear %x, %w accumulate %g : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}
