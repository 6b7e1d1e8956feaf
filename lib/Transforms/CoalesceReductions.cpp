//===- CoalesceReductions.cpp - nearby small all_reduces as one call ------===//
//
// A small all_reduce costs its call's latency, whatever its bytes: a split
// norm's mean squares (a float per row) or a norm weight's gradient (a
// float per feature) take as long as a few MiB would. This pass hoists the
// computation of such an all_reduce's operand above the run of the last
// one before it, puts the all_reduce beside that run and tags the run
// `mp.coalesced`; the lowering runs it as one call on a packed buffer.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/PartitionedSteps.h"
#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-coalesce-reductions"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_COALESCEREDUCTIONS
#include "mp/Transforms/Passes.h.inc"

namespace {

/// The ops that a hoist may move above a run: enough for a norm's weight
/// gradient and a few reshapes. With no GEMM among them (below), never a
/// layer's worth of compute.
constexpr size_t kMaxHoistedOps = 32;

/// All_reduces that may share a call: the same mesh, axes and element type.
using RunKey = std::tuple<const void *, const void *, const void *>;

/// The ops after `run`'s last member that compute `reduce`'s operand, in
/// program order, or nothing where they cannot move above the run: the
/// operand is a member's result, or one of them reads a member, has effects
/// or regions, is a collective or a wait, runs a GEMM (the run would wait
/// for it: `--mp-pipeline-tp-sums`' chunks would be serialized), or there
/// are more than kMaxHoistedOps.
std::optional<SmallVector<Operation *>> getHoistedOps(ArrayRef<Operation *> run,
                                                      AllReduceOp reduce) {
  Operation *last = run.back();
  if (llvm::is_contained(run, reduce.getInput().getDefiningOp()))
    return std::nullopt;
  llvm::SetVector<Operation *> hoisted;
  SmallVector<Value> worklist = {reduce.getInput()};
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val().getDefiningOp();
    if (!op || op->getBlock() != last->getBlock() ||
        !last->isBeforeInBlock(op) || hoisted.contains(op))
      continue;
    auto cost = dyn_cast<CostOpInterface>(op);
    if (!isMemoryEffectFree(op) || op->getNumRegions() != 0 ||
        isa<CollectiveOpInterface, WaitOp>(op) ||
        (cost && cost.getGemmFlops() != 0) || hoisted.size() == kMaxHoistedOps)
      return std::nullopt;
    hoisted.insert(op);
    llvm::append_range(worklist, op->getOperands());
  }
  // The run's members are adjacent and before the ops found, so an op that
  // reads one is reached from `last` only through them: check the operands.
  for (Operation *op : hoisted)
    for (Value operand : op->getOperands())
      if (llvm::is_contained(run, operand.getDefiningOp()))
        return std::nullopt;
  SmallVector<Operation *> ordered = hoisted.takeVector();
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ordered;
}

struct CoalesceReductionsPass
    : impl::CoalesceReductionsBase<CoalesceReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (maxBytes < 0) {
      getOperation().emitError()
          << "--mp-coalesce-reductions: max-bytes must be 0 or more, got "
          << static_cast<int64_t>(maxBytes);
      return signalPassFailure();
    }
    forEachPartitionedStep(getOperation(), [&](FunctionOpInterface func) {
      coalesce(func.getFunctionBody().front());
    });
  }

  bool isCandidate(AllReduceOp reduce) {
    std::optional<int64_t> bytes =
        getTensorBytes(cast<RankedTensorType>(reduce.getResult().getType()));
    return bytes && *bytes <= maxBytes && !isPlacedByLatePass(reduce);
  }

  void coalesce(Block &body) {
    SmallVector<AllReduceOp> reductions;
    // Runs already tagged keep their numbers; new ones come after them.
    int64_t firstNumber = 0;
    for (Operation &op : body) {
      if (auto tag =
              op.getAttrOfType<IntegerAttr>(MPDialect::kCoalescedAttrName))
        firstNumber = std::max(firstNumber, tag.getInt() + 1);
      if (auto reduce = dyn_cast<AllReduceOp>(op);
          reduce && isCandidate(reduce))
        reductions.push_back(reduce);
    }
    // The open run of each key, and every run of two or more, in order.
    llvm::MapVector<RunKey, SmallVector<Operation *>> open;
    SmallVector<SmallVector<Operation *>> runs;
    auto close = [&](SmallVector<Operation *> &run) {
      if (run.size() > 1)
        runs.push_back(run);
      run.clear();
    };
    for (AllReduceOp reduce : reductions) {
      RunKey key{reduce.getMeshAttr().getAsOpaquePointer(),
                 reduce.getAxes().getAsOpaquePointer(),
                 getElementTypeOrSelf(reduce.getInput()).getAsOpaquePointer()};
      SmallVector<Operation *> &run = open[key];
      if (!run.empty()) {
        if (std::optional<SmallVector<Operation *>> hoisted =
                getHoistedOps(run, reduce)) {
          for (Operation *op : *hoisted)
            op->moveBefore(run.front());
          reduce->moveAfter(run.back());
          run.push_back(reduce);
          continue;
        }
        close(run);
      }
      run.push_back(reduce);
    }
    for (auto &[key, run] : open)
      close(run);
    Builder builder(body.getParent()->getContext());
    for (auto [index, run] : llvm::enumerate(runs)) {
      LLVM_DEBUG(llvm::dbgs() << "[mp-coalesce-reductions] run " << index
                              << ": " << run.size() << " all_reduces\n");
      for (Operation *op : run)
        op->setAttr(MPDialect::kCoalescedAttrName,
                    builder.getI64IntegerAttr(firstNumber + index));
    }
  }
};

} // namespace
} // namespace mp
