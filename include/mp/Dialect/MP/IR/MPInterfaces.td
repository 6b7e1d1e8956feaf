//===- MPInterfaces.td - per-op knowledge behind interfaces -*- tablegen -*-===//

#ifndef MP_DIALECT_MP_IR_MPINTERFACES_TD
#define MP_DIALECT_MP_IR_MPINTERFACES_TD

include "mlir/IR/OpBase.td"

def MP_ShardingRuleOpInterface : OpInterface<"ShardingRuleOpInterface"> {
  let cppNamespace = "::mp";
  let description = [{
    An op's sharding rule, in the spirit of einsum and of Shardy's
    `OpShardingRule`: every operand and result dim maps to a FACTOR (or to
    none); a factor is `parallel` (it appears in the results), `reduction`
    (contracted or reduced away: splitting it makes the result a partial sum)
    or `replicated` (it can never be split, e.g. the class dim of a softmax).
    The rule also says how partial sums flow through the op (whether it is
    additive, multilinear or non-linear in its operands) and whether its
    reductions average.

    Propagation, partitioning and the communication report all derive from
    this one rule, so a new op adds its rule and nothing else changes.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"Returns the op's sharding rule.",
      /*retTy=*/"::mp::ShardingRule",
      /*methodName=*/"getShardingRule",
      /*args=*/(ins)>,
  ];
}

def MP_AutodiffOpInterface : OpInterface<"AutodiffOpInterface"> {
  let cppNamespace = "::mp";
  let description = [{
    An op's vector-Jacobian product, for reverse-mode automatic
    differentiation (`--mp-train-step`): given the gradients of the loss with
    respect to the op's results, builds the ops that compute the gradients
    with respect to its operands. The rule is written on GLOBAL shapes and in
    terms of ops of the dialect, so the backward pass is sharded and
    partitioned by the same rules as the forward pass.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/[{
        Builds, at the builder's insertion point, the gradients of the
        operands from `resultGrads` (one per result). Appends one value per
        operand to `operandGrads`, null for an operand with no gradient (an
        integer target).
      }],
      /*retTy=*/"void",
      /*methodName=*/"buildVJP",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::mlir::ValueRange":$resultGrads,
                    "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
    InterfaceMethod<
      /*desc=*/[{
        Whether `buildVJP` takes a gradient of result `index` into account;
        the loss may not depend on a result that it does not (the
        differentiation fails with a located error).
      }],
      /*retTy=*/"bool",
      /*methodName=*/"hasResultGradient",
      /*args=*/(ins "unsigned":$index),
      /*methodBody=*/"",
      /*defaultImplementation=*/"return true;">,
    InterfaceMethod<
      /*desc=*/[{
        Whether `buildVJP` computes a gradient of operand `index`; the loss
        may not depend on the parameters through an operand whose gradient
        it does not (the differentiation fails with a located error, where
        a null gradient would silently be zero).
      }],
      /*retTy=*/"bool",
      /*methodName=*/"hasOperandGradient",
      /*args=*/(ins "unsigned":$index),
      /*methodBody=*/"",
      /*defaultImplementation=*/"return true;">,
  ];
}

def MP_CollectiveOpInterface : OpInterface<"CollectiveOpInterface"> {
  let cppNamespace = "::mp";
  let description = [{
    What a collective does, said once on the op for every pass that needs
    it. A collective runs over GROUPS of ranks (those that differ only in
    their coordinates on `axes`) and takes at most two steps on each group's
    value (`getSteps`): it sums the members' values (a partial sum becomes
    whole) or concatenates them along a dim in group order; then it may
    leave member `i` the `i`-th piece of a dim. `all_reduce` sums;
    `reduce_scatter` sums, then slices; `all_gather` concatenates;
    `all_to_all` concatenates along `concat_dim`, then slices `split_dim`;
    `shard_slice` only slices.

    The reference interpreter runs those steps, the gradient-sync verifier
    applies them to layouts, the communication report asks what each rank
    sends, the memory plan and the lowering ask for the runtime call.
  }];
  let methods = [
    InterfaceMethod<"The tensor the collective reads.", "::mlir::Value",
      "getInput">,
    InterfaceMethod<"The tensor it produces.", "::mlir::Value", "getResult">,
    InterfaceMethod<"The mesh it runs on.", "::mlir::FlatSymbolRefAttr",
      "getMeshAttr">,
    InterfaceMethod<"The mesh axes whose groups it runs over, in order.",
      "::mlir::ArrayAttr", "getAxes">,
    InterfaceMethod<[{
        Why it is there: the plan entry or parameter and the op that caused
        it, or null.
      }], "::mlir::StringAttr", "getOriginAttr">,
    InterfaceMethod<"What it does to each group's value.",
      "::mp::CollectiveSteps", "getSteps">,
    InterfaceMethod<[{
        The bytes each rank sends with a ring algorithm over a group of n
        ranks: `all_reduce` 2(n-1)/n of its buffer, `all_gather` (n-1)/n of
        its result, `reduce_scatter` and `all_to_all` (n-1)/n of their
        input; `shard_slice` nothing.
      }], "double", "getBytesSentPerRank">,
    InterfaceMethod<"The mp_runtime.h call that runs it.",
      "::mp::RuntimeCollectiveCall", "getRuntimeCall">,
  ];
}

def MP_OptimizerOpInterface : OpInterface<"OptimizerOpInterface"> {
  let cppNamespace = "::mp";
  let description = [{
    An optimizer update computes the new value of a parameter (and of its
    state) element by element from the old one, so each result may be
    computed in the buffer of the operand it replaces: its TIED operand. The
    memory plan runs updates in place in the arguments' buffers, and the
    lowering hands the runtime's in-place kernels those buffers.
  }];
  let methods = [
    InterfaceMethod<[{
        The index of the operand whose new value result `resultNumber` is.
      }], "unsigned", "getTiedOperandIndex", (ins "unsigned":$resultNumber)>,
    InterfaceMethod<[{
        The gradient operand.
      }], "::mlir::OpOperand &", "getGradMutable", (ins), [{
        return $_op.getGradMutable();
      }]>,
    InterfaceMethod<[{
        The optional scalar the gradient is multiplied by first.
      }], "::mlir::MutableOperandRange", "getGradScaleMutable", (ins), [{
        return $_op.getGradScaleMutable();
      }]>,
  ];
}

def MP_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mp";
  let description = [{
    What one run of the op costs on one rank, on its (local) types: the
    floor its time is measured against. Every mp op has it: by default an op
    is a kernel that reads each operand once and writes each result once,
    with no GEMM FLOPs; the GEMMs count their FLOPs, and collectives that
    communicate run no compute kernel (the communication report counts what
    they send). The memory report sums it over a step (`gemm_flops`,
    `kernel_bytes`); plan search can weigh plans by it.
  }];
  let methods = [
    InterfaceMethod<[{
        The FLOPs of its matrix products: 2 per output element and
        contracted element; 0 for an op that is not a GEMM.
      }], "int64_t", "getGemmFlops", (ins), [{}], [{ return 0; }]>,
    InterfaceMethod<[{
        The bytes its kernel touches: each operand read once, each result
        written once.
      }], "int64_t", "getKernelBytes", (ins), [{}],
      [{ return ::mp::getOperandAndResultBytes($_op); }]>,
    InterfaceMethod<[{
        The kernels it launches (each costs a machine's `op_seconds`): one,
        or an op's sequence of them (attention's, chunk by chunk).
      }], "int64_t", "getKernelLaunches", (ins), [{}],
      [{ return 1; }]>,
  ];
}

#endif // MP_DIALECT_MP_IR_MPINTERFACES_TD
