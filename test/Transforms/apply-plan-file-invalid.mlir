// Every problem in a plan file is an error located in the file, at the key
// concerned, and a non-zero exit.
//
// RUN: split-file %s %t
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/syntax.json 2>&1 | FileCheck %s --check-prefix=SYNTAX
// SYNTAX: syntax.json:2:3: error: plan file is not valid JSON: Expected object key
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/array.json 2>&1 | FileCheck %s --check-prefix=ARRAY
// ARRAY: array.json:1:1: error: a plan file is a JSON object
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/typo.json 2>&1 | FileCheck %s --check-prefix=TYPO
// TYPO: typo.json:3:3: error: unknown plan file key "fdsp"; expected mesh, tensor_parallel, fsdp, batch, plan, fsdp_groups, reshard_after_forward, recompute, recompute_full_layers, precision, reduce_dtype, tp_reduce_dtype, saved_dtype
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/nomesh.json 2>&1 | FileCheck %s --check-prefix=NOMESH
// NOMESH: nomesh.json:1:1: error: plan file needs "mesh": {"shape": [...], "names": [...]}
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/meshlen.json 2>&1 | FileCheck %s --check-prefix=MESHLEN
// MESHLEN: meshlen.json:1:2: error: "mesh" has 2 sizes but 1 names
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/repeated.json 2>&1 | FileCheck %s --check-prefix=REPEATED
// REPEATED: repeated.json:1:2: error: mesh axis 'dp' is repeated; axis names must be unique
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/zero.json 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: zero.json:1:2: error: mesh axis 'tp' has size 0; sizes must be positive
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/style.json 2>&1 | FileCheck %s --check-prefix=STYLE
// STYLE: style.json:4:12: error: plan entry "w1" has unknown style "columnwise"; expected colwise, rowwise, sequence_parallel or replicate
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/stylekey.json 2>&1 | FileCheck %s --check-prefix=STYLEKEY
// STYLEKEY: stylekey.json:4:12: error: plan entry "x" has unknown key "sequence_dim"; expected "style", "dim", "input_layouts", "output_layouts" and "use_local_output"
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/styledim.json 2>&1 | FileCheck %s --check-prefix=STYLEDIM
// STYLEDIM: styledim.json:4:12: error: plan entry "w1": only sequence_parallel takes a dim, not colwise
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/axis.json 2>&1 | FileCheck %s --check-prefix=AXIS
// AXIS: axis.json:2:3: error: plan tp_axis 'model' is not an axis of mesh @mesh #mp.mesh<data = 2, tp = 2>
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/same.json 2>&1 | FileCheck %s --check-prefix=SAME
// SAME: same.json:5:3: error: tp_axis and fsdp_axis must be different mesh axes, both are 'tp'
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/unknown.json 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: unknown.json:4:47: error: plan entry 'w9' matches no parameter, module, input or output; close names: w1
// RUN: not mp-opt %t/imported.mlir --mp-apply-plan=%t/module.json 2>&1 | FileCheck %s --check-prefix=MODULE
// MODULE: module.json:4:30: error: plan entry 'fc_1' matches no parameter, module, input or output; close names: fc1, fc2
// MODULE-NOT: error
// An uneven split is a plan like any other (8 rows over 3 ranks: 3, 3, 2).
// RUN: mp-opt %t/model.mlir --mp-apply-plan=%t/uneven.json | FileCheck %s --check-prefix=UNEVEN
// UNEVEN: %arg1: tensor<8x8xf32> {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[\[}}tp], []]>}
// RUN: not mp-opt %t/planned.mlir --mp-apply-plan=%t/uneven.json 2>&1 | FileCheck %s --check-prefix=PLANNED
// PLANNED: planned.mlir:1:1: error: the module already has a plan; apply a plan file to a model without one
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/recompute.json 2>&1 | FileCheck %s --check-prefix=RECOMPUTE
// RECOMPUTE: recompute.json:3:3: error: "recompute" must be "none", "selective", "op" or "full"
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/full-layers.json 2>&1 | FileCheck %s --check-prefix=FULL-LAYERS
// FULL-LAYERS: full-layers.json:3:3: error: "recompute_full_layers" must be a count of layers (an integer, at least 0)
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/precision.json 2>&1 | FileCheck %s --check-prefix=PRECISION
// PRECISION: precision.json:3:3: error: "precision" must be "fp32", "tf32" or "bf16"
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/dtype.json 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: dtype.json:4:3: error: "reduce_dtype" must be "f32" or "bf16"
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/saved-tf32.json 2>&1 | FileCheck %s --check-prefix=SAVED-TF32
// SAVED-TF32: saved-tf32.json:4:3: error: "saved_dtype": "bf16" needs "precision": "bf16", got "tf32"
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/missing.json 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read plan file '{{.*}}missing.json': No such file or directory

//--- model.mlir
func.func @model(%x: tensor<8x8xf32> {mp.input = "x"},
                 %w1: tensor<8x8xf32> {mp.param = "w1"}) {
  return
}

//--- imported.mlir
func.func private @mlp(tensor<8x8xf32> {mp.input = "x"},
                       tensor<8x8xf32> {mp.param = "fc1.weight"}, tensor<8xf32> {mp.param = "fc1.bias"},
                       tensor<8x8xf32> {mp.param = "fc2.weight"}, tensor<8xf32> {mp.param = "fc2.bias"})

//--- planned.mlir
module attributes {mp.plan = #mp.plan<mesh = @m, styles = {}>} {
  mp.mesh @m = <dp = 2>
}

//--- syntax.json
{
  'mesh': 1
}

//--- array.json
[1, 2]

//--- typo.json
{
  "mesh": {"shape": [2], "names": ["dp"]},
  "fdsp": "dp"
}

//--- nomesh.json
{"plan": {}}

//--- meshlen.json
{"mesh": {"shape": [2, 2], "names": ["dp"]}}

//--- repeated.json
{"mesh": {"shape": [2, 2], "names": ["dp", "dp"]}}

//--- zero.json
{"mesh": {"shape": [2, 0], "names": ["dp", "tp"]}}

//--- style.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "tensor_parallel": "tp",
  "plan": {"w1": "columnwise"}
}

//--- stylekey.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "tensor_parallel": "tp",
  "plan": {"x": {"style": "sequence_parallel", "sequence_dim": 0}}
}

//--- styledim.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "tensor_parallel": "tp",
  "plan": {"w1": {"style": "colwise", "dim": 0}}
}

//--- axis.json
{
  "mesh": {"shape": [2, 2], "names": ["data", "tp"]},
  "tensor_parallel": "model",
  "plan": {}
}

//--- same.json
{
  "mesh": {"shape": [2, 2], "names": ["data", "tp"]},
  "tensor_parallel": "tp",
  "fsdp": "tp",
  "plan": {"w1": "colwise"}
}

//--- unknown.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "tensor_parallel": "tp",
  "plan": {"w1": "colwise", "x": "replicate", "w9": "rowwise"}
}

//--- uneven.json
{
  "mesh": {"shape": [3], "names": ["tp"]},
  "tensor_parallel": "tp",
  "plan": {"w1": "colwise"}
}

//--- module.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "tensor_parallel": "tp",
  "plan": {"fc2": "rowwise", "fc_1": "colwise"}
}

//--- recompute.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "recompute": "layer"
}

//--- full-layers.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "recompute_full_layers": -2
}

//--- precision.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "precision": "bfloat16"
}

//--- dtype.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "precision": "bf16",
  "reduce_dtype": "float32"
}

//--- saved-tf32.json
{
  "mesh": {"shape": [2], "names": ["tp"]},
  "precision": "tf32",
  "saved_dtype": "bf16"
}
