//===- Passes.td - every mp pass ---------------------------*- tablegen -*-===//

#ifndef MP_TRANSFORMS_PASSES_TD
#define MP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ApplyPlan : Pass<"mp-apply-plan", "::mlir::ModuleOp"> {
  let summary = "Lays a parallelization plan onto the model's arguments";
  let description = [{
    Reads the plan from the module attribute `mp.plan` (written in IR), or
    from a JSON plan file (`plan-file`, which `mp-opt --mp-apply-plan=FILE`
    abbreviates) that it then writes into the module as an `mp.mesh` and the
    `mp.plan` attribute. It then resolves the plan against every function
    with named arguments (`mp.param`, `mp.input`, `mp.target`, and named
    results `mp.output`) and writes:

    * on each named argument and styled named result, its STORAGE sharding
      `mp.sharding` and the plan key that styled it `mp.plan_entry`:
      - `colwise` splits a `[out, in]` weight's dim 0 over the
        tensor-parallel axis, `rowwise` its dim 1;
      - `sequence_parallel` splits an activation's sequence dim over it;
      - FSDP (`fsdp_axis`) then splits every parameter's dim 0 over the
        FSDP axis, minor to any tensor-parallel split of dim 0 (FSDP2 shards
        the tensor-parallel shard further);
      - inputs and targets get their dim 0 split over the batch axis;
    * for each FSDP parameter, an `mp.annotate` at the top of the function
      that pins the sharding it is USED with (the storage sharding without
      the FSDP axis); the difference is FSDP2's all_gather before use.

    The JSON plan file mirrors a PyTorch plan:

    ```json
    {
      "mesh": {"shape": [2, 2], "names": ["data_parallel", "tensor_parallel"]},
      "tensor_parallel": "tensor_parallel",
      "fsdp": "data_parallel",
      "batch": "data_parallel",
      "plan": {"w1": "colwise", "w2": "rowwise", "w3": "colwise",
               "x": {"style": "sequence_parallel", "dim": 0}}
    }
    ```

    Errors (each located at the plan, a JSON key or the argument concerned):
    unknown names, a style on an argument of the wrong role or rank, glob
    entries that disagree, a mesh with repeated or non-positive axes, axes
    the mesh lacks, and splits the axis sizes do not divide.
  }];
  let options = [
    Option<"planFile", "plan-file", "std::string", /*default=*/"\"\"",
           "JSON plan file to read instead of the module's mp.plan">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def Summary : Pass<"mp-summary", "::mlir::ModuleOp"> {
  let summary = "Prints a model summary with per-rank placement";
  let description = [{
    Prints, for every function with named parameters, a table in the spirit
    of Lightning's `ModelSummary`: one row per parameter with its name, the
    op that consumes it, its global shape and parameter count, and the
    columns a compiler can give: its placement on each mesh axis (`S(d)`:
    split on dim d, `R`: replicated, `P`: partial) and its parameter count
    on one rank. Totals follow: parameters, parameters per rank, and the
    estimated size in MB, global and per rank (element size × count, as
    Lightning estimates it). The IR is left unchanged.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to print the summary to ('-' is standard output)">,
  ];
}

#endif // MP_TRANSFORMS_PASSES_TD
