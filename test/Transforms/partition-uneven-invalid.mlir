// Uneven splits the local program cannot compute, in IR already propagated
// by hand: the reshape and cross_entropy rules keep propagation from
// choosing them.
// RUN: mp-opt %s -split-input-file --mp-partition -verify-diagnostics

mp.mesh @mesh = <dp = 2>
func.func @reshape_regroups(%x: tensor<3x4xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>}) -> tensor<12xf32> {
  // expected-error@+1 {{reshape regroups dim 0 of extent 3, which is split unevenly; split it evenly or keep it a dim of its own}}
  %0 = mp.reshape %x {mp.sharding = #mp.sharding<@mesh, [[dp]]>} : tensor<3x4xf32> -> tensor<12xf32>
  return %0 : tensor<12xf32>
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @cross_entropy_samples(%x: tensor<3x4xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>}, %y: tensor<3xi64> {mp.sharding = #mp.sharding<@mesh, [[dp]]>}) -> tensor<f32> {
  // expected-error@+1 {{cross_entropy over samples split unevenly (dim 0 of 3) is not supported: padded rows would count as samples}}
  %0 = mp.cross_entropy %x, %y {mp.sharding = #mp.sharding<@mesh, [], partial = [dp]>} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}
