// RUN: rm -rf %t && mkdir -p %t
// RUN: mp-opt %s --mp-import="weights=%t/weights.safetensors" | FileCheck %s
// RUN: %python %S/../../Runtime/Inputs/tensors.py dump %t/weights.safetensors | FileCheck %s --check-prefix=DUMP
// RUN: mp-opt %s --mp-import | FileCheck %s
// The file initialises the imported model's training step in mp-train.
// RUN: mp-opt %s --mp-import="loss=sum" --mp-train-step="optimizer=sgd lr=0.1" --mp-lower-to-runtime | mp-translate -o %t/step.o
// RUN: mp-link %t/step.o -o %t/train
// RUN: %mpirun -n 1 %t/train --steps 1 --init %t/weights.safetensors --save %t/trained.safetensors | FileCheck %s --check-prefix=TRAIN
// RUN: %python %S/../../Runtime/Inputs/tensors.py dump %t/trained.safetensors | FileCheck %s --check-prefix=TRAINED

// REQUIRES: numpy

// With weights=, the values of the weights lifted to parameters (a
// torch-mlir dense_resource blob, an ml_program global's initial value, a
// dense constant) go to a safetensors file under the parameter names, for
// mp-train --init; the IR is the same with or without it.

// CHECK-LABEL: func.func @forward
// CHECK-SAME: {mp.param = "fc.weight"}
// CHECK-SAME: {mp.param = "head.weight"}
// CHECK-SAME: {mp.param = "scale"}

// TRAIN: step 0 loss
// TRAINED: fc.weight F32 [2, 2]
// TRAINED-NEXT: head.weight F32 [2, 2]
// TRAINED-NEXT: scale F32 [4, 2]

// DUMP: fc.weight F32 [2, 2] 1 2 3 4
// DUMP-NEXT: head.weight F32 [2, 2] 0.5 -1 1.5 -2
// DUMP-NEXT: scale F32 [4, 2] 1 2 3 4 5 6 7 8
ml_program.global private @"head.weight"(dense<[[0.5, -1.0], [1.5, -2.0]]> : tensor<2x2xf32>) : tensor<2x2xf32>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @forward(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %w = arith.constant dense_resource<torch_tensor_2_2_torch.float32> : tensor<2x2xf32> loc("p_fc_weight")
  %h = ml_program.global_load @"head.weight" : tensor<2x2xf32>
  %s = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32> loc("scale")
  %e = tensor.empty() : tensor<2x2xf32>
  %wt = linalg.transpose ins(%w : tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) permutation = [1, 0]
  %ht = linalg.transpose ins(%h : tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<4x2xf32>, tensor<2x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
  %z = linalg.matmul ins(%y, %ht : tensor<4x2xf32>, tensor<2x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
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
      torch_tensor_2_2_torch.float32: "0x040000000000803F000000400000404000008040"
    }
  }
#-}
