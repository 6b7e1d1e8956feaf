//===- FoldGemmScales.cpp - constant scales into batched GEMMs' alpha -----===//
//
// Attention scales its scores by 1/sqrt(head_dim) before the softmax and
// the scores' gradient after the softmax's gradient: each an elementwise
// pass over a [batch, heads, seq, seq] tensor next to a batched GEMM that
// can multiply by the factor itself (BLAS's alpha). A power-of-two factor
// commutes with every rounding (the sum of products scales exactly), so
// folding it changes no bit unless a scaled value is subnormal or
// overflows; other factors only under `inexact`.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include <cmath>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_FOLDGEMMSCALES
#include "mp/Transforms/Passes.h.inc"

namespace {

/// True when multiplying by `factor` is exact in float32 (for values far
/// from the subnormal and overflow ranges): ±2^k, a normal float32.
bool isPowerOfTwo(double factor) {
  int exponent;
  return std::fabs(std::frexp(factor, &exponent)) == 0.5 &&
         std::isnormal(float(factor));
}

/// `matmul`'s scale times `factor`, if it is a finite, nonzero float32
/// (the runtime's alpha) and, unless `inexact`, `factor` multiplies
/// exactly.
std::optional<double> combinedScale(MatmulOp matmul, double factor,
                                    bool inexact) {
  double scale = matmul.getEffectiveScale() * factor;
  float alpha = float(scale);
  if (!std::isfinite(alpha) || alpha == 0)
    return std::nullopt;
  if (!inexact && (!isPowerOfTwo(factor) || double(alpha) != scale))
    return std::nullopt;
  return scale;
}

struct FoldGemmScalesPass : impl::FoldGemmScalesBase<FoldGemmScalesPass> {
  using FoldGemmScalesBase::FoldGemmScalesBase;

  void runOnOperation() override {
    SmallVector<ScaleOp> scales;
    getOperation().walk([&](ScaleOp scale) { scales.push_back(scale); });
    for (ScaleOp scale : scales)
      if (!foldIntoProducer(scale))
        foldIntoReaders(scale);
  }

  /// scale(A·B) -> A·B with the scale as alpha, when only the scale reads
  /// the product (and no accumulator is added to it: alpha scales the
  /// product alone).
  bool foldIntoProducer(ScaleOp scale) {
    auto matmul = scale.getInput().getDefiningOp<MatmulOp>();
    if (!matmul || !matmul->hasOneUse() || matmul.getAccumulator())
      return false;
    std::optional<double> combined =
        combinedScale(matmul, scale.getFactor().convertToDouble(), inexact);
    if (!combined)
      return false;
    setScale(matmul, *combined);
    scale.getResult().replaceAllUsesWith(matmul.getResult());
    scale->erase();
    return true;
  }

  /// GEMMs reading scale(x) read x and scale their product instead, when
  /// nothing else reads it (a GEMM reading it twice scales twice).
  void foldIntoReaders(ScaleOp scale) {
    Value scaled = scale.getResult();
    if (scaled.use_empty() ||
        !llvm::all_of(scaled.getUses(), [](OpOperand &use) {
          return isa<MatmulOp>(use.getOwner()) && isGemmFactor(use);
        }))
      return;
    double factor = scale.getFactor().convertToDouble();
    // Every reader must take its new scale, or none does.
    SmallVector<std::pair<MatmulOp, double>> updates;
    for (Operation *user : scaled.getUsers()) {
      auto matmul = cast<MatmulOp>(user);
      if (llvm::is_contained(llvm::make_first_range(updates), matmul))
        continue;
      double userFactor = matmul.getLhs() == scaled && matmul.getRhs() == scaled
                              ? factor * factor
                              : factor;
      std::optional<double> combined =
          combinedScale(matmul, userFactor, inexact);
      if (!combined)
        return;
      updates.push_back({matmul, *combined});
    }
    for (auto [matmul, combined] : updates)
      setScale(matmul, combined);
    scaled.replaceAllUsesWith(scale.getInput());
    scale->erase();
  }

  static void setScale(MatmulOp matmul, double scale) {
    if (scale == 1)
      matmul.removeScaleAttr();
    else
      matmul.setScaleAttr(
          FloatAttr::get(Float64Type::get(matmul.getContext()), scale));
  }
};

} // namespace
} // namespace mp
