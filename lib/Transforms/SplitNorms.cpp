//===- SplitNorms.cpp - RMSNorms that keep their normalized dim split -----===//
//
// An RMSNorm over a dim tensor parallelism splits (OLMo 2's norm of the
// whole query projection, whose rows a colwise wq splits by heads) needs
// every rank's whole row only for the row's mean square. Written as the ops
// it is made of, each with its own sharding rule, the rows stay split and
// only one float per row crosses ranks, forward and backward, where the
// fused op would have its input gathered.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-split-norms"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_SPLITNORMS
#include "mp/Transforms/Passes.h.inc"

namespace {

/// The sharding a value is used with where the plan records one: an
/// annotation's, or a function argument's (FSDP's annotation pins the
/// gathered use of a parameter; without FSDP the argument's sharding is
/// its use).
ShardingAttr getDeclaredSharding(Value value) {
  if (auto annotate = value.getDefiningOp<AnnotateOp>())
    return annotate.getSharding();
  if (isa<BlockArgument>(value))
    return getValueSharding(value);
  return {};
}

/// The ranks `sharding` splits dim `dim` over (1 where it does not, or its
/// mesh is not found; 0 where the count overflows, which no mesh has).
int64_t getSplitRanks(Operation *at, ShardingAttr sharding, int64_t dim) {
  if (!sharding || dim >= sharding.getRank())
    return 1;
  auto mesh =
      SymbolTable::lookupNearestSymbolFrom<MeshOp>(at, sharding.getMesh());
  if (!mesh)
    return 1;
  int64_t ranks = 1;
  for (StringRef axis : sharding.getDimAxes(dim))
    ranks =
        llvm::checkedMul(ranks, mesh.getMesh().getAxisSize(axis)).value_or(0);
  return ranks;
}

/// The ranks the plan splits `norm`'s normalized dim over: the input's own
/// sharding, or the sharding of the weight of the linear that computes it
/// (a colwise entry splits its output features, the weight's rows).
int64_t getNormalizedDimRanks(RmsNormOp norm) {
  Value input = norm.getInput();
  int64_t last = norm.getInput().getType().getRank() - 1;
  if (ShardingAttr sharding = getDeclaredSharding(input))
    return getSplitRanks(norm, sharding, last);
  if (auto linear = input.getDefiningOp<LinearOp>())
    return getSplitRanks(norm, getDeclaredSharding(linear.getWeight()), 0);
  return 1;
}

/// `x · broadcast(rsqrt(mean(x · x) + eps)) · broadcast(weight)`, the
/// norm's own formula.
Value decompose(RmsNormOp norm) {
  OpBuilder b(norm);
  Location loc = norm.getLoc();
  Value x = norm.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  int64_t last = type.getRank() - 1;
  auto rowType =
      RankedTensorType::get(type.getShape().drop_back(), type.getElementType());
  Value meanSquare =
      MeanOp::create(b, loc, rowType, MulOp::create(b, loc, x, x),
                     b.getDenseI64ArrayAttr({last}));
  Value inverseRoot = RsqrtOp::create(b, loc, meanSquare, norm.getEpsAttr());
  Value normalized =
      MulOp::create(b, loc, x,
                    BroadcastOp::create(b, loc, type, inverseRoot,
                                        b.getDenseI64ArrayAttr({last})));
  Value weight = BroadcastOp::create(
      b, loc, type, norm.getWeight(),
      b.getDenseI64ArrayAttr(llvm::to_vector(llvm::seq<int64_t>(0, last))));
  return MulOp::create(b, loc, normalized, weight);
}

struct SplitNormsPass : impl::SplitNormsBase<SplitNormsPass> {
  void runOnOperation() override {
    getOperation().walk([&](RmsNormOp norm) {
      if (getNormalizedDimRanks(norm) == 1)
        return;
      // The fused norm computes in float32 or wider whatever it holds; its
      // formula computes in its tensors' type, so a 16-bit one stays fused.
      Type element = norm.getInput().getType().getElementType();
      if (norm.getWeightOffset().convertToDouble() != 0 ||
          !(element.isF32() || element.isF64()) ||
          norm.getWeight().getType().getElementType() != element ||
          norm.getResult().getType().getElementType() != element) {
        LLVM_DEBUG(llvm::dbgs()
                   << "[mp-split-norms] left " << norm
                   << ": a weight offset, 16-bit or mixed types\n");
        return;
      }
      norm.getResult().replaceAllUsesWith(decompose(norm));
      norm.erase();
    });
  }
};

} // namespace
} // namespace mp
