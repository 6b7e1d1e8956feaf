// RUN: mp-opt %s -split-input-file -verify-diagnostics

// expected-error@+1 {{mesh axis 'a' is repeated; axis names must be unique}}
mp.mesh @m = <a = 2, a = 2>

// -----

// expected-error@+1 {{mesh axis 'b' has size 0; sizes must be positive}}
mp.mesh @m = <a = 2, b = 0>

// -----

// expected-error@+1 {{mesh axis 'a' has size -2; sizes must be positive}}
mp.mesh @m = <a = -2>

// -----

// expected-error@+1 {{a mesh needs at least one axis}}
mp.mesh @m = <>

// -----

mp.mesh @m = <a = 2, b = 2>
// expected-error@+1 {{mesh axis 'a' appears more than once in the sharding}}
func.func private @axis_twice(tensor<4x4xf32> {mp.sharding = #mp.sharding<@m, [[a], [a]]>})

// -----

mp.mesh @m = <a = 2, b = 2>
// expected-error@+1 {{mesh axis 'b' appears more than once in the sharding}}
func.func private @axis_split_and_partial(tensor<4x4xf32> {mp.sharding = #mp.sharding<@m, [[b], []], partial = [b]>})

// -----

// expected-error@+1 {{sharding of argument #0 refers to @nope, which is not an mp.mesh}}
func.func private @no_mesh(tensor<4x4xf32> {mp.sharding = #mp.sharding<@nope, [[], []]>})

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{sharding of argument #0: sharding has 1 dims but 'tensor<4x4xf32>' has rank 2}}
func.func private @rank(tensor<4x4xf32> {mp.sharding = #mp.sharding<@m, [[a]]>})

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{sharding of argument #0: mesh @m has no axis 'z'}}
func.func private @unknown_axis(tensor<4x4xf32> {mp.sharding = #mp.sharding<@m, [[z], []]>})

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{sharding of result #0: mesh @m has no axis 'z'}}
func.func private @result_sharding() -> (tensor<4xf32> {mp.sharding = #mp.sharding<@m, [[z]]>})

// -----

// expected-error@+1 {{unknown parallel style 'columnwise'; expected colwise, rowwise, sequence_parallel or replicate}}
func.func private @style() attributes {s = #mp.style<columnwise>}

// -----

// expected-error@+1 {{only sequence_parallel takes a dim, not colwise}}
func.func private @style_dim() attributes {s = #mp.style<colwise<dim = 0>>}

// -----

// expected-error@+1 {{sequence_parallel dim must be non-negative, got -1}}
func.func private @style_negative_dim() attributes {s = #mp.style<sequence_parallel<dim = -1>>}

// -----

// expected-error@+1 {{unknown plan key 'tensor_parallel'; expected mesh, tp_axis, fsdp_axis, batch_axis, styles, fsdp_groups, reshard_after_forward, recompute, recompute_full_layers, precision, reduce_dtype, tp_reduce_dtype or saved_dtype}}
module attributes {mp.plan = #mp.plan<mesh = @m, tensor_parallel = tp, styles = {}>} {}

// -----

// expected-error@+1 {{plan key 'tp_axis' repeated}}
module attributes {mp.plan = #mp.plan<mesh = @m, tp_axis = tp, tp_axis = tp, styles = {}>} {}

// -----

// expected-error@+1 {{a plan needs a mesh (mesh = @name)}}
module attributes {mp.plan = #mp.plan<tp_axis = tp, styles = {}>} {}

// -----

// expected-error@+1 {{a plan with styles needs tp_axis, the mesh axis the styles split over}}
module attributes {mp.plan = #mp.plan<mesh = @m, styles = {w1 = colwise}>} {}

// -----

// expected-error@+1 {{tp_axis and fsdp_axis must be different mesh axes, both are 'tp'}}
module attributes {mp.plan = #mp.plan<mesh = @m, tp_axis = tp, fsdp_axis = tp, styles = {}>} {}

// -----

// expected-error@+1 {{the batch cannot be split over the tensor-parallel axis 'tp': ranks of one tensor-parallel group see the same batch}}
module attributes {mp.plan = #mp.plan<mesh = @m, tp_axis = tp, batch_axis = tp, styles = {}>} {}

// -----

// expected-error@+1 {{plan fsdp_axis 'dp' is not an axis of mesh @m #mp.mesh<tp = 2>}}
module attributes {mp.plan = #mp.plan<mesh = @m, tp_axis = tp, fsdp_axis = dp, styles = {}>} {
  mp.mesh @m = <tp = 2>
}

// -----

// expected-error@+1 {{the plan's mesh @m is not an mp.mesh of this module}}
module attributes {mp.plan = #mp.plan<mesh = @m, styles = {}>} {
  func.func private @m()
}

// -----

module {
  // expected-error@+1 {{'mp.plan' belongs on the module}}
  func.func private @f() attributes {mp.plan = #mp.plan<mesh = @m, styles = {}>}
}

// -----

// expected-error@+1 {{'mp.param' on argument #0 must be a non-empty string}}
func.func private @empty_name(tensor<4xf32> {mp.param = ""})

// -----

// expected-error@+1 {{argument #0 has two roles, 'mp.input' and 'mp.param'}}
func.func private @two_roles(tensor<4xf32> {mp.param = "w", mp.input = "x"})

// -----

// expected-error@+1 {{argument #1 repeats the name 'w' of argument #0; names must be unique}}
func.func private @duplicate(tensor<4xf32> {mp.param = "w"}, tensor<4xf32> {mp.input = "w"})

// -----

// expected-error@+1 {{argument #0 named by 'mp.param' must be a ranked tensor, not 'f32'}}
func.func private @scalar_param(f32 {mp.param = "w"})

// -----

// expected-error@+1 {{unknown mp argument attribute 'mp.weight'}}
func.func private @unknown_arg_attr(tensor<4xf32> {mp.weight = "w"})

// -----

// expected-error@+1 {{unknown mp result attribute 'mp.param'}}
func.func private @unknown_result_attr() -> (tensor<4xf32> {mp.param = "w"})

// -----

// expected-error@+1 {{'mp.output' on result #0 must be a non-empty string}}
func.func private @output_name() -> (tensor<4xf32> {mp.output = 3 : i32})

// -----

// expected-error@+1 {{unknown mp attribute 'mp.model'}}
func.func private @unknown_op_attr() attributes {mp.model}

// -----

// expected-error@+1 {{'mp.partitioned' is a unit attribute of functions}}
module attributes {mp.partitioned} {}

// -----

// expected-error@+1 {{'mp.reduce_dtype' is the type (f32 or bf16) a function's gradients are summed in}}
func.func private @reduce_in_f16() attributes {mp.reduce_dtype = f16}

// -----

// expected-error@+1 {{'mp.tp_reduce_dtype' is the type (f32 or bf16) a function's tensor-parallel partial results are summed in}}
func.func private @tp_reduce_in_f16() attributes {mp.tp_reduce_dtype = f16}

// -----

//===----------------------------------------------------------------------===//
// Meshes.
//===----------------------------------------------------------------------===//

// expected-error@+1 {{mesh axis name '' is not 1 to 256 characters of [A-Za-z0-9_.:/-]}}
mp.mesh @m = <"" = 2>

// -----

// Names go into generated C and the manifest: quotes, spaces, commas and
// control characters never get in.
// expected-error@+1 {{mesh axis name 'a"b' is not 1 to 256 characters}}
mp.mesh @m = <"a\"b" = 2>

// -----

// expected-error@+1 {{mesh axis name 'a,b' is not}}
mp.mesh @m = <"a,b" = 2>

// -----

// expected-error@+1 {{is not 1 to 256 characters}}
mp.mesh @m = <"dp\0A#define X" = 2>

// -----

// Quoting a name does not make it another one.
// expected-error@+1 {{mesh axis 'dp' is repeated; axis names must be unique}}
func.func private @f() attributes {a = #mp.mesh<"dp" = 2, dp = 4>}

// -----

// expected-error@+1 {{a mesh needs at least one axis}}
func.func private @f() attributes {a = #mp.mesh<>}

// -----

// expected-error@+1 {{mesh axis 'a' has size 0; sizes must be positive}}
func.func private @f() attributes {a = #mp.mesh<a = 0>}

// -----

// expected-error@+1 {{expected '='}}
mp.mesh @m = <dp>

// -----

// expected-error@+1 {{expected integer value}}
mp.mesh @m = <dp = 2.0>

// -----

//===----------------------------------------------------------------------===//
// Shardings: the attribute itself.
//===----------------------------------------------------------------------===//

// expected-error@+1 {{mesh axis 'a' appears more than once in the sharding}}
func.func private @f() attributes {s = #mp.sharding<@m, [[a, a], []]>}

// -----

// expected-error@+1 {{mesh axis 'b' appears more than once in the sharding}}
func.func private @f() attributes {s = #mp.sharding<@m, [], partial = [b, a, b]>}

// -----

// expected-error@+1 {{mesh axis 'a' appears more than once in the sharding}}
func.func private @f() attributes {s = #mp.sharding<@m, [[], [b, a], ["a"]]>}

// -----

// The mesh comes first and is not optional.
// expected-error@+1 {{expected attribute value}}
func.func private @f() attributes {s = #mp.sharding<[[a]]>}

// -----

// expected-error@+1 {{invalid kind of attribute specified}}
func.func private @f() attributes {s = #mp.sharding<@outer::@m, [[a]]>}

// -----

// expected-error@+1 {{expected 'partial'}}
func.func private @f() attributes {s = #mp.sharding<@m, [[a]], replicated = [b]>}

// -----

//===----------------------------------------------------------------------===//
// Shardings of arguments, results and op results.
//===----------------------------------------------------------------------===//

mp.mesh @m = <a = 2, b = 2>
// expected-error@+1 {{sharding of argument #1: mesh @m has no axis 'z'}}
func.func private @unknown_partial_axis(tensor<4xf32>, tensor<4x4xf32> {mp.sharding = #mp.sharding<@m, [[a], []], partial = [z]>})

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{sharding of argument #0: a sharding applies to a ranked tensor, not 'i32'}}
func.func private @scalar(i32 {mp.sharding = #mp.sharding<@m, []>})

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{sharding of argument #0: a sharding applies to a ranked tensor, not 'tensor<*xf32>'}}
func.func private @unranked(tensor<*xf32> {mp.sharding = #mp.sharding<@m, [[a]]>})

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{'mp.sharding' on argument #0 must be an #mp.sharding}}
func.func private @not_a_sharding(tensor<4xf32> {mp.sharding = [#mp.sharding<@m, [[a]]>]})

// -----

// expected-error@+1 {{sharding of argument #0 refers to @m, which is not an mp.mesh}}
func.func private @mesh_is_a_function(tensor<4xf32> {mp.sharding = #mp.sharding<@m, [[]]>})
func.func private @m()

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{sharding of result #1: sharding has 2 dims but 'tensor<4xf32>' has rank 1}}
func.func private @result_rank() -> (tensor<4xf32>, tensor<4xf32> {mp.sharding = #mp.sharding<@m, [[a], []]>})

// -----

// expected-error@+1 {{sharding of result #0 refers to @m, which is not an mp.mesh}}
func.func private @result_no_mesh() -> (tensor<4xf32> {mp.sharding = #mp.sharding<@m, [[]]>})

// -----

func.func @op_no_mesh(%x: tensor<6xf32>) {
  // expected-error@+1 {{sharding of result refers to @m, which is not an mp.mesh}}
  %0 = mp.relu %x {mp.sharding = #mp.sharding<@m, [[]]>} : tensor<6xf32>
  return
}

// -----

mp.mesh @m = <a = 2>
func.func @op_one_result_array(%x: tensor<8xf32>) {
  // expected-error@+1 {{'mp.sharding' on result must be an #mp.sharding}}
  %0 = mp.relu %x {mp.sharding = [#mp.sharding<@m, [[a]]>]} : tensor<8xf32>
  return
}

// -----

mp.mesh @m = <a = 2>
func.func private @two() -> (tensor<8xf32>, tensor<8xf32>)
func.func @op_two_results_one_sharding() {
  // expected-error@+1 {{'mp.sharding' on an op with 2 results is an array of one sharding each}}
  %0:2 = func.call @two() {mp.sharding = #mp.sharding<@m, [[a]]>} : () -> (tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

mp.mesh @m = <a = 2>
func.func private @two() -> (tensor<8xf32>, tensor<8xf32>)
func.func @op_two_results_short_array() {
  // expected-error@+1 {{'mp.sharding' on an op with 2 results is an array of one sharding each}}
  %0:2 = func.call @two() {mp.sharding = [#mp.sharding<@m, [[a]]>]} : () -> (tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

mp.mesh @m = <a = 2>
func.func private @two() -> (tensor<8xf32>, tensor<8xf32>)
func.func @op_two_results_not_a_sharding() {
  // expected-error@+1 {{'mp.sharding' on result #1 must be an #mp.sharding}}
  %0:2 = func.call @two() {mp.sharding = [#mp.sharding<@m, [[a]]>, "a"]} : () -> (tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

mp.mesh @m = <a = 2>
// expected-error@+1 {{'mp.sharding' on an op with 0 results is an array of one sharding each}}
func.func private @no_results() attributes {mp.sharding = #mp.sharding<@m, []>}

// -----

//===----------------------------------------------------------------------===//
// Styles.
//===----------------------------------------------------------------------===//

// expected-error@+1 {{only sequence_parallel takes a dim, not rowwise}}
func.func private @f() attributes {s = #mp.style<rowwise<dim = 1>>}

// -----

// expected-error@+1 {{only sequence_parallel takes a dim, not replicate}}
func.func private @f() attributes {s = #mp.style<replicate<dim = 0>>}

// -----

// expected-error@+1 {{unknown style option 'seq'; expected dim, input_layouts or output_layouts}}
func.func private @f() attributes {s = #mp.style<sequence_parallel<seq = 1>>}

// -----

// expected-error@+1 {{unknown parallel style 'diagonal'; expected colwise, rowwise, sequence_parallel or replicate}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_axis = tp, styles = {w1 = diagonal}>}

// -----

// expected-error@+1 {{only sequence_parallel takes a dim, not colwise}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_axis = tp, styles = {w1 = colwise<dim = 0>}>}

// -----

// expected-error@+1 {{sequence_parallel dim must be non-negative, got -2}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_axis = tp, styles = {x = sequence_parallel<dim = -2>}>}

// -----

//===----------------------------------------------------------------------===//
// Plans.
//===----------------------------------------------------------------------===//

// expected-error@+1 {{a plan needs a mesh (mesh = @name)}}
func.func private @f() attributes {p = #mp.plan<>}

// -----

// expected-error@+1 {{plan key 'mesh' repeated}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, mesh = @n>}

// -----

// expected-error@+1 {{plan key 'styles' repeated}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_axis = tp, styles = {w1 = colwise}, styles = {}>}

// -----

// expected-error@+1 {{unknown plan key 'pp_axis'; expected mesh, tp_axis, fsdp_axis, batch_axis, styles, fsdp_groups, reshard_after_forward, recompute, recompute_full_layers, precision, reduce_dtype, tp_reduce_dtype or saved_dtype}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, pp_axis = pp>}

// -----

// expected-error@+1 {{invalid kind of attribute specified}}
func.func private @f() attributes {p = #mp.plan<mesh = "m">}

// -----

// expected-error@+1 {{plan entry '' is not 1 to 256 characters of [A-Za-z0-9_.:/-] and the glob characters *?[]!^}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_axis = tp, styles = {"" = colwise}>}

// -----

// expected-error@+1 {{plan entry 'w 1' is not}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_axis = tp, styles = {"w 1" = colwise}>}

// -----

// The batch defaults to the FSDP axis, but an explicit batch axis decides.
// expected-error@+1 {{the batch cannot be split over the tensor-parallel axis 'tp': ranks of one tensor-parallel group see the same batch}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_axis = tp, fsdp_axis = dp, batch_axis = tp>}

// -----

// expected-error@+1 {{plan tp_axis 'tp' is not an axis of mesh @m #mp.mesh<dp = 2>}}
module attributes {mp.plan = #mp.plan<mesh = @m, tp_axis = tp, styles = {}>} {
  mp.mesh @m = <dp = 2>
}

// -----

// expected-error@+1 {{plan batch_axis 'data' is not an axis of mesh @m #mp.mesh<dp = 2, tp = 2>}}
module attributes {mp.plan = #mp.plan<mesh = @m, tp_axis = tp, fsdp_axis = dp, batch_axis = data>} {
  mp.mesh @m = <dp = 2, tp = 2>
}

// -----

// expected-error@+1 {{the plan's mesh @m is not an mp.mesh of this module}}
module attributes {mp.plan = #mp.plan<mesh = @m>} {
  mp.mesh @mesh = <dp = 2>
}

// -----

// expected-error@+1 {{'mp.plan' must be an #mp.plan}}
module attributes {mp.plan = #mp.mesh<dp = 2>} {}

// -----

// expected-error@+1 {{'mp.plan' must be an #mp.plan}}
func.func private @f() attributes {mp.plan = "plan"}

// -----

//===----------------------------------------------------------------------===//
// Roles and names of arguments and results.
//===----------------------------------------------------------------------===//

// expected-error@+1 {{'mp.input' on argument #1 must be a non-empty string}}
func.func private @f(tensor<4xf32> {mp.param = "w"}, tensor<4xf32> {mp.input = ""})

// -----

// expected-error@+1 {{'mp.param' on argument #0 must be a non-empty string}}
func.func private @f(tensor<4xf32> {mp.param = 3 : i64})

// -----

// expected-error@+1 {{argument #0 has two roles, 'mp.state' and 'mp.target'}}
func.func private @f(tensor<4xf32> {mp.target = "y", mp.state = "s"})

// -----

// Names are unique across roles, and a repeated name is reported once, on
// its later use.
// expected-error@+1 {{argument #2 repeats the name 'w' of argument #0; names must be unique}}
func.func private @f(tensor<4xf32> {mp.param = "w"}, tensor<4xf32> {mp.input = "x"}, tensor<4xf32> {mp.state = "w"})

// -----

// expected-error@+1 {{argument #0 named by 'mp.target' must be a ranked tensor, not 'tensor<*xi64>'}}
func.func private @f(tensor<*xi64> {mp.target = "y"})

// -----

// expected-error@+1 {{argument #0 named by 'mp.input' must be a ranked tensor, not 'i32'}}
func.func private @f(i32 {mp.input = "n"})

// -----

// expected-error@+1 {{unknown mp argument attribute 'mp.output'}}
func.func private @f(tensor<4xf32> {mp.output = "out"})

// -----

// expected-error@+1 {{'mp.plan_entry' on argument #0 must be a non-empty string}}
func.func private @f(tensor<4xf32> {mp.param = "w", mp.plan_entry = 2 : i64})

// -----

// expected-error@+1 {{'mp.output' on result #1 must be a non-empty string}}
func.func private @f() -> (tensor<4xf32> {mp.output = "a"}, tensor<4xf32> {mp.output = ""})

// -----

// expected-error@+1 {{'mp.plan_entry' on result #0 must be a non-empty string}}
func.func private @f() -> (tensor<4xf32> {mp.plan_entry = ""})

// -----

// expected-error@+1 {{unknown mp result attribute 'mp.state'}}
func.func private @f() -> (tensor<4xf32> {mp.state = "s"})

// -----

// expected-error@+1 {{unknown mp result attribute 'mp.foo'}}
func.func private @f() -> (tensor<4xf32> {mp.foo})

// -----

// Argument and result attributes are not op attributes.
func.func @f(%x: tensor<4xf32>) {
  // expected-error@+1 {{unknown mp attribute 'mp.plan_entry'}}
  %0 = mp.relu %x {mp.plan_entry = "w"} : tensor<4xf32>
  return
}

// -----

// expected-error@+1 {{'mp.partitioned' is a unit attribute of functions}}
func.func private @f() attributes {mp.partitioned = true}

// -----

// expected-error@+1 {{plan entry 'w1' is repeated}}
module attributes {mp.plan = #mp.plan<mesh = @m, tp_axis = tp, styles = {w1 = colwise, w1 = rowwise}>} {}

// -----

// expected-error@+1 {{the mesh has more than 2^31 - 1 devices}}
mp.mesh @mesh = <a = 4611686018427387904, b = 4>

// -----

mp.mesh @mesh = <a = 2>
func.func @dynamic(%x: tensor<?x7xf32>) {
  // expected-error@+1 {{'mp.annotate' op dim 0 of 'tensor<?x7xf32>' is dynamic; only static dims can be split}}
  %0 = mp.annotate %x <@mesh, [[a], []]> : tensor<?x7xf32>
  return
}

// -----

// In a partitioned function, only the evenness of splits goes unchecked.
mp.mesh @mesh = <a = 2>
// expected-error@+1 {{sharding of argument #0: mesh @mesh has no axis 'zz'}}
func.func @partitioned_axes(%x: tensor<6xf32> {mp.sharding = #mp.sharding<@mesh, [[zz]]>}) -> tensor<6xf32> attributes {mp.partitioned} {
  return %x : tensor<6xf32>
}

// -----

mp.mesh @mesh = <a = 2>
// expected-error@+1 {{sharding of argument #0: sharding has 2 dims but 'tensor<6xf32>' has rank 1}}
func.func @partitioned_rank(%x: tensor<6xf32> {mp.sharding = #mp.sharding<@mesh, [[a], []]>}) -> tensor<6xf32> attributes {mp.partitioned} {
  return %x : tensor<6xf32>
}

// -----

mp.mesh @m = <a = 4>
// expected-error@+1 {{'mp.global_shape' of argument #0 does not split into 'tensor<2x8xf32>'}}
func.func private @global_shape_mismatch(tensor<2x8xf32> {mp.sharding = #mp.sharding<@m, [[a], []]>, mp.global_shape = array<i64: 9, 8>}) attributes {mp.partitioned}

// -----

// expected-error@+1 {{'mp.global_shape' on result #0 must be an array of its rank's extents, beside its sharding}}
func.func private @global_shape_alone() -> (tensor<2x8xf32> {mp.global_shape = array<i64: 9, 8>})

// -----

// expected-error@+1 {{fsdp_groups needs fsdp_axis, the axis FSDP shards parameters over}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, fsdp_groups = ["layers.*"]>}

// -----

// expected-error@+1 {{fsdp_groups entry "layers 0" is not}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, fsdp_axis = dp, fsdp_groups = ["layers 0"]>}

// -----

// expected-error@+1 {{reshard_after_forward needs fsdp_axis}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, reshard_after_forward = true>}

// -----

// expected-error@+1 {{unknown recompute 'layer'; expected none, selective, op or full}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, recompute = layer>}

// -----

// expected-error@+1 {{recompute_full_layers must not be negative, got -1}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, recompute_full_layers = -1>}

// -----

// expected-error@+1 {{unknown precision 'fp16'; expected fp32, tf32 or bf16}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, precision = fp16>}

// -----

// expected-error@+1 {{reduce_dtype must be f32 or bf16, got 'f16'}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, reduce_dtype = f16>}

// -----

// expected-error@+1 {{saved_dtype = bf16 needs precision = bf16, got tf32}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, precision = tf32, saved_dtype = bf16>}

// -----

// expected-error@+1 {{tp_reduce_dtype = bf16 needs precision = bf16, got fp32}}
func.func private @f() attributes {p = #mp.plan<mesh = @m, tp_reduce_dtype = bf16, precision = fp32>}

// -----

// expected-error@+1 {{layout 'Shard' is not Replicate() or Shard(d)}}
func.func private @f() attributes {s = #mp.style<rowwise<output_layouts = "Shard">>}

// -----

// expected-error@+1 {{only colwise and rowwise take input_layouts and output_layouts, not replicate}}
func.func private @f() attributes {s = #mp.style<replicate<input_layouts = "Replicate()">>}

// -----

func.func @module_not_a_norm(%x: tensor<8xf32>) {
  // expected-error@+1 {{'mp.module' is the module name (a non-empty string) of a norm}}
  %0 = mp.neg %x {mp.module = "layers.0.attention_norm"} : tensor<8xf32>
  return
}

// -----

func.func @module_empty(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+1 {{'mp.module' is the module name (a non-empty string) of a norm}}
  %0 = mp.rms_norm %x, %w eps 1.0e-5 {mp.module = ""} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @module_not_a_string(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+1 {{'mp.module' is the module name (a non-empty string) of a norm}}
  %0 = mp.rms_norm %x, %w eps 1.0e-5 {mp.module = 3 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}
