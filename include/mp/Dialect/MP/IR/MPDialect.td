//===- MPDialect.td - the mp dialect -----------------------*- tablegen -*-===//
//
// The mp dialect: tensor-level model IR, device meshes, shardings and
// parallelization plans for 2D (tensor + fully sharded data) parallelism.
//
//===----------------------------------------------------------------------===//

#ifndef MP_DIALECT_MP_IR_MPDIALECT_TD
#define MP_DIALECT_MP_IR_MPDIALECT_TD

include "mlir/IR/OpBase.td"
include "mp/Dialect/MP/IR/MPInterfaces.td"

def MP_Dialect : Dialect {
  let name = "mp";
  let cppNamespace = "::mp";
  let summary = "Model-parallel training: model ops, meshes, shardings, plans";
  let description = [{
    The `mp` dialect holds a model as a `func.func` on builtin tensors with
    GLOBAL shapes, and everything needed to parallelize it over a device mesh:

    * model ops in PyTorch's conventions (`mp.linear` is `y = x · Wᵀ` with
      `W` laid out `[out, in]` as `nn.Linear` stores it);
    * named function arguments: `{mp.param = "layers.0.w1"}`,
      `{mp.input = "x"}`, `{mp.target = "y"}`, so that plans can name
      parameters as PyTorch's fully-qualified names do; results may be named
      with `{mp.output = "out"}`;
    * device meshes with named axes (`mp.mesh`), shardings with a pending
      partial-sum state (`#mp.sharding`), and parallelization plans that
      mirror PyTorch's parallel styles (`#mp.plan`, `#mp.style`).

    Argument and result attributes the dialect understands (and verifies):

    | attribute        | on           | meaning                                   |
    |------------------|--------------|-------------------------------------------|
    | `mp.param`       | argument     | trainable parameter and its name          |
    | `mp.input`       | argument     | model input (batch data) and its name     |
    | `mp.target`      | argument     | loss target (batch data) and its name     |
    | `mp.state`       | argument     | optimizer state (`w1.exp_avg`, `step`)    |
    | `mp.output`      | result       | named model output                        |
    | `mp.sharding`    | arg / result | storage sharding (`#mp.sharding`)         |
    | `mp.plan_entry`  | arg / result | the plan key that gave the sharding       |

    A norm (`mp.rms_norm`, `mp.layer_norm`) may carry `mp.module`, the
    name of the module it is (`{mp.module = "layers.0.attention_norm"}`):
    plan keys name a norm by its parameters' module, and a norm without
    parameters (OLMo's LayerNorm, `F.layer_norm(x, None, None)`) by this
    name, so that `sequence_parallel` reaches it too. A norm that carries
    it is placed by that name only: its weight's key still places the
    weight, not the norm's activations.

    The module attribute `mp.plan` holds the plan (`#mp.plan`). After
    sharding propagation every op result has a sharding too, in the op's
    `mp.sharding` attribute. A function that partitioning has rewritten to
    per-rank (local) types is marked `mp.partitioned`; its `mp.sharding`
    attributes then say how each local value is a piece of the global one.
    A function lowered to runtime calls carries `mp.manifest`, the text
    describing it to the trainer (docs/runtime-abi.md).
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];

  let extraClassDeclaration = [{
    // Names of the discardable attributes the dialect owns.
    static constexpr ::llvm::StringLiteral kParamAttrName = "mp.param";
    static constexpr ::llvm::StringLiteral kInputAttrName = "mp.input";
    static constexpr ::llvm::StringLiteral kTargetAttrName = "mp.target";
    static constexpr ::llvm::StringLiteral kStateAttrName = "mp.state";
    static constexpr ::llvm::StringLiteral kOutputAttrName = "mp.output";
    static constexpr ::llvm::StringLiteral kShardingAttrName = "mp.sharding";
    static constexpr ::llvm::StringLiteral kPlanEntryAttrName = "mp.plan_entry";
    static constexpr ::llvm::StringLiteral kPlanAttrName = "mp.plan";
    /// On a norm: the module it is, for plan keys (a norm without
    /// parameters has no parameter to be named by).
    static constexpr ::llvm::StringLiteral kModuleAttrName = "mp.module";
    static constexpr ::llvm::StringLiteral kPartitionedAttrName =
        "mp.partitioned";
    static constexpr ::llvm::StringLiteral kManifestAttrName = "mp.manifest";
    /// On an argument or result of a partitioned function whose sharding
    /// splits a dim unevenly: the global shape, which the padded local one
    /// no longer tells.
    static constexpr ::llvm::StringLiteral kGlobalShapeAttrName =
        "mp.global_shape";
    /// On a collective: it gathers again what an earlier one did (FSDP's
    /// reshard_after_forward), and is never merged with it.
    static constexpr ::llvm::StringLiteral kRegatherAttrName = "mp.regather";
    /// On an all_gather or reduce_scatter of FSDP: the parameter group
    /// (mp::getFsdpGroup) whose collectives run as one call on a packed
    /// buffer, as FSDP2's flat parameters (--mp-group-fsdp).
    static constexpr ::llvm::StringLiteral kFsdpGroupAttrName =
        "mp.fsdp_group";
    /// On a small all_reduce: the coalesced group (a number within its
    /// function) whose all_reduces, side by side, run as one call on a
    /// packed buffer (--mp-coalesce-reductions).
    static constexpr ::llvm::StringLiteral kCoalescedAttrName =
        "mp.coalesced";
    /// On a collective: issued asynchronously in this runtime slot
    /// (mp_async_begin); its result is read only by an mp.wait
    /// (--mp-schedule-collectives).
    static constexpr ::llvm::StringLiteral kAsyncAttrName = "mp.async";
    /// On a training step: the element type (bf16) its gradients are summed
    /// in across ranks (--mp-train-step's reduce-dtype), which
    /// mp-narrow-collectives applies after partitioning.
    static constexpr ::llvm::StringLiteral kReduceDtypeAttrName =
        "mp.reduce_dtype";
    /// On a training step: the element type (bf16) tensor parallelism's
    /// partial results are summed in (--mp-train-step's tp-reduce-dtype),
    /// which mp-narrow-collectives applies after partitioning.
    static constexpr ::llvm::StringLiteral kTpReduceDtypeAttrName =
        "mp.tp_reduce_dtype";
    /// The runtime's MP_ASYNC_SLOTS (the lowering checks they agree).
    static constexpr int64_t kAsyncSlots = 64;

  private:
    void registerAttributes();
  public:
  }];
}

// Every tensor an op takes or gives is non-empty and its bytes fit int64
// (mp::verifyTensorSize), so no later size computation wraps.
def MP_BoundedTensors : NativeOpTrait<"BoundedTensors"> {
  let cppNamespace = "::mp::MPTrait";
}

// A float32 computation whose operands and results may be held in bfloat16
// (mp::MPTrait::BFloat16Storage): a bfloat16 operand is read widened
// (exactly), a bfloat16 result is the float32 result rounded to nearest
// even. `mp-fuse-conversions` writes them where a conversion would.
def MP_BFloat16Storage : NativeOpTrait<"BFloat16Storage"> {
  let cppNamespace = "::mp::MPTrait";
}

// Every op states its cost (MP_CostOpInterface) and holds bounded tensors.
class MP_Op<string mnemonic, list<Trait> traits = []>
    : Op<MP_Dialect, mnemonic,
         !listconcat(traits, [MP_CostOpInterface, MP_BoundedTensors])>;

#endif // MP_DIALECT_MP_IR_MPDIALECT_TD
