//===- ScheduleCollectives.cpp - collectives beside compute ---------------===//
//
// Partitioning leaves every collective synchronous, and FSDP's parameter
// gathers at the top of the step: all of them before any compute, every
// gathered weight alive from the start. This pass schedules them as FSDP2
// runs them:
//
//  * the gathers of an FSDP unit (a parameter group, mp::getFsdpGroup: a
//    layer; its forward gathers apart from its backward regathers) are
//    issued when the unit `prefetch` units before it starts computing, and
//    waited for right before their first use; the widening mp.convert of a
//    bf16 gather (mp-narrow-collectives) moves down with its use;
//  * a sum (reduce_scatter, all_reduce) whose result is not read by the
//    very next op runs asynchronously until its first use: a gradient's
//    reduction beside the backward pass of the layers below;
//  * with tp-overlap, a sum whose result the very next op reads (a
//    tensor-parallel all_reduce of an input gradient) gets the compute it
//    does not depend on moved after it: Megatron-LM overlaps that
//    all_reduce with the weight-gradient GEMMs the same way.
//
// At most `max-in-flight` collectives are outstanding; issuing one more
// first waits for the oldest (FSDP2's bounded prefetch and its limit on
// unsharded gradients). Each asynchronous collective gets a runtime slot
// (`{mp.async = slot}`) and an `mp.wait` that keeps its input alive, so the
// memory plan, which sees both, bounds what the schedule holds. Values do
// not change, only when they move.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Plan/PlanResolution.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"

#include <deque>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_SCHEDULECOLLECTIVES
#include "mp/Transforms/Passes.h.inc"

namespace {

/// The parameter an FSDP gather gathers: a block argument, directly or
/// rounded to bf16 (mp-narrow-collectives).
BlockArgument getGatheredParameter(AllGatherOp gather) {
  Value input = gather.getInput();
  if (auto convert = input.getDefiningOp<ConvertOp>())
    input = convert.getInput();
  return dyn_cast<BlockArgument>(input);
}

/// The op that first reads `value` (all its readers share one block).
Operation *getFirstUser(Value value) {
  Operation *first = nullptr;
  for (Operation *user : value.getUsers())
    if (!first || user->isBeforeInBlock(first))
      first = user;
  return first;
}

/// Gives each sum in `sums` (program order) that the very next op reads
/// something to run beside: the ops since the previous such sum that it
/// does not depend on (no reader of theirs comes before it, except others
/// that move) move right after it, in their order; each op moves once, so
/// work never drifts further than one such sum. Pure ops move, and sums
/// (collectives keep one order on every rank: each rank runs this
/// program); any other op (a gather, one with side effects) bounds the
/// search. Values do not change.
void sinkIndependentWork(ArrayRef<Operation *> sums,
                         function_ref<bool(Operation *)> isSum) {
  llvm::SmallPtrSet<Operation *, 32> moved;
  Operation *previous = nullptr;
  for (Operation *sum : sums) {
    if (getFirstUser(sum->getResult(0)) != sum->getNextNode())
      continue;
    SmallVector<Operation *> movers;
    llvm::SmallPtrSet<Operation *, 16> moving;
    for (Operation *op = sum->getPrevNode(); op && op != previous;
         op = op->getPrevNode()) {
      if (!isSum(op) && (isa<CollectiveOpInterface>(op) ||
                         op->getNumRegions() != 0 || !isPure(op)))
        break;
      if (moved.contains(op))
        continue;
      if (llvm::all_of(op->getUsers(), [&](Operation *user) {
            Operation *reader = sum->getBlock()->findAncestorOpInBlock(*user);
            return moving.contains(reader) || sum->isBeforeInBlock(reader);
          })) {
        movers.push_back(op);
        moving.insert(op);
      }
    }
    Operation *after = sum;
    for (Operation *op : llvm::reverse(movers)) {
      op->moveAfter(after);
      after = op;
      moved.insert(op);
    }
    previous = sum;
  }
}

struct ScheduleCollectivesPass
    : impl::ScheduleCollectivesBase<ScheduleCollectivesPass> {
  using Base::Base;

  void runOnOperation() override {
    if (prefetch < 0 || maxInFlight < 1 ||
        maxInFlight > MPDialect::kAsyncSlots) {
      getOperation().emitError()
          << "mp-schedule-collectives needs prefetch >= 0 and max-in-flight "
             "in [1, "
          << MPDialect::kAsyncSlots << "]";
      return signalPassFailure();
    }
    auto plan =
        getOperation()->getAttrOfType<PlanAttr>(MPDialect::kPlanAttrName);
    getOperation().walk([&](FunctionOpInterface func) {
      if (!func.isExternal() && func.getFunctionBody().hasOneBlock() &&
          func->hasAttr(MPDialect::kPartitionedAttrName))
        schedule(func, plan);
    });
  }

  /// Moves each FSDP unit's gathers to where the unit `prefetch` before it
  /// starts computing; returns them, in their new program order.
  SetVector<Operation *> placeGathers(FunctionOpInterface func, PlanAttr plan) {
    llvm::DenseMap<unsigned, StringRef> paramNames;
    for (const ModelValue &value : getModelValues(func))
      if (value.role == ModelRole::Param)
        paramNames[value.index] = value.name.getValue();
    // Units in order of their first use; a unit's members too, so its
    // first member's reader is where the unit starts computing.
    struct Gather {
      AllGatherOp op;
      Operation *firstReader;
    };
    using UnitKey = std::pair<StringRef, unsigned>; // group, regather
    llvm::MapVector<UnitKey, SmallVector<Gather>> units;
    SmallVector<std::pair<Gather, StringRef>> byFirstUse;
    for (auto gather : func.getFunctionBody().getOps<AllGatherOp>()) {
      BlockArgument param = getGatheredParameter(gather);
      if (!param || !paramNames.count(param.getArgNumber()) ||
          gather->hasAttr(MPDialect::kFsdpGroupAttrName))
        continue;
      // A bf16 gather's widening convert moves down to its first reader.
      Value gathered = gather.getResult();
      if (gathered.hasOneUse())
        if (auto widen = dyn_cast<ConvertOp>(*gathered.getUsers().begin()))
          if (Operation *reader = getFirstUser(widen.getResult()))
            widen->moveBefore(reader);
      if (Operation *first = getFirstUser(gathered))
        byFirstUse.push_back(
            {{gather, first},
             getFsdpGroup(paramNames[param.getArgNumber()], plan)});
    }
    llvm::stable_sort(byFirstUse, [](auto &a, auto &b) {
      return a.first.firstReader->isBeforeInBlock(b.first.firstReader);
    });
    for (auto &[gather, group] : byFirstUse)
      units[{group, unsigned(gather.op->hasAttr(MPDialect::kRegatherAttrName))}]
          .push_back(gather);
    SetVector<Operation *> placed;
    SmallVector<Operation *> starts;
    for (auto [index, entry] : llvm::enumerate(units)) {
      starts.push_back(entry.second.front().firstReader);
      for (Gather gather : entry.second) {
        // The first `prefetch` units stay where partitioning put them.
        if (index >= static_cast<size_t>(prefetch)) {
          Operation *issue = starts[index - prefetch];
          Operation *first = gather.firstReader;
          gather.op->moveBefore(first->isBeforeInBlock(issue) ? first : issue);
        }
        placed.insert(gather.op);
      }
    }
    return placed;
  }

  void schedule(FunctionOpInterface func, PlanAttr plan) {
    SetVector<Operation *> gathers = placeGathers(func, plan);
    Block &body = func.getFunctionBody().front();
    // A sum is issued as soon as what it sums exists (partitioning put it
    // where its reader needs it).
    // Sums, but those of an FSDP group (one call at its first member).
    auto isSum = [](Operation *op) {
      return isa<ReduceScatterOp, AllReduceOp>(op) &&
             !op->hasAttr(MPDialect::kFsdpGroupAttrName);
    };
    SmallVector<Operation *> sums;
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (!isSum(&op))
        continue;
      if (Operation *def = op.getOperand(0).getDefiningOp())
        op.moveAfter(def);
      else
        op.moveBefore(&body.front());
      sums.push_back(&op);
    }
    if (tpOverlap) {
      // Moving each sum up to its input reordered them.
      llvm::sort(sums, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      sinkIndependentWork(sums, isSum);
    }
    // Which collectives run asynchronously: the FSDP gathers, and sums
    // with something to overlap before their first reader.
    auto isAsync = [&](Operation &op) {
      if (gathers.contains(&op))
        return true;
      if (!isSum(&op))
        return false;
      Operation *first = getFirstUser(op.getResult(0));
      return first && first != op.getNextNode();
    };
    struct Pending {
      Operation *collective;
      int64_t slot;
    };
    std::deque<Pending> pending;
    SmallVector<int64_t> freeSlots;
    for (int64_t slot = maxInFlight - 1; slot >= 0; --slot)
      freeSlots.push_back(slot);
    OpBuilder builder(&getContext());
    auto wait = [&](Pending done, Operation *before) {
      builder.setInsertionPoint(before);
      Value result = done.collective->getResult(0);
      auto waited = WaitOp::create(builder, done.collective->getLoc(), result,
                                   done.collective->getOperands());
      result.replaceAllUsesExcept(waited.getResult(), waited);
      freeSlots.push_back(done.slot);
    };
    auto waitOldest = [&](Operation *before, auto isKind) {
      auto oldest = llvm::find_if(
          pending, [&](const Pending &p) { return isKind(p.collective); });
      if (oldest == pending.end())
        return;
      wait(*oldest, before);
      pending.erase(oldest);
    };
    for (Operation &op : llvm::make_early_inc_range(body)) {
      // Wait right before the first reader of a pending result.
      for (auto it = pending.begin(); it != pending.end();) {
        if (getFirstUser(it->collective->getResult(0)) == &op) {
          wait(*it, &op);
          it = pending.erase(it);
        } else {
          ++it;
        }
      }
      if (!isAsync(op))
        continue;
      // One sum in flight, as FSDP2 waits for a gradient's reduce_scatter
      // when it issues the next: an unsharded gradient is freed one
      // reduction later, not at the optimizer.
      if (isSum(&op))
        waitOldest(&op, isSum);
      if (pending.size() == static_cast<size_t>(maxInFlight))
        waitOldest(&op, [](Operation *) { return true; });
      int64_t slot = freeSlots.pop_back_val();
      op.setAttr(MPDialect::kAsyncAttrName, builder.getI64IntegerAttr(slot));
      pending.push_back({&op, slot});
    }
    // Results returned as they are (or unread) are waited for at the end.
    for (Pending &done : pending)
      wait(done, body.getTerminator());
  }
};

} // namespace
} // namespace mp
