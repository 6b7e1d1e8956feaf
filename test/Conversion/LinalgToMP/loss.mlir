// RUN: mp-opt %s --mp-import=loss=sum | FileCheck %s --check-prefix=SUM
// RUN: mp-opt %s --mp-import=loss=mean | FileCheck %s --check-prefix=MEAN
// RUN: mp-opt %s --mp-import=loss=mse | FileCheck %s --check-prefix=MSE
// RUN: mp-opt %s --mp-import=loss=cross_entropy | FileCheck %s --check-prefix=CE
// RUN: mp-opt %s --mp-import="loss=cross_entropy ignore-index=-100" | FileCheck %s --check-prefix=IGNORED
// RUN: mp-opt %s --mp-import | FileCheck %s --check-prefix=NONE
// The loss makes the forward function a model --mp-train-step trains.
// RUN: mp-opt %s --mp-import=loss=mse --mp-train-step | FileCheck %s --check-prefix=STEP

// SUM-LABEL: func.func @model
// SUM-SAME: -> tensor<f32>
// SUM: %[[Y:.+]] = mp.linear
// SUM-NEXT: %[[L:.+]] = mp.sum %[[Y]] : tensor<4x16xf32> -> tensor<f32>
// SUM-NEXT: return %[[L]] : tensor<f32>

// MEAN: %[[Y:.+]] = mp.linear
// MEAN-NEXT: %[[L:.+]] = mp.mean %[[Y]] : tensor<4x16xf32> -> tensor<f32>
// MEAN-NEXT: return %[[L]] : tensor<f32>

// MSE-LABEL: func.func @model
// MSE-SAME: %[[T:[^:]+]]: tensor<4x16xf32> {mp.target = "target"}) -> tensor<f32>
// MSE: %[[Y:.+]] = mp.linear
// MSE-NEXT: %[[L:.+]] = mp.mse_loss %[[Y]], %[[T]] : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<f32>
// MSE-NEXT: return %[[L]] : tensor<f32>

// CE-LABEL: func.func @model
// CE-SAME: %[[T:[^:]+]]: tensor<4xi64> {mp.target = "target"}) -> tensor<f32>
// CE: %[[Y:.+]] = mp.linear
// CE-NEXT: %[[L:.+]] = mp.cross_entropy %[[Y]], %[[T]] : (tensor<4x16xf32>, tensor<4xi64>) -> tensor<f32>
// CE-NEXT: return %[[L]] : tensor<f32>

// PyTorch's mean over the targets kept, as the sum over their count.
// IGNORED-LABEL: func.func @model
// IGNORED-SAME: %[[T:[^:]+]]: tensor<4xi64> {mp.target = "target"}) -> tensor<f32>
// IGNORED: %[[Y:.+]] = mp.linear
// IGNORED-NEXT: %[[S:.+]] = mp.cross_entropy %[[Y]], %[[T]] reduction sum ignore_index -100 : (tensor<4x16xf32>, tensor<4xi64>) -> tensor<f32>
// IGNORED-NEXT: %[[K:.+]] = mp.target_mask %[[T]] ignore_index -100 : tensor<4xi64> -> tensor<4xf32>
// IGNORED-NEXT: %[[N:.+]] = mp.sum %[[K]] : tensor<4xf32> -> tensor<f32>
// IGNORED-NEXT: %[[L:.+]] = mp.div %[[S]], %[[N]] : tensor<f32>
// IGNORED-NEXT: return %[[L]] : tensor<f32>

// NONE-LABEL: func.func @model
// NONE-SAME: -> tensor<4x16xf32>
// NONE: return %{{.+}} : tensor<4x16xf32>

// STEP: func.func @model_train_step

func.func @model(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %t = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%e : tensor<8x16xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = linalg.matmul ins(%x, %t : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
