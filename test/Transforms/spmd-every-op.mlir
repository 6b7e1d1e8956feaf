// Every op, with shardings drawn at random on a 2x2 mesh (seeds 1, 15, 43,
// 170 of a generator that found crashes and inconsistencies): the training
// step is built, partitioned, and its gradient synchronisation proven.
//
// RUN: mp-opt %s -split-input-file --mp-train-step="max-grad-norm=1.0" --mp-spmd --mp-verify-gradient-sync | FileCheck %s

// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
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

// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
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

// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
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

// CHECK-LABEL: func.func @every_op_train_step
// CHECK-SAME: attributes {mp.partitioned}
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
