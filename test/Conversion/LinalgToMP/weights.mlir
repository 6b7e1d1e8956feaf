// RUN: rm -rf %t && mkdir -p %t
// RUN: mp-opt %s --mp-import="weights=%t/weights.safetensors" | FileCheck %s
// RUN: %python %S/../../Runtime/Inputs/tensors.py dump %t/weights.safetensors | FileCheck %s --check-prefix=DUMP
// RUN: mp-opt %s --mp-import | FileCheck %s
// The file initialises the imported model's training step in mp-train.
// RUN: mp-opt %s --mp-import="loss=sum" --mp-train-step="optimizer=sgd lr=0.1" --mp-lower-to-runtime | mp-translate -o %t/step.o
// RUN: mp-link %t/step.o -o %t/train
// RUN: %python -B -c "import sys; sys.path.insert(0, '%S/../../Runtime/Inputs'); import numpy, tensors; tensors.write('%t/data.safetensors', {'input0': numpy.array([[[1, 0], [0, 1], [1, -1], [2, 1]]], numpy.float32)})"
// RUN: %mpirun -n 1 %t/train --steps 1 --init %t/weights.safetensors --data %t/data.safetensors --save %t/trained.safetensors | FileCheck %s --check-prefix=TRAIN
// RUN: %python %S/../../Runtime/Inputs/tensors.py dump %t/trained.safetensors | FileCheck %s --check-prefix=TRAINED
// The model exported in bf16 imports as the same model (the same IR, so
// the same step), its values widened to f32 master weights, from which it
// trains the same way.
// RUN: mp-opt %s --mp-import -o %t/f32.mlir
// RUN: mp-opt %S/Inputs/weights-bf16.mlir --mp-import="weights=%t/bf16.safetensors" -o %t/bf16.mlir
// RUN: diff %t/f32.mlir %t/bf16.mlir
// RUN: %python %S/../../Runtime/Inputs/tensors.py dump %t/bf16.safetensors | FileCheck %s --check-prefix=DUMP
// RUN: %mpirun -n 1 %t/train --steps 1 --init %t/bf16.safetensors --data %t/data.safetensors --save %t/trained-bf16.safetensors | FileCheck %s --check-prefix=TRAIN
// RUN: %python %S/../../Runtime/Inputs/tensors.py dump %t/trained-bf16.safetensors | FileCheck %s --check-prefix=TRAINED

// REQUIRES: numpy

// With weights=, the values of the weights lifted to parameters (a
// torch-mlir dense_resource blob, an ml_program global's initial value, a
// dense constant) go to a safetensors file under the parameter names, for
// mp-train --init; the IR is the same with or without it.

// CHECK-LABEL: func.func @forward
// CHECK-SAME: {mp.param = "fc.weight"}
// CHECK-SAME: {mp.param = "head.weight"}
// CHECK-SAME: {mp.param = "scale"}

// The weights are not square and not symmetric, so an importer that
// transposed one, swapped matmul operands or mixed up which global is which
// would change these values (or fail to type-check) rather than pass.
// DUMP: fc.weight F32 [3, 2] 1 2 3 4 5 6
// DUMP-NEXT: head.weight F32 [2, 3] 0.5 -1 1.5 -2 1 0
// DUMP-NEXT: scale F32 [4, 2] 1 2 3 4 5 6 7 8

// One SGD step (lr 0.1, loss = sum) from those weights on the batch
// x = [[1, 0], [0, 1], [1, -1], [2, 1]], by hand, with W = fc.weight,
// H = head.weight, S = scale:
//   y = x W^T = [[1, 3, 5], [2, 4, 6], [-1, -1, -1], [4, 10, 16]]
//   z = y H^T = [[5, 1], [6, 0], [-1, 1], [16, 2]]
//   loss = sum(z * S) = 5 + 2 + 18 + 0 - 5 + 6 + 112 + 16 = 154
//   dS = z;  dH = S^T y = [[30, 80, 130], [36, 96, 156]]
//   dy = S H = [[-3.5, 1, 1.5], [-6.5, 1, 4.5], [-9.5, 1, 7.5], [-12.5, 1, 10.5]]
//   dW = dy^T x = [[-38, -9.5], [4, 1], [30, 7.5]]
// and each parameter moves by -0.1 times its gradient.
// TRAIN: step 0 loss 154{{$}}
// TRAINED: fc.weight F32 [3, 2] 4.8 2.95 2.6 3.9 2 5.25
// TRAINED-NEXT: head.weight F32 [2, 3] -2.5 -9 -11.5 -5.6 -8.6 -15.6
// TRAINED-NEXT: scale F32 [4, 2] 0.5 1.9 2.4 4 5.1 5.9 5.4 7.8
ml_program.global private @"head.weight"(dense<[[0.5, -1.0, 1.5], [-2.0, 1.0, 0.0]]> : tensor<2x3xf32>) : tensor<2x3xf32>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @forward(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %w = arith.constant dense_resource<torch_tensor_3_2_torch.float32> : tensor<3x2xf32> loc("p_fc_weight")
  %h = ml_program.global_load @"head.weight" : tensor<2x3xf32>
  %s = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32> loc("scale")
  %we = tensor.empty() : tensor<2x3xf32>
  %he = tensor.empty() : tensor<3x2xf32>
  %wt = linalg.transpose ins(%w : tensor<3x2xf32>) outs(%we : tensor<2x3xf32>) permutation = [1, 0]
  %ht = linalg.transpose ins(%h : tensor<2x3xf32>) outs(%he : tensor<3x2xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<4x2xf32>) -> tensor<4x2xf32>
  %yo = tensor.empty() : tensor<4x3xf32>
  %yf = linalg.fill ins(%zero : f32) outs(%yo : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<4x2xf32>, tensor<2x3xf32>) outs(%yf : tensor<4x3xf32>) -> tensor<4x3xf32>
  %z = linalg.matmul ins(%y, %ht : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%z, %s : tensor<4x2xf32>, tensor<4x2xf32>) outs(%o : tensor<4x2xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      torch_tensor_3_2_torch.float32: "0x040000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}
