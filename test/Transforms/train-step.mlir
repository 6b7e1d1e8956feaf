// RUN: mp-opt %s -split-input-file --mp-train-step="lr=3e-3" | FileCheck %s --check-prefix=ADAMW
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1" | FileCheck %s --check-prefix=SGD
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd lr=0.1 momentum=0.9 dampening=0.1 weight-decay=1e-4 max-grad-norm=1.0" | FileCheck %s --check-prefix=CLIP
// RUN: mp-opt %s -split-input-file --mp-train-step="optimizer=sgd pytorch-dp-average=true" | FileCheck %s --check-prefix=AVG

// The seed's FFN and its output.sum() loss.

// ADAMW-LABEL: func.func @ffn_train_step
// ADAMW-SAME: (%[[W1:.+]]: tensor<128x64xf32> {mp.param = "w1"}, %[[W2:.+]]: tensor<64x128xf32> {mp.param = "w2"}, %[[W3:.+]]: tensor<128x64xf32> {mp.param = "w3"},
// ADAMW-SAME: %[[M1:.+]]: tensor<128x64xf32> {mp.state = "w1.exp_avg"}, %[[V1:.+]]: tensor<128x64xf32> {mp.state = "w1.exp_avg_sq"},
// ADAMW-SAME: %{{.+}}: tensor<64x128xf32> {mp.state = "w2.exp_avg"}, %{{.+}}: tensor<64x128xf32> {mp.state = "w2.exp_avg_sq"},
// ADAMW-SAME: %{{.+}}: tensor<128x64xf32> {mp.state = "w3.exp_avg"}, %{{.+}}: tensor<128x64xf32> {mp.state = "w3.exp_avg_sq"},
// ADAMW-SAME: %[[STEP:.+]]: tensor<f32> {mp.state = "step"}, %[[X:.+]]: tensor<8x64xf32> {mp.input = "x"})
// ADAMW-SAME: -> (tensor<128x64xf32> {mp.output = "w1"}, tensor<64x128xf32> {mp.output = "w2"}, tensor<128x64xf32> {mp.output = "w3"},
// ADAMW-SAME: tensor<128x64xf32> {mp.output = "w1.exp_avg"}, tensor<128x64xf32> {mp.output = "w1.exp_avg_sq"},
// ADAMW-SAME: tensor<f32> {mp.output = "step"}, tensor<f32> {mp.output = "loss"})
// Forward.
// ADAMW-NEXT: %[[H1:.+]] = mp.linear %[[X]], %[[W1]]
// ADAMW-NEXT: %[[A:.+]] = mp.silu %[[H1]]
// ADAMW-NEXT: %[[H3:.+]] = mp.linear %[[X]], %[[W3]]
// ADAMW-NEXT: %[[G:.+]] = mp.mul %[[A]], %[[H3]]
// ADAMW-NEXT: %[[OUT:.+]] = mp.linear %[[G]], %[[W2]]
// ADAMW-NEXT: %[[LOSS:.+]] = mp.sum %[[OUT]]
// Backward: d(sum) is a broadcast of the seed 1.
// ADAMW-NEXT: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// ADAMW-NEXT: %[[DOUT:.+]] = mp.broadcast %[[ONE]] dims [0, 1] : tensor<f32> -> tensor<8x64xf32>
// w2: dG = dOut·W2, dW2 = dOutᵀ·G.
// ADAMW-NEXT: %[[W2T:.+]] = mp.transpose %[[W2]] perm [1, 0]
// ADAMW-NEXT: %[[DG:.+]] = mp.linear %[[DOUT]], %[[W2T]] : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
// ADAMW-NEXT: %[[DOUTT:.+]] = mp.transpose %[[DOUT]] perm [1, 0]
// ADAMW-NEXT: %[[DW2:.+]] = mp.matmul %[[DOUTT]], %[[G]] : (tensor<64x8xf32>, tensor<8x128xf32>) -> tensor<64x128xf32>
// The product rule, then w3's weight gradient.
// ADAMW-NEXT: %[[DA:.+]] = mp.mul %[[DG]], %[[H3]]
// ADAMW-NEXT: %[[DH3:.+]] = mp.mul %[[DG]], %[[A]]
// ADAMW-NEXT: %[[DH3T:.+]] = mp.transpose %[[DH3]] perm [1, 0]
// ADAMW-NEXT: %[[DW3:.+]] = mp.matmul %[[DH3T]], %[[X]] : (tensor<128x8xf32>, tensor<8x64xf32>) -> tensor<128x64xf32>
// silu's gradient from its input, in one op.
// ADAMW-NEXT: %[[DH1:.+]] = mp.silu_grad %[[DA]], %[[H1]] : tensor<8x128xf32>
// ADAMW-NEXT: %[[DH1T:.+]] = mp.transpose %[[DH1]] perm [1, 0]
// ADAMW-NEXT: %[[DW1:.+]] = mp.matmul %[[DH1T]], %[[X]]
// The update, AdamW with PyTorch's defaults and lr = 3e-3.
// ADAMW-NEXT: %[[ONE2:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// ADAMW-NEXT: %[[T:.+]] = mp.add %[[STEP]], %[[ONE2]] : tensor<f32>
// ADAMW-NEXT: %[[P1:.+]], %[[M1N:.+]], %[[V1N:.+]] = mp.adamw %[[W1]], %[[DW1]], %[[M1]], %[[V1]], %[[T]] {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, lr = 3.000000e-03 : f64, weight_decay = 1.000000e-02 : f64} : tensor<128x64xf32>, tensor<f32>
// ADAMW-NEXT: %[[P2:.+]], %{{.+}}, %{{.+}} = mp.adamw %[[W2]], %[[DW2]]
// ADAMW-NEXT: %[[P3:.+]], %{{.+}}, %{{.+}} = mp.adamw %[[W3]], %[[DW3]]
// ADAMW-NEXT: return %[[P1]], %[[P2]], %[[P3]], %[[M1N]], %[[V1N]], {{.+}}, %[[T]], %[[LOSS]]

// SGD-LABEL: func.func @ffn_train_step
// SGD-SAME: (%{{.+}}: tensor<128x64xf32> {mp.param = "w1"}, %{{.+}}: tensor<64x128xf32> {mp.param = "w2"}, %{{.+}}: tensor<128x64xf32> {mp.param = "w3"}, %{{.+}}: tensor<8x64xf32> {mp.input = "x"})
// SGD-SAME: -> (tensor<128x64xf32> {mp.output = "w1"}, tensor<64x128xf32> {mp.output = "w2"}, tensor<128x64xf32> {mp.output = "w3"}, tensor<f32> {mp.output = "loss"})
// SGD: mp.sgd %{{.+}}, %{{.+}} {lr = 1.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<128x64xf32>

// Momentum (a buffer per parameter) and global-norm clipping: the squared
// norm sums each gradient's (one pass over it, no tensor of squares); each
// gradient is scaled by one coefficient.
// CLIP-LABEL: func.func @ffn_train_step
// CLIP-SAME: {mp.state = "w1.momentum_buffer"}
// CLIP-SAME: -> (
// CLIP-SAME: {mp.output = "w3.momentum_buffer"}, tensor<f32> {mp.output = "loss"})
// CLIP: %[[SQ1:.+]] = mp.squared_norm %{{.+}} : tensor<128x64xf32>
// CLIP-NEXT: %[[SQ2:.+]] = mp.squared_norm %{{.+}} : tensor<64x128xf32>
// CLIP-NEXT: %[[SQ12:.+]] = mp.add %[[SQ1]], %[[SQ2]]
// CLIP-NEXT: %[[SQ3:.+]] = mp.squared_norm %{{.+}} : tensor<128x64xf32>
// CLIP-NEXT: %[[SQ:.+]] = mp.add %[[SQ12]], %[[SQ3]]
// CLIP-NEXT: %[[C:.+]] = mp.clip_coefficient %[[SQ]] max_norm 1.000000e+00 : tensor<f32>
// CLIP-NEXT: mp.broadcast %[[C]] dims [0, 1] : tensor<f32> -> tensor<128x64xf32>
// CLIP: mp.sgd_momentum %{{.+}}, %{{.+}}, %{{.+}} {dampening = 1.000000e-01 : f64, lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, weight_decay = 1.000000e-04 : f64} : tensor<128x64xf32>

// PyTorch's convention: the seed of a sum loss divided by the batch axis size.
// AVG-LABEL: func.func @ffn_train_step
// AVG: %[[SEED:.+]] = arith.constant dense<5.000000e-01> : tensor<f32>
// AVG-NEXT: mp.broadcast %[[SEED]] dims [0, 1]
module attributes {mp.plan = #mp.plan<mesh = @mesh, batch_axis = dp, styles = {}>} {
  mp.mesh @mesh = <dp = 2>
  func.func @ffn(%x: tensor<8x64xf32> {mp.input = "x"},
                 %w1: tensor<128x64xf32> {mp.param = "w1"},
                 %w2: tensor<64x128xf32> {mp.param = "w2"},
                 %w3: tensor<128x64xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    %loss = mp.sum %out : tensor<8x64xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Every op's VJP in one model: a 3-D linear (flattened batch for the weight
// gradient), matmul with a shared rhs, div, sub, neg, scale, exp, relu,
// gelu, sigmoid, mean over dims, reshape, transpose, and the two losses.
// A parameter that does not reach the loss gets a zero gradient.

// ADAMW-LABEL: func.func @every_op_train_step
// ADAMW-DAG: mp.reshape %{{.+}} : tensor<2x4x8xf32> -> tensor<8x8xf32>
// ADAMW-DAG: mp.gelu_grad %{{.+}}, %{{.+}} tanh : tensor<2x4x8xf32>
// ADAMW-DAG: mp.step %{{.+}} : tensor<2x4x8xf32>
// ADAMW-DAG: mp.cross_entropy_grad %{{.+}}, %{{.+}}, %{{.+}} scale 1.250000e-01 : (tensor<8x8xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x8xf32>
// ADAMW-DAG: mp.broadcast %{{.+}} dims [2] : tensor<2x4xf32> -> tensor<2x4x8xf32>
// ADAMW-DAG: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<3xf32>
// ADAMW-DAG: mp.adamw %{{.+}}, %[[ZERO]]
module {
  func.func @every_op(%x: tensor<2x4x8xf32> {mp.input = "x"}, %y: tensor<8xi64> {mp.target = "y"},
                      %t: tensor<2x4xf32> {mp.target = "t"},
                      %w: tensor<8x8xf32> {mp.param = "w"}, %m: tensor<8x8xf32> {mp.param = "m"},
                      %unused: tensor<3xf32> {mp.param = "unused"}) -> tensor<f32> {
    %h = mp.linear %x, %w : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %g = mp.gelu %h tanh : tensor<2x4x8xf32>
    %r = mp.relu %g : tensor<2x4x8xf32>
    %e = mp.exp %r : tensor<2x4x8xf32>
    %s = mp.sigmoid %e : tensor<2x4x8xf32>
    %d = mp.div %s, %e : tensor<2x4x8xf32>
    %n = mp.neg %d : tensor<2x4x8xf32>
    %q = mp.sub %n, %h : tensor<2x4x8xf32>
    %k = mp.scale %q by 0.5 : tensor<2x4x8xf32>
    %mm = mp.matmul %k, %m : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
    %mean = mp.mean %mm dims [2] : tensor<2x4x8xf32> -> tensor<2x4xf32>
    %mse = mp.mse_loss %mean, %t : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<f32>
    %flat = mp.reshape %mm : tensor<2x4x8xf32> -> tensor<8x8xf32>
    %tr = mp.transpose %flat perm [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %ce = mp.cross_entropy %tr, %y : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
    %loss = mp.add %mse, %ce : tensor<f32>
    return %loss : tensor<f32>
  }
}
