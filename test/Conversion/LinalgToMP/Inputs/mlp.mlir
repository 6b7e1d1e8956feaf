// A 3-layer MLP as torch-mlir's linalg-on-tensors output spells it, with
// the parameters lifted as function arguments named as torch.export names
// them (p_<module path with _>):
//
//   class MLP(nn.Module):
//       def __init__(self):
//           self.fc1 = nn.Linear(16, 32); self.fc2 = nn.Linear(32, 32)
//           self.fc3 = nn.Linear(32, 8)
//       def forward(self, x):
//           return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @mlp(%x: tensor<8x16xf32> loc("x"), %fc1_w: tensor<32x16xf32> loc("p_fc1_weight"), %fc1_b: tensor<32xf32> loc("p_fc1_bias"), %fc2_w: tensor<32x32xf32> loc("p_fc2_weight"), %fc2_b: tensor<32xf32> loc("p_fc2_bias"), %fc3_w: tensor<8x32xf32> loc("p_fc3_weight"), %fc3_b: tensor<8xf32> loc("p_fc3_bias")) -> tensor<8x8xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %alpha = arith.constant 1.000000e+00 : f32
  %l1_e = tensor.empty() : tensor<16x32xf32>
  %l1_t = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%fc1_w : tensor<32x16xf32>) outs(%l1_e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<16x32xf32>
  %l1_o = tensor.empty() : tensor<8x32xf32>
  %l1_f = linalg.fill ins(%zero : f32) outs(%l1_o : tensor<8x32xf32>) -> tensor<8x32xf32>
  %l1_m = linalg.matmul ins(%x, %l1_t : tensor<8x16xf32>, tensor<16x32xf32>) outs(%l1_f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %l1_b = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%l1_m, %fc1_b : tensor<8x32xf32>, tensor<32xf32>) outs(%l1_o : tensor<8x32xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %s = arith.mulf %in_0, %alpha : f32
    %a = arith.addf %in, %s : f32
    linalg.yield %a : f32
  } -> tensor<8x32xf32>
  %r1_e = tensor.empty() : tensor<8x32xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%l1_b : tensor<8x32xf32>) outs(%r1_e : tensor<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c = arith.cmpf ugt, %in, %zero : f32
    %s = arith.select %c, %in, %zero : f32
    linalg.yield %s : f32
  } -> tensor<8x32xf32>
  %l2_e = tensor.empty() : tensor<32x32xf32>
  %l2_t = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%fc2_w : tensor<32x32xf32>) outs(%l2_e : tensor<32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<32x32xf32>
  %l2_o = tensor.empty() : tensor<8x32xf32>
  %l2_f = linalg.fill ins(%zero : f32) outs(%l2_o : tensor<8x32xf32>) -> tensor<8x32xf32>
  %l2_m = linalg.matmul ins(%r1, %l2_t : tensor<8x32xf32>, tensor<32x32xf32>) outs(%l2_f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %l2_b = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%l2_m, %fc2_b : tensor<8x32xf32>, tensor<32xf32>) outs(%l2_o : tensor<8x32xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %s = arith.mulf %in_0, %alpha : f32
    %a = arith.addf %in, %s : f32
    linalg.yield %a : f32
  } -> tensor<8x32xf32>
  %r2_e = tensor.empty() : tensor<8x32xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%l2_b : tensor<8x32xf32>) outs(%r2_e : tensor<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c = arith.cmpf ugt, %in, %zero : f32
    %s = arith.select %c, %in, %zero : f32
    linalg.yield %s : f32
  } -> tensor<8x32xf32>
  %l3_e = tensor.empty() : tensor<32x8xf32>
  %l3_t = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%fc3_w : tensor<8x32xf32>) outs(%l3_e : tensor<32x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<32x8xf32>
  %l3_o = tensor.empty() : tensor<8x8xf32>
  %l3_f = linalg.fill ins(%zero : f32) outs(%l3_o : tensor<8x8xf32>) -> tensor<8x8xf32>
  %l3_m = linalg.matmul ins(%r2, %l3_t : tensor<8x32xf32>, tensor<32x8xf32>) outs(%l3_f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %l3_b = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%l3_m, %fc3_b : tensor<8x8xf32>, tensor<8xf32>) outs(%l3_o : tensor<8x8xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %s = arith.mulf %in_0, %alpha : f32
    %a = arith.addf %in, %s : f32
    linalg.yield %a : f32
  } -> tensor<8x8xf32>
  return %l3_b : tensor<8x8xf32>
}
