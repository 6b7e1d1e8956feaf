// RUN: mp-opt %s -split-input-file --mp-apply-plan | FileCheck %s

// The seed's plan on a 2D mesh with FSDP: w1/w3 colwise, w2 rowwise; the
// batch split over data_parallel.

// CHECK: module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>}
// CHECK-LABEL: func.func @ffn
// CHECK-SAME: (%[[X:.+]]: tensor<8x64xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], []]>},
// CHECK-SAME: %[[W1:.+]]: tensor<128x64xf32> {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>},
// CHECK-SAME: %[[W2:.+]]: tensor<64x128xf32> {mp.param = "w2", mp.plan_entry = "w2", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], [tensor_parallel]]>},
// CHECK-SAME: %[[W3:.+]]: tensor<128x64xf32> {mp.param = "w3", mp.plan_entry = "w3", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>})
// CHECK-NEXT: %[[U1:.+]] = mp.annotate %[[W1]] <@mesh, {{\[}}[tensor_parallel], []]> entry "fsdp(data_parallel): w1"
// CHECK-NEXT: %[[U2:.+]] = mp.annotate %[[W2]] <@mesh, {{\[}}[], [tensor_parallel]]> entry "fsdp(data_parallel): w2"
// CHECK-NEXT: %[[U3:.+]] = mp.annotate %[[W3]] <@mesh, {{\[}}[tensor_parallel], []]> entry "fsdp(data_parallel): w3"
// CHECK-NEXT: %[[H1:.+]] = mp.linear %[[X]], %[[U1]]
// CHECK-NEXT: %[[A:.+]] = mp.silu %[[H1]]
// CHECK-NEXT: %[[H3:.+]] = mp.linear %[[X]], %[[U3]]
// CHECK-NEXT: %[[G:.+]] = mp.mul %[[A]], %[[H3]]
// CHECK-NEXT: mp.linear %[[G]], %[[U2]]
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
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

// Tensor parallelism alone (1D mesh): no FSDP, so no annotations; inputs
// are not split (no batch axis).

// CHECK-LABEL: func.func @tp_only
// CHECK-SAME: {mp.input = "x", mp.sharding = #mp.sharding<@tp, {{\[}}[], []]>}
// CHECK-SAME: {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@tp, {{\[}}[tensor_parallel], []]>}
// CHECK-SAME: {mp.param = "w2", mp.plan_entry = "w2", mp.sharding = #mp.sharding<@tp, {{\[}}[], [tensor_parallel]]>}
// CHECK-NOT: mp.annotate
// CHECK: mp.linear
module attributes {mp.plan = #mp.plan<mesh = @tp, tp_axis = tensor_parallel, styles = {w1 = colwise, w2 = rowwise}>} {
  mp.mesh @tp = <tensor_parallel = 4>
  func.func @tp_only(%x: tensor<8x64xf32> {mp.input = "x"},
                     %w1: tensor<128x64xf32> {mp.param = "w1"},
                     %w2: tensor<64x128xf32> {mp.param = "w2"}) -> tensor<8x64xf32> {
    %h = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %y = mp.linear %h, %w2 : (tensor<8x128xf32>, tensor<64x128xf32>) -> tensor<8x64xf32>
    return %y : tensor<8x64xf32>
  }
}

// -----

// Globs match one dotted component per `*`, as parallelize_module does; an
// exact key outranks a glob; unmatched parameters stay replicated over the
// tensor-parallel axis (and FSDP-sharded); a bias follows its style.

// CHECK-LABEL: func.func private @layers
// CHECK-SAME: {mp.param = "layers.0.w1", mp.plan_entry = "layers.*.w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp], []]>}
// CHECK-SAME: {mp.param = "layers.0.b1", mp.plan_entry = "layers.*.b1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp]]>}
// CHECK-SAME: {mp.param = "layers.1.w1", mp.plan_entry = "layers.1.w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], []]>}
// CHECK-SAME: {mp.param = "layers.1.b2", mp.plan_entry = "layers.*.b2", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp]]>}
// CHECK-SAME: {mp.param = "head", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], []]>}
// CHECK-LABEL: func.func @bias
// CHECK-NEXT: mp.annotate %{{.+}} <@mesh, {{\[}}[tp]]> entry "fsdp(dp): layers.0.b1"
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp,
    styles = {"layers.*.w1" = colwise, "layers.*.b1" = colwise, "layers.*.b2" = rowwise,
              "layers.1.w1" = replicate}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func private @layers(tensor<8x8xf32> {mp.param = "layers.0.w1"},
                            tensor<8xf32> {mp.param = "layers.0.b1"},
                            tensor<8x8xf32> {mp.param = "layers.1.w1"},
                            tensor<8xf32> {mp.param = "layers.1.b2"},
                            tensor<8x8xf32> {mp.param = "head"})
  func.func @bias(%b: tensor<8xf32> {mp.param = "layers.0.b1"}) -> tensor<8xf32> {
    return %b : tensor<8xf32>
  }
}

// -----

// Keys name modules, as parallelize_module's do: a module key styles the
// module's `.weight` and `.bias` (PyTorch's state_dict names, as
// --mp-import gives them). colwise splits the weight's and the bias's dim 0
// over tp; rowwise splits the weight's dim 1 and keeps the bias replicated
// over tp (it is added once, after the reduction). FSDP then splits dim 0
// of every parameter over dp; the bias is used gathered like the weight.

// CHECK: mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {fc1 = colwise, fc2 = rowwise}>
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.+]]: tensor<8x16xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], []]>},
// CHECK-SAME: %[[W1:.+]]: tensor<32x16xf32> {mp.param = "fc1.weight", mp.plan_entry = "fc1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp], []]>},
// CHECK-SAME: %[[B1:.+]]: tensor<32xf32> {mp.param = "fc1.bias", mp.plan_entry = "fc1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp]]>},
// CHECK-SAME: %[[W2:.+]]: tensor<16x32xf32> {mp.param = "fc2.weight", mp.plan_entry = "fc2", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], [tp]]>},
// CHECK-SAME: %[[B2:.+]]: tensor<16xf32> {mp.param = "fc2.bias", mp.plan_entry = "fc2", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp]]>})
// CHECK-NEXT: %[[U1:.+]] = mp.annotate %[[W1]] <@mesh, {{\[}}[tp], []]> entry "fsdp(dp): fc1.weight"
// CHECK-NEXT: %[[V1:.+]] = mp.annotate %[[B1]] <@mesh, {{\[}}[tp]]> entry "fsdp(dp): fc1.bias"
// CHECK-NEXT: %[[U2:.+]] = mp.annotate %[[W2]] <@mesh, {{\[}}[], [tp]]> entry "fsdp(dp): fc2.weight"
// CHECK-NEXT: %[[V2:.+]] = mp.annotate %[[B2]] <@mesh, {{\[}}[]]> entry "fsdp(dp): fc2.bias"
// CHECK-NEXT: mp.linear %[[X]], %[[U1]]
// CHECK-NEXT: mp.broadcast %[[V1]]
// CHECK: mp.linear %{{.+}}, %[[U2]]
// CHECK-NEXT: mp.broadcast %[[V2]]
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp,
                                      styles = {fc1 = colwise, fc2 = rowwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @mlp(%x: tensor<8x16xf32> {mp.input = "x"},
                 %w1: tensor<32x16xf32> {mp.param = "fc1.weight"},
                 %b1: tensor<32xf32> {mp.param = "fc1.bias"},
                 %w2: tensor<16x32xf32> {mp.param = "fc2.weight"},
                 %b2: tensor<16xf32> {mp.param = "fc2.bias"}) -> tensor<8x16xf32> {
    %0 = mp.linear %x, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %1 = mp.broadcast %b1 dims [0] : tensor<32xf32> -> tensor<8x32xf32>
    %2 = mp.add %0, %1 : tensor<8x32xf32>
    %3 = mp.relu %2 : tensor<8x32xf32>
    %4 = mp.linear %3, %w2 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %5 = mp.broadcast %b2 dims [0] : tensor<16xf32> -> tensor<8x16xf32>
    %6 = mp.add %4, %5 : tensor<8x16xf32>
    return %6 : tensor<8x16xf32>
  }
}

// -----

// Which key styles a parameter, the most specific first: a key naming it
// exactly, a key naming its module, globs matching its name, globs matching
// its module (`layers.*.wq`, as parallelize_module matches it). Optimizer
// state follows its parameter. Only `.weight` and `.bias` belong to a
// module key (not `norm.scale`), and only parameters do (not the input
// `x.weight`). A key may name a parameter `w` and, as a module, `w.weight`:
// it styles both (PyTorch cannot have both, a module's parameters and
// children sharing one namespace).

// CHECK-LABEL: func.func private @resolve
// CHECK-SAME: {mp.param = "layers.0.wq.weight", mp.plan_entry = "layers.*.wq", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}
// CHECK-SAME: {mp.param = "layers.0.wq.bias", mp.plan_entry = "layers.*.wq", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp]]>}
// CHECK-SAME: {mp.param = "layers.1.wq.bias", mp.plan_entry = "layers.1.wq.bias", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.param = "layers.1.wo.weight", mp.plan_entry = "layers.1.wo", mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>}
// CHECK-SAME: {mp.param = "layers.1.wo.bias", mp.plan_entry = "layers.1.wo", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.param = "layers.1.wk.weight", mp.plan_entry = "layers.*.wk", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}
// CHECK-SAME: {mp.param = "layers.1.wk.bias", mp.plan_entry = "layers.1.*.bias", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.param = "norm.scale", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.plan_entry = "layers.*.wq", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>, mp.state = "layers.0.wq.weight.exp_avg"}
// CHECK-SAME: {mp.param = "w", mp.plan_entry = "w", mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>}
// CHECK-SAME: {mp.param = "w.weight", mp.plan_entry = "w", mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>}
// CHECK-SAME: {mp.input = "x.weight", mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}
// CHECK-SAME: {mp.input = "x", mp.plan_entry = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {"layers.*.wq" = colwise, "layers.*.wk" = colwise, "layers.1.wq.bias" = replicate,
              "layers.1.wo" = rowwise, "layers.1.*.bias" = replicate, w = rowwise, x = replicate}>} {
  mp.mesh @mesh = <tp = 2>
  func.func private @resolve(tensor<8x8xf32> {mp.param = "layers.0.wq.weight"},
                             tensor<8xf32> {mp.param = "layers.0.wq.bias"},
                             tensor<8xf32> {mp.param = "layers.1.wq.bias"},
                             tensor<8x8xf32> {mp.param = "layers.1.wo.weight"},
                             tensor<8xf32> {mp.param = "layers.1.wo.bias"},
                             tensor<8x8xf32> {mp.param = "layers.1.wk.weight"},
                             tensor<8xf32> {mp.param = "layers.1.wk.bias"},
                             tensor<8xf32> {mp.param = "norm.scale"},
                             tensor<8x8xf32> {mp.state = "layers.0.wq.weight.exp_avg"},
                             tensor<8x8xf32> {mp.param = "w"},
                             tensor<8x8xf32> {mp.param = "w.weight"},
                             tensor<8x8xf32> {mp.input = "x.weight"},
                             tensor<8x8xf32> {mp.input = "x"})
}

// -----

// torch.export writes a module path's dots as underscores and mp-import
// turns them all back into dots (`p_layers_0_feed_forward_w1_weight` ->
// `layers.0.feed.forward.w1.weight`), so a key also matches when `_` splits
// components as `.` does; a `*` still spans a component with `_` in it.

// CHECK-LABEL: func.func private @exported
// CHECK-SAME: {mp.param = "layers.0.feed.forward.w1.weight", mp.plan_entry = "layers.*.feed_forward.w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}
// CHECK-SAME: {mp.param = "layers.0.attention.norm.weight", mp.plan_entry = "layers.*.attention_norm", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.param = "block_0.wo.weight", mp.plan_entry = "*.wo", mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>}
// CHECK-SAME: {mp.param = "feed.forward.w3.weight", mp.plan_entry = "feed_forward_w3.*", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}
// CHECK-SAME: {mp.param = "feed.backward.w3.weight", mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {"layers.*.feed_forward.w1" = colwise, "layers.*.attention_norm" = replicate,
              "*.wo" = rowwise, "feed_forward_w3.*" = colwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func private @exported(tensor<8x8xf32> {mp.param = "layers.0.feed.forward.w1.weight"},
                              tensor<8xf32> {mp.param = "layers.0.attention.norm.weight"},
                              tensor<8x8xf32> {mp.param = "block_0.wo.weight"},
                              tensor<8x8xf32> {mp.param = "feed.forward.w3.weight"},
                              tensor<8x8xf32> {mp.param = "feed.backward.w3.weight"})
}

// -----

// Sequence parallelism: on a [batch, seq, feature] input the default
// sequence dim is 1; on [tokens, feature] it is 0, after the batch axis.
// A named output styled sequence_parallel gets its sharding too; unstyled
// outputs are left to propagation.

// CHECK-LABEL: func.func private @sp
// CHECK-SAME: {mp.input = "x", mp.plan_entry = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], [tp], []]>}
// CHECK-SAME: {mp.input = "tokens", mp.plan_entry = "tokens", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp, tp], []]>}
// CHECK-SAME: {mp.plan_entry = "y", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], [], [tp]]>, mp.target = "y"}
// CHECK-SAME: -> (tensor<4x8x16xf32> {mp.output = "out", mp.plan_entry = "out", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], [tp], []]>}, tensor<8x16xf32> {mp.output = "other"})
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, batch_axis = dp,
    styles = {x = sequence_parallel, tokens = sequence_parallel, y = sequence_parallel<dim = 2>,
              out = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func private @sp(tensor<4x8x16xf32> {mp.input = "x"},
                        tensor<8x16xf32> {mp.input = "tokens"},
                        tensor<4x8x16xf32> {mp.target = "y"})
      -> (tensor<4x8x16xf32> {mp.output = "out"}, tensor<8x16xf32> {mp.output = "other"})
}

// -----

// sequence_parallel on norm modules (torchtitan's SequenceParallel on
// nn.RMSNorm and nn.LayerNorm): the norm's weight, and a LayerNorm's bias,
// stay whole; each norm's input and output are split along the sequence,
// once per norm (the bias, of the same module, adds no annotation).

// CHECK-LABEL: func.func @sp_norms
// CHECK-SAME: {mp.param = "ln.weight", mp.plan_entry = "ln", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.param = "ln.bias", mp.plan_entry = "ln", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.param = "rms.weight", mp.plan_entry = "rms", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-NEXT: %[[LNIN:.+]] = mp.annotate %arg0 <@mesh, {{\[}}[dp], [tp], []]> entry "ln"
// CHECK-NEXT: %[[LN:.+]] = mp.layer_norm %[[LNIN]], %arg1, %arg2
// CHECK-NEXT: %[[LNOUT:.+]] = mp.annotate %[[LN]] <@mesh, {{\[}}[dp], [tp], []]> entry "ln"
// CHECK-NEXT: %[[RMSIN:.+]] = mp.annotate %[[LNOUT]] <@mesh, {{\[}}[dp], [tp], []]> entry "rms"
// CHECK-NEXT: %[[RMS:.+]] = mp.rms_norm %[[RMSIN]], %arg3
// CHECK-NEXT: %[[RMSOUT:.+]] = mp.annotate %[[RMS]] <@mesh, {{\[}}[dp], [tp], []]> entry "rms"
// CHECK-NEXT: return %[[RMSOUT]]
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, batch_axis = dp,
    styles = {ln = sequence_parallel, rms = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @sp_norms(%x: tensor<4x8x16xf32>, %lw: tensor<16xf32> {mp.param = "ln.weight"},
                      %lb: tensor<16xf32> {mp.param = "ln.bias"},
                      %rw: tensor<16xf32> {mp.param = "rms.weight"}) -> tensor<4x8x16xf32> {
    %0 = mp.layer_norm %x, %lw, %lb eps 1.0e-5 : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    %1 = mp.rms_norm %0, %rw eps 1.0e-5 : (tensor<4x8x16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    return %1 : tensor<4x8x16xf32>
  }
}

// -----

// A norm that scales by its weight plus a constant (Nemotron's LayerNorm1P:
// weight + 1) is still the module's norm: sequence_parallel finds it
// through the mp.add, its weight and bias stay whole. An mp.add of two
// parameters is no weight offset.

// CHECK-LABEL: func.func @sp_offset_norm
// CHECK-SAME: {mp.param = "ln.weight", mp.plan_entry = "ln", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK-SAME: {mp.param = "ln.bias", mp.plan_entry = "ln", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK: %[[SCALE:.+]] = mp.add %arg1, %[[ONE:.+]] :
// CHECK-NEXT: %[[LNIN:.+]] = mp.annotate %arg0 <@mesh, {{\[}}[dp], [tp], []]> entry "ln"
// CHECK-NEXT: %[[LN:.+]] = mp.layer_norm %[[LNIN]], %[[SCALE]], %arg2
// CHECK-NEXT: mp.annotate %[[LN]] <@mesh, {{\[}}[dp], [tp], []]> entry "ln"
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, batch_axis = dp,
    styles = {ln = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @sp_offset_norm(%x: tensor<4x8x16xf32>, %lw: tensor<16xf32> {mp.param = "ln.weight"},
                            %lb: tensor<16xf32> {mp.param = "ln.bias"}) -> tensor<4x8x16xf32> {
    %one = arith.constant dense<1.0> : tensor<16xf32>
    %scale = mp.add %lw, %one : tensor<16xf32>
    %0 = mp.layer_norm %x, %scale, %lb eps 1.0e-5 : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    return %0 : tensor<4x8x16xf32>
  }
}

// -----

// A norm without parameters (OLMo's LayerNorm by a unit weight and a zero
// bias) is named by its mp.module: a sequence_parallel glob splits its
// input and output along the sequence. A norm that names its module is
// placed by that name only, not by its weight's module.

// CHECK-LABEL: func.func @sp_named_norm
// CHECK-SAME: {mp.param = "rms.weight", mp.plan_entry = "rms", mp.sharding = #mp.sharding<@mesh, {{\[}}[]]>}
// CHECK: %[[IN:.+]] = mp.annotate %arg0 <@mesh, {{\[}}[dp], [tp], []]> entry "layers.*.attention_norm"
// CHECK-NEXT: %[[LN:.+]] = mp.layer_norm %[[IN]], %[[ONE:.+]], %[[ZERO:.+]] eps 1.000000e-05 {mp.module = "layers.0.attention_norm"}
// CHECK-NEXT: %[[OUT:.+]] = mp.annotate %[[LN]] <@mesh, {{\[}}[dp], [tp], []]> entry "layers.*.attention_norm"
// CHECK-NEXT: %[[RMS:.+]] = mp.rms_norm %[[OUT]], %arg1
// CHECK-NEXT: return %[[RMS]]
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, batch_axis = dp,
    styles = {"layers.*.attention_norm" = sequence_parallel, rms = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @sp_named_norm(%x: tensor<4x8x16xf32>,
                           %rw: tensor<16xf32> {mp.param = "rms.weight"}) -> tensor<4x8x16xf32> {
    %one = arith.constant dense<1.0> : tensor<16xf32>
    %zero = arith.constant dense<0.0> : tensor<16xf32>
    %0 = mp.layer_norm %x, %one, %zero eps 1.0e-5 {mp.module = "layers.0.attention_norm"} : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    %1 = mp.rms_norm %0, %rw eps 1.0e-5 {mp.module = "layers.0.ffn_norm"} : (tensor<4x8x16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    return %1 : tensor<4x8x16xf32>
  }
}

// -----

// A named norm's exact key outranks a glob that also matches it, whatever
// the glob's style: layers.0's norm splits its batch dim by its own key,
// layers.1's the sequence by the glob.

// CHECK-LABEL: func.func @named_norm_exact_key
// CHECK: mp.annotate %arg0 <@mesh, {{\[}}[tp], [], []]> entry "layers.0.attention_norm"
// CHECK-NEXT: mp.layer_norm {{.*}} {mp.module = "layers.0.attention_norm"}
// CHECK-NEXT: mp.annotate {{.*}} <@mesh, {{\[}}[tp], [], []]> entry "layers.0.attention_norm"
// CHECK-NEXT: mp.annotate {{.*}} <@mesh, {{\[}}[], [tp], []]> entry "layers.*.attention_norm"
// CHECK-NEXT: mp.layer_norm {{.*}} {mp.module = "layers.1.attention_norm"}
// CHECK-NEXT: mp.annotate {{.*}} <@mesh, {{\[}}[], [tp], []]> entry "layers.*.attention_norm"
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {"layers.*.attention_norm" = sequence_parallel,
              "layers.0.attention_norm" = sequence_parallel<dim = 0>}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @named_norm_exact_key(%x: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
    %one = arith.constant dense<1.0> : tensor<16xf32>
    %zero = arith.constant dense<0.0> : tensor<16xf32>
    %0 = mp.layer_norm %x, %one, %zero eps 1.0e-5 {mp.module = "layers.0.attention_norm"} : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    %1 = mp.layer_norm %0, %one, %zero eps 1.0e-5 {mp.module = "layers.1.attention_norm"} : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    return %1 : tensor<4x8x16xf32>
  }
}

// -----

// An explicit sharding on an argument outranks the plan and is kept as is.

// CHECK-LABEL: func.func @explicit
// CHECK-SAME: {mp.param = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>}
// CHECK-NOT: mp.annotate
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @explicit(%w1: tensor<8x8xf32> {mp.param = "w1", mp.sharding = #mp.sharding<@mesh, [[], [tp]]>}) -> tensor<8x8xf32> {
    return %w1 : tensor<8x8xf32>
  }
}

// -----

// A 3D mesh: FSDP over one axis, tensor parallelism over another, a third
// axis (pipeline, say) that the plan does not use stays replicated.

// CHECK-LABEL: func.func private @mesh3d
// CHECK-SAME: {mp.param = "w", mp.plan_entry = "w", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp], []]>}
// CHECK-SAME: {mp.input = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], []]>}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w = colwise}>} {
  mp.mesh @mesh = <pp = 2, dp = 2, tp = 2>
  func.func private @mesh3d(tensor<8x8xf32> {mp.param = "w"}, tensor<8x8xf32> {mp.input = "x"})
}
