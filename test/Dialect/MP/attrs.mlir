// RUN: mp-opt %s -split-input-file | FileCheck %s
// RUN: mp-opt %s -split-input-file | mp-opt -split-input-file | FileCheck %s

// Meshes of one, two and three axes; names that need quotes.
// CHECK: mp.mesh @m1 = <tensor_parallel = 8>
// CHECK-NEXT: mp.mesh @m2 = <data_parallel = 2, tensor_parallel = 4>
// CHECK-NEXT: mp.mesh @m3 = <pp = 2, dp = 2, tp = 2>
// CHECK-NEXT: mp.mesh @quoted = <"node-0" = 2, gpu.local = 4>
mp.mesh @m1 = <tensor_parallel = 8>
mp.mesh @m2 = <data_parallel = 2, tensor_parallel = 4>
mp.mesh @m3 = <pp = 2, dp = 2, tp = 2>
mp.mesh @quoted = <"node-0" = 2, "gpu.local" = 4>

// -----

// Shardings: replicated, one dim over two axes, partial sums, rank 0.
// CHECK-LABEL: func.func private @shardings
// CHECK-SAME: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}
// CHECK-SAME: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp], []]>}
// CHECK-SAME: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], []], partial = [tp]>}
// CHECK-SAME: tensor<f32> {mp.sharding = #mp.sharding<@mesh, [], partial = [dp, tp]>}
mp.mesh @mesh = <dp = 2, tp = 2>
func.func private @shardings(tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
                             tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, [[tp, dp], []]>},
                             tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []], partial = [tp]>},
                             tensor<f32> {mp.sharding = #mp.sharding<@mesh, [], partial = [dp, tp]>})

// -----

// Styles, standalone and inside a plan.
// CHECK-LABEL: func.func private @styles
// CHECK-SAME: attributes {a = #mp.style<colwise>, b = #mp.style<rowwise>, c = #mp.style<replicate>, d = #mp.style<sequence_parallel>, e = #mp.style<sequence_parallel<dim = 1>>}
func.func private @styles() attributes {a = #mp.style<colwise>, b = #mp.style<rowwise>, c = #mp.style<replicate>,
                                        d = #mp.style<sequence_parallel>, e = #mp.style<sequence_parallel<dim = 1>>}

// -----

// A full plan; globs need quotes, dotted names do not.
// CHECK: module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel, batch_axis = data_parallel, styles = {"layers.*.w1" = colwise, layers.0.w2 = rowwise, x = sequence_parallel<dim = 0>}>}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      batch_axis = data_parallel,
                                      styles = {"layers.*.w1" = colwise, "layers.0.w2" = rowwise,
                                                x = sequence_parallel<dim = 0>}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
}

// -----

// The smallest plan: a mesh and no styles (data parallelism only needs a
// batch axis).
// CHECK: module attributes {mp.plan = #mp.plan<mesh = @mesh, batch_axis = dp, styles = {}>}
module attributes {mp.plan = #mp.plan<mesh = @mesh, batch_axis = dp, styles = {}>} {
  mp.mesh @mesh = <dp = 4>
}

// -----

// Roles and names of arguments and results.
// CHECK-LABEL: func.func private @roles
// CHECK-SAME: (tensor<8x16xf32> {mp.param = "layers.0.mlp.w1", mp.plan_entry = "layers.*.mlp.w1"}, tensor<4x16xf32> {mp.input = "x"}, tensor<4xi64> {mp.target = "y"}, tensor<8x16xf32> {mp.state = "layers.0.mlp.w1.exp_avg"})
// CHECK-SAME: -> (tensor<4x8xf32> {mp.output = "out"})
func.func private @roles(tensor<8x16xf32> {mp.param = "layers.0.mlp.w1", mp.plan_entry = "layers.*.mlp.w1"},
                         tensor<4x16xf32> {mp.input = "x"}, tensor<4xi64> {mp.target = "y"},
                         tensor<8x16xf32> {mp.state = "layers.0.mlp.w1.exp_avg"})
    -> (tensor<4x8xf32> {mp.output = "out"})
