// RUN: split-file %s %t
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan=%t/plan2d.json | FileCheck %s --check-prefix=PLAN2D
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan=plan-file=%t/plan2d.json | FileCheck %s --check-prefix=PLAN2D
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan=%t/sp.json | FileCheck %s --check-prefix=SP
// RUN: mp-opt %t/taken.mlir --mp-apply-plan=%t/plan2d.json | FileCheck %s --check-prefix=TAKEN
// RUN: mp-opt %t/imported.mlir --mp-apply-plan=%t/plan2d.json | FileCheck %s --check-prefix=MODULES
// RUN: mp-opt %t/mlp.mlir --mp-apply-plan=%t/mlp.json | FileCheck %s --check-prefix=MLP

// A plan file gives the same result as the plan written in IR: the mesh
// becomes an mp.mesh, the plan the module's mp.plan.

// PLAN2D: module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel, batch_axis = data_parallel, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>}
// PLAN2D-NEXT: mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
// PLAN2D-LABEL: func.func @ffn
// PLAN2D-SAME: {mp.input = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], []]>}
// PLAN2D-SAME: {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>}
// PLAN2D-SAME: {mp.param = "w2", mp.plan_entry = "w2", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], [tensor_parallel]]>}
// PLAN2D-SAME: {mp.param = "w3", mp.plan_entry = "w3", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>}
// PLAN2D-NEXT: mp.annotate %arg1 <@mesh, {{\[}}[tensor_parallel], []]> entry "fsdp(data_parallel): w1"
// PLAN2D-NEXT: mp.annotate %arg2 <@mesh, {{\[}}[], [tensor_parallel]]> entry "fsdp(data_parallel): w2"
// PLAN2D-NEXT: mp.annotate %arg3 <@mesh, {{\[}}[tensor_parallel], []]> entry "fsdp(data_parallel): w3"

// Sequence parallelism on the input, with an explicit dim, on a 1D mesh.

// SP: module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {w1 = colwise, w2 = rowwise, w3 = colwise, x = sequence_parallel<dim = 0>}>}
// SP-NEXT: mp.mesh @mesh = <tp = 4>
// SP: {mp.input = "x", mp.plan_entry = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}
// SP-NOT: mp.annotate

// A module that already has a symbol named "mesh" gets a fresh one.

// TAKEN: mp.plan = #mp.plan<mesh = @mesh_0,
// TAKEN: mp.mesh @mesh_0 = <data_parallel = 2, tensor_parallel = 2>
// TAKEN: func.func private @mesh()
// TAKEN: #mp.sharding<@mesh_0, {{\[}}[data_parallel], []]>

// The seed's plan applies unchanged to a model named as PyTorch's
// state_dict (as --mp-import names it): key w1 names the module whose
// parameter is w1.weight, as in parallelize_module.

// MODULES-LABEL: func.func private @imported
// MODULES-SAME: {mp.param = "w1.weight", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>}
// MODULES-SAME: {mp.param = "w2.weight", mp.plan_entry = "w2", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], [tensor_parallel]]>}
// MODULES-SAME: {mp.param = "w3.weight", mp.plan_entry = "w3", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>}

// Module keys style weight and bias: colwise splits both on dim 0, rowwise
// keeps the bias replicated over tp; an exact parameter key outranks its
// module's; FSDP splits dim 0 of each.

// MLP: styles = {fc1 = colwise, fc2 = rowwise, fc2.bias = replicate, "layers.*.proj" = colwise}
// MLP-LABEL: func.func private @mlp
// MLP-SAME: {mp.param = "fc1.weight", mp.plan_entry = "fc1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp], []]>}
// MLP-SAME: {mp.param = "fc1.bias", mp.plan_entry = "fc1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp]]>}
// MLP-SAME: {mp.param = "fc2.weight", mp.plan_entry = "fc2", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], [tp]]>}
// MLP-SAME: {mp.param = "fc2.bias", mp.plan_entry = "fc2.bias", mp.sharding = #mp.sharding<@mesh, {{\[}}[dp]]>}
// MLP-SAME: {mp.param = "layers.3.proj.bias", mp.plan_entry = "layers.*.proj", mp.sharding = #mp.sharding<@mesh, {{\[}}[tp, dp]]>}

//--- ffn.mlir
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

//--- taken.mlir
func.func private @mesh()
func.func private @model(tensor<8x64xf32> {mp.input = "x"},
                         tensor<128x64xf32> {mp.param = "w1"},
                         tensor<64x128xf32> {mp.param = "w2"},
                         tensor<128x64xf32> {mp.param = "w3"})

//--- imported.mlir
func.func private @imported(tensor<8x64xf32> {mp.input = "x"},
                            tensor<128x64xf32> {mp.param = "w1.weight"},
                            tensor<64x128xf32> {mp.param = "w2.weight"},
                            tensor<128x64xf32> {mp.param = "w3.weight"})

//--- mlp.mlir
func.func private @mlp(tensor<8x16xf32> {mp.input = "x"},
                       tensor<32x16xf32> {mp.param = "fc1.weight"},
                       tensor<32xf32> {mp.param = "fc1.bias"},
                       tensor<16x32xf32> {mp.param = "fc2.weight"},
                       tensor<16xf32> {mp.param = "fc2.bias"},
                       tensor<16xf32> {mp.param = "layers.3.proj.bias"})

//--- mlp.json
{
  "mesh": {"shape": [2, 2], "names": ["dp", "tp"]},
  "tensor_parallel": "tp",
  "fsdp": "dp",
  "plan": {"fc1": "colwise", "fc2": "rowwise", "fc2.bias": "replicate",
           "layers.*.proj": "colwise"}
}

//--- plan2d.json
{
  "mesh": {"shape": [2, 2], "names": ["data_parallel", "tensor_parallel"]},
  "tensor_parallel": "tensor_parallel",
  "fsdp": "data_parallel",
  "batch": "data_parallel",
  "plan": {"w1": "colwise", "w2": "rowwise", "w3": "colwise"}
}

//--- sp.json
{
  "mesh": {"shape": [4], "names": ["tp"]},
  "tensor_parallel": "tp",
  "plan": {"w1": "colwise", "w2": "rowwise", "w3": "colwise",
           "x": {"style": "sequence_parallel", "dim": 0}}
}
