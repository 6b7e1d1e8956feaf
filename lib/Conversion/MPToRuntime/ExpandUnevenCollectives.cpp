//===- ExpandUnevenCollectives.cpp - uneven collectives as even ones ------===//
//
// The runtime's collectives move equal pieces. A collective over a dim split
// unevenly moves padded pieces: a gather's whole is the prefix of the
// padded pieces' concatenation, and a scatter's input is extended with
// zeros to a whole number of pieces. Both ends are mp.resize.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-expand-uneven-collectives"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_EXPANDUNEVENCOLLECTIVES
#include "mp/Conversion/Passes.h.inc"

namespace {

RankedTensorType withDim(Value value, int64_t dim, int64_t extent) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = extent;
  return RankedTensorType::get(shape, type.getElementType());
}

int64_t getDimSize(Value value, int64_t dim) {
  return cast<RankedTensorType>(value.getType()).getDimSize(dim);
}

/// The first and last op of the run of FSDP-grouped collectives `op` is in
/// (--mp-group-fsdp), or `op` twice: the pads go before the run and the
/// truncations after it, so that the run stays one runtime call.
std::pair<Operation *, Operation *> getGroupBounds(Operation *op) {
  Attribute group = op->getAttr(MPDialect::kFsdpGroupAttrName);
  auto inRun = [&](Operation *other) {
    return group && other && isa<CollectiveOpInterface>(other) &&
           other->getName() == op->getName() &&
           other->getAttr(MPDialect::kFsdpGroupAttrName) == group;
  };
  Operation *first = op, *last = op;
  while (inRun(first->getPrevNode()))
    first = first->getPrevNode();
  while (inRun(last->getNextNode()))
    last = last->getNextNode();
  return {first, last};
}

/// Rewrites `op` so that its input's split dim and its result's gathered
/// dim hold whole numbers of pieces.
void expand(CollectiveOpInterface op, IRRewriter &rewriter) {
  CollectiveSteps steps = op.getSteps();
  int64_t groupSize =
      getGroupSize(lookupMesh(op, op.getMeshAttr()), op.getAxes());
  Value input = op.getInput(), result = op.getResult();
  bool padsInput =
      steps.sliceDim && getDimSize(input, *steps.sliceDim) !=
                            groupSize * getDimSize(result, *steps.sliceDim);
  bool truncatesResult =
      steps.gatherDim && getDimSize(result, *steps.gatherDim) !=
                             groupSize * getDimSize(input, *steps.gatherDim);
  if (!padsInput && !truncatesResult)
    return;
  LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] " << op->getName() << " at "
                          << op->getLoc() << "\n");
  auto [first, last] = getGroupBounds(op);
  // An asynchronous collective's padded input lives until its wait, and
  // its padded result is truncated after the wait.
  WaitOp wait;
  if (op->hasAttr(MPDialect::kAsyncAttrName))
    wait = cast<WaitOp>(*op->getUsers().begin());
  rewriter.setInsertionPoint(first);
  if (padsInput) {
    int64_t dim = *steps.sliceDim;
    Value padded = ResizeOp::create(
        rewriter, op->getLoc(),
        withDim(input, dim, groupSize * getDimSize(result, dim)), input, dim);
    rewriter.modifyOpInPlace(op, [&] { op->setOperand(0, padded); });
    if (wait)
      rewriter.modifyOpInPlace(wait,
                               [&] { wait->replaceUsesOfWith(input, padded); });
  }
  if (truncatesResult) {
    int64_t dim = *steps.gatherDim;
    Value gathered = wait ? wait.getResult() : result;
    rewriter.setInsertionPointAfter(wait ? wait.getOperation() : last);
    Type whole = result.getType();
    auto padded = withDim(result, dim, groupSize * getDimSize(input, dim));
    rewriter.modifyOpInPlace(op, [&] { result.setType(padded); });
    if (wait)
      rewriter.modifyOpInPlace(wait, [&] { gathered.setType(padded); });
    auto truncated =
        ResizeOp::create(rewriter, op->getLoc(), whole, gathered, dim);
    rewriter.replaceAllUsesExcept(gathered, truncated, truncated);
  }
}

struct ExpandUnevenCollectivesPass
    : impl::ExpandUnevenCollectivesBase<ExpandUnevenCollectivesPass> {
  void runOnOperation() override { expandUnevenCollectives(getOperation()); }
};

} // namespace

void expandUnevenCollectives(Operation *root) {
  IRRewriter rewriter(root->getContext());
  SmallVector<CollectiveOpInterface> collectives;
  root->walk([&](CollectiveOpInterface op) { collectives.push_back(op); });
  for (CollectiveOpInterface op : collectives)
    expand(op, rewriter);
}

} // namespace mp
