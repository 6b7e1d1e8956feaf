// RUN: mp-opt %s -split-input-file --mp-loss-parallel -verify-diagnostics | FileCheck %s

// Cross entropy as the log-sum-exp and target pick it is made of, with the
// vocabulary cut into as many blocks as the plan's tensor_parallel axis has
// ranks (4).
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {}>} {
  mp.mesh @mesh = <dp = 2, tp = 4>
  // CHECK-LABEL: func.func @mean
  // CHECK-NEXT: %[[B:.+]] = mp.block_max %arg0 : tensor<2x3x8xf32> -> tensor<2x3x4xf32>
  // CHECK-NEXT: %[[M1:.+]] = mp.block_max %[[B]] : tensor<2x3x4xf32> -> tensor<2x3x1xf32>
  // CHECK-NEXT: %[[M:.+]] = mp.reshape %[[M1]] : tensor<2x3x1xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: %[[MB:.+]] = mp.broadcast %[[M]] dims [2] : tensor<2x3xf32> -> tensor<2x3x8xf32>
  // CHECK-NEXT: %[[D:.+]] = mp.sub %arg0, %[[MB]] : tensor<2x3x8xf32>
  // CHECK-NEXT: %[[E:.+]] = mp.exp %[[D]] : tensor<2x3x8xf32>
  // CHECK-NEXT: %[[S:.+]] = mp.sum %[[E]] dims [2] : tensor<2x3x8xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: %[[L:.+]] = mp.log %[[S]] : tensor<2x3xf32>
  // CHECK-NEXT: %[[LSE:.+]] = mp.add %[[M]], %[[L]] : tensor<2x3xf32>
  // CHECK-NEXT: %[[T:.+]] = mp.gather_last %arg0, %arg1 : (tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  // CHECK-NEXT: %[[R:.+]] = mp.sub %[[LSE]], %[[T]] : tensor<2x3xf32>
  // CHECK-NEXT: %[[LOSS:.+]] = mp.mean %[[R]] : tensor<2x3xf32> -> tensor<f32>
  // CHECK-NEXT: return %[[LOSS]]
  func.func @mean(%x: tensor<2x3x8xf32>, %t: tensor<2x3xi64>) -> tensor<f32> {
    %l = mp.cross_entropy %x, %t : (tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
  // CHECK-LABEL: func.func @sum
  // CHECK: mp.sum %{{.+}} : tensor<5xf32> -> tensor<f32>
  func.func @sum(%x: tensor<5x12xf32>, %t: tensor<5xi64>) -> tensor<f32> {
    %l = mp.cross_entropy %x, %t reduction sum : (tensor<5x12xf32>, tensor<5xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
  // Ignored samples: each row's loss times its target's mask.
  // CHECK-LABEL: func.func @ignored
  // CHECK: %[[T:.+]] = mp.gather_last %arg0, %arg1 : (tensor<5x12xf32>, tensor<5xi64>) -> tensor<5xf32>
  // CHECK-NEXT: %[[R:.+]] = mp.sub %{{.+}}, %[[T]] : tensor<5xf32>
  // CHECK-NEXT: %[[K:.+]] = mp.target_mask %arg1 ignore_index -100 : tensor<5xi64> -> tensor<5xf32>
  // CHECK-NEXT: %[[W:.+]] = mp.mul %[[R]], %[[K]] : tensor<5xf32>
  // CHECK-NEXT: %[[LOSS:.+]] = mp.sum %[[W]] : tensor<5xf32> -> tensor<f32>
  // CHECK-NEXT: return %[[LOSS]]
  func.func @ignored(%x: tensor<5x12xf32>, %t: tensor<5xi64>) -> tensor<f32> {
    %l = mp.cross_entropy %x, %t reduction sum ignore_index -100 : (tensor<5x12xf32>, tensor<5xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
  // An ignore_index past the vocabulary (mp.gather_last would refuse it) is
  // left as it is.
  // CHECK-LABEL: func.func @ignored_past_vocab
  // CHECK-NEXT: mp.cross_entropy
  func.func @ignored_past_vocab(%x: tensor<5x12xf32>, %t: tensor<5xi64>) -> tensor<f32> {
    %l = mp.cross_entropy %x, %t reduction sum ignore_index 12 : (tensor<5x12xf32>, tensor<5xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
  // A vocabulary the 4 ranks do not divide is left as it is.
  // CHECK-LABEL: func.func @uneven
  // CHECK-NEXT: mp.cross_entropy
  func.func @uneven(%x: tensor<5x10xf32>, %t: tensor<5xi64>) -> tensor<f32> {
    %l = mp.cross_entropy %x, %t : (tensor<5x10xf32>, tensor<5xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// expected-error@+1 {{--mp-loss-parallel needs the plan's tensor-parallel axis (apply a plan first) or 'blocks'}}
module {
  func.func @no_plan(%x: tensor<5x12xf32>, %t: tensor<5xi64>) -> tensor<f32> {
    %l = mp.cross_entropy %x, %t : (tensor<5x12xf32>, tensor<5xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
