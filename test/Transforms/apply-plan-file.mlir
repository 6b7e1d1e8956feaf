// RUN: split-file %s %t
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan=%t/plan2d.json | FileCheck %s --check-prefix=PLAN2D
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan=plan-file=%t/plan2d.json | FileCheck %s --check-prefix=PLAN2D
// RUN: mp-opt %t/ffn.mlir --mp-apply-plan=%t/sp.json | FileCheck %s --check-prefix=SP
// RUN: mp-opt %t/taken.mlir --mp-apply-plan=%t/plan2d.json | FileCheck %s --check-prefix=TAKEN

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
