// RUN: mp-opt %s -split-input-file --mp-apply-plan --mp-spmd | FileCheck %s

// Megatron-LM's tensor-parallel FFN on a 1D mesh: w1, w3 colwise, w2
// rowwise. The first two GEMMs run on [hidden/tp, dim] shards with no
// communication, the third yields a partial sum, and exactly one all_reduce
// on tensor_parallel makes the output whole.

// CHECK-LABEL: func.func @ffn_tp
// CHECK-SAME: (%[[X:.+]]: tensor<8x64xf32> {{[^}]*}}}, %[[W1:.+]]: tensor<64x64xf32> {{[^}]*}}}, %[[W2:.+]]: tensor<64x64xf32> {{[^}]*}}}, %[[W3:.+]]: tensor<64x64xf32> {{[^}]*}}})
// CHECK-SAME: -> (tensor<8x64xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}) attributes {mp.partitioned}
// CHECK-NEXT: %[[H1:.+]] = mp.linear %[[X]], %[[W1]] : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: %[[A:.+]] = mp.silu %[[H1]] : tensor<8x64xf32>
// CHECK-NEXT: %[[H3:.+]] = mp.linear %[[X]], %[[W3]] : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: %[[G:.+]] = mp.mul %[[A]], %[[H3]] : tensor<8x64xf32>
// CHECK-NEXT: %[[P:.+]] = mp.linear %[[G]], %[[W2]] : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: %[[Y:.+]] = mp.all_reduce %[[P]] on @mesh axes ["tensor_parallel"] origin "'w2' (rowwise) -> func.return" : tensor<8x64xf32>
// CHECK-NEXT: return %[[Y]] : tensor<8x64xf32>
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <tensor_parallel = 2>
  func.func @ffn_tp(%x: tensor<8x64xf32> {mp.input = "x"},
                    %w1: tensor<128x64xf32> {mp.param = "w1"},
                    %w2: tensor<64x128xf32> {mp.param = "w2"},
                    %w3: tensor<128x64xf32> {mp.param = "w3"}) -> tensor<8x64xf32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

// -----

// Sequence parallelism on the input and the output: one all_gather of the
// input on tensor_parallel before the colwise GEMMs (shared by both), and a
// reduce_scatter after the rowwise one instead of the all_reduce.

// CHECK-LABEL: func.func @ffn_sp
// CHECK-SAME: (%[[X:.+]]: tensor<4x64xf32> {{[^}]*}}}, %[[W1:.+]]: tensor<64x64xf32> {{[^}]*}}}, %[[W2:.+]]: tensor<64x64xf32> {{[^}]*}}}, %[[W3:.+]]: tensor<64x64xf32> {{[^}]*}}})
// CHECK-SAME: -> (tensor<4x64xf32> {mp.output = "out", mp.plan_entry = "out", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel], []]>})
// CHECK-NEXT: %[[XG:.+]] = mp.all_gather %[[X]] on @mesh axes ["tensor_parallel"] dim 0 origin "'x' (sequence_parallel) -> mp.linear of 'w1'" : tensor<4x64xf32> -> tensor<8x64xf32>
// CHECK-NEXT: %[[H1:.+]] = mp.linear %[[XG]], %[[W1]]
// CHECK-NEXT: %[[A:.+]] = mp.silu %[[H1]]
// CHECK-NEXT: %[[H3:.+]] = mp.linear %[[XG]], %[[W3]]
// CHECK-NEXT: %[[G:.+]] = mp.mul %[[A]], %[[H3]]
// CHECK-NEXT: %[[P:.+]] = mp.linear %[[G]], %[[W2]] : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: %[[Y:.+]] = mp.reduce_scatter %[[P]] on @mesh axes ["tensor_parallel"] dim 0 origin "'w2' (rowwise) -> func.return" : tensor<8x64xf32> -> tensor<4x64xf32>
// CHECK-NEXT: return %[[Y]] : tensor<4x64xf32>
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel,
    styles = {w1 = colwise, w2 = rowwise, w3 = colwise, x = sequence_parallel, out = sequence_parallel}>} {
  mp.mesh @mesh = <tensor_parallel = 2>
  func.func @ffn_sp(%x: tensor<8x64xf32> {mp.input = "x"},
                    %w1: tensor<128x64xf32> {mp.param = "w1"},
                    %w2: tensor<64x128xf32> {mp.param = "w2"},
                    %w3: tensor<128x64xf32> {mp.param = "w3"}) -> (tensor<8x64xf32> {mp.output = "out"}) {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

// -----

// 2D: data_parallel x tensor_parallel with FSDP on data_parallel. The batch
// is split over data_parallel; each parameter is stored split over both
// axes and all_gathered on data_parallel before its use; the only other
// traffic is the tensor-parallel all_reduce of the 1D case.

// CHECK-LABEL: func.func @ffn_2d
// CHECK-SAME: (%[[X:.+]]: tensor<4x64xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], []]>},
// CHECK-SAME: %[[W1:.+]]: tensor<32x64xf32> {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>},
// CHECK-SAME: %[[W2:.+]]: tensor<32x64xf32> {mp.param = "w2", mp.plan_entry = "w2", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], [tensor_parallel]]>},
// CHECK-SAME: %[[W3:.+]]: tensor<32x64xf32> {mp.param = "w3", mp.plan_entry = "w3", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>})
// CHECK-SAME: -> (tensor<4x64xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], []]>})
// CHECK-NEXT: %[[G1:.+]] = mp.all_gather %[[W1]] on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w1" : tensor<32x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT: %[[G2:.+]] = mp.all_gather %[[W2]] on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w2" : tensor<32x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT: %[[G3:.+]] = mp.all_gather %[[W3]] on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w3" : tensor<32x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT: %[[H1:.+]] = mp.linear %[[X]], %[[G1]] : (tensor<4x64xf32>, tensor<64x64xf32>) -> tensor<4x64xf32>
// CHECK-NEXT: %[[A:.+]] = mp.silu %[[H1]]
// CHECK-NEXT: %[[H3:.+]] = mp.linear %[[X]], %[[G3]]
// CHECK-NEXT: %[[G:.+]] = mp.mul %[[A]], %[[H3]]
// CHECK-NEXT: %[[P:.+]] = mp.linear %[[G]], %[[G2]]
// CHECK-NEXT: %[[Y:.+]] = mp.all_reduce %[[P]] on @mesh axes ["tensor_parallel"] origin "'w2' (rowwise) -> func.return" : tensor<4x64xf32>
// CHECK-NEXT: return %[[Y]]
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
  func.func @ffn_2d(%x: tensor<8x64xf32> {mp.input = "x"},
                    %w1: tensor<128x64xf32> {mp.param = "w1"},
                    %w2: tensor<64x128xf32> {mp.param = "w2"},
                    %w3: tensor<128x64xf32> {mp.param = "w3"}) -> tensor<8x64xf32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %a = mp.silu %h1 : tensor<8x128xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %g = mp.mul %a, %h3 : tensor<8x128xf32>
    %out = mp.linear %g, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %out : tensor<8x64xf32>
  }
}

// -----

// The seed's loss, output.sum(), on the 2D plan: the sum over the batch
// split on data_parallel is partial there too, and the scalar loss is
// reduced once over both axes, instead of reducing the [batch, dim] output.

// CHECK-LABEL: func.func @ffn_loss
// CHECK-COUNT-3: mp.all_gather
// CHECK: mp.mul
// CHECK-NEXT: %[[P:.+]] = mp.linear
// CHECK-NEXT: %[[S:.+]] = mp.sum %[[P]] : tensor<4x64xf32> -> tensor<f32>
// CHECK-NEXT: %[[L:.+]] = mp.all_reduce %[[S]] on @mesh axes ["data_parallel", "tensor_parallel"] origin "'x' (batch), 'w2' (rowwise) -> func.return" : tensor<f32>
// CHECK-NEXT: return %[[L]] : tensor<f32>
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
  func.func @ffn_loss(%x: tensor<8x64xf32> {mp.input = "x"},
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

// Degenerate meshes: size-1 axes carry no collectives. 1x1: nothing at all.

// CHECK-LABEL: func.func @mesh_1x1
// CHECK-NOT: mp.all_
// CHECK-NOT: mp.reduce_scatter
// CHECK: return
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <dp = 1, tp = 1>
  func.func @mesh_1x1(%x: tensor<8x64xf32> {mp.input = "x"},
                      %w1: tensor<128x64xf32> {mp.param = "w1"},
                      %w2: tensor<64x128xf32> {mp.param = "w2"}) -> tensor<8x64xf32> {
    %h = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %y = mp.linear %h, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %y : tensor<8x64xf32>
  }
}

// -----

// 1xN: tensor parallelism only; FSDP over a size-1 axis gathers nothing.

// CHECK-LABEL: func.func @mesh_1xN
// CHECK-SAME: tensor<32x64xf32>
// CHECK-NOT: mp.all_gather
// CHECK: mp.linear
// CHECK: mp.linear
// CHECK-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["tp"]
// CHECK-NOT: mp.all_
// CHECK: return
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <dp = 1, tp = 4>
  func.func @mesh_1xN(%x: tensor<8x64xf32> {mp.input = "x"},
                      %w1: tensor<128x64xf32> {mp.param = "w1"},
                      %w2: tensor<64x128xf32> {mp.param = "w2"}) -> tensor<8x64xf32> {
    %h = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %y = mp.linear %h, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %y : tensor<8x64xf32>
  }
}

// -----

// Nx1: FSDP only (ZeRO-3); the tensor-parallel styles split over a size-1
// axis, so the rowwise partial sum needs no all_reduce.

// CHECK-LABEL: func.func @mesh_Nx1
// CHECK-SAME: %{{.+}}: tensor<2x64xf32> {mp.input = "x"
// CHECK-NEXT: mp.all_gather %{{.+}} on @mesh axes ["dp"] dim 0 origin "fsdp(dp): w1" : tensor<32x64xf32> -> tensor<128x64xf32>
// CHECK-NEXT: mp.all_gather %{{.+}} on @mesh axes ["dp"] dim 0 origin "fsdp(dp): w2" : tensor<16x128xf32> -> tensor<64x128xf32>
// CHECK-NEXT: mp.linear
// CHECK-NEXT: mp.linear
// CHECK-NEXT: return
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <dp = 4, tp = 1>
  func.func @mesh_Nx1(%x: tensor<8x64xf32> {mp.input = "x"},
                      %w1: tensor<128x64xf32> {mp.param = "w1"},
                      %w2: tensor<64x128xf32> {mp.param = "w2"}) -> tensor<8x64xf32> {
    %h = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %y = mp.linear %h, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %y : tensor<8x64xf32>
  }
}

// -----

// A mean over the batch split on dp: each rank's local mean is scaled by
// local/global count (1/2) so that the all_reduce of the partial means is
// the global mean. The same for a mean loss.

// CHECK-LABEL: func.func @means
// CHECK: %[[M:.+]] = mp.mean %{{.+}} : tensor<4x16xf32> -> tensor<f32>
// CHECK-NEXT: %[[MS:.+]] = mp.scale %[[M]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: %[[L:.+]] = mp.mse_loss %{{.+}}, %{{.+}} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<f32>
// CHECK-NEXT: %[[LS:.+]] = mp.scale %[[L]] by 5.000000e-01 : tensor<f32>
// CHECK-NEXT: %[[MR:.+]] = mp.all_reduce %[[MS]] on @mesh axes ["dp"] origin "'x' (batch) -> func.return" : tensor<f32>
// CHECK-NEXT: %[[LR:.+]] = mp.all_reduce %[[LS]] on @mesh axes ["dp"] origin "'x' (batch) -> func.return" : tensor<f32>
// CHECK-NEXT: return %[[MR]], %[[LR]]
module attributes {mp.plan = #mp.plan<mesh = @mesh, batch_axis = dp, styles = {}>} {
  mp.mesh @mesh = <dp = 2>
  func.func @means(%x: tensor<8x16xf32> {mp.input = "x"}, %y: tensor<8x16xf32> {mp.target = "y"}) -> (tensor<f32>, tensor<f32>) {
    %m = mp.mean %x : tensor<8x16xf32> -> tensor<f32>
    %l = mp.mse_loss %x, %y : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<f32>
    return %m, %l : tensor<f32>, tensor<f32>
  }
}

// -----

// A 3D mesh: FSDP on dp, tensor parallelism on tp, and an axis (pp) that
// nothing uses stays out of every collective.

// CHECK-LABEL: func.func @mesh_3d
// CHECK-SAME: %{{.+}}: tensor<4x64xf32> {mp.input = "x"
// CHECK-SAME: tensor<32x64xf32> {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp], []]>}
// CHECK-NEXT: mp.all_gather %{{.+}} on @mesh axes ["dp"] dim 0 origin "fsdp(dp): w1" : tensor<32x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT: mp.all_gather %{{.+}} on @mesh axes ["dp"] dim 0 origin "fsdp(dp): w2" : tensor<32x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT: mp.linear
// CHECK-NEXT: mp.relu
// CHECK-NEXT: mp.linear
// CHECK-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["tp"] origin "'w2' (rowwise) -> func.return" : tensor<4x64xf32>
// CHECK-NEXT: return
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <pp = 2, dp = 2, tp = 2>
  func.func @mesh_3d(%x: tensor<8x64xf32> {mp.input = "x"},
                     %w1: tensor<128x64xf32> {mp.param = "w1"},
                     %w2: tensor<64x128xf32> {mp.param = "w2"}) -> tensor<8x64xf32> {
    %h = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %r = mp.relu %h : tensor<8x128xf32>
    %y = mp.linear %r, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %y : tensor<8x64xf32>
  }
}

// -----

// Constants meeting a split value: a splat is its own piece anywhere, so it
// is split as its consumer needs, as a local splat that keeps its recorded
// layout; any other constant is whole on every rank and sliced.

// CHECK-LABEL: func.func @constants
// CHECK-NEXT: %[[SPLAT:.+]] = arith.constant {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>} dense<2.000000e+00> : tensor<2x2xf32>
// CHECK-NEXT: %[[DENSE:.+]] = arith.constant dense<{{.+}}> : tensor<8x2xf32>
// CHECK-NEXT: %[[A:.+]] = mp.mul %arg0, %[[SPLAT]] : tensor<2x2xf32>
// CHECK-NEXT: %[[PIECE:.+]] = mp.shard_slice %[[DENSE]] on @mesh axes ["tp"] dim 0 {{.*}}: tensor<8x2xf32> -> tensor<2x2xf32>
// CHECK-NEXT: mp.mul %[[A]], %[[PIECE]] : tensor<2x2xf32>
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {x = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 4>
  func.func @constants(%x: tensor<8x2xf32> {mp.input = "x"}) -> tensor<f32> {
    %c = arith.constant dense<2.0> : tensor<8x2xf32>
    %d = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<8x2xf32>
    %y = mp.mul %x, %c : tensor<8x2xf32>
    %z = mp.mul %y, %d : tensor<8x2xf32>
    %s = mp.sum %z : tensor<8x2xf32> -> tensor<f32>
    return %s : tensor<f32>
  }
}
