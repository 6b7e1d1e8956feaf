// Models for the PyTorch comparison (pytorch.test); small, so that the
// float64 computations match to print precision.
func.func @ffn(%x: tensor<4x8xf32> {mp.input = "x"},
               %w1: tensor<16x8xf32> {mp.param = "w1"},
               %w2: tensor<8x16xf32> {mp.param = "w2"},
               %w3: tensor<16x8xf32> {mp.param = "w3"}) -> tensor<f32> {
  %h1 = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = mp.silu %h1 : tensor<4x16xf32>
  %h3 = mp.linear %x, %w3 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %g = mp.mul %a, %h3 : tensor<4x16xf32>
  %out = mp.linear %g, %w2 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %loss = mp.sum %out : tensor<4x8xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

func.func @mlp(%x: tensor<4x8xf32> {mp.input = "x"}, %y: tensor<4xi64> {mp.target = "y"},
               %w1: tensor<16x8xf32> {mp.param = "fc1"}, %w2: tensor<5x16xf32> {mp.param = "fc2"}) -> tensor<f32> {
  %h = mp.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = mp.gelu %h : tensor<4x16xf32>
  %logits = mp.linear %a, %w2 : (tensor<4x16xf32>, tensor<5x16xf32>) -> tensor<4x5xf32>
  %loss = mp.cross_entropy %logits, %y : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
