// Whole models in torch-mlir's linalg-on-tensors spelling (Inputs/), to the
// exact mp ops: the seed's SwiGLU FeedForward and a 3-layer MLP with bias.
//
// RUN: mp-opt %S/Inputs/swiglu.mlir --mp-import=loss=sum | FileCheck %s --check-prefix=FFN
// RUN: mp-opt %S/Inputs/mlp.mlir --mp-import | FileCheck %s --check-prefix=MLP

// FFN-LABEL: func.func @ffn
// FFN-SAME: (%[[X:.+]]: tensor<8x16xf32> {mp.input = "x"}, %[[W1:.+]]: tensor<32x16xf32> {mp.param = "w1.weight"}, %[[W2:.+]]: tensor<16x32xf32> {mp.param = "w2.weight"}, %[[W3:.+]]: tensor<32x16xf32> {mp.param = "w3.weight"}) -> tensor<f32>
// FFN-NEXT: %[[H1:.+]] = mp.linear %[[X]], %[[W1]] : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
// FFN-NEXT: %[[A:.+]] = mp.silu %[[H1]] : tensor<8x32xf32>
// FFN-NEXT: %[[H3:.+]] = mp.linear %[[X]], %[[W3]] : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
// FFN-NEXT: %[[G:.+]] = mp.mul %[[A]], %[[H3]] : tensor<8x32xf32>
// FFN-NEXT: %[[OUT:.+]] = mp.linear %[[G]], %[[W2]] : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
// FFN-NEXT: %[[LOSS:.+]] = mp.sum %[[OUT]] : tensor<8x16xf32> -> tensor<f32>
// FFN-NEXT: return %[[LOSS]] : tensor<f32>

// MLP-LABEL: func.func @mlp
// MLP-SAME: (%[[X:.+]]: tensor<8x16xf32> {mp.input = "x"}, %[[W1:.+]]: tensor<32x16xf32> {mp.param = "fc1.weight"}, %[[B1:.+]]: tensor<32xf32> {mp.param = "fc1.bias"}, %[[W2:.+]]: tensor<32x32xf32> {mp.param = "fc2.weight"}, %[[B2:.+]]: tensor<32xf32> {mp.param = "fc2.bias"}, %[[W3:.+]]: tensor<8x32xf32> {mp.param = "fc3.weight"}, %[[B3:.+]]: tensor<8xf32> {mp.param = "fc3.bias"}) -> tensor<8x8xf32>
// MLP-NEXT: %[[Y1:.+]] = mp.linear %[[X]], %[[W1]] : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
// MLP-NEXT: %[[BB1:.+]] = mp.broadcast %[[B1]] dims [0] : tensor<32xf32> -> tensor<8x32xf32>
// MLP-NEXT: %[[S1:.+]] = mp.add %[[Y1]], %[[BB1]] : tensor<8x32xf32>
// MLP-NEXT: %[[R1:.+]] = mp.relu %[[S1]] : tensor<8x32xf32>
// MLP-NEXT: %[[Y2:.+]] = mp.linear %[[R1]], %[[W2]] : (tensor<8x32xf32>, tensor<32x32xf32>) -> tensor<8x32xf32>
// MLP-NEXT: %[[BB2:.+]] = mp.broadcast %[[B2]] dims [0] : tensor<32xf32> -> tensor<8x32xf32>
// MLP-NEXT: %[[S2:.+]] = mp.add %[[Y2]], %[[BB2]] : tensor<8x32xf32>
// MLP-NEXT: %[[R2:.+]] = mp.relu %[[S2]] : tensor<8x32xf32>
// MLP-NEXT: %[[Y3:.+]] = mp.linear %[[R2]], %[[W3]] : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x8xf32>
// MLP-NEXT: %[[BB3:.+]] = mp.broadcast %[[B3]] dims [0] : tensor<8xf32> -> tensor<8x8xf32>
// MLP-NEXT: %[[S3:.+]] = mp.add %[[Y3]], %[[BB3]] : tensor<8x8xf32>
// MLP-NEXT: return %[[S3]] : tensor<8x8xf32>
