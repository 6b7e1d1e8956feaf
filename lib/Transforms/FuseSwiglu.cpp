//===- FuseSwiglu.cpp - silu(gate) · up into mp.swiglu --------------------===//
//
// A Llama feed-forward multiplies silu of one projection by another. As two
// ops, the step writes silu's value, reads it back and keeps it for the
// backward pass; mp.swiglu computes the same floats in one kernel and its
// gradient computes silu's value again from the kept gate.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_FUSESWIGLU
#include "mp/Transforms/Passes.h.inc"

namespace {

struct FuseSwigluPass : impl::FuseSwigluBase<FuseSwigluPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<MulOp> candidates;
    getOperation().walk([&](MulOp mul) { candidates.push_back(mul); });
    for (MulOp mul : candidates)
      fuse(mul);
  }

  /// mul(silu(gate), up) or mul(up, silu(gate)) -> swiglu(gate, up), when
  /// nothing else reads silu's value and the tensors are float32 (the
  /// runtime's elementwise kernels).
  static void fuse(MulOp mul) {
    if (!getElementTypeOrSelf(mul.getType()).isF32())
      return;
    for (unsigned i : {0u, 1u}) {
      auto silu = mul->getOperand(i).getDefiningOp<SiluOp>();
      if (!silu || !silu->hasOneUse())
        continue;
      OpBuilder b(mul);
      Value fused = SwigluOp::create(b, mul.getLoc(), silu.getInput(),
                                     mul->getOperand(1 - i));
      mul.replaceAllUsesWith(fused);
      mul.erase();
      silu.erase();
      return;
    }
  }
};

} // namespace
} // namespace mp
