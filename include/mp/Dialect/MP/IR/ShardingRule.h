//===- ShardingRule.h - per-op sharding rules as factors --------*- C++ -*-===//

#ifndef MP_DIALECT_MP_IR_SHARDINGRULE_H
#define MP_DIALECT_MP_IR_SHARDINGRULE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <utility>

namespace mp {

enum class FactorKind {
  /// Appears in the results: splitting it splits them.
  Parallel,
  /// Summed away: splitting it leaves each rank a partial sum.
  Reduction,
  /// Must stay whole on every rank (a softmax's class dim).
  Replicated,
};

/// How pending partial sums of the operands flow to the result.
enum class PartialRule {
  /// f(Σ a) ≠ Σ f(a): operands must be reduced first.
  NonLinear,
  /// f(Σ a, Σ b) = Σ f(a, b) (add, neg, sum, reshape): every operand must
  /// be partial over the same axes, and the result is partial over them.
  Additive,
  /// Linear in each operand separately (mul, linear): at most one operand,
  /// one of `linearOperands`, may be partial over an axis.
  Multilinear,
};

struct ShardingRule {
  static constexpr int64_t kNoFactor = -1;

  llvm::SmallVector<int64_t> factorSizes;
  llvm::SmallVector<FactorKind> factorKinds;
  /// For each operand and result, the factor of each dim (or kNoFactor).
  llvm::SmallVector<llvm::SmallVector<int64_t>> operandFactors;
  llvm::SmallVector<llvm::SmallVector<int64_t>> resultFactors;
  PartialRule partial = PartialRule::NonLinear;
  /// Under Multilinear, the operands a partial sum may pass through.
  llvm::SmallVector<bool> linearOperands;
  /// Whether propagation lets partial sums through the op (where the rule
  /// allows them). False for a norm's input gradient: linear in the output
  /// gradient, but a partial result would travel on into the residual
  /// stream's consumers, the weight gradients' GEMMs among them, so its
  /// operand is reduced first; mp-simplify-collectives moves that reduction
  /// past the op where it then merges with another (a parallel block's two
  /// norms).
  bool propagatesPartials = true;
  /// The operand a GEMM adds its product into (split as the result): the
  /// sum is right only where the accumulator is a partial sum over exactly
  /// the axes the product is (each rank adds its own part of both).
  std::optional<unsigned> accumulatorOperand;
  /// The reductions average (mean) rather than sum: a split reduction factor
  /// leaves each rank its local mean, to be scaled by local/global extent.
  bool averages = false;
  /// The op's operand layouts are requirements at the op only, never pulled
  /// into the operands' producers. An optimizer update wants its gradient in
  /// the parameter's storage layout, but the gradient is best computed in the
  /// layout the parameter is used with, as partial sums, and reduced into
  /// storage afterwards (ZeRO's reduce_scatter).
  bool pullsOperands = true;
  /// Factors the op's local form gets wrong on padded pieces (a reshape
  /// regrouping dims, a loss counting padded rows as samples): propagation
  /// splits them only where the mesh axes divide them.
  llvm::SmallVector<int64_t> evenSplitFactors;
  /// Integer operands whose values index a factor's dim (an embedding's ids
  /// into its vocabulary), as (operand, factor): where the factor is split,
  /// partitioning shifts them into each rank's slice (mp.localize_index).
  llvm::SmallVector<std::pair<unsigned, int64_t>> indexOperands;

  int64_t getNumFactors() const { return factorSizes.size(); }
  int64_t addFactor(int64_t size, FactorKind kind) {
    factorSizes.push_back(size);
    factorKinds.push_back(kind);
    return factorSizes.size() - 1;
  }

  /// One parallel factor per dim of `type`, shared by `numOperands`
  /// operands and one result of that type.
  static ShardingRule getElementwise(mlir::RankedTensorType type,
                                     unsigned numOperands, PartialRule partial);
};

} // namespace mp

#endif // MP_DIALECT_MP_IR_SHARDINGRULE_H
