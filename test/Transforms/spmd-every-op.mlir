// Every op, with shardings drawn at random on a 2x2 mesh (seeds 1, 15, 43,
// 170 of a generator that found crashes and inconsistencies): the training
// step is built, partitioned, and its gradient synchronisation proven.
// Each case checks the partitioned forward op by op (each rank's local
// types, and each collective where the partitioner put it: its axes, dims
// and local types) and the collectives of the whole step in order, so a
// sharding rule or a partitioner that moves, drops or resizes one fails
// here, not only in the numeric equivalence tests.
//
// RUN: mp-opt %s -split-input-file --mp-train-step="max-grad-norm=1.0" --mp-spmd --mp-verify-gradient-sync | FileCheck %s

// Seed 1: x [[a], [], [b]] is 1x4x4 per rank and w [[], [b]] 8x4, so the
// linear contracts a dim split over b: a partial sum over b, reduced before
// gelu (not linear). matmul with m [[], [a]] wants a for its output dim, so
// k is gathered over a first; mean over that a-split dim is partial over a;
// t's sharding [[], [a, b]] takes a 2x1 slice for mse_loss.
// CHECK-LABEL: func.func @every_op(
// CHECK-SAME: %arg0: tensor<1x4x4xf32>
// CHECK-SAME: %arg1: tensor<8xi64>
// CHECK-SAME: %arg2: tensor<2x1xf32>
// CHECK-SAME: %arg3: tensor<8x4xf32>
// CHECK-SAME: %arg4: tensor<8x4xf32>
// CHECK-SAME: %arg5: tensor<2xf32>
// CHECK-SAME: attributes {mp.partitioned}
// CHECK-NEXT: [[V0:%.+]] = mp.linear %arg0, %arg3 : (tensor<1x4x4xf32>, tensor<8x4xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT: [[V1:%.+]] = mp.all_reduce [[V0]] on @mesh axes ["b"] origin "'x' -> mp.gelu" : tensor<1x4x8xf32>
// CHECK-NEXT: [[V2:%.+]] = mp.gelu [[V1]] tanh : tensor<1x4x8xf32>
// CHECK-NEXT: [[V3:%.+]] = mp.relu [[V2]] : tensor<1x4x8xf32>
// CHECK-NEXT: [[V4:%.+]] = mp.exp [[V3]] : tensor<1x4x8xf32>
// CHECK-NEXT: [[V5:%.+]] = mp.sigmoid [[V4]] : tensor<1x4x8xf32>
// CHECK-NEXT: [[V6:%.+]] = mp.div [[V5]], [[V4]] : tensor<1x4x8xf32>
// CHECK-NEXT: [[V7:%.+]] = mp.neg [[V6]] : tensor<1x4x8xf32>
// CHECK-NEXT: [[V8:%.+]] = mp.sub [[V7]], [[V1]] : tensor<1x4x8xf32>
// CHECK-NEXT: [[V9:%.+]] = mp.scale [[V8]] by 5.000000e-01 : tensor<1x4x8xf32>
// CHECK-NEXT: [[V10:%.+]] = mp.all_gather [[V9]] on @mesh axes ["a"] dim 0 origin "'x' -> mp.matmul of 'm'" : tensor<1x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: [[V11:%.+]] = mp.matmul [[V10]], %arg4 : (tensor<2x4x8xf32>, tensor<8x4xf32>) -> tensor<2x4x4xf32>
// CHECK-NEXT: [[V12:%.+]] = mp.mean [[V11]] dims [2] : tensor<2x4x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT: [[V13:%.+]] = mp.scale [[V12]] by 5.000000e-01 : tensor<2x4xf32>
// CHECK-NEXT: [[V14:%.+]] = mp.all_reduce [[V13]] on @mesh axes ["a"] origin "'m', 't' -> mp.mse_loss" : tensor<2x4xf32>
// CHECK-NEXT: [[V15:%.+]] = mp.shard_slice [[V14]] on @mesh axes ["a", "b"] dim 1 origin "'m', 't' -> mp.mse_loss" : tensor<2x4xf32> -> tensor<2x1xf32>
// CHECK-NEXT: [[V16:%.+]] = mp.mse_loss [[V15]], %arg2 : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<f32>
// CHECK-NEXT: [[V17:%.+]] = mp.scale [[V16]] by 2.500000e-01 : tensor<f32>
// CHECK-NEXT: [[V18:%.+]] = mp.reshape [[V11]] {mp.sharding = #mp.sharding<@mesh, {{\[\[}}], [a]]>} : tensor<2x4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: [[V19:%.+]] = mp.transpose [[V18]] perm [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: [[V20:%.+]] = mp.shard_slice %arg1 on @mesh axes ["a"] dim 0 origin "'m' -> mp.cross_entropy" : tensor<8xi64> -> tensor<4xi64>
// CHECK-NEXT: [[V21:%.+]] = mp.cross_entropy [[V19]], [[V20]] : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<f32>
// CHECK-NEXT: [[V22:%.+]] = mp.scale [[V21]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: [[V23:%.+]] = mp.all_reduce [[V17]] on @mesh axes ["b"] origin "'t' -> mp.add" : tensor<f32>
// CHECK-NEXT: [[V24:%.+]] = mp.add [[V23]], [[V22]] : tensor<f32>
// CHECK-NEXT: [[V25:%.+]] = mp.all_reduce [[V24]] on @mesh axes ["a"] origin "'m' -> func.return" : tensor<f32>
// CHECK-NEXT: return [[V25]] : tensor<f32>
// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<1x4x8xf32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<1x4x8xf32> -> tensor<2x4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<2x4xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["a", "b"] dim 1 {{.*}} : tensor<2x4xf32> -> tensor<2x1xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<8xi64> -> tensor<4xi64>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<f32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["a", "b"] dim 1 {{.*}} : tensor<2x1x8xf32> -> tensor<2x4x8xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["a"] dim 2 {{.*}} : tensor<2x4x8xf32> -> tensor<2x4x4xf32>
// CHECK: mp.all_to_all {{%.+}} on @mesh axes ["a"] split 0 concat 1 {{.*}} : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<2x4x8xf32> -> tensor<1x4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<8x4xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<8x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<f32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["a"] dim 1 {{.*}} : tensor<8x8xf32> -> tensor<8x4xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["b"] dim 0 {{.*}} : tensor<4xf32> -> tensor<2xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<f32>
module {
  mp.mesh @mesh = <a = 2, b = 2>
  func.func @every_op(%x: tensor<2x4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[a], [], [b]]>}, %y: tensor<8xi64> {mp.target = "y", mp.sharding = #mp.sharding<@mesh, [[]]>}, %t: tensor<2x4xf32> {mp.target = "t", mp.sharding = #mp.sharding<@mesh, [[], [a, b]]>}, %w: tensor<8x8xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], [b]]>}, %m: tensor<8x8xf32> {mp.param = "m", mp.sharding = #mp.sharding<@mesh, [[], [a]]>}, %unused: tensor<4xf32> {mp.param = "unused", mp.sharding = #mp.sharding<@mesh, [[b]]>}) -> tensor<f32> {
    %h = mp.linear %x, %w : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %g = mp.gelu %h tanh : tensor<2x4x8xf32>
    %r = mp.relu %g : tensor<2x4x8xf32>
    %e = mp.exp %r : tensor<2x4x8xf32>
    %s = mp.sigmoid %e : tensor<2x4x8xf32>
    %d = mp.div %s, %e : tensor<2x4x8xf32>
    %n = mp.neg %d : tensor<2x4x8xf32>
    %q = mp.sub %n, %h : tensor<2x4x8xf32>
    %k = mp.scale %q by 0.5 : tensor<2x4x8xf32>
    %mm = mp.matmul %k, %m : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %mean = mp.mean %mm dims [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
    %mse = mp.mse_loss %mean, %t : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
    %flat = mp.reshape %mm : tensor<2x4x8xf32> -> tensor<8x8xf32>
    %tr = mp.transpose %flat perm [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %ce = mp.cross_entropy %tr, %y : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
    %loss = mp.add %mse, %ce : tensor<f32>
    return %loss : tensor<f32>

  }
}

// -----

// CHECK-LABEL: func.func @every_op(
// CHECK-SAME: %arg0: tensor<1x4x4xf32>
// CHECK-SAME: %arg1: tensor<4xi64>
// CHECK-SAME: %arg2: tensor<2x4xf32>
// CHECK-SAME: %arg3: tensor<4x8xf32>
// CHECK-SAME: %arg4: tensor<2x8xf32>
// CHECK-SAME: %arg5: tensor<2xf32>
// CHECK-SAME: attributes {mp.partitioned}
// CHECK-NEXT: [[V0:%.+]] = mp.all_to_all %arg3 on @mesh axes ["a"] split 1 concat 0 origin "'w' -> mp.linear of 'w'" : tensor<4x8xf32> -> tensor<8x4xf32>
// CHECK-NEXT: [[V1:%.+]] = mp.linear %arg0, [[V0]] : (tensor<1x4x4xf32>, tensor<8x4xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT: [[V2:%.+]] = mp.reduce_scatter [[V1]] on @mesh axes ["a"] dim 2 origin "'x' -> mp.gelu" : tensor<1x4x8xf32> -> tensor<1x4x4xf32>
// CHECK-NEXT: [[V3:%.+]] = mp.gelu [[V2]] tanh : tensor<1x4x4xf32>
// CHECK-NEXT: [[V4:%.+]] = mp.relu [[V3]] : tensor<1x4x4xf32>
// CHECK-NEXT: [[V5:%.+]] = mp.exp [[V4]] : tensor<1x4x4xf32>
// CHECK-NEXT: [[V6:%.+]] = mp.sigmoid [[V5]] : tensor<1x4x4xf32>
// CHECK-NEXT: [[V7:%.+]] = mp.div [[V6]], [[V5]] : tensor<1x4x4xf32>
// CHECK-NEXT: [[V8:%.+]] = mp.neg [[V7]] : tensor<1x4x4xf32>
// CHECK-NEXT: [[V9:%.+]] = mp.sub [[V8]], [[V2]] : tensor<1x4x4xf32>
// CHECK-NEXT: [[V10:%.+]] = mp.scale [[V9]] by 5.000000e-01 : tensor<1x4x4xf32>
// CHECK-NEXT: [[V11:%.+]] = mp.all_to_all [[V10]] on @mesh axes ["b"] split 2 concat 0 origin "'x' -> mp.matmul of 'm'" : tensor<1x4x4xf32> -> tensor<2x4x2xf32>
// CHECK-NEXT: [[V12:%.+]] = mp.matmul [[V11]], %arg4 : (tensor<2x4x2xf32>, tensor<2x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT: [[V13:%.+]] = mp.mean [[V12]] dims [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
// CHECK-NEXT: [[V14:%.+]] = mp.all_reduce [[V13]] on @mesh axes ["a", "b"] origin "'m' -> mp.mse_loss" : tensor<2x4xf32>
// CHECK-NEXT: [[V15:%.+]] = mp.mse_loss [[V14]], %arg2 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
// CHECK-NEXT: [[V16:%.+]] = mp.reduce_scatter [[V12]] on @mesh axes ["b"] dim 2 origin "'m' -> mp.reshape" : tensor<2x4x8xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT: [[V17:%.+]] = mp.reshape [[V16]] {mp.sharding = #mp.sharding<@mesh, {{\[\[}}], [b]], partial = [a]>} : tensor<2x4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: [[V18:%.+]] = mp.transpose [[V17]] perm [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: [[V19:%.+]] = mp.all_reduce [[V18]] on @mesh axes ["a"] origin "'m' -> mp.cross_entropy" : tensor<4x8xf32>
// CHECK-NEXT: [[V20:%.+]] = mp.cross_entropy [[V19]], %arg1 : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<f32>
// CHECK-NEXT: [[V21:%.+]] = mp.scale [[V20]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: [[V22:%.+]] = mp.all_reduce [[V21]] on @mesh axes ["b"] origin "'y' -> mp.add" : tensor<f32>
// CHECK-NEXT: [[V23:%.+]] = mp.add [[V15]], [[V22]] : tensor<f32>
// CHECK-NEXT: return [[V23]] : tensor<f32>
// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
// CHECK: mp.all_to_all {{%.+}} on @mesh axes ["a"] split 1 concat 0 {{.*}} : tensor<4x8xf32> -> tensor<8x4xf32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["a"] dim 2 {{.*}} : tensor<1x4x8xf32> -> tensor<1x4x4xf32>
// CHECK: mp.all_to_all {{%.+}} on @mesh axes ["b"] split 2 concat 0 {{.*}} : tensor<1x4x4xf32> -> tensor<2x4x2xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a", "b"] {{.*}} : tensor<2x4xf32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["b"] dim 2 {{.*}} : tensor<2x4x8xf32> -> tensor<2x4x4xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<f32>
// CHECK: mp.all_to_all {{%.+}} on @mesh axes ["b"] split 0 concat 1 {{.*}} : tensor<8x2xf32> -> tensor<4x4xf32>
// CHECK: mp.all_to_all {{%.+}} on @mesh axes ["b"] split 0 concat 1 {{.*}} : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["b"] dim 0 {{.*}} : tensor<2x4x4xf32> -> tensor<1x4x4xf32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["a"] dim 1 {{.*}} : tensor<4x4xf32> -> tensor<4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<f32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["b"] dim 0 {{.*}} : tensor<4x8xf32> -> tensor<2x8xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<4xf32> -> tensor<2xf32>
module {
  mp.mesh @mesh = <a = 2, b = 2>
  func.func @every_op(%x: tensor<2x4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[b], [], [a]]>}, %y: tensor<8xi64> {mp.target = "y", mp.sharding = #mp.sharding<@mesh, [[b]]>}, %t: tensor<2x4xf32> {mp.target = "t", mp.sharding = #mp.sharding<@mesh, [[], []]>}, %w: tensor<8x8xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[a], []]>}, %m: tensor<8x8xf32> {mp.param = "m", mp.sharding = #mp.sharding<@mesh, [[a, b], []]>}, %unused: tensor<4xf32> {mp.param = "unused", mp.sharding = #mp.sharding<@mesh, [[a]]>}) -> tensor<f32> {
    %h = mp.linear %x, %w : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %g = mp.gelu %h tanh : tensor<2x4x8xf32>
    %r = mp.relu %g : tensor<2x4x8xf32>
    %e = mp.exp %r : tensor<2x4x8xf32>
    %s = mp.sigmoid %e : tensor<2x4x8xf32>
    %d = mp.div %s, %e : tensor<2x4x8xf32>
    %n = mp.neg %d : tensor<2x4x8xf32>
    %q = mp.sub %n, %h : tensor<2x4x8xf32>
    %k = mp.scale %q by 0.5 : tensor<2x4x8xf32>
    %mm = mp.matmul %k, %m : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %mean = mp.mean %mm dims [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
    %mse = mp.mse_loss %mean, %t : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
    %flat = mp.reshape %mm : tensor<2x4x8xf32> -> tensor<8x8xf32>
    %tr = mp.transpose %flat perm [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %ce = mp.cross_entropy %tr, %y : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
    %loss = mp.add %mse, %ce : tensor<f32>
    return %loss : tensor<f32>

  }
}

// -----

// CHECK-LABEL: func.func @every_op(
// CHECK-SAME: %arg0: tensor<1x2x8xf32>
// CHECK-SAME: %arg1: tensor<8xi64>
// CHECK-SAME: %arg2: tensor<2x2xf32>
// CHECK-SAME: %arg3: tensor<8x8xf32>
// CHECK-SAME: %arg4: tensor<8x4xf32>
// CHECK-SAME: %arg5: tensor<4xf32>
// CHECK-SAME: attributes {mp.partitioned}
// CHECK-NEXT: [[V0:%.+]] = mp.linear %arg0, %arg3 : (tensor<1x2x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8xf32>
// CHECK-NEXT: [[V1:%.+]] = mp.gelu [[V0]] tanh : tensor<1x2x8xf32>
// CHECK-NEXT: [[V2:%.+]] = mp.relu [[V1]] : tensor<1x2x8xf32>
// CHECK-NEXT: [[V3:%.+]] = mp.exp [[V2]] : tensor<1x2x8xf32>
// CHECK-NEXT: [[V4:%.+]] = mp.sigmoid [[V3]] : tensor<1x2x8xf32>
// CHECK-NEXT: [[V5:%.+]] = mp.div [[V4]], [[V3]] : tensor<1x2x8xf32>
// CHECK-NEXT: [[V6:%.+]] = mp.neg [[V5]] : tensor<1x2x8xf32>
// CHECK-NEXT: [[V7:%.+]] = mp.sub [[V6]], [[V0]] : tensor<1x2x8xf32>
// CHECK-NEXT: [[V8:%.+]] = mp.scale [[V7]] by 5.000000e-01 : tensor<1x2x8xf32>
// CHECK-NEXT: [[V9:%.+]] = mp.all_gather [[V8]] on @mesh axes ["a"] dim 0 origin "'x' -> mp.matmul of 'm'" : tensor<1x2x8xf32> -> tensor<2x2x8xf32>
// CHECK-NEXT: [[V10:%.+]] = mp.matmul [[V9]], %arg4 : (tensor<2x2x8xf32>, tensor<8x4xf32>) -> tensor<2x2x4xf32>
// CHECK-NEXT: [[V11:%.+]] = mp.mean [[V10]] dims [2] : tensor<2x2x4xf32> -> tensor<2x2xf32>
// CHECK-NEXT: [[V12:%.+]] = mp.scale [[V11]] by 5.000000e-01 : tensor<2x2xf32>
// CHECK-NEXT: [[V13:%.+]] = mp.all_reduce [[V12]] on @mesh axes ["a"] origin "'m' -> mp.mse_loss" : tensor<2x2xf32>
// CHECK-NEXT: [[V14:%.+]] = mp.mse_loss [[V13]], %arg2 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<f32>
// CHECK-NEXT: [[V15:%.+]] = mp.scale [[V14]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: [[V16:%.+]] = mp.all_gather [[V10]] on @mesh axes ["b"] dim 1 origin "'x' -> mp.reshape" : tensor<2x2x4xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT: [[V17:%.+]] = mp.reshape [[V16]] {mp.sharding = #mp.sharding<@mesh, {{\[\[}}], [a]]>} : tensor<2x4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: [[V18:%.+]] = mp.transpose [[V17]] perm [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: [[V19:%.+]] = mp.shard_slice %arg1 on @mesh axes ["a"] dim 0 origin "'m' -> mp.cross_entropy" : tensor<8xi64> -> tensor<4xi64>
// CHECK-NEXT: [[V20:%.+]] = mp.cross_entropy [[V18]], [[V19]] : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<f32>
// CHECK-NEXT: [[V21:%.+]] = mp.scale [[V20]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: [[V22:%.+]] = mp.all_reduce [[V15]] on @mesh axes ["b"] origin "'t' -> mp.add" : tensor<f32>
// CHECK-NEXT: [[V23:%.+]] = mp.all_reduce [[V21]] on @mesh axes ["a"] origin "'m' -> mp.add" : tensor<f32>
// CHECK-NEXT: [[V24:%.+]] = mp.add [[V22]], [[V23]] : tensor<f32>
// CHECK-NEXT: return [[V24]] : tensor<f32>
// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<1x2x8xf32> -> tensor<2x2x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<2x2xf32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<2x2x4xf32> -> tensor<2x4x4xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<8xi64> -> tensor<4xi64>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<f32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<f32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<2x4x4xf32> -> tensor<2x2x4xf32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<1x2x8xf32> -> tensor<1x4x8xf32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<2x2x4xf32> -> tensor<2x4x4xf32>
// CHECK: mp.all_to_all {{%.+}} on @mesh axes ["a"] split 0 concat 1 {{.*}} : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<2x2x8xf32> -> tensor<1x2x8xf32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<1x2x8xf32> -> tensor<1x4x8xf32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<1x2x8xf32> -> tensor<1x4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<8x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<8x8xf32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["a"] dim 1 {{.*}} : tensor<8x8xf32> -> tensor<8x4xf32>
module {
  mp.mesh @mesh = <a = 2, b = 2>
  func.func @every_op(%x: tensor<2x4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[a], [b], []]>}, %y: tensor<8xi64> {mp.target = "y", mp.sharding = #mp.sharding<@mesh, [[]]>}, %t: tensor<2x4xf32> {mp.target = "t", mp.sharding = #mp.sharding<@mesh, [[], [b]]>}, %w: tensor<8x8xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], []]>}, %m: tensor<8x8xf32> {mp.param = "m", mp.sharding = #mp.sharding<@mesh, [[], [a]]>}, %unused: tensor<4xf32> {mp.param = "unused", mp.sharding = #mp.sharding<@mesh, [[]]>}) -> tensor<f32> {
    %h = mp.linear %x, %w : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %g = mp.gelu %h tanh : tensor<2x4x8xf32>
    %r = mp.relu %g : tensor<2x4x8xf32>
    %e = mp.exp %r : tensor<2x4x8xf32>
    %s = mp.sigmoid %e : tensor<2x4x8xf32>
    %d = mp.div %s, %e : tensor<2x4x8xf32>
    %n = mp.neg %d : tensor<2x4x8xf32>
    %q = mp.sub %n, %h : tensor<2x4x8xf32>
    %k = mp.scale %q by 0.5 : tensor<2x4x8xf32>
    %mm = mp.matmul %k, %m : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %mean = mp.mean %mm dims [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
    %mse = mp.mse_loss %mean, %t : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
    %flat = mp.reshape %mm : tensor<2x4x8xf32> -> tensor<8x8xf32>
    %tr = mp.transpose %flat perm [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %ce = mp.cross_entropy %tr, %y : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
    %loss = mp.add %mse, %ce : tensor<f32>
    return %loss : tensor<f32>

  }
}

// -----

// CHECK-LABEL: func.func @every_op(
// CHECK-SAME: %arg0: tensor<2x4x2xf32>
// CHECK-SAME: %arg1: tensor<4xi64>
// CHECK-SAME: %arg2: tensor<1x4xf32>
// CHECK-SAME: %arg3: tensor<8x4xf32>
// CHECK-SAME: %arg4: tensor<8x4xf32>
// CHECK-SAME: %arg5: tensor<1xf32>
// CHECK-SAME: attributes {mp.partitioned}
// CHECK-NEXT: [[V0:%.+]] = mp.all_gather %arg3 on @mesh axes ["b"] dim 1 origin "'x' -> mp.linear of 'w'" : tensor<8x4xf32> -> tensor<8x8xf32>
// CHECK-NEXT: [[V1:%.+]] = mp.shard_slice [[V0]] on @mesh axes ["a", "b"] dim 1 origin "'x' -> mp.linear of 'w'" : tensor<8x8xf32> -> tensor<8x2xf32>
// CHECK-NEXT: [[V2:%.+]] = mp.linear %arg0, [[V1]] : (tensor<2x4x2xf32>, tensor<8x2xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT: [[V3:%.+]] = mp.all_reduce [[V2]] on @mesh axes ["a", "b"] origin "'x' -> mp.gelu" : tensor<2x4x8xf32>
// CHECK-NEXT: [[V4:%.+]] = mp.gelu [[V3]] tanh : tensor<2x4x8xf32>
// CHECK-NEXT: [[V5:%.+]] = mp.relu [[V4]] : tensor<2x4x8xf32>
// CHECK-NEXT: [[V6:%.+]] = mp.exp [[V5]] : tensor<2x4x8xf32>
// CHECK-NEXT: [[V7:%.+]] = mp.sigmoid [[V6]] : tensor<2x4x8xf32>
// CHECK-NEXT: [[V8:%.+]] = mp.div [[V7]], [[V6]] : tensor<2x4x8xf32>
// CHECK-NEXT: [[V9:%.+]] = mp.neg [[V8]] : tensor<2x4x8xf32>
// CHECK-NEXT: [[V10:%.+]] = mp.sub [[V9]], [[V3]] : tensor<2x4x8xf32>
// CHECK-NEXT: [[V12:%.+]] = mp.matmul [[V10]], %arg4 scale 5.000000e-01 : (tensor<2x4x8xf32>, tensor<8x4xf32>) -> tensor<2x4x4xf32>
// CHECK-NEXT: [[V13:%.+]] = mp.mean [[V12]] dims [2] : tensor<2x4x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT: [[V14:%.+]] = mp.scale [[V13]] by 5.000000e-01 : tensor<2x4xf32>
// CHECK-NEXT: [[V15:%.+]] = mp.reduce_scatter [[V14]] on @mesh axes ["a"] dim 0 origin "'m' -> mp.mse_loss" : tensor<2x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT: [[V16:%.+]] = mp.mse_loss [[V15]], %arg2 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<f32>
// CHECK-NEXT: [[V17:%.+]] = mp.scale [[V16]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: [[V18:%.+]] = mp.reshape [[V12]] {mp.sharding = #mp.sharding<@mesh, {{\[\[}}], [a]]>} : tensor<2x4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: [[V19:%.+]] = mp.transpose [[V18]] perm [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: [[V20:%.+]] = mp.cross_entropy [[V19]], %arg1 : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<f32>
// CHECK-NEXT: [[V21:%.+]] = mp.scale [[V20]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: [[V22:%.+]] = mp.add [[V17]], [[V21]] : tensor<f32>
// CHECK-NEXT: [[V23:%.+]] = mp.all_reduce [[V22]] on @mesh axes ["a"] origin "'y' -> func.return" : tensor<f32>
// CHECK-NEXT: return [[V23]] : tensor<f32>
// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<8x4xf32> -> tensor<8x8xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["a", "b"] dim 1 {{.*}} : tensor<8x8xf32> -> tensor<8x2xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a", "b"] {{.*}} : tensor<2x4x8xf32>
// CHECK: mp.reduce_scatter {{%.+}} on @mesh axes ["a"] dim 0 {{.*}} : tensor<2x4xf32> -> tensor<1x4xf32>
// CHECK: mp.all_to_all {{%.+}} on @mesh axes ["a"] split 2 concat 0 {{.*}} : tensor<1x4x8xf32> -> tensor<2x4x4xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<2x4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<2x4x8xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["b"] {{.*}} : tensor<f32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<f32>
// CHECK: mp.all_gather {{%.+}} on @mesh axes ["a", "b"] dim 1 {{.*}} : tensor<8x2xf32> -> tensor<8x8xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["b"] dim 1 {{.*}} : tensor<8x8xf32> -> tensor<8x4xf32>
// CHECK: mp.shard_slice {{%.+}} on @mesh axes ["a", "b"] dim 0 {{.*}} : tensor<4xf32> -> tensor<1xf32>
// CHECK: mp.all_reduce {{%.+}} on @mesh axes ["a"] {{.*}} : tensor<f32>
module {
  mp.mesh @mesh = <a = 2, b = 2>
  func.func @every_op(%x: tensor<2x4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[], [], [a, b]]>}, %y: tensor<8xi64> {mp.target = "y", mp.sharding = #mp.sharding<@mesh, [[a]]>}, %t: tensor<2x4xf32> {mp.target = "t", mp.sharding = #mp.sharding<@mesh, [[a], []]>}, %w: tensor<8x8xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], [b]]>}, %m: tensor<8x8xf32> {mp.param = "m", mp.sharding = #mp.sharding<@mesh, [[], [a]]>}, %unused: tensor<4xf32> {mp.param = "unused", mp.sharding = #mp.sharding<@mesh, [[a, b]]>}) -> tensor<f32> {
    %h = mp.linear %x, %w : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %g = mp.gelu %h tanh : tensor<2x4x8xf32>
    %r = mp.relu %g : tensor<2x4x8xf32>
    %e = mp.exp %r : tensor<2x4x8xf32>
    %s = mp.sigmoid %e : tensor<2x4x8xf32>
    %d = mp.div %s, %e : tensor<2x4x8xf32>
    %n = mp.neg %d : tensor<2x4x8xf32>
    %q = mp.sub %n, %h : tensor<2x4x8xf32>
    %k = mp.scale %q by 0.5 : tensor<2x4x8xf32>
    %mm = mp.matmul %k, %m : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %mean = mp.mean %mm dims [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
    %mse = mp.mse_loss %mean, %t : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
    %flat = mp.reshape %mm : tensor<2x4x8xf32> -> tensor<8x8xf32>
    %tr = mp.transpose %flat perm [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %ce = mp.cross_entropy %tr, %y : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
    %loss = mp.add %mse, %ce : tensor<f32>
    return %loss : tensor<f32>

  }
}

// -----

// mp.clamp is not linear: the linear's partial sum over b is reduced
// before it, and its gradient's mask reads the reduced value.
mp.mesh @mesh = <a = 2, b = 2>
// CHECK-LABEL: func.func @clamp(
// CHECK-NEXT: [[L:%.+]] = mp.linear %arg0, %arg2 : (tensor<2x4xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: [[R:%.+]] = mp.all_reduce [[L]] on @mesh axes ["b"] origin "'w' -> mp.clamp" : tensor<2x8xf32>
// CHECK-NEXT: mp.clamp [[R]] min -5.000000e-01 max 5.000000e-01 : tensor<2x8xf32>
// CHECK-LABEL: func.func @clamp_train_step(
// CHECK: [[TR:%.+]] = mp.all_reduce {{.*}} axes ["b"] origin "'w' -> mp.clamp"
// CHECK: mp.clamp_mask [[TR]] min -5.000000e-01 max 5.000000e-01 : tensor<2x8xf32>
func.func @clamp(%x: tensor<4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[a], [b]]>},
                 %t: tensor<4x8xf32> {mp.target = "t"},
                 %w: tensor<8x8xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], [b]]>}) -> tensor<f32> {
  %h = mp.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %c = mp.clamp %h min -5.000000e-01 max 5.000000e-01 : tensor<4x8xf32>
  %loss = mp.mse_loss %c, %t : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// mp.alibi follows its scores' heads: the slopes, whole on every rank,
// are sliced to the rank's heads over b; the keys, split over a, are
// gathered first (the bias counts them from 0 on every rank). The scores'
// gradient passes the bias unchanged: the softmax's, sliced back.
mp.mesh @mesh = <a = 2, b = 2>
// CHECK-LABEL: func.func @alibi(
// CHECK-SAME: %arg0: tensor<2x2x4x4xf32>
// CHECK-NEXT: [[S:%.+]] = mp.mul %arg0, %arg2 : tensor<2x2x4x4xf32>
// CHECK-NEXT: [[SLOPES:%.+]] = mp.alibi_slopes : tensor<4xf32>
// CHECK-NEXT: [[KEYS:%.+]] = mp.all_gather [[S]] on @mesh axes ["a"] dim 3 origin "'x' -> mp.alibi" : tensor<2x2x4x4xf32> -> tensor<2x2x4x8xf32>
// CHECK-NEXT: [[MINE:%.+]] = mp.shard_slice [[SLOPES]] on @mesh axes ["b"] dim 0 origin "'x' -> mp.alibi" : tensor<4xf32> -> tensor<2xf32>
// CHECK-NEXT: [[B:%.+]] = mp.alibi [[KEYS]], [[MINE]] : tensor<2x2x4x8xf32>, tensor<2xf32>
// CHECK-NEXT: mp.softmax [[B]] causal : tensor<2x2x4x8xf32>
// CHECK-LABEL: func.func @alibi_train_step(
// CHECK: [[G:%.+]] = mp.softmax_grad
// CHECK-NEXT: [[GS:%.+]] = mp.shard_slice [[G]] on @mesh axes ["a"] dim 3 origin "'x' -> mp.mul" : tensor<2x2x4x8xf32> -> tensor<2x2x4x4xf32>
// CHECK-NEXT: mp.mul [[GS]], %arg4 : tensor<2x2x4x4xf32>
func.func @alibi(%x: tensor<2x4x4x8xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[], [b], [], [a]]>},
                 %t: tensor<2x4x4x8xf32> {mp.target = "t"},
                 %w: tensor<2x4x4x8xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], [b], [], [a]]>}) -> tensor<f32> {
  %s = mp.mul %x, %w : tensor<2x4x4x8xf32>
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %b = mp.alibi %s, %slopes : tensor<2x4x4x8xf32>, tensor<4xf32>
  %p = mp.softmax %b causal : tensor<2x4x4x8xf32>
  %loss = mp.mse_loss %p, %t : (tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// mp.attention's ALiBi slopes split as the heads: each rank's 2 of the 4
// heads over b, sliced from the whole, forward and in the gradient.
mp.mesh @mesh = <a = 2, b = 2>
// CHECK-LABEL: func.func @alibi_attention(
// CHECK-SAME: %arg0: tensor<1x2x4x8xf32>
// CHECK-NEXT: [[SLOPES:%.+]] = mp.alibi_slopes : tensor<4xf32>
// CHECK-NEXT: [[MINE:%.+]] = mp.shard_slice [[SLOPES]] on @mesh axes ["b"] dim 0 origin "'q' -> mp.attention of 'q'" : tensor<4xf32> -> tensor<2xf32>
// CHECK-NEXT: mp.attention %arg0, %arg0, %arg0 alibi [[MINE]] scale 5.000000e-01 causal : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2xf32>)
// CHECK-LABEL: func.func @alibi_attention_train_step(
// CHECK: mp.attention_grad {{.+}} alibi [[STEP:%.+]] scale 5.000000e-01 causal : ({{.+}}, tensor<2xf32>)
func.func @alibi_attention(%q: tensor<2x4x4x8xf32> {mp.param = "q", mp.sharding = #mp.sharding<@mesh, [[a], [b], [], []]>},
                           %t: tensor<2x4x4x8xf32> {mp.target = "t"}) -> tensor<f32> {
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %o, %lse = mp.attention %q, %q, %q alibi %slopes scale 0.5 causal : (tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<4xf32>) -> (tensor<2x4x4x8xf32>, tensor<2x4x4xf32>)
  %loss = mp.mse_loss %o, %t : (tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
