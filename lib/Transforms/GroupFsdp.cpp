//===- GroupFsdp.cpp - FSDP's collectives per parameter group -------------===//
//
// Partitioning gives each FSDP parameter its own all_gather (and regather)
// and each gradient its own reduce_scatter. FSDP2 runs one of each per
// parameter group (a fully_shard module) on a flat buffer: fewer, larger
// collectives. This pass puts the collectives of one group side by side and
// tags them with the group (`mp.fsdp_group`); the memory plan reserves the
// packed buffer and the lowering runs each run of them as one runtime call.
// Values, shardings and the proof of gradient sync are unchanged.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/PartitionedSteps.h"
#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Plan/PlanResolution.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-group-fsdp"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_GROUPFSDP
#include "mp/Transforms/Passes.h.inc"

namespace {

/// Collectives that may share one call: the same op on the same axes and
/// element type, of parameters of one group, and forward gathers apart from
/// the backward's regathers.
using GroupKey =
    std::tuple<const void *, const void *, const void *, unsigned, StringRef>;

/// The parameter a gradient's reduce_scatter feeds: the argument that the
/// optimizer update reading it (directly or through elementwise scaling,
/// such as clipping, and sums over other axes, such as a norm weight's
/// over tensor_parallel) updates.
BlockArgument findUpdatedParameter(Value gradient) {
  SmallVector<Value> frontier = {gradient};
  for (int depth = 0; depth < 4 && !frontier.empty(); ++depth) {
    SmallVector<Value> next;
    for (Value value : frontier)
      for (OpOperand &use : value.getUses()) {
        Operation *user = use.getOwner();
        if (auto update = dyn_cast<OptimizerOpInterface>(user)) {
          if (user->getNumResults() == 0)
            continue;
          return dyn_cast<BlockArgument>(
              user->getOperand(update.getTiedOperandIndex(0)));
        }
        if (user->getNumResults() == 1 &&
            (user->hasTrait<OpTrait::Elementwise>() || isa<AllReduceOp>(user)))
          next.push_back(user->getResult(0));
      }
    frontier = std::move(next);
  }
  return {};
}

bool definedBefore(Value value, Operation *op) {
  Operation *def = value.getDefiningOp();
  return !def || def->isBeforeInBlock(op);
}

/// The ops before `last` that read a result of `members`, directly or
/// through each other, in program order; failure when one of them cannot
/// move (it has side effects).
FailureOr<SmallVector<Operation *>> findReadersBefore(
    ArrayRef<Operation *> members, Operation *last) {
  llvm::SetVector<Operation *> readers;
  SmallVector<Operation *> worklist(members.begin(), members.end());
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    for (Operation *user : op->getUsers()) {
      if (!user->isBeforeInBlock(last) || readers.contains(user))
        continue;
      if (!isMemoryEffectFree(user) || llvm::is_contained(members, user))
        return failure();
      readers.insert(user);
      worklist.push_back(user);
    }
  }
  SmallVector<Operation *> ordered = readers.takeVector();
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ordered;
}

/// Moves `members` (in program order) next to each other: at the first
/// member when every operand is ready there; else at the last, after which
/// the side-effect-free ops that read an earlier member's result (a
/// gradient norm summing each gradient as it comes) move too, unless a
/// member's input is computed by one of them (it would then come before
/// its input). False, leaving them, when neither holds.
bool gather(ArrayRef<Operation *> members) {
  Operation *first = members.front(), *last = members.back();
  if (llvm::all_of(members, [&](Operation *op) {
        return definedBefore(op->getOperand(0), first);
      })) {
    for (auto [previous, op] : llvm::zip(members, members.drop_front()))
      op->moveAfter(previous);
    return true;
  }
  FailureOr<SmallVector<Operation *>> readers =
      findReadersBefore(members.drop_back(), last);
  if (failed(readers))
    return false;
  llvm::SmallPtrSet<Operation *, 16> moved(readers->begin(), readers->end());
  if (llvm::any_of(members, [&](Operation *member) {
        return llvm::any_of(member->getOperands(), [&](Value operand) {
          return moved.contains(operand.getDefiningOp());
        });
      }))
    return false;
  for (auto [op, next] : llvm::zip(llvm::reverse(members.drop_back()),
                                   llvm::reverse(members.drop_front())))
    op->moveBefore(next);
  Operation *previous = last;
  for (Operation *reader : *readers) {
    reader->moveAfter(previous);
    previous = reader;
  }
  return true;
}

struct GroupFsdpPass : impl::GroupFsdpBase<GroupFsdpPass> {
  void runOnOperation() override {
    auto plan =
        getOperation()->getAttrOfType<PlanAttr>(MPDialect::kPlanAttrName);
    forEachPartitionedStep(getOperation(), [&](FunctionOpInterface func) {
      groupFunction(func, plan);
    });
  }

  void groupFunction(FunctionOpInterface func, PlanAttr plan) {
    llvm::DenseMap<unsigned, StringRef> paramNames;
    for (const ModelValue &value : getModelValues(func))
      if (value.role == ModelRole::Param)
        paramNames[value.index] = value.name.getValue();
    auto groupOf = [&](BlockArgument param) -> std::optional<StringRef> {
      if (!param)
        return std::nullopt;
      auto name = paramNames.find(param.getArgNumber());
      if (name == paramNames.end())
        return std::nullopt;
      return getFsdpGroup(name->second, plan);
    };

    // In program order of each group's first member, so that the rewrite
    // does not depend on pointer values.
    llvm::MapVector<GroupKey, SmallVector<Operation *>> groups;
    for (Operation &op : func.getFunctionBody().front()) {
      std::optional<StringRef> group;
      if (auto gather = dyn_cast<AllGatherOp>(op)) {
        // A parameter's gather moves it as it is, or rounded to bf16
        // (mp-narrow-collectives).
        Value param = gather.getInput();
        if (auto convert = param.getDefiningOp<ConvertOp>())
          param = convert.getInput();
        group = groupOf(dyn_cast<BlockArgument>(param));
      } else if (auto scatter = dyn_cast<ReduceScatterOp>(op))
        group = groupOf(findUpdatedParameter(scatter.getResult()));
      // A collective already scheduled asynchronously keeps its schedule.
      if (!group || op.hasAttr(MPDialect::kAsyncAttrName))
        continue;
      auto collective = cast<CollectiveOpInterface>(op);
      GroupKey key{
          op.getName().getAsOpaquePointer(),
          collective.getAxes().getAsOpaquePointer(),
          getElementTypeOrSelf(collective.getInput()).getAsOpaquePointer(),
          op.hasAttr(MPDialect::kRegatherAttrName), *group};
      groups[key].push_back(&op);
    }
    Builder builder(&getContext());
    for (auto &[key, members] : groups) {
      if (members.size() < 2 || !gather(members))
        continue;
      StringRef group = std::get<StringRef>(key);
      LLVM_DEBUG(llvm::dbgs() << "[mp-group-fsdp] group '" << group
                              << "': " << members.size() << " "
                              << members.front()->getName() << "\n");
      for (Operation *op : members)
        op->setAttr(MPDialect::kFsdpGroupAttrName,
                    builder.getStringAttr(group));
    }
  }
};

} // namespace
} // namespace mp
