// The same model and 2D plan as ffn.mlir + plan.json, with the plan written
// in IR: a mesh symbol and the module's mp.plan attribute. Run it with
//   mp-opt examples/ffn/ffn-plan-in-ir.mlir --mp-apply-plan --mp-summary
module attributes {mp.plan = #mp.plan<mesh = @mesh,
                                      tp_axis = tensor_parallel,
                                      fsdp_axis = data_parallel,
                                      batch_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>

  func.func @ffn(%x: tensor<8x8192xf32> {mp.input = "x"},
                 %w1: tensor<8192x8192xf32> {mp.param = "w1"},
                 %w2: tensor<8192x8192xf32> {mp.param = "w2"},
                 %w3: tensor<8192x8192xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x8192xf32>, tensor<8192x8192xf32>) -> tensor<8x8192xf32>
    %a = mp.silu %h1 : tensor<8x8192xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x8192xf32>, tensor<8192x8192xf32>) -> tensor<8x8192xf32>
    %g = mp.mul %a, %h3 : tensor<8x8192xf32>
    %out = mp.linear %g, %w2 : (tensor<8x8192xf32>, tensor<8192x8192xf32>) -> tensor<8x8192xf32>
    %loss = mp.sum %out : tensor<8x8192xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}
