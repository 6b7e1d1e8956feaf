// RUN: mp-opt %s -split-input-file | FileCheck %s
// RUN: mp-opt %s -split-input-file | mp-opt -split-input-file | FileCheck %s
// RUN: mp-opt %s -split-input-file --mlir-print-op-generic | mp-opt -split-input-file | FileCheck %s

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

// -----

// Meshes as plain attributes: 1-D, 2-D, 3-D. "a.b" is a bare identifier and
// loses its quotes; names that are not keep them.
// CHECK-LABEL: func.func private @mesh_attrs
// CHECK-SAME: () attributes {a = #mp.mesh<tp = 8>, b = #mp.mesh<dp = 2, tp = 4>, c = #mp.mesh<a.b = 2, "c-d" = 3, "1x" = 1>, d = #mp.mesh<"x/0:y" = 2>}{{$}}
func.func private @mesh_attrs() attributes {
  a = #mp.mesh<tp = 8>, b = #mp.mesh<dp = 2, tp = 4>,
  c = #mp.mesh<"a.b" = 2, "c-d" = 3, "1x" = 1>, d = #mp.mesh<"x/0:y" = 2>}

// -----

// Shardings as plain attributes: nothing refers them to a value, so their mesh
// is not looked up. An empty partial list is not printed; a mesh name that is
// not an identifier is quoted.
// CHECK-LABEL: func.func private @sharding_attrs
// CHECK-SAME: () attributes {a = #mp.sharding<@mesh, {{\[\[}}], []]>, b = #mp.sharding<@mesh, {{\[\[}}tp, dp], []]>, c = #mp.sharding<@mesh, {{\[\[}}dp], []], partial = [tp]>, d = #mp.sharding<@mesh, []>, e = #mp.sharding<@"my-mesh", {{\[\[}}a.b, "c-d"]], partial = ["e f"]>, f = #mp.sharding<@nowhere, {{\[\[}}x]]>}{{$}}
func.func private @sharding_attrs() attributes {
  a = #mp.sharding<@mesh, [[], []]>, b = #mp.sharding<@mesh, [[tp, dp], []]>,
  c = #mp.sharding<@mesh, [[dp], []], partial = [tp]>, d = #mp.sharding<@mesh, [], partial = []>,
  e = #mp.sharding<@"my-mesh", [["a.b", "c-d"]], partial = ["e f"]>, f = #mp.sharding<@nowhere, [[x]]>}

// -----

// Every style; sequence_parallel with an explicit dim 0.
// CHECK-LABEL: func.func private @style_attrs
// CHECK-SAME: () attributes {a = #mp.style<colwise>, b = #mp.style<rowwise>, c = #mp.style<sequence_parallel>, d = #mp.style<sequence_parallel<dim = 0>>, e = #mp.style<sequence_parallel<dim = 1>>, f = #mp.style<replicate>}{{$}}
func.func private @style_attrs() attributes {
  a = #mp.style<colwise>, b = #mp.style<rowwise>, c = #mp.style<sequence_parallel>,
  d = #mp.style<sequence_parallel<dim = 0>>, e = #mp.style<sequence_parallel<dim = 1>>,
  f = #mp.style<replicate>}

// -----

// Plans as plain attributes. The smallest plan is a mesh alone, printed with
// its empty styles; keys may come in any order and print in a fixed one;
// styles print sorted by name, with every style kind; axis names are quoted
// where needed.
// CHECK-LABEL: func.func private @plan_attrs
// CHECK-SAME: () attributes {a = #mp.plan<mesh = @mesh, styles = {}>, b = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, batch_axis = dp, styles = {"layers.*.w1" = colwise, "layers.*.w2" = rowwise, layers.0.w3 = replicate, w1 = colwise, x = sequence_parallel<dim = 0>, y = sequence_parallel}>, c = #mp.plan<mesh = @mesh, fsdp_axis = "d-p", styles = {}>, d = #mp.plan<mesh = @mesh, tp_axis = t.p, batch_axis = "b-x", styles = {"*" = colwise}>, e = #mp.plan<mesh = @mesh, fsdp_axis = dp, styles = {}, fsdp_groups = ["layers.*", tok_embeddings], reshard_after_forward = true, recompute = full, recompute_full_layers = 2>, f = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {out = colwise<input_layouts = "Shard(1)", output_layouts = "Shard(-1)">, wo = rowwise<output_layouts = "Shard(1)">}>, g = #mp.plan<mesh = @mesh, styles = {}, precision = bf16, reduce_dtype = f32, tp_reduce_dtype = bf16, saved_dtype = bf16>}{{$}}
func.func private @plan_attrs() attributes {
  a = #mp.plan<mesh = @mesh>,
  b = #mp.plan<styles = {y = sequence_parallel, x = sequence_parallel<dim = 0>, w1 = colwise,
                         "layers.*.w2" = rowwise, "layers.*.w1" = colwise, layers.0.w3 = replicate},
               batch_axis = dp, fsdp_axis = dp, tp_axis = tp, mesh = @mesh>,
  c = #mp.plan<mesh = @mesh, fsdp_axis = "d-p">,
  d = #mp.plan<mesh = @mesh, tp_axis = "t.p", batch_axis = "b-x", styles = {"*" = colwise}>,
  e = #mp.plan<recompute_full_layers = 2, recompute = full, reshard_after_forward = true, fsdp_groups = ["layers.*", tok_embeddings], mesh = @mesh, fsdp_axis = dp>,
  f = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {wo = rowwise<output_layouts = "Shard(1)">, out = colwise<output_layouts = "Shard(-1)", input_layouts = "Shard(1)">}>,
  g = #mp.plan<saved_dtype = bf16, tp_reduce_dtype = bf16, reduce_dtype = f32, precision = bf16, mesh = @mesh>}

// -----

// The module plan with only a mesh: data parallelism over nothing.
// CHECK: module attributes {mp.plan = #mp.plan<mesh = @mesh, styles = {}>} {
// CHECK-NEXT: mp.mesh @mesh = <dp = 4>
module attributes {mp.plan = #mp.plan<mesh = @mesh>} {
  mp.mesh @mesh = <dp = 4>
}

// -----

// A plan whose batch axis defaults to its FSDP axis, over a 3-D mesh.
// CHECK: module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise}>} {
// CHECK-NEXT: mp.mesh @mesh = <pp = 2, dp = 2, tp = 2>
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w2 = rowwise, w1 = colwise}>} {
  mp.mesh @mesh = <pp = 2, dp = 2, tp = 2>
}

// -----

// Sharding and plan entry on arguments and on results, of a function with a
// body; a result can be named and sharded at once.
mp.mesh @mesh = <dp = 2, tp = 2>
// CHECK-LABEL: func.func @sharded_io(
// CHECK-SAME: %arg0: tensor<8x16xf32> {mp.input = "x", mp.plan_entry = "x", mp.sharding = #mp.sharding<@mesh, {{\[\[}}dp], []]>}, %arg1: tensor<32x16xf32> {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[\[}}tp, dp], []]>}, %arg2: tensor<i64> {mp.state = "step"})
// CHECK-SAME: -> (tensor<8x32xf32> {mp.output = "h", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[\[}}dp], [tp]]>}, tensor<f32> {mp.sharding = #mp.sharding<@mesh, []>})
func.func @sharded_io(%x: tensor<8x16xf32> {mp.input = "x", mp.plan_entry = "x", mp.sharding = #mp.sharding<@mesh, [[dp], []]>},
                      %w: tensor<32x16xf32> {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, [[tp, dp], []]>},
                      %step: tensor<i64> {mp.state = "step"})
    -> (tensor<8x32xf32> {mp.output = "h", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, [[dp], [tp]]>},
        tensor<f32> {mp.sharding = #mp.sharding<@mesh, []>}) {
  // The op attribute mp.sharding, on an op of one result.
  // CHECK-NEXT: [[H:%.+]] = mp.linear %arg0, %arg1 {mp.sharding = #mp.sharding<@mesh, {{\[\[}}dp], [tp]]>} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>{{$}}
  %h = mp.linear %x, %w {mp.sharding = #mp.sharding<@mesh, [[dp], [tp]]>} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: [[L:%.+]] = mp.sum [[H]] {mp.sharding = #mp.sharding<@mesh, [], partial = [dp, tp]>} : tensor<8x32xf32> -> tensor<f32>{{$}}
  %l = mp.sum %h {mp.sharding = #mp.sharding<@mesh, [], partial = [dp, tp]>} : tensor<8x32xf32> -> tensor<f32>
  // CHECK-NEXT: return [[H]], [[L]] : tensor<8x32xf32>, tensor<f32>
  return %h, %l : tensor<8x32xf32>, tensor<f32>
}

// -----

// The op attribute mp.sharding on an op of several results is an array of
// one sharding per result.
mp.mesh @mesh = <dp = 2, tp = 2>
func.func private @two() -> (tensor<8xf32>, tensor<4x4xf32>)
// CHECK-LABEL: func.func @multi_result
// CHECK-NEXT: %{{.+}}:2 = call @two() {mp.sharding = [#mp.sharding<@mesh, {{\[\[}}dp]]>, #mp.sharding<@mesh, {{\[\[}}], [tp]], partial = [dp]>]} : () -> (tensor<8xf32>, tensor<4x4xf32>){{$}}
func.func @multi_result() {
  %0:2 = func.call @two() {mp.sharding = [#mp.sharding<@mesh, [[dp]]>, #mp.sharding<@mesh, [[], [tp]], partial = [dp]>]} : () -> (tensor<8xf32>, tensor<4x4xf32>)
  return
}

// -----

// In a partitioned function values have local types: shardings are not
// checked against them (3 rows split over dp = 2 would be uneven globally).
mp.mesh @mesh = <dp = 2>
// CHECK-LABEL: func.func @partitioned(
// CHECK-SAME: %arg0: tensor<3x8xf32> {mp.sharding = #mp.sharding<@mesh, {{\[\[}}dp], []]>}) -> tensor<3x8xf32>
// CHECK-SAME: attributes {mp.partitioned}
func.func @partitioned(%x: tensor<3x8xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], []]>}) -> tensor<3x8xf32>
    attributes {mp.partitioned} {
  // CHECK-NEXT: [[R:%.+]] = mp.relu %arg0 {mp.sharding = #mp.sharding<@mesh, {{\[\[}}dp], []]>} : tensor<3x8xf32>{{$}}
  %0 = mp.relu %x {mp.sharding = #mp.sharding<@mesh, [[dp], []]>} : tensor<3x8xf32>
  // CHECK-NEXT: return [[R]] : tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}
