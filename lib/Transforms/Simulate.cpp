//===- Simulate.cpp - mp-simulate: a step's predicted time ----------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Analysis/StepCost.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Transforms/ReportFile.h"

#include "llvm/Support/JSON.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_SIMULATE
#include "mp/Transforms/Passes.h.inc"

namespace {
struct SimulatePass : impl::SimulateBase<SimulatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (machineFile.empty()) {
      module.emitError() << "mp-simulate needs machine=FILE.json "
                            "(bench/machines/ has examples)";
      return signalPassFailure();
    }
    FailureOr<MachineModel> machine =
        MachineModel::read(machineFile, module.getLoc());
    if (failed(machine))
      return signalPassFailure();
    // The partitioned steps, or every function of an unpartitioned module
    // (one device).
    SmallVector<FunctionOpInterface> funcs;
    bool partitioned = false;
    module.walk([&](FunctionOpInterface func) {
      if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
        return;
      funcs.push_back(func);
      partitioned |= func->hasAttr(MPDialect::kPartitionedAttrName);
    });
    if (partitioned)
      llvm::erase_if(funcs, [](FunctionOpInterface func) {
        return !func->hasAttr(MPDialect::kPartitionedAttrName);
      });
    struct Simulated {
      FunctionOpInterface func;
      MemoryPlan plan;
      StepPrediction prediction;
    };
    SmallVector<Simulated, 2> simulated;
    for (FunctionOpInterface func : funcs) {
      FailureOr<MemoryPlan> plan =
          MemoryPlan::build(func, machine->getPlanTarget());
      if (failed(plan))
        return signalPassFailure();
      StepPrediction prediction = predictStep(func, *plan, *machine);
      if (failed(prediction.verifyFinite([&] {
            return func.emitError()
                   << "mp-simulate: machine file '" << machineFile << "': ";
          })))
        return signalPassFailure();
      simulated.push_back({func, std::move(*plan), std::move(prediction)});
    }
    std::unique_ptr<llvm::ToolOutputFile> file =
        openReportFile(module, output, "simulation report");
    if (!file)
      return signalPassFailure();
    llvm::json::OStream json(file->os(), /*IndentSize=*/2);
    json.object([&] {
      json.attribute("machine", machine->name);
      json.attribute("overlap", machine->overlap);
      json.attributeArray("functions", [&] {
        for (auto &[func, plan, prediction] : simulated)
          json.object([&] {
            json.attribute("function", func.getName());
            json.attribute("partitioned",
                           func->hasAttr(MPDialect::kPartitionedAttrName));
            writePrediction(json, prediction, /*perOp=*/true);
            json.attribute("peak_bytes",
                           plan.persistentBytes + plan.arenaBytes);
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
