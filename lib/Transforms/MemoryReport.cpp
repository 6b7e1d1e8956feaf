//===- MemoryReport.cpp - the planned per-rank memory, as JSON ------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Analysis/MemoryPlan.h"
#include "mp/Dialect/MP/IR/MPDialect.h"

#include "mp/Transforms/ReportFile.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_MEMORYREPORT
#include "mp/Transforms/Passes.h.inc"

namespace {

struct MemoryReportPass : impl::MemoryReportBase<MemoryReportPass> {
  using Base::Base;

  void runOnOperation() override {
    std::unique_ptr<llvm::ToolOutputFile> file =
        openReportFile(getOperation(), output, "memory report");
    if (!file)
      return signalPassFailure();
    llvm::json::OStream json(file->os(), /*IndentSize=*/2);
    json.object([&] {
      json.attributeArray("functions", [&] {
        getOperation().walk([&](FunctionOpInterface func) {
          if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
            return;
          MemoryPlan plan = MemoryPlan::build(func);
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
          });
        });
      });
    });
    file->os() << '\n';
    file->keep();
    markAllAnalysesPreserved();
  }
};

} // namespace
} // namespace mp
