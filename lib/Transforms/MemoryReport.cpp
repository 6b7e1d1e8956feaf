//===- MemoryReport.cpp - the planned per-rank memory, as JSON ------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Transforms/BareOption.h"

#include "mp/Analysis/StepCost.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mp/Transforms/ReportFile.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/ToolOutputFile.h"

#define DEBUG_TYPE "mp-memory-report"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_MEMORYREPORT
#include "mp/Transforms/Passes.h.inc"

namespace {

/// The floor a step's time is measured against: the FLOPs of its GEMMs and
/// the bytes its kernels must touch, summed from each op's CostOpInterface
/// (an op of another dialect is taken to be one kernel without GEMM FLOPs;
/// a bf16 GEMM's operand conversions as the CUDA backend makes them).
/// Collectives that communicate run no kernel; the communication report
/// counts what they send.
struct ComputeCost {
  int64_t gemmFlops = 0;
  int64_t kernelBytes = 0;
};

ComputeCost getComputeCost(FunctionOpInterface func, const MemoryPlan &plan) {
  ComputeCost cost;
  // Estimates: saturated rather than wrapped.
  forEachKernel(func, plan, BFloat16GemmOperands::Native,
                StridedCollectives::RowCalls,
                [&](Operation &, int64_t flops, int64_t bytes) {
                  cost.kernelBytes = addSaturated(cost.kernelBytes, bytes);
                  cost.gemmFlops = addSaturated(cost.gemmFlops, flops);
                });
  return cost;
}

/// What fills the arena at its peak, by what made the buffers (largest
/// first), and the gaps between them.
void writePeak(llvm::json::OStream &json, const MemoryPlan &plan) {
  llvm::StringMap<std::pair<int64_t, int64_t>> byWhat; // bytes, buffers
  for (const MemoryPlan::PeakBuffer &buffer : plan.peakBuffers) {
    std::string what;
    if (buffer.value) {
      llvm::raw_string_ostream os(what);
      os << buffer.value.getDefiningOp()->getName() << ' '
         << getElementTypeOrSelf(buffer.value);
    } else if (buffer.scratchOf) {
      what = (buffer.scratchOf->getName().getStringRef() + " scratch").str();
    } else {
      what = "asynchronous collective scratch";
    }
    auto &[bytes, buffers] = byWhat[what];
    bytes += buffer.bytes;
    ++buffers;
  }
  SmallVector<std::pair<StringRef, std::pair<int64_t, int64_t>>> sorted;
  for (const auto &entry : byWhat)
    sorted.push_back({entry.getKey(), entry.getValue()});
  llvm::sort(sorted, [](const auto &a, const auto &b) {
    return a.second.first != b.second.first ? a.second.first > b.second.first
                                            : a.first < b.first;
  });
  json.attributeArray("peak_live", [&] {
    for (const auto &[what, counts] : sorted)
      json.object([&] {
        json.attribute("made_by", what);
        json.attribute("bytes", counts.first);
        json.attribute("buffers", counts.second);
      });
  });
  json.attribute("peak_gap_bytes", plan.peakGapBytes);
  json.attribute("max_live_bytes", plan.maxLiveBytes);
}

struct MemoryReportPass : impl::MemoryReportBase<MemoryReportPass> {
  using Base::Base;

  /// `--mp-memory-report=FILE` abbreviates `--mp-memory-report=output=FILE`.
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    if (failed(Base::initializeOptions(expandBareOption(options, "output"),
                                       errorHandler)))
      return failure();
    return parsePlanTarget(backend, cudaArchs, planTarget, errorHandler);
  }

  void runOnOperation() override {
    // Plans first: one that does not fit int64 fails the pass before the
    // report is written.
    SmallVector<std::pair<FunctionOpInterface, MemoryPlan>, 1> plans;
    WalkResult walk = getOperation().walk([&](FunctionOpInterface func) {
      if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
        return WalkResult::advance();
      FailureOr<MemoryPlan> plan = MemoryPlan::build(func, planTarget);
      if (failed(plan))
        return WalkResult::interrupt();
      LLVM_DEBUG(llvm::dbgs()
                 << "[mp-memory-report] @" << func.getName() << ": "
                 << plan->buffers.size() << " arena buffers, "
                 << plan->inPlace.size() << " updates in place\n");
      plans.emplace_back(func, std::move(*plan));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    std::unique_ptr<llvm::ToolOutputFile> file =
        openReportFile(getOperation(), output, "memory report");
    if (!file)
      return signalPassFailure();
    llvm::json::OStream json(file->os(), /*IndentSize=*/2);
    json.object([&] {
      json.attributeArray("functions", [&] {
        for (auto &[func, plan] : plans)
          json.object([&] {
            json.attribute("function", func.getName());
            json.attribute("partitioned",
                           func->hasAttr(MPDialect::kPartitionedAttrName));
            json.attribute("persistent_bytes", plan.persistentBytes);
            json.attribute("arena_bytes", plan.arenaBytes);
            json.attribute("unpooled_bytes", plan.unpooledBytes);
            json.attribute("peak_bytes",
                           plan.persistentBytes + plan.arenaBytes);
            json.attribute("buffers", int64_t(plan.buffers.size()));
            json.attribute("in_place_updates", int64_t(plan.inPlace.size()));
            ComputeCost cost = getComputeCost(func, plan);
            json.attribute("gemm_flops", cost.gemmFlops);
            json.attribute("kernel_bytes", cost.kernelBytes);
            if (plan.scratchBytes > 0)
              json.attribute("collective_scratch_bytes", plan.scratchBytes);
            if (plan.asyncScratchBytes > 0)
              json.attribute("async_collective_scratch_bytes",
                             plan.asyncScratchBytes);
            int64_t attentionScratch = 0, gemmWorkspace = 0,
                    collectiveStaging = 0, normGradScratch = 0;
            for (const auto &[op, scratch] : plan.opScratch) {
              int64_t &largest =
                  isa<LinearOp, MatmulOp>(op)             ? gemmWorkspace
                  : isa<CollectiveOpInterface>(op)        ? collectiveStaging
                  : isa<AttentionOp, AttentionGradOp>(op) ? attentionScratch
                                                          : normGradScratch;
              largest = std::max(largest, scratch.bytes);
            }
            if (attentionScratch > 0)
              json.attribute("attention_scratch_bytes", attentionScratch);
            if (normGradScratch > 0)
              json.attribute("norm_grad_scratch_bytes", normGradScratch);
            if (gemmWorkspace > 0)
              json.attribute("gemm_workspace_bytes", gemmWorkspace);
            if (collectiveStaging > 0)
              json.attribute("collective_staging_bytes", collectiveStaging);
            writePeak(json, plan);
          });
      });
      json.attribute("backend_reserved_bytes",
                     getBackendReservedBytes(planTarget.backend));
    });
    file->os() << '\n';
    file->keep();
    markAllAnalysesPreserved();
  }

  PlanTarget planTarget;
};

} // namespace
} // namespace mp
