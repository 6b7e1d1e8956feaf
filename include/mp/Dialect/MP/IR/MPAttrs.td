//===- MPAttrs.td - mesh, sharding and plan attributes -----*- tablegen -*-===//

#ifndef MP_DIALECT_MP_IR_MPATTRS_TD
#define MP_DIALECT_MP_IR_MPATTRS_TD

include "mp/Dialect/MP/IR/MPDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class MP_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<MP_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def MP_StyleKind : I32EnumAttr<"ParallelStyleKind",
    "a PyTorch tensor-parallel style", [
      I32EnumAttrCase<"colwise", 0>,
      I32EnumAttrCase<"rowwise", 1>,
      I32EnumAttrCase<"sequence_parallel", 2>,
      I32EnumAttrCase<"replicate", 3>,
    ]> {
  let cppNamespace = "::mp";
}

def MP_Reduction : I32EnumAttr<"Reduction",
    "how a loss reduces over its elements (PyTorch's `reduction=`)", [
      I32EnumAttrCase<"mean", 0>,
      I32EnumAttrCase<"sum", 1>,
    ]> {
  let cppNamespace = "::mp";
}

def MP_Precision : I32EnumAttr<"Precision",
    "the arithmetic of a GEMM (PyTorch's matmul precision; FSDP2's "
    "MixedPrecisionPolicy)", [
      I32EnumAttrCase<"fp32", 0>,
      I32EnumAttrCase<"tf32", 1>,
      I32EnumAttrCase<"bf16", 2>,
    ]> {
  let cppNamespace = "::mp";
  let genSpecializedAttr = 0;
}

def MP_Recompute : I32EnumAttr<"Recompute",
    "what the training step computes again in the backward pass instead of "
    "holding it from the forward pass (torchtitan's "
    "activation_checkpoint.mode)", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"selective", 1>,
      I32EnumAttrCase<"op", 2>,
      I32EnumAttrCase<"full", 3>,
    ]> {
  let cppNamespace = "::mp";
  let genSpecializedAttr = 0;
}

def MP_PrecisionAttr : EnumAttr<MP_Dialect, MP_Precision, "precision"> {
  let summary = "the arithmetic a GEMM runs in";
  let description = [{
    * `fp32`: float32 products and sums; no TF32 (the checkable mode, as
      `torch.backends.cuda.matmul.allow_tf32 = False`);
    * `tf32`: the backend may round operands to TF32's 10-bit mantissa
      (cuBLAS's `CUBLAS_COMPUTE_32F_FAST_TF32`, PyTorch's `allow_tf32`); the
      host backend and the interpreter compute in float32 and float64;
      what a GEMM without the attribute runs in;
    * `bf16`: operands rounded to bfloat16 (to nearest, ties to even),
      products accumulated in float32, the result float32: autocast's GEMM
      and FSDP2's `param_dtype=torch.bfloat16`. Every backend and the
      interpreter round the same way, so equivalence tests hold.
  }];
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// MeshAttr
//===----------------------------------------------------------------------===//

def MP_MeshAttr : MP_Attr<"Mesh", "mesh"> {
  let summary = "a device mesh with named axes";
  let description = [{
    A logical grid of devices, as PyTorch's
    `init_device_mesh("cuda", (2, 2), mesh_dim_names=("data_parallel",
    "tensor_parallel"))` builds it: an ordered list of named axes with their
    sizes. Any number of axes is allowed. Ranks are laid over the mesh in
    row-major order (the last axis varies fastest), so the groups of the last
    axis are adjacent ranks.

    ```mlir
    #mp.mesh<data_parallel = 2, tensor_parallel = 2>
    #mp.mesh<tensor_parallel = 8>
    ```

    Axis names are unique, sizes are positive, and the mesh has at most
    2^31 - 1 devices (MPI counts ranks in an int).
  }];
  let parameters = (ins
    ArrayRefParameter<"::mlir::StringAttr", "axis names">:$axisNames,
    ArrayRefParameter<"int64_t", "axis sizes">:$axisSizes
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The position of `axis` in the mesh, or std::nullopt if it has none.
    std::optional<unsigned> getAxisIndex(::llvm::StringRef axis) const;
    /// The size of `axis`; the axis must exist.
    int64_t getAxisSize(::llvm::StringRef axis) const;
    /// The number of devices in the mesh.
    int64_t getNumDevices() const;
  }];
}

//===----------------------------------------------------------------------===//
// ShardingAttr
//===----------------------------------------------------------------------===//

def MP_ShardingAttr : MP_Attr<"Sharding", "sharding"> {
  let summary = "how a tensor is laid out over a mesh, with partial sums";
  let description = [{
    For each tensor dimension, the ordered list of mesh axes that split it
    (major to minor), and the mesh axes over which the value is a pending
    PARTIAL sum: the global value is the sum of the per-rank values over
    those axes, not yet reduced. A dimension with no axes, and a mesh axis
    that appears nowhere, mean the value is replicated along it.

    ```mlir
    // A [out, in] weight split by rows over tensor_parallel, then each shard
    // split again over data_parallel (FSDP on a colwise weight).
    #mp.sharding<@mesh, [[tensor_parallel, data_parallel], []]>
    // The output of a rowwise GEMM before its all_reduce.
    #mp.sharding<@mesh, [[data_parallel], []], partial = [tensor_parallel]>
    // Replicated.
    #mp.sharding<@mesh, [[], []]>
    ```

    A mesh axis appears at most once in a sharding. A dimension's axes split
    it one after the other, each into equal pieces of the previous piece
    rounded up (`torch.chunk`'s placement): extent 17 over `tp = 2` gives
    pieces of 9 and 8; over `[tp = 2, dp = 2]` each tp piece of 9 is split
    again into 5 and 4 (the second tp piece, 8 valid rows padded to 9, into
    5 and 3). Every rank holds the rounded-up extent; the entries past its
    valid count are padding, kept zero where values enter and leave the
    program and wherever a reduction reads them (docs/uneven-sharding.md).
    Keeping the partial state (which upstream MLIR's `shard` dialect dropped)
    is what lets the compiler reduce late: an all_reduce where a consumer
    needs the full value, a reduce_scatter where it wants it split.
  }];
  let parameters = (ins
    "::mlir::FlatSymbolRefAttr":$mesh,
    "::mlir::ArrayAttr":$dims,
    "::mlir::ArrayAttr":$partial
  );
  let builders = [
    AttrBuilderWithInferredContext<(ins
        "::mlir::FlatSymbolRefAttr":$mesh,
        "::llvm::ArrayRef<::llvm::SmallVector<::llvm::StringRef>>":$dimAxes,
        CArg<"::llvm::ArrayRef<::llvm::StringRef>", "{}">:$partialAxes)>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let skipDefaultBuilders = 1;
  let extraClassDeclaration = [{
    int64_t getRank() const { return getDims().size(); }
    /// The mesh axes splitting dimension `dim`, major to minor.
    ::llvm::SmallVector<::llvm::StringRef> getDimAxes(int64_t dim) const;
    /// The mesh axes over which the value is a pending partial sum.
    ::llvm::SmallVector<::llvm::StringRef> getPartialAxes() const;
    /// True if no dimension is split and nothing is partial.
    bool isFullyReplicated() const;
    /// Checks this sharding against a value of type `type` on `mesh`: rank,
    /// known axes and static shape. Reports through `emitError`.
    ::mlir::LogicalResult verifyFor(
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError,
        ::mlir::Type type, MeshAttr mesh) const;
    /// The per-rank shape of a value of global shape `shape` (padded where a
    /// dim splits unevenly).
    ::llvm::SmallVector<int64_t> getLocalShape(::llvm::ArrayRef<int64_t> shape,
                                               MeshAttr mesh) const;
    /// True if some dim of `shape` does not split evenly.
    bool isUneven(::llvm::ArrayRef<int64_t> shape, MeshAttr mesh) const;
  }];
}

//===----------------------------------------------------------------------===//
// ParallelStyleAttr
//===----------------------------------------------------------------------===//

def MP_ParallelStyleAttr : MP_Attr<"ParallelStyle", "style"> {
  let summary = "a tensor-parallel style, as in torch.distributed.tensor.parallel";
  let description = [{
    The styles of PyTorch's `parallelize_module` plans, applied over the
    plan's tensor-parallel mesh axis:

    * `colwise` (`ColwiseParallel`): a `[out, in]` weight split on dim 0, so
      each rank computes a slice of the output features; its input is
      replicated, its output split on the last dim.
    * `rowwise` (`RowwiseParallel`): a `[out, in]` weight split on dim 1; its
      input is split on the last dim, its output is a partial sum that is
      reduced where it is needed.
    * `sequence_parallel` (`SequenceParallel`): an activation (a model input
      or a named output) split along its sequence dim. `dim` defaults to
      rank - 2: dim 1 of a `[batch, seq, feature]` tensor, dim 0 of a
      `[tokens, feature]` one; PyTorch's `sequence_dim` is `dim`.
    * `replicate`: kept whole on every tensor-parallel rank.

    `colwise` and `rowwise` take PyTorch's `input_layouts` and
    `output_layouts` over the tensor-parallel axis, `Replicate()` or
    `Shard(d)` (`d` may count from the end): the layout the module's input
    arrives in and the one its output leaves in, as declared layouts the
    partitioner honours (`rowwise<output_layouts = "Shard(1)">` is
    sequence parallelism's exit from a rowwise GEMM: a reduce_scatter).

    ```mlir
    #mp.style<colwise>
    #mp.style<sequence_parallel<dim = 1>>
    #mp.style<rowwise<input_layouts = "Replicate()", output_layouts = "Shard(1)">>
    ```

    Inside a plan's `styles` the `#mp.style<...>` wrapper is dropped:
    `{w1 = colwise, x = sequence_parallel<dim = 0>}`.
  }];
  let parameters = (ins
    "ParallelStyleKind":$kind,
    OptionalParameter<"std::optional<int64_t>">:$dim,
    OptionalParameter<"::mlir::StringAttr">:$inputLayouts,
    OptionalParameter<"::mlir::StringAttr">:$outputLayouts
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Prints the style without the `#mp.style<>` wrapper, as plans do.
    void printBody(::mlir::AsmPrinter &printer) const;
    /// Parses what printBody prints.
    static ParallelStyleAttr parseBody(::mlir::AsmParser &parser);
    /// A layout of `input_layouts`/`output_layouts`: nothing for
    /// `Replicate()`, `d` for `Shard(d)`; failure if `text` is neither.
    static ::mlir::FailureOr<std::optional<int64_t>>
    parseLayout(::llvm::StringRef text);
    /// True for the styles that shard a `[out, in]` weight.
    bool isWeightStyle() const {
      return getKind() == ParallelStyleKind::colwise ||
             getKind() == ParallelStyleKind::rowwise;
    }
  }];
}

//===----------------------------------------------------------------------===//
// PlanAttr
//===----------------------------------------------------------------------===//

def MP_PlanAttr : MP_Attr<"Plan", "plan"> {
  let summary = "a 2D parallelization plan";
  let description = [{
    What a `ModelParallelStrategy` user writes in Python, as one attribute
    (the module attribute `mp.plan`):

    * `mesh`: the `mp.mesh` the plan lays the model on;
    * `tp_axis`: the tensor-parallel axis the styles apply over (PyTorch's
      `device_mesh["tensor_parallel"]`);
    * `fsdp_axis`: FSDP2's `fully_shard` over that axis: every parameter is
      stored additionally split on dim 0 over it, and gathered before use;
    * `batch_axis`: the axis the batch (dim 0 of every input and target) is
      split over; defaults to `fsdp_axis`. Ranks that differ only in other
      axes see the same batch, as Lightning's sampler arranges;
    * `styles`: parameter/input/output name, or glob (`*` matches any run of
      characters within one dotted component, as `parallelize_module`
      matches `layers.*.mlp.w1`), to style. An exact name
      wins over globs; two globs that match one name with different styles
      are an error. Names no entry matches are replicated over `tp_axis`;
    * `fsdp_groups` (optional): module names or globs that FSDP2's
      `fully_shard` wraps; each parameter's group is the innermost one
      (`--mp-group-fsdp` runs a group's collectives as one call). By
      default each numbered layer (`layers.3`) is a group; other parameters
      are the root module's;
    * `reshard_after_forward` (optional, default false): FSDP2's option of
      that name; the training step gathers each layer's parameters again
      for the backward pass (`--mp-train-step`);
    * `recompute` (optional, default none): the activation recomputation
      the training step runs, `none`, `selective`, `op` or `full`
      (`--mp-train-step`'s `recompute`, which overrides it; torchtitan's
      `activation_checkpoint.mode`). `--mp-auto-plan` sets it where a plan
      meets the memory budget only by recomputing;
    * `recompute_full_layers` (optional, default 0): the first that many
      layers (in forward order) are recomputed fully, whatever `recompute`
      says of the others (`--mp-train-step`'s `recompute-full-layers`;
      Megatron-LM's `--recompute-method block --recompute-num-layers`).
      `--mp-auto-plan` sets it to the fewest that meet the budget when
      recomputing every layer by op does not and fully does;
    * `precision`, `reduce_dtype`, `tp_reduce_dtype`, `saved_dtype`
      (optional): the training step's mixed precision, as torchtitan's
      `mixed_precision_param`/`mixed_precision_reduce` and FSDP2's
      `MixedPrecisionPolicy` keep it beside the parallelism: the GEMMs'
      arithmetic (`fp32`, `tf32`, `bf16`), and the types (`f32`, `bf16`)
      gradients and tensor parallelism's partial results are summed in and
      activations are held in between the passes. `--mp-train-step`'s
      options of those names override them; where neither says, `tf32`
      and `f32`. `tp_reduce_dtype = bf16` and `saved_dtype = bf16` need
      `precision = bf16`. `--mp-auto-plan` records the ones its
      `train-step-options` give, so the plan it writes builds the step it
      measured.

    ```mlir
    #mp.plan<mesh = @mesh, tp_axis = tensor_parallel,
             fsdp_axis = data_parallel,
             styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>
    ```
  }];
  let parameters = (ins
    "::mlir::FlatSymbolRefAttr":$mesh,
    OptionalParameter<"::mlir::StringAttr">:$tpAxis,
    OptionalParameter<"::mlir::StringAttr">:$fsdpAxis,
    OptionalParameter<"::mlir::StringAttr">:$batchAxis,
    "::mlir::DictionaryAttr":$styles,
    OptionalParameter<"::mlir::ArrayAttr">:$fsdpGroups,
    OptionalParameter<"::mlir::BoolAttr">:$reshardAfterForward,
    OptionalParameter<"::mlir::StringAttr">:$recompute,
    OptionalParameter<"::mlir::IntegerAttr">:$recomputeFullLayers,
    OptionalParameter<"::mp::PrecisionAttr">:$precision,
    OptionalParameter<"::mlir::TypeAttr">:$reduceDtype,
    OptionalParameter<"::mlir::TypeAttr">:$tpReduceDtype,
    OptionalParameter<"::mlir::TypeAttr">:$savedDtype
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The batch axis, defaulting to the FSDP axis; null if neither is set.
    ::mlir::StringAttr getEffectiveBatchAxis() const {
      return getBatchAxis() ? getBatchAxis() : getFsdpAxis();
    }
    /// Checks that every axis the plan names exists in `mesh`.
    ::mlir::LogicalResult verifyAxesIn(
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError,
        MeshAttr mesh) const;
  }];
}

#endif // MP_DIALECT_MP_IR_MPATTRS_TD
