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
  ];
}

#endif // MP_DIALECT_MP_IR_MPINTERFACES_TD
