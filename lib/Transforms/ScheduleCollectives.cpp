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
//    reduction beside the backward pass of the layers below; so does a
//    gather of activations (sequence parallelism's);
//  * with tp-overlap, a sum whose result the very next op reads (a
//    tensor-parallel all_reduce of an input gradient) gets the compute it
//    does not depend on moved after it: Megatron-LM overlaps that
//    all_reduce with the weight-gradient GEMMs the same way.
//
// A run of FSDP-grouped collectives (mp-group-fsdp: one runtime call on a
// packed buffer) moves, is issued and is waited for as one: one slot, an
// mp.wait per member, all before the first reader of any member.
//
// At most `max-in-flight` collectives are outstanding; issuing one more
// first waits for the oldest (FSDP2's bounded prefetch and its limit on
// unsharded gradients). Each asynchronous collective gets a runtime slot
// (`{mp.async = slot}`) and an `mp.wait` that keeps its input alive, so the
// memory plan, which sees both, bounds what the schedule holds. Values do
// not change, only when they move.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/PartitionedSteps.h"
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

/// The first op that reads a result of `run`.
Operation *getFirstReader(ArrayRef<Operation *> run) {
  Operation *first = nullptr;
  for (Operation *member : run)
    if (Operation *user = getFirstUser(member->getResult(0)))
      if (!first || user->isBeforeInBlock(first))
        first = user;
  return first;
}

/// The runs of grouped collectives in `body` (getCollectiveGroups), each
/// member mapped to its run; other collectives are runs of one.
struct Runs {
  explicit Runs(Block &body) {
    for (ArrayRef<CollectiveOpInterface> group : getCollectiveGroups(body)) {
      for (CollectiveOpInterface member : group)
        runOf[member] = grouped.size();
      grouped.push_back(llvm::map_to_vector(
          group, [](CollectiveOpInterface op) -> Operation * { return op; }));
    }
  }
  /// The run `op` is in, in program order.
  SmallVector<Operation *, 1> get(Operation *op) const {
    auto run = runOf.find(op);
    if (run == runOf.end())
      return {op};
    return SmallVector<Operation *, 1>(grouped[run->second].begin(),
                                       grouped[run->second].end());
  }
  /// Whether `op` is the first of its run.
  bool isLeader(Operation *op) const {
    auto run = runOf.find(op);
    return run == runOf.end() || grouped[run->second].front() == op;
  }

  llvm::DenseMap<Operation *, unsigned> runOf;
  SmallVector<SmallVector<Operation *>> grouped;
};

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
    forEachPartitionedStep(getOperation(), [&](FunctionOpInterface func) {
      schedule(func, plan);
    });
  }

  /// Moves each FSDP unit's gathers (a grouped run as one) to where the
  /// unit `prefetch` before it starts computing; returns them.
  SetVector<Operation *> placeGathers(FunctionOpInterface func, PlanAttr plan,
                                      const Runs &runs) {
    llvm::DenseMap<unsigned, StringRef> paramNames;
    for (const ModelValue &value : getModelValues(func))
      if (value.role == ModelRole::Param)
        paramNames[value.index] = value.name.getValue();
    // Units in order of their first use; a unit's gathers too, so its
    // first gather's reader is where the unit starts computing.
    struct Gather {
      SmallVector<Operation *, 1> run;
      Operation *firstReader;
    };
    using UnitKey = std::pair<StringRef, unsigned>; // group, regather
    llvm::MapVector<UnitKey, SmallVector<Gather>> units;
    SmallVector<std::pair<Gather, StringRef>> byFirstUse;
    SmallVector<AllGatherOp> parameterGathers;
    for (auto gather : func.getFunctionBody().getOps<AllGatherOp>()) {
      BlockArgument param = getGatheredParameter(gather);
      if (!param || !paramNames.count(param.getArgNumber()))
        continue;
      parameterGathers.push_back(gather);
      // A bf16 gather's widening convert moves down to its first reader
      // (all of them first: a run's first reader may be another member's).
      Value gathered = gather.getResult();
      if (gathered.hasOneUse())
        if (auto widen = dyn_cast<ConvertOp>(*gathered.getUsers().begin()))
          if (Operation *reader = getFirstUser(widen.getResult()))
            widen->moveBefore(reader);
    }
    for (AllGatherOp gather : parameterGathers) {
      if (!runs.isLeader(gather))
        continue;
      SmallVector<Operation *, 1> run = runs.get(gather);
      BlockArgument param = getGatheredParameter(gather);
      if (Operation *first = getFirstReader(run))
        byFirstUse.push_back(
            {{run, first},
             getFsdpGroup(paramNames[param.getArgNumber()], plan)});
    }
    llvm::stable_sort(byFirstUse, [](auto &a, auto &b) {
      return a.first.firstReader->isBeforeInBlock(b.first.firstReader);
    });
    for (auto &[gather, group] : byFirstUse)
      units[{group, unsigned(gather.run.front()->hasAttr(
                        MPDialect::kRegatherAttrName))}]
          .push_back(gather);
    SetVector<Operation *> placed;
    SmallVector<Operation *> starts;
    for (auto [index, entry] : llvm::enumerate(units)) {
      starts.push_back(entry.second.front().firstReader);
      for (Gather &gather : entry.second) {
        // The first `prefetch` units stay where partitioning put them.
        if (index >= static_cast<size_t>(prefetch)) {
          Operation *issue = starts[index - prefetch];
          Operation *first = gather.firstReader;
          Operation *at = first->isBeforeInBlock(issue) ? first : issue;
          for (Operation *member : gather.run)
            member->moveBefore(at);
        }
        placed.insert(gather.run.begin(), gather.run.end());
      }
    }
    return placed;
  }

  void schedule(FunctionOpInterface func, PlanAttr plan) {
    Block &body = func.getFunctionBody().front();
    Runs runs(body);
    SetVector<Operation *> gathers = placeGathers(func, plan, runs);
    auto isSumKind = [](Operation *op) {
      return isa<ReduceScatterOp, AllReduceOp>(op);
    };
    // Gathers of activations (sequence parallelism's, before a colwise
    // GEMM; in row chunks after mp-pipeline-tp-sums) run as sums do:
    // issued as soon as their input exists, asynchronously until their
    // first reader, one in flight.
    auto isActivationGather = [&](Operation *op) {
      return isa<AllGatherOp>(op) && !gathers.contains(op) &&
             !runs.runOf.count(op);
    };
    // A sum is issued as soon as what it sums exists (partitioning put it
    // where its reader needs it); a grouped run once all it sums exists.
    SmallVector<Operation *> sums, sumRuns;
    for (Operation &op : body)
      if ((isSumKind(&op) || isActivationGather(&op)) && runs.isLeader(&op))
        sumRuns.push_back(&op);
    for (Operation *leader : sumRuns) {
      SmallVector<Operation *, 1> run = runs.get(leader);
      Operation *latest = nullptr;
      for (Operation *member : run)
        if (Operation *def = member->getOperand(0).getDefiningOp())
          if (!latest || latest->isBeforeInBlock(def))
            latest = def;
      // After the whole run that computes it, if grouped: a grouped run
      // stays adjacent (one call).
      Operation *at =
          latest ? runs.get(latest).back()->getNextNode() : &body.front();
      // (A run already right there stays.)
      if (at != run.front())
        for (Operation *member : run)
          member->moveBefore(at);
      if (run.size() == 1 && isSumKind(leader))
        sums.push_back(leader);
    }
    // Sums, but those of an FSDP group (one call at its first member).
    auto isSum = [&](Operation *op) {
      return isSumKind(op) && !runs.runOf.count(op);
    };
    if (tpOverlap) {
      // Moving each sum up to its input reordered them.
      llvm::sort(sums, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      sinkIndependentWork(sums, isSum);
    }
    // Which collectives run asynchronously: the FSDP gathers, and sums and
    // gathers of activations with something to overlap before their first
    // reader.
    auto isAsync = [&](ArrayRef<Operation *> run) {
      if (gathers.contains(run.front()))
        return true;
      if (!isSumKind(run.front()) && !isActivationGather(run.front()))
        return false;
      Operation *first = getFirstReader(run);
      return first && first != run.back()->getNextNode();
    };
    struct Pending {
      SmallVector<Operation *, 1> run;
      int64_t slot;
    };
    std::deque<Pending> pending;
    SmallVector<int64_t> freeSlots;
    for (int64_t slot = maxInFlight - 1; slot >= 0; --slot)
      freeSlots.push_back(slot);
    OpBuilder builder(&getContext());
    // A wait keeps its collective's input alive until the collective is
    // done; a grouped call reads its inputs only to pack them at its issue.
    auto wait = [&](const Pending &done, Operation *before) {
      builder.setInsertionPoint(before);
      for (Operation *collective : done.run) {
        Value result = collective->getResult(0);
        auto waited = WaitOp::create(
            builder, collective->getLoc(), result,
            done.run.size() > 1 ? ValueRange() : collective->getOperands());
        result.replaceAllUsesExcept(waited.getResult(), waited);
      }
      freeSlots.push_back(done.slot);
    };
    auto waitOldest = [&](Operation *before, auto isKind) {
      auto oldest = llvm::find_if(
          pending, [&](const Pending &p) { return isKind(p.run.front()); });
      if (oldest == pending.end())
        return;
      wait(*oldest, before);
      pending.erase(oldest);
    };
    for (Operation &op : llvm::make_early_inc_range(body)) {
      // Wait right before the first reader of a pending result; for a
      // grouped run, before its first member, so the run stays one call.
      bool leads = isa<CollectiveOpInterface>(op) && runs.isLeader(&op);
      SmallVector<Operation *, 1> members =
          leads ? runs.get(&op) : SmallVector<Operation *, 1>{&op};
      for (auto it = pending.begin(); it != pending.end();) {
        if (llvm::is_contained(members, getFirstReader(it->run))) {
          wait(*it, &op);
          it = pending.erase(it);
        } else {
          ++it;
        }
      }
      if (!leads)
        continue;
      SmallVector<Operation *, 1> run = std::move(members);
      if (!isAsync(run))
        continue;
      // One sum in flight, as FSDP2 waits for a gradient's reduce_scatter
      // when it issues the next: an unsharded gradient is freed one
      // reduction later, not at the optimizer.
      if (isSumKind(&op))
        waitOldest(&op, isSumKind);
      if (isActivationGather(&op))
        waitOldest(&op, isActivationGather);
      if (pending.size() == static_cast<size_t>(maxInFlight))
        waitOldest(&op, [](Operation *) { return true; });
      int64_t slot = freeSlots.pop_back_val();
      for (Operation *member : run)
        member->setAttr(MPDialect::kAsyncAttrName,
                        builder.getI64IntegerAttr(slot));
      pending.push_back({run, slot});
    }
    // Results returned as they are (or unread) are waited for at the end.
    for (Pending &done : pending)
      wait(done, body.getTerminator());
  }
};

} // namespace
} // namespace mp
