// weights.mlir's model exported after .bfloat16(), as torch-mlir spells it:
// bf16 values (a dense_resource blob, a global's initial value, a dense
// constant), each product accumulated in an f32 fill and rounded to bf16
// by a generic of truncf. Every value is exact in bf16.
ml_program.global private @"head.weight"(dense<[[0.5, -1.0, 1.5], [-2.0, 1.0, 0.0]]> : tensor<2x3xbf16>) : tensor<2x3xbf16>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @forward(%x: tensor<4x2xbf16>) -> tensor<4x2xbf16> {
  %zero = arith.constant 0.000000e+00 : f32
  %w = arith.constant dense_resource<torch_tensor_3_2_torch.bfloat16> : tensor<3x2xbf16> loc("p_fc_weight")
  %h = ml_program.global_load @"head.weight" : tensor<2x3xbf16>
  %s = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xbf16> loc("scale")
  %we = tensor.empty() : tensor<2x3xbf16>
  %he = tensor.empty() : tensor<3x2xbf16>
  %wt = linalg.transpose ins(%w : tensor<3x2xbf16>) outs(%we : tensor<2x3xbf16>) permutation = [1, 0]
  %ht = linalg.transpose ins(%h : tensor<2x3xbf16>) outs(%he : tensor<3x2xbf16>) permutation = [1, 0]
  %o = tensor.empty() : tensor<4x2xbf16>
  %oacc = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%oacc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %yo = tensor.empty() : tensor<4x3xbf16>
  %yacc = tensor.empty() : tensor<4x3xf32>
  %yf = linalg.fill ins(%zero : f32) outs(%yacc : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y32 = linalg.matmul ins(%x, %wt : tensor<4x2xbf16>, tensor<2x3xbf16>) outs(%yf : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%y32 : tensor<4x3xf32>) outs(%yo : tensor<4x3xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<4x3xbf16>
  %z32 = linalg.matmul ins(%y, %ht : tensor<4x3xbf16>, tensor<3x2xbf16>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
  %z = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%z32 : tensor<4x2xf32>) outs(%o : tensor<4x2xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<4x2xbf16>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%z, %s : tensor<4x2xbf16>, tensor<4x2xbf16>) outs(%o : tensor<4x2xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %out: bf16):
    %p = arith.mulf %a, %b : bf16
    linalg.yield %p : bf16
  } -> tensor<4x2xbf16>
  return %r : tensor<4x2xbf16>
}

{-#
  dialect_resources: {
    builtin: {
      torch_tensor_3_2_torch.bfloat16: "0x02000000803F004040408040A040C040"
    }
  }
#-}
