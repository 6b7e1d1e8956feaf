//===- Pipelines.cpp - named pass pipelines -------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace mp {

void buildSpmdPipeline(OpPassManager &pm) {
  pm.addPass(createPropagateSharding());
  pm.addPass(createPartition());
  pm.addPass(createSimplifyCollectives());
  pm.addPass(createNarrowCollectives());
  pm.addPass(createFoldGemmScales());
}

void registerPipelines() {
  PassPipelineRegistration<>(
      "mp-spmd",
      "From shardings on arguments to the per-rank program with collectives: "
      "mp-propagate-sharding, mp-partition, mp-simplify-collectives, "
      "mp-narrow-collectives, mp-fold-gemm-scales",
      buildSpmdPipeline);
}

} // namespace mp
