// RUN: mp-opt %s --mp-simplify-collectives | FileCheck %s

mp.mesh @mesh = <dp = 2, tp = 4>

// all_reduce then a slice over the same axis is a reduce_scatter.
// CHECK-LABEL: func.func @reduce_then_slice
// CHECK-NEXT: %[[R:.+]] = mp.reduce_scatter %arg0 on @mesh axes ["dp"] dim 0 origin "grad w1" : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @reduce_then_slice(%x: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %r = mp.all_reduce %x on @mesh axes ["dp"] origin "grad w1" : tensor<8x4xf32>
  %s = mp.shard_slice %r on @mesh axes ["dp"] dim 0 origin "grad w1" : tensor<8x4xf32> -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// A slice over part of the reduced axes: scatter first, then reduce the
// rest on the smaller shard.
// CHECK-LABEL: func.func @reduce_two_slice_one
// CHECK-NEXT: %[[S:.+]] = mp.reduce_scatter %arg0 on @mesh axes ["tp"] dim 1 : tensor<2x8xf32> -> tensor<2x2xf32>
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[S]] on @mesh axes ["dp"] : tensor<2x2xf32>
// CHECK-NEXT: return %[[R]]
func.func @reduce_two_slice_one(%x: tensor<2x8xf32>) -> tensor<2x2xf32> {
  %r = mp.all_reduce %x on @mesh axes ["dp", "tp"] : tensor<2x8xf32>
  %s = mp.shard_slice %r on @mesh axes ["tp"] dim 1 : tensor<2x8xf32> -> tensor<2x2xf32>
  return %s : tensor<2x2xf32>
}

// Gathering a dim and slicing it back again is nothing.
// CHECK-LABEL: func.func @gather_then_slice_same_dim
// CHECK-NEXT: return %arg0
func.func @gather_then_slice_same_dim(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<2x4xf32> -> tensor<8x4xf32>
  %s = mp.shard_slice %g on @mesh axes ["tp"] dim 0 : tensor<8x4xf32> -> tensor<2x4xf32>
  return %s : tensor<2x4xf32>
}

// Gathering one dim and slicing another moves the split: an all_to_all.
// CHECK-LABEL: func.func @gather_then_slice_other_dim
// CHECK-NEXT: %[[A:.+]] = mp.all_to_all %arg0 on @mesh axes ["tp"] split 1 concat 0 origin "sp; tp" : tensor<2x8xf32> -> tensor<8x2xf32>
// CHECK-NEXT: return %[[A]]
func.func @gather_then_slice_other_dim(%x: tensor<2x8xf32>) -> tensor<8x2xf32> {
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 origin "sp" : tensor<2x8xf32> -> tensor<8x8xf32>
  %s = mp.shard_slice %g on @mesh axes ["tp"] dim 1 origin "tp" : tensor<8x8xf32> -> tensor<8x2xf32>
  return %s : tensor<8x2xf32>
}

// A gather whose result is also used elsewhere stays, and is not turned
// into an all_to_all (that would gather twice).
// CHECK-LABEL: func.func @gather_used_twice
// CHECK-NEXT: %[[G:.+]] = mp.all_gather
// CHECK-NEXT: %[[S:.+]] = mp.shard_slice %[[G]]
// CHECK-NEXT: return %[[G]], %[[S]]
func.func @gather_used_twice(%x: tensor<2x8xf32>) -> (tensor<8x8xf32>, tensor<8x2xf32>) {
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<2x8xf32> -> tensor<8x8xf32>
  %s = mp.shard_slice %g on @mesh axes ["tp"] dim 1 : tensor<8x8xf32> -> tensor<8x2xf32>
  return %g, %s : tensor<8x8xf32>, tensor<8x2xf32>
}

// Back-to-back all_reduces are one, over the union in mesh order.
// CHECK-LABEL: func.func @reduce_twice
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["dp", "tp"] : tensor<f32>
// CHECK-NEXT: return %[[R]]
func.func @reduce_twice(%x: tensor<f32>) -> tensor<f32> {
  %a = mp.all_reduce %x on @mesh axes ["tp"] : tensor<f32>
  %b = mp.all_reduce %a on @mesh axes ["dp"] : tensor<f32>
  return %b : tensor<f32>
}

// Back-to-back reshards are one; a reshard to the sharding its operand
// already has is nothing.
// CHECK-LABEL: func.func @reshards
// CHECK-NEXT: %[[R:.+]] = mp.reshard %arg0 <@mesh, {{\[}}[tp], []]> origin "a; b" : tensor<8x8xf32>
// CHECK-NEXT: return %[[R]], %arg1
func.func @reshards(%x: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                    %y: tensor<8x8xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>}) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  %a = mp.reshard %x <@mesh, [[], []]> origin "a" : tensor<8x8xf32>
  %b = mp.reshard %a <@mesh, [[tp], []]> origin "b" : tensor<8x8xf32>
  %c = mp.reshard %y <@mesh, [[dp], []]> : tensor<8x8xf32>
  return %b, %c : tensor<8x8xf32>, tensor<8x8xf32>
}

// One reduction per partial value: the same all_reduce for two consumers is
// one, and says it serves both.
// CHECK-LABEL: func.func @repeated_all_reduce
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"] origin "'w2' -> mp.linear; 'w2' -> mp.add"
// CHECK-NEXT: return %[[R]], %[[R]]
func.func @repeated_all_reduce(%x: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %a = mp.all_reduce %x on @mesh axes ["tp"] origin "'w2' -> mp.linear" : tensor<4x4xf32>
  %b = mp.all_reduce %x on @mesh axes ["tp"] origin "'w2' -> mp.add" : tensor<4x4xf32>
  return %a, %b : tensor<4x4xf32>, tensor<4x4xf32>
}

// A partial gradient needed whole as is and transposed (an input gradient
// and a weight gradient): reduced once, then transposed.
// CHECK-LABEL: func.func @reduced_and_transposed
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"] origin "'a' -> mp.linear; 'a' -> mp.matmul" : tensor<4x8xf32>
// CHECK-NEXT: %[[T:.+]] = mp.transpose %[[R]] perm [1, 0]
// CHECK-NEXT: return %[[R]], %[[T]]
func.func @reduced_and_transposed(%p: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8x4xf32>) {
  %a = mp.all_reduce %p on @mesh axes ["tp"] origin "'a' -> mp.linear" : tensor<4x8xf32>
  %t = mp.transpose %p perm [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %b = mp.all_reduce %t on @mesh axes ["tp"] origin "'a' -> mp.matmul" : tensor<8x4xf32>
  return %a, %b : tensor<4x8xf32>, tensor<8x4xf32>
}

// A partial value reduced for one consumer and flattened for another (the
// layer reading a rowwise embedding's output: its weight gradients read
// the flattened input): the flattened value is the reduced one flattened,
// its recorded layout no longer partial over the axes reduced.
// CHECK-LABEL: func.func @reduced_and_reshaped
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"] origin "'e' (rowwise) -> mp.linear; 'e' (rowwise) -> mp.matmul" : tensor<2x4x8xf32>
// CHECK-NEXT: %[[F:.+]] = mp.reshape %[[R]] {mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], []]>} : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT: return %[[R]], %[[F]]
func.func @reduced_and_reshaped(%p: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<8x8xf32>) {
  %a = mp.all_reduce %p on @mesh axes ["tp"] origin "'e' (rowwise) -> mp.linear" : tensor<2x4x8xf32>
  %f = mp.reshape %p {mp.sharding = #mp.sharding<@mesh, [[dp], []], partial = [tp]>} : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %b = mp.all_reduce %f on @mesh axes ["tp"] origin "'e' (rowwise) -> mp.matmul" : tensor<8x8xf32>
  return %a, %b : tensor<2x4x8xf32>, tensor<8x8xf32>
}

// Partial over two axes and reduced over one: still partial over the other.
// CHECK-LABEL: func.func @reshaped_partial_over_two
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"]
// CHECK-NEXT: %[[F:.+]] = mp.reshape %[[R]] {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []], partial = [dp]>}
// CHECK-NEXT: return %[[R]], %[[F]]
func.func @reshaped_partial_over_two(%p: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<8x8xf32>) {
  %a = mp.all_reduce %p on @mesh axes ["tp"] origin "-> mp.linear" : tensor<2x4x8xf32>
  %f = mp.reshape %p {mp.sharding = #mp.sharding<@mesh, [[], []], partial = [dp, tp]>} : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %b = mp.all_reduce %f on @mesh axes ["tp"] origin "-> mp.matmul" : tensor<8x8xf32>
  return %a, %b : tensor<2x4x8xf32>, tensor<8x8xf32>
}

// A partial value multiplied by whole ones on two paths (a norm's input
// and weight gradients): the products are partial because the value is, so
// the value is reduced once, before both.
// CHECK-LABEL: func.func @products_with_whole_values
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"]
// CHECK-NEXT: %[[A:.+]] = mp.mul %[[R]], %arg1
// CHECK-NEXT: %[[B:.+]] = mp.mul %arg2, %[[R]]
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @products_with_whole_values(%p: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []], partial = [tp]>},
    %n: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
    %r: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %a = mp.mul %p, %n : tensor<4x8xf32>
  %ra = mp.all_reduce %a on @mesh axes ["tp"] origin "-> mp.add" : tensor<4x8xf32>
  %b = mp.mul %r, %p : tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] origin "-> mp.sgd of 'n'" : tensor<4x8xf32>
  return %ra, %rb : tensor<4x8xf32>, tensor<4x8xf32>
}

// A clamp's result and its gradient mask are whole whatever their operands
// (a pending sum is reduced before a clamp): the gradient a clamp's VJP
// masks is the partial factor, reduced once before both products.
// CHECK-LABEL: func.func @products_with_clamp_masks
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"]
// CHECK-NEXT: %[[M:.+]] = mp.clamp_mask %arg1
// CHECK-NEXT: %[[C:.+]] = mp.clamp %arg2
// CHECK-NEXT: %[[A:.+]] = mp.mul %[[R]], %[[M]]
// CHECK-NEXT: %[[B:.+]] = mp.mul %[[C]], %[[R]]
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @products_with_clamp_masks(%p: tensor<4x8xf32> {mp.sharding = #mp.sharding<@mesh, [[], []], partial = [tp]>},
    %x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %m = mp.clamp_mask %x min -1.0 max 1.0 : tensor<4x8xf32>
  %c = mp.clamp %y min 0.0 max 6.0 : tensor<4x8xf32>
  %a = mp.mul %p, %m : tensor<4x8xf32>
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x8xf32>
  %b = mp.mul %c, %p : tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<4x8xf32>
  return %ra, %rb : tensor<4x8xf32>, tensor<4x8xf32>
}

// The same when nothing says which factor is the partial one: either may
// be, so both reductions stay.
// CHECK-LABEL: func.func @products_with_unknown_values
// CHECK-COUNT-2: mp.all_reduce
// CHECK-NOT: mp.all_reduce
// CHECK: return
func.func @products_with_unknown_values(%p: tensor<4x8xf32>, %n: tensor<4x8xf32>, %r: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %a = mp.mul %p, %n : tensor<4x8xf32>
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x8xf32>
  %b = mp.mul %r, %p : tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<4x8xf32>
  return %ra, %rb : tensor<4x8xf32>, tensor<4x8xf32>
}

// A sum of a value reduced anyway is the sum of its reduction.
// CHECK-LABEL: func.func @sum_with_direct_reduction
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["tp"]
// CHECK-NEXT: %[[S:.+]] = mp.sum %[[R]] dims [0]
// CHECK-NEXT: return %[[R]], %[[S]]
func.func @sum_with_direct_reduction(%p: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>) {
  %a = mp.all_reduce %p on @mesh axes ["tp"] : tensor<4x8xf32>
  %s = mp.sum %p dims [0] : tensor<4x8xf32> -> tensor<8xf32>
  %b = mp.all_reduce %s on @mesh axes ["tp"] : tensor<8xf32>
  return %a, %b : tensor<4x8xf32>, tensor<8xf32>
}

// Sums alone do not say the value is partial (a sum over a split dim makes
// a partial value of a whole one), and reducing the value would move more
// bytes than reducing the sums: both stay.
// CHECK-LABEL: func.func @sums_without_direct_reduction
// CHECK: mp.all_reduce %{{.+}} : tensor<8xf32>
// CHECK: mp.all_reduce %{{.+}} : tensor<4xf32>
func.func @sums_without_direct_reduction(%p: tensor<4x8xf32>) -> (tensor<8xf32>, tensor<4xf32>) {
  %s = mp.sum %p dims [0] : tensor<4x8xf32> -> tensor<8xf32>
  %a = mp.all_reduce %s on @mesh axes ["tp"] : tensor<8xf32>
  %u = mp.sum %p dims [1] : tensor<4x8xf32> -> tensor<4xf32>
  %b = mp.all_reduce %u on @mesh axes ["tp"] : tensor<4xf32>
  return %a, %b : tensor<8xf32>, tensor<4xf32>
}

// Partial sums combined are combined first and reduced once.
// CHECK-LABEL: func.func @sum_of_reductions
// CHECK-NEXT: %[[D:.+]] = mp.sub %arg0, %arg1
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[D]] on @mesh axes ["tp"] origin "'wq'; 'wk'"
// CHECK-NEXT: return %[[R]]
func.func @sum_of_reductions(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] origin "'wq'" : tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] origin "'wk'" : tensor<4x8xf32>
  %s = mp.sub %ra, %rb : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// q, k and v gradients added one by one into the residual: one reduction.
// CHECK-LABEL: func.func @residual_of_reductions
// CHECK-NEXT: %[[KV:.+]] = mp.add %arg2, %arg3
// CHECK-NEXT: %[[QKV:.+]] = mp.add %arg1, %[[KV]]
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[QKV]] on @mesh axes ["tp"] origin "'wq'; 'wk'; 'wv'"
// CHECK-NEXT: %[[Y:.+]] = mp.add %arg0, %[[R]]
// CHECK-NEXT: return %[[Y]]
func.func @residual_of_reductions(%y: tensor<4x8xf32>, %q: tensor<4x8xf32>, %k: tensor<4x8xf32>, %v: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %rq = mp.all_reduce %q on @mesh axes ["tp"] origin "'wq'" : tensor<4x8xf32>
  %s1 = mp.add %y, %rq : tensor<4x8xf32>
  %rk = mp.all_reduce %k on @mesh axes ["tp"] origin "'wk'" : tensor<4x8xf32>
  %s2 = mp.add %s1, %rk : tensor<4x8xf32>
  %rv = mp.all_reduce %v on @mesh axes ["tp"] origin "'wv'" : tensor<4x8xf32>
  %s3 = mp.add %rv, %s2 : tensor<4x8xf32>
  return %s3 : tensor<4x8xf32>
}

// Reductions over different axes are not one.
// CHECK-LABEL: func.func @different_groups_stay
// CHECK-NEXT: mp.all_reduce %arg0 on @mesh axes ["tp"]
// CHECK-NEXT: mp.all_reduce %arg1 on @mesh axes ["dp"]
// CHECK-NEXT: mp.add
func.func @different_groups_stay(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["dp"] : tensor<4x8xf32>
  %s = mp.add %ra, %rb : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// A parallel block's two norms read one input: their input gradients are
// linear in the output gradients, so the partial sums are added and
// reduced once (GPT-NeoX's, Falcon-40B's backward). The weight gradients
// that read a reduction reduce their smaller results instead.
// CHECK-LABEL: func.func @parallel_block_norm_grads
// CHECK-NEXT: %[[DA:.+]] = mp.layer_norm_grad %arg1, %arg2, %arg4
// CHECK-NEXT: %[[W:.+]], %[[B:.+]] = mp.layer_norm_weight_grad %arg1, %arg4
// CHECK-NEXT: %[[RW:.+]] = mp.all_reduce %[[W]] on @mesh axes ["tp"] origin "'w1'" : tensor<8xf32>
// CHECK-NEXT: %[[RB:.+]] = mp.all_reduce %[[B]] on @mesh axes ["tp"] origin "'w1'" : tensor<8xf32>
// CHECK-NEXT: %[[DB:.+]] = mp.rms_norm_grad %arg1, %arg3, %arg5
// CHECK-NEXT: %[[S:.+]] = mp.add %[[DA]], %[[DB]]
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[S]] on @mesh axes ["tp"] origin "'w1'; 'wq'" : tensor<4x8xf32>
// CHECK-NEXT: %[[Y:.+]] = mp.add %arg0, %[[R]]
// CHECK-NEXT: return %[[Y]], %[[RW]], %[[RB]]
func.func @parallel_block_norm_grads(%y: tensor<4x8xf32>, %x: tensor<4x8xf32>, %g1: tensor<8xf32>, %g2: tensor<8xf32>, %a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] origin "'w1'" : tensor<4x8xf32>
  %da = mp.layer_norm_grad %x, %g1, %ra eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %wa, %ba = mp.layer_norm_weight_grad %x, %ra eps 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  %s1 = mp.add %y, %da : tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] origin "'wq'" : tensor<4x8xf32>
  %db = mp.rms_norm_grad %x, %g2, %rb eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s2 = mp.add %s1, %db : tensor<4x8xf32>
  return %s2, %wa, %ba : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// The same for a difference.
// CHECK-LABEL: func.func @norm_grads_summed
// CHECK-NEXT: %[[DA:.+]] = mp.rms_norm_grad %arg0, %arg1, %arg3
// CHECK-NEXT: %[[DB:.+]] = mp.rms_norm_grad %arg0, %arg2, %arg4
// CHECK-NEXT: %[[S:.+]] = mp.sub %[[DA]], %[[DB]]
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[S]] on @mesh axes ["tp"] origin "'w1'; 'wq'"
// CHECK-NEXT: return %[[R]]
func.func @norm_grads_summed(%x: tensor<4x8xf32>, %g1: tensor<8xf32>, %g2: tensor<8xf32>, %a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] origin "'w1'" : tensor<4x8xf32>
  %da = mp.rms_norm_grad %x, %g1, %ra eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] origin "'wq'" : tensor<4x8xf32>
  %db = mp.rms_norm_grad %x, %g2, %rb eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = mp.sub %da, %db : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// One norm's gradient added to a whole value: nothing to merge with, and
// the reduction stays where propagation put it.
// CHECK-LABEL: func.func @norm_grad_into_whole_stays
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg3
// CHECK-NEXT: mp.rms_norm_grad %arg1, %arg2, %[[R]]
func.func @norm_grad_into_whole_stays(%y: tensor<4x8xf32>, %x: tensor<4x8xf32>, %g: tensor<8xf32>, %a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x8xf32>
  %da = mp.rms_norm_grad %x, %g, %ra eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = mp.add %y, %da : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// A norm gradient read again needs its own reduction: merging the other's
// would save nothing.
// CHECK-LABEL: func.func @norm_grad_read_twice_stays
// CHECK-NEXT: %[[RA:.+]] = mp.all_reduce %arg4
// CHECK-NEXT: mp.rms_norm_grad %arg1, %arg2, %[[RA]]
// CHECK-NEXT: %[[RB:.+]] = mp.all_reduce %arg5
// CHECK-NEXT: mp.rms_norm_grad %arg1, %arg3, %[[RB]]
func.func @norm_grad_read_twice_stays(%y: tensor<4x8xf32>, %x: tensor<4x8xf32>, %g1: tensor<8xf32>, %g2: tensor<8xf32>, %a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x8xf32>
  %da = mp.rms_norm_grad %x, %g1, %ra eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<4x8xf32>
  %db = mp.rms_norm_grad %x, %g2, %rb eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = mp.add %da, %db : tensor<4x8xf32>
  return %s, %da : tensor<4x8xf32>, tensor<4x8xf32>
}

// Weight gradients as large as the reduction they read (one row): reducing
// them instead would move more bytes.
// CHECK-LABEL: func.func @weight_grads_larger_stay
// CHECK-NEXT: %[[RA:.+]] = mp.all_reduce %arg3
// CHECK-NEXT: mp.layer_norm_grad %arg0, %arg1, %[[RA]]
// CHECK-NEXT: mp.layer_norm_weight_grad %arg0, %[[RA]]
// CHECK-NEXT: %[[RB:.+]] = mp.all_reduce %arg4
// CHECK-NEXT: mp.layer_norm_grad %arg0, %arg2, %[[RB]]
func.func @weight_grads_larger_stay(%x: tensor<1x8xf32>, %g1: tensor<8xf32>, %g2: tensor<8xf32>, %a: tensor<1x8xf32>, %b: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<1x8xf32>
  %da = mp.layer_norm_grad %x, %g1, %ra eps 1.0e-05 : (tensor<1x8xf32>, tensor<8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %wa, %ba = mp.layer_norm_weight_grad %x, %ra eps 1.0e-05 : (tensor<1x8xf32>, tensor<1x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<1x8xf32>
  %db = mp.layer_norm_grad %x, %g2, %rb eps 1.0e-05 : (tensor<1x8xf32>, tensor<8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %s = mp.add %da, %db : tensor<1x8xf32>
  return %s, %wa, %ba : tensor<1x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// A norm's weight gradient reading the partial output gradient that the
// norm's input gradient reads reduced (propagation let the partial sums
// through the smaller weight gradient): it reads that reduction, and its
// result needs none of its own.
// CHECK-LABEL: func.func @weight_grad_reads_reduction
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg2 on @mesh axes ["tp"] origin "'w1' -> mp.rms_norm_grad; -> mp.sgd of 'n'" : tensor<4x8xf32>
// CHECK-NEXT: %[[D:.+]] = mp.rms_norm_grad %arg0, %arg1, %[[R]]
// CHECK-NEXT: %[[W:.+]] = mp.rms_norm_weight_grad %arg0, %[[R]]
// CHECK-NEXT: return %[[D]], %[[W]]
func.func @weight_grad_reads_reduction(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %dy: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>) {
  %r = mp.all_reduce %dy on @mesh axes ["tp"] origin "'w1' -> mp.rms_norm_grad" : tensor<4x8xf32>
  %d = mp.rms_norm_grad %x, %g, %r eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %w = mp.rms_norm_weight_grad %x, %dy eps 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8xf32>
  %rw = mp.all_reduce %w on @mesh axes ["tp"] origin "-> mp.sgd of 'n'" : tensor<8xf32>
  return %d, %rw : tensor<4x8xf32>, tensor<8xf32>
}

// The same for a LayerNorm's weight and bias gradients, both reduced.
// CHECK-LABEL: func.func @weight_and_bias_grads_read_reduction
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg2
// CHECK-NEXT: %[[D:.+]] = mp.layer_norm_grad %arg0, %arg1, %[[R]]
// CHECK-NEXT: %[[W:.+]], %[[B:.+]] = mp.layer_norm_weight_grad %arg0, %[[R]]
// CHECK-NEXT: return %[[D]], %[[W]], %[[B]]
func.func @weight_and_bias_grads_read_reduction(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %dy: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %r = mp.all_reduce %dy on @mesh axes ["tp"] : tensor<4x8xf32>
  %d = mp.layer_norm_grad %x, %g, %r eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %w, %b = mp.layer_norm_weight_grad %x, %dy eps 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  %rw = mp.all_reduce %w on @mesh axes ["tp"] : tensor<8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<8xf32>
  return %d, %rw, %rb : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// One of its results read partial (added into another partial sum): the
// gradients keep reading the partial value, each reduction where it was.
// CHECK-LABEL: func.func @partial_result_read_stays
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg2
// CHECK-NEXT: mp.layer_norm_grad %arg0, %arg1, %[[R]]
// CHECK-NEXT: %[[W:.+]], %[[B:.+]] = mp.layer_norm_weight_grad %arg0, %arg2
// CHECK-NEXT: mp.all_reduce %[[W]]
// CHECK-NEXT: mp.add %[[B]], %arg3
func.func @partial_result_read_stays(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %dy: tensor<4x8xf32>, %p: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %r = mp.all_reduce %dy on @mesh axes ["tp"] : tensor<4x8xf32>
  %d = mp.layer_norm_grad %x, %g, %r eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %w, %b = mp.layer_norm_weight_grad %x, %dy eps 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  %rw = mp.all_reduce %w on @mesh axes ["tp"] : tensor<8xf32>
  %s = mp.add %b, %p : tensor<8xf32>
  %rs = mp.all_reduce %s on @mesh axes ["tp"] : tensor<8xf32>
  return %d, %rw, %rs : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// A parallel block whose weight gradients read the partial output
// gradient: the norms' input gradients meet in a sum, so the reduction
// moves past the norm's gradient (as in @parallel_block_norm_grads) and the
// weight gradients keep their own reductions, each with its own origin.
// CHECK-LABEL: func.func @parallel_block_weight_grads_partial
// CHECK-NEXT: %[[DA:.+]] = mp.layer_norm_grad %arg1, %arg2, %arg4
// CHECK-NEXT: %[[W:.+]], %[[B:.+]] = mp.layer_norm_weight_grad %arg1, %arg4
// CHECK-NEXT: %[[RW:.+]] = mp.all_reduce %[[W]] on @mesh axes ["tp"] origin "-> mp.sgd of 'w'"
// CHECK-NEXT: %[[RB:.+]] = mp.all_reduce %[[B]] on @mesh axes ["tp"] origin "-> mp.sgd of 'b'"
// CHECK-NEXT: %[[DB:.+]] = mp.rms_norm_grad %arg1, %arg3, %arg5
// CHECK-NEXT: %[[S:.+]] = mp.add %[[DA]], %[[DB]]
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[S]] on @mesh axes ["tp"] origin "'w1'; 'wq'"
// CHECK-NEXT: %[[Y:.+]] = mp.add %arg0, %[[R]]
// CHECK-NEXT: return %[[Y]], %[[RW]], %[[RB]]
func.func @parallel_block_weight_grads_partial(%y: tensor<4x8xf32>, %x: tensor<4x8xf32>, %g1: tensor<8xf32>, %g2: tensor<8xf32>, %a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] origin "'w1'" : tensor<4x8xf32>
  %da = mp.layer_norm_grad %x, %g1, %ra eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %wa, %ba = mp.layer_norm_weight_grad %x, %a eps 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  %rwa = mp.all_reduce %wa on @mesh axes ["tp"] origin "-> mp.sgd of 'w'" : tensor<8xf32>
  %rba = mp.all_reduce %ba on @mesh axes ["tp"] origin "-> mp.sgd of 'b'" : tensor<8xf32>
  %s1 = mp.add %y, %da : tensor<4x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] origin "'wq'" : tensor<4x8xf32>
  %db = mp.rms_norm_grad %x, %g2, %rb eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s2 = mp.add %s1, %db : tensor<4x8xf32>
  return %s2, %rwa, %rba : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// The output gradient's reduction after the weight gradient: it moves up
// to just after its input, before the weight gradient that now reads it.
// CHECK-LABEL: func.func @weight_grad_before_reduction
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg2 on @mesh axes ["tp"] origin "'w1' -> mp.rms_norm_grad; -> mp.sgd of 'n'"
// CHECK-NEXT: %[[W:.+]] = mp.rms_norm_weight_grad %arg0, %[[R]]
// CHECK-NEXT: %[[D:.+]] = mp.rms_norm_grad %arg0, %arg1, %[[R]]
// CHECK-NEXT: return %[[D]], %[[W]]
func.func @weight_grad_before_reduction(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %dy: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>) {
  %w = mp.rms_norm_weight_grad %x, %dy eps 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8xf32>
  %rw = mp.all_reduce %w on @mesh axes ["tp"] origin "-> mp.sgd of 'n'" : tensor<8xf32>
  %r = mp.all_reduce %dy on @mesh axes ["tp"] origin "'w1' -> mp.rms_norm_grad" : tensor<4x8xf32>
  %d = mp.rms_norm_grad %x, %g, %r eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %d, %rw : tensor<4x8xf32>, tensor<8xf32>
}

// The weight gradient reduced over another axis than its output
// gradient: nothing to share.
// CHECK-LABEL: func.func @weight_grad_other_axes_stays
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg2 on @mesh axes ["tp"]
// CHECK-NEXT: mp.rms_norm_grad %arg0, %arg1, %[[R]]
// CHECK-NEXT: %[[W:.+]] = mp.rms_norm_weight_grad %arg0, %arg2
// CHECK-NEXT: mp.all_reduce %[[W]] on @mesh axes ["dp"]
func.func @weight_grad_other_axes_stays(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %dy: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>) {
  %r = mp.all_reduce %dy on @mesh axes ["tp"] : tensor<4x8xf32>
  %d = mp.rms_norm_grad %x, %g, %r eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %w = mp.rms_norm_weight_grad %x, %dy eps 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8xf32>
  %rw = mp.all_reduce %w on @mesh axes ["dp"] : tensor<8xf32>
  return %d, %rw : tensor<4x8xf32>, tensor<8xf32>
}

// A reduce_scatter over other axes than an all_reduce before it: scatter
// first, then reduce the rest on the smaller shard.
// CHECK-LABEL: func.func @scatter_of_reduce
// CHECK-NEXT: %[[S:.+]] = mp.reduce_scatter %arg0 on @mesh axes ["dp"] dim 0 origin "fsdp" : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[S]] on @mesh axes ["tp"] origin "norm" : tensor<4x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @scatter_of_reduce(%x: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %r = mp.all_reduce %x on @mesh axes ["tp"] origin "norm" : tensor<8x4xf32>
  %s = mp.reduce_scatter %r on @mesh axes ["dp"] dim 0 origin "fsdp" : tensor<8x4xf32> -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// Over axes the all_reduce sums too, the pair is no such split: left as is.
// CHECK-LABEL: func.func @scatter_of_reduce_same_axis_stays
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %arg0 on @mesh axes ["dp", "tp"]
// CHECK-NEXT: mp.reduce_scatter %[[R]] on @mesh axes ["dp"]
func.func @scatter_of_reduce_same_axis_stays(%x: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %r = mp.all_reduce %x on @mesh axes ["dp", "tp"] : tensor<8x4xf32>
  %s = mp.reduce_scatter %r on @mesh axes ["dp"] dim 0 : tensor<8x4xf32> -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// An embedding gradient reading the reduction has a vocabulary dim the
// gradient has not, which may be split over the reduced axis: summing its
// results would add up other ranks' rows. Nothing moves.
// CHECK-LABEL: func.func @vocab_reader_stays
// CHECK-NEXT: %[[RA:.+]] = mp.all_reduce %arg3
// CHECK-NEXT: mp.rms_norm_grad %arg1, %arg2, %[[RA]]
// CHECK-NEXT: mp.embedding_grad %arg6, %[[RA]] like %arg7
// CHECK-NEXT: %[[RB:.+]] = mp.all_reduce %arg4
// CHECK-NEXT: mp.rms_norm_grad %arg1, %arg5, %[[RB]]
func.func @vocab_reader_stays(%y: tensor<4x8xf32>, %x: tensor<4x8xf32>, %g1: tensor<8xf32>, %a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %g2: tensor<8xf32>, %ids: tensor<4xi64>, %table: tensor<2x8xf32>) -> (tensor<4x8xf32>, tensor<2x8xf32>) {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x8xf32>
  %da = mp.rms_norm_grad %x, %g1, %ra eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %e = mp.embedding_grad %ids, %ra like %table : (tensor<4xi64>, tensor<4x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<4x8xf32>
  %db = mp.rms_norm_grad %x, %g2, %rb eps 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = mp.add %da, %db : tensor<4x8xf32>
  return %s, %e : tensor<4x8xf32>, tensor<2x8xf32>
}

// A bf16 output gradient is rounded before the norm's gradient: the
// reduction is not moved past it.
// CHECK-LABEL: func.func @bf16_norm_grads_stay
// CHECK-NEXT: %[[RA:.+]] = mp.all_reduce %arg2
// CHECK-NEXT: mp.rms_norm_grad %arg0, %arg1, %[[RA]]
func.func @bf16_norm_grads_stay(%x: tensor<4x8xbf16>, %g1: tensor<8xf32>, %a: tensor<4x8xbf16>, %b: tensor<4x8xbf16>, %g2: tensor<8xf32>) -> tensor<4x8xbf16> {
  %ra = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x8xbf16>
  %da = mp.rms_norm_grad %x, %g1, %ra eps 1.0e-05 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<4x8xbf16>) -> tensor<4x8xbf16>
  %rb = mp.all_reduce %b on @mesh axes ["tp"] : tensor<4x8xbf16>
  %db = mp.rms_norm_grad %x, %g2, %rb eps 1.0e-05 : (tensor<4x8xbf16>, tensor<8xf32>, tensor<4x8xbf16>) -> tensor<4x8xbf16>
  %s = mp.add %da, %db : tensor<4x8xbf16>
  return %s : tensor<4x8xbf16>
}
