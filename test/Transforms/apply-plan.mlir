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
