// RUN: mp-opt %s -split-input-file -verify-diagnostics

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @gather_shape(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.all_gather' op result dim 0 of size 12 does not split over 2 ranks into pieces of 8}}
  %g = mp.all_gather %x on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<12x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @scatter_uneven(%x: tensor<6x16xf32>) {
  // 6 over 4 ranks: pieces of 2 (2, 2, 2, 0).
  // expected-error@+1 {{'mp.reduce_scatter' op result dim 0 must be 2, got 1}}
  %s = mp.reduce_scatter %x on @mesh axes ["tp"] dim 0 : tensor<6x16xf32> -> tensor<1x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @unknown_axis(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.all_reduce' op mesh @mesh has no axis 'pp'}}
  %r = mp.all_reduce %x on @mesh axes ["pp"] : tensor<8x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @repeated_axis(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.all_reduce' op repeats mesh axis 'dp'}}
  %r = mp.all_reduce %x on @mesh axes ["dp", "dp"] : tensor<8x16xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @no_axis(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.all_reduce' op needs at least one mesh axis}}
  %r = mp.all_reduce %x on @mesh axes [] : tensor<8x16xf32>
  return
}

// -----

func.func @no_mesh(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.shard_slice' op refers to @mesh, which is not an mp.mesh}}
  %s = mp.shard_slice %x on @mesh axes ["tp"] dim 1 : tensor<8x16xf32> -> tensor<8x4xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @dim_range(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.shard_slice' op dim 2 is out of range for rank 2}}
  %s = mp.shard_slice %x on @mesh axes ["tp"] dim 2 : tensor<8x16xf32> -> tensor<8x4xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @same_dims(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.all_to_all' op split and concat dims must differ}}
  %a = mp.all_to_all %x on @mesh axes ["tp"] split 0 concat 0 : tensor<8x16xf32> -> tensor<8x16xf32>
  return
}

// -----

func.func @broadcast_shape(%v: tensor<10xf32>) {
  // expected-error@+1 {{'mp.broadcast' op input 'tensor<10xf32>' must be the result without the broadcast dims}}
  %b = mp.broadcast %v dims [1] : tensor<10xf32> -> tensor<8x10xf32>
  return
}

// -----

func.func @broadcast_dims(%v: tensor<10xf32>) {
  // expected-error@+1 {{'mp.broadcast' op dims must be distinct dims of the result, got 2}}
  %b = mp.broadcast %v dims [2] : tensor<10xf32> -> tensor<8x10xf32>
  return
}

// -----

func.func @cross_entropy_grad_target(%x: tensor<8x10xf32>, %t: tensor<4xi64>, %s: tensor<f32>) {
  // expected-error@+1 {{'mp.cross_entropy_grad' op target 'tensor<4xi64>' must have the input's shape without its class dim}}
  %g = mp.cross_entropy_grad %x, %t, %s scale 1.0 : (tensor<8x10xf32>, tensor<4xi64>, tensor<f32>) -> tensor<8x10xf32>
  return
}

// -----

func.func @cross_entropy_grad_grad(%x: tensor<8x10xf32>, %t: tensor<8xi64>, %s: tensor<1xf32>) {
  // expected-error@+1 {{'mp.cross_entropy_grad' op grad must be a rank-0 tensor of the input's element type}}
  %g = mp.cross_entropy_grad %x, %t, %s scale 1.0 : (tensor<8x10xf32>, tensor<8xi64>, tensor<1xf32>) -> tensor<8x10xf32>
  return
}

// -----

func.func @adamw_types(%p: tensor<8xf32>, %g: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error@+1 {{'mp.adamw' op failed to verify that all of {param, grad} have same type}}
  %r:3 = "mp.adamw"(%p, %g, %p, %p, %s) {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, lr = 3.0e-3 : f64, weight_decay = 0.01 : f64} : (tensor<8xf32>, tensor<4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @zero_padding_extent(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.zero_padding' op dim 1 of extent 17 split over ["tp"] has pieces of 5, not 8}}
  %z = mp.zero_padding %x on @mesh axes ["tp"] dim 1 extent 17 : tensor<4x8xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @zero_padding_dim(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.zero_padding' op dim 2 is out of range for rank 2}}
  %z = mp.zero_padding %x on @mesh axes ["tp"] dim 2 extent 17 : tensor<4x8xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2, tp = 4>
func.func @zero_padding_axis(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.zero_padding' op mesh @mesh has no axis 'pp'}}
  %z = mp.zero_padding %x on @mesh axes ["pp"] dim 1 extent 17 : tensor<4x8xf32>
  return
}

// -----

func.func @resize_other_dim(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.resize' op only dim 0 may change size, not dim 1}}
  %r = mp.resize %x dim 0 : tensor<4x8xf32> -> tensor<5x9xf32>
  return
}

// -----

func.func @resize_type(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.resize' op result 'tensor<5x8xf64>' must have the rank and element type of 'tensor<4x8xf32>'}}
  %r = mp.resize %x dim 0 : tensor<4x8xf32> -> tensor<5x8xf64>
  return
}

// -----

// The extent is signed: an I64Attr's accessor reads it back unsigned.
mp.mesh @mesh = <dp = 2, tp = 4>
func.func @zero_padding_negative_extent(%x: tensor<8x16xf32>) {
  // expected-error@+1 {{'mp.zero_padding' op extent must be non-negative, got -17}}
  %0 = mp.zero_padding %x on @mesh axes ["tp"] dim 1 extent -17 : tensor<8x16xf32>
  return
}

// -----

func.func @regather_not_a_collective(%x: tensor<8xf32>) {
  // expected-error@+1 {{'mp.regather' is a unit attribute of collectives}}
  %0 = mp.neg %x {mp.regather} : tensor<8xf32>
  return
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @coalesced_gather(%x: tensor<4xf32>) -> tensor<8xf32> {
  // expected-error@+1 {{'mp.coalesced' is an integer attribute of all_reduces}}
  %g = mp.all_gather %x on @mesh axes ["dp"] dim 0 {mp.coalesced = 0 : i64} : tensor<4xf32> -> tensor<8xf32>
  return %g : tensor<8xf32>
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @async_slot(%x: tensor<4xf32>) -> tensor<8xf32> {
  // expected-error@+1 {{'mp.async' is the runtime slot (0 to 63) of a collective}}
  %g = mp.all_gather %x on @mesh axes ["dp"] dim 0 {mp.async = 64 : i64} : tensor<4xf32> -> tensor<8xf32>
  %w = mp.wait %g : tensor<8xf32>
  return %w : tensor<8xf32>
}

// -----

mp.mesh @mesh = <dp = 2>
func.func @async_read_directly(%x: tensor<4xf32>) -> tensor<8xf32> {
  // expected-error@+1 {{an asynchronous collective is read by its mp.wait only}}
  %g = mp.all_gather %x on @mesh axes ["dp"] dim 0 {mp.async = 0 : i64} : tensor<4xf32> -> tensor<8xf32>
  %r = mp.relu %g : tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

func.func @wait_for_nothing(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'mp.wait' op waits for the result of an asynchronous collective ({mp.async = slot})}}
  %w = mp.wait %x : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @slice_past_end(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.slice' op entries 3 to 3 + 2 are not in dim 0 of 'tensor<4x8xf32>'}}
  %s = mp.slice %x dim 0 offset 3 : tensor<4x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @slice_other_dim(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.slice' op only dim 0 may differ from the result, not dim 1 of 'tensor<4x8xf32>'}}
  %s = mp.slice %x dim 0 offset 0 : tensor<4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @slice_dim(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mp.slice' op dim 2 is out of range for rank 2}}
  %s = mp.slice %x dim 2 offset 0 : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @concat_extent(%a: tensor<2x8xf32>, %b: tensor<1x8xf32>) {
  // expected-error@+1 {{'mp.concat' op the operands have 3 entries in dim 0, the result 4}}
  %c = mp.concat %a, %b dim 0 : (tensor<2x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @concat_type(%a: tensor<2x8xf32>, %b: tensor<2x8xbf16>) {
  // expected-error@+1 {{'mp.concat' op result 'tensor<4x8xf32>' must have the rank and element type of 'tensor<2x8xbf16>'}}
  %c = mp.concat %a, %b dim 0 : (tensor<2x8xf32>, tensor<2x8xbf16>) -> tensor<4x8xf32>
  return
}

// -----

func.func @concat_nothing() {
  // expected-error@+1 {{'mp.concat' op needs at least one operand}}
  %c = mp.concat dim 0 : () -> tensor<4x8xf32>
  return
}
