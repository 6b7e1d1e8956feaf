//===- FuseGemmAccumulate.cpp - GEMM products added into their sums -------===//
//
// A gradient summed over a value's uses is a chain of mp.add of GEMM
// products. Each add reads the product and the running sum and writes a
// third tensor; a GEMM with an accumulator adds its product into the
// running sum's buffer as it writes it (BLAS's beta = 1).
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include <array>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_FUSEGEMMACCUMULATE
#include "mp/Transforms/Passes.h.inc"

namespace {

struct FuseGemmAccumulatePass
    : impl::FuseGemmAccumulateBase<FuseGemmAccumulatePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<AddOp> candidates;
    getOperation().walk([&](AddOp add) { candidates.push_back(add); });
    for (AddOp add : candidates)
      fuse(add);
  }

  /// add(p, g) or add(g, p) -> p's GEMM accumulating into g, when only the
  /// add reads p and g (so the sum can take g's buffer) and the sum is
  /// float32 (what GEMMs sum into). Of two products, the later one adds
  /// into the earlier: the fused GEMM then stays where it was.
  static void fuse(AddOp add) {
    if (!getElementTypeOrSelf(add.getType()).isF32())
      return;
    Operation *lhsDef = add.getLhs().getDefiningOp();
    Operation *rhsDef = add.getRhs().getDefiningOp();
    bool rhsFirst = lhsDef && rhsDef &&
                    lhsDef->getBlock() == rhsDef->getBlock() &&
                    lhsDef->isBeforeInBlock(rhsDef);
    for (unsigned i : rhsFirst ? std::array{1u, 0u} : std::array{0u, 1u}) {
      Value product = add->getOperand(i);
      Value accumulator = add->getOperand(1 - i);
      Operation *gemm = product.getDefiningOp();
      if (!gemm || !isa<LinearOp, MatmulOp>(gemm) ||
          getGemmAccumulator(*gemm) || !product.hasOneUse() ||
          !accumulator.hasOneUse() || product.getType() != add.getType())
        continue;
      // Where the product was computed if the sum exists by then (the
      // schedule's compute order is kept), else at the add.
      Block *block = gemm->getBlock();
      Operation *sumDef = accumulator.getDefiningOp();
      bool atGemm =
          sumDef ? sumDef->getBlock() == block && sumDef->isBeforeInBlock(gemm)
                 : cast<BlockArgument>(accumulator).getOwner() == block;
      OpBuilder builder(atGemm ? gemm : add.getOperation());
      Operation *fused = builder.clone(*gemm);
      fused->insertOperands(2, accumulator);
      add.replaceAllUsesWith(fused->getResult(0));
      add.erase();
      gemm->erase();
      return;
    }
  }
};

} // namespace
} // namespace mp
