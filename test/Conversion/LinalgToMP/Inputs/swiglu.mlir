// The seed's FeedForward, w2(silu(w1 x) * w3 x) without bias, as
// torch-mlir's linalg-on-tensors output spells it (F.silu decomposed into
// sigmoid and a product), parameters lifted as torch.export names them.
#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @ffn(%x: tensor<8x16xf32> loc("x"), %w1_w: tensor<32x16xf32> loc("p_w1_weight"), %w2_w: tensor<16x32xf32> loc("p_w2_weight"), %w3_w: tensor<32x16xf32> loc("p_w3_weight")) -> tensor<8x16xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %l1_e = tensor.empty() : tensor<16x32xf32>
  %l1_t = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%w1_w : tensor<32x16xf32>) outs(%l1_e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<16x32xf32>
  %l1_o = tensor.empty() : tensor<8x32xf32>
  %l1_f = linalg.fill ins(%zero : f32) outs(%l1_o : tensor<8x32xf32>) -> tensor<8x32xf32>
  %l1_m = linalg.matmul ins(%x, %l1_t : tensor<8x16xf32>, tensor<16x32xf32>) outs(%l1_f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %sg_e = tensor.empty() : tensor<8x32xf32>
  %sg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%l1_m : tensor<8x32xf32>) outs(%sg_e : tensor<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %e = math.exp %n : f32
    %a = arith.addf %e, %one : f32
    %d = arith.divf %one, %a : f32
    linalg.yield %d : f32
  } -> tensor<8x32xf32>
  %silu = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%l1_m, %sg : tensor<8x32xf32>, tensor<8x32xf32>) outs(%sg_e : tensor<8x32xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %m = arith.mulf %in, %in_0 : f32
    linalg.yield %m : f32
  } -> tensor<8x32xf32>
  %l3_e = tensor.empty() : tensor<16x32xf32>
  %l3_t = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%w3_w : tensor<32x16xf32>) outs(%l3_e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<16x32xf32>
  %l3_o = tensor.empty() : tensor<8x32xf32>
  %l3_f = linalg.fill ins(%zero : f32) outs(%l3_o : tensor<8x32xf32>) -> tensor<8x32xf32>
  %l3_m = linalg.matmul ins(%x, %l3_t : tensor<8x16xf32>, tensor<16x32xf32>) outs(%l3_f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%silu, %l3_m : tensor<8x32xf32>, tensor<8x32xf32>) outs(%sg_e : tensor<8x32xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %m = arith.mulf %in, %in_0 : f32
    linalg.yield %m : f32
  } -> tensor<8x32xf32>
  %l2_e = tensor.empty() : tensor<32x16xf32>
  %l2_t = linalg.generic {indexing_maps = [#id, #t], iterator_types = ["parallel", "parallel"]} ins(%w2_w : tensor<16x32xf32>) outs(%l2_e : tensor<32x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<32x16xf32>
  %l2_o = tensor.empty() : tensor<8x16xf32>
  %l2_f = linalg.fill ins(%zero : f32) outs(%l2_o : tensor<8x16xf32>) -> tensor<8x16xf32>
  %l2_m = linalg.matmul ins(%g, %l2_t : tensor<8x32xf32>, tensor<32x16xf32>) outs(%l2_f : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %l2_m : tensor<8x16xf32>
}
