// The FeedForward of Lightning 2.3's ModelParallelStrategy example, at its
// real size: w2(silu(w1 x) * w3 x) with dim = hidden = 8192, a batch of 8
// samples, and the training loss output.sum().
//
//   class FeedForward(nn.Module):
//       def __init__(self, dim, hidden_dim):
//           self.w1 = nn.Linear(dim, hidden_dim, bias=False)
//           self.w2 = nn.Linear(hidden_dim, dim, bias=False)
//           self.w3 = nn.Linear(dim, hidden_dim, bias=False)
//       def forward(self, x):
//           return self.w2(F.silu(self.w1(x)) * self.w3(x))
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
