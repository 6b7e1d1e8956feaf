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

mp.mesh @m = <a = 3>
// expected-error@+1 {{sharding of argument #0: dim 1 of size 4 does not split evenly over mesh axes [a = 3] (3 shards); uneven sharding is not supported yet}}
func.func private @uneven(tensor<4x4xf32> {mp.sharding = #mp.sharding<@m, [[], [a]]>})

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

// expected-error@+1 {{unknown plan key 'tensor_parallel'; expected mesh, tp_axis, fsdp_axis, batch_axis or styles}}
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
