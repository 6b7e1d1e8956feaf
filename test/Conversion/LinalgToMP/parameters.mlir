// RUN: mp-opt %s --mp-import -split-input-file | FileCheck %s

// Weights held as values become parameter arguments after the existing
// ones: ml_program globals named after their symbol (a global read twice is
// one parameter), constants after their name location, else by position.
// torch.export's lifted names (p_...) come back with dots.

ml_program.global private @"fc.weight"(dense<1.000000e+00> : tensor<16x8xf32>) : tensor<16x8xf32>
// CHECK-NOT: ml_program.global
// CHECK-LABEL: func.func @globals
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32> {mp.input = "input0"}, %[[W:.+]]: tensor<16x8xf32> {mp.param = "fc.weight"}, %[[C:.+]]: tensor<4x16xf32> {mp.param = "head.scale"}, %[[D:.+]]: tensor<4x16xf32> {mp.param = "param2"})
// CHECK-NEXT: %[[Y:.+]] = mp.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[Z:.+]] = mp.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[S:.+]] = mp.add %[[Y]], %[[Z]]
// CHECK-NEXT: %[[P:.+]] = mp.mul %[[S]], %[[C]]
// CHECK-NEXT: %[[Q:.+]] = mp.mul %[[P]], %[[D]]
// CHECK-NEXT: return %[[Q]]
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @globals(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %w = ml_program.global_load @"fc.weight" : tensor<16x8xf32>
  %w_again = ml_program.global_load @"fc.weight" : tensor<16x8xf32>
  %c = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]]> : tensor<4x16xf32> loc("p_head_scale")
  %d = arith.constant dense_resource<torch_tensor_4_16_torch.float32> : tensor<4x16xf32>
  %e = tensor.empty() : tensor<8x16xf32>
  %t = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%e : tensor<8x16xf32>) permutation = [1, 0]
  %t2 = linalg.transpose ins(%w_again : tensor<16x8xf32>) outs(%e : tensor<8x16xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = linalg.matmul ins(%x, %t : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  %z = linalg.matmul ins(%x, %t2 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %z, %c, %d : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) outs(%o : tensor<4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %cc: f32, %dd: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    %p = arith.mulf %s, %cc : f32
    %q = arith.mulf %p, %dd : f32
    linalg.yield %q : f32
  } -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// Arguments: names already given are kept; p_ names are parameters; an
// argument used as a linear's weight is a parameter even unnamed; the rest
// are inputs, named by location or by position.
// CHECK-LABEL: func.func @arguments
// CHECK-SAME: {mp.input = "tokens"}
// CHECK-SAME: {mp.param = "w"}
// CHECK-SAME: {mp.param = "param1"}
// CHECK-SAME: {mp.param = "blocks.0.scale"}
// CHECK-SAME: {mp.input = "input1"}
func.func @arguments(%x: tensor<4x8xf32> loc("tokens"), %w0: tensor<8x8xf32> {mp.param = "w"}, %w1: tensor<8x8xf32>, %s: tensor<4x8xf32> loc("p_blocks_0_scale"), %m: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %t0 = linalg.transpose ins(%w0 : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) permutation = [1, 0]
  %t1 = linalg.transpose ins(%w1 : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y0 = linalg.matmul ins(%x, %t0 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y1 = linalg.matmul ins(%y0, %t1 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %p = linalg.mul ins(%y1, %s : tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<4x8xf32>) -> tensor<4x8xf32>
  %q = linalg.add ins(%p, %m : tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %q : tensor<4x8xf32>
}
