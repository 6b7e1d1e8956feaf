//===- PipelineTpSums.cpp - a sum and its GEMMs in row chunks -------------===//
//
// A tensor-parallel all_reduce right after the GEMM that computes its input
// has nothing to run beside: its reader needs it, and the GEMM is done.
// Cut into row chunks, chunk k's sum runs beside chunk k+1's GEMM (once
// mp-schedule-collectives makes the sums asynchronous): the collective
// matmul of Megatron-LM's and torchtitan's tensor-parallel communication
// overlap. Each row's arithmetic is unchanged, so are the values.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_PIPELINETPSUMS
#include "mp/Transforms/Passes.h.inc"

namespace {

/// `type` with `rows` entries in dim 0.
RankedTensorType withRows(Type type, int64_t rows) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tensor.getShape());
  shape[0] = rows;
  return tensor.clone(shape);
}

/// True if row i of `op`'s result is computed from row i of the operands
/// it returns in `sliced` (the others it reads whole): a linear (its
/// input's rows; not a vector's single row), or an elementwise op on
/// operands of the result's shape.
bool computesRowByRow(Operation *op, SmallVectorImpl<unsigned> &sliced) {
  sliced.clear();
  if (op->getNumResults() != 1 || op->getNumRegions() != 0 || !isPure(op))
    return false;
  auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!result || result.getRank() < 2)
    return false;
  if (auto linear = dyn_cast<LinearOp>(op)) {
    sliced.push_back(0);
    return linear.getInput().getType().getRank() == result.getRank();
  }
  if (!op->hasTrait<OpTrait::Elementwise>())
    return false;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type || type.getShape() != result.getShape())
      return false;
    sliced.push_back(operand.getOperandNumber());
  }
  return true;
}

/// The ops that compute `sum`'s input row by row and whose results only
/// they read, as rows (the input may have other readers), in program
/// order; empty when none is a GEMM, so there is no compute to run beside.
SetVector<Operation *> getRowCone(Operation *sum) {
  Operation *root = sum->getOperand(0).getDefiningOp();
  SmallVector<unsigned> sliced;
  if (!root || root->getBlock() != sum->getBlock() ||
      !computesRowByRow(root, sliced))
    return {};
  // Members, each with the operands it reads by rows.
  llvm::DenseMap<Operation *, SmallVector<unsigned>> members{{root, sliced}};
  SmallVector<Operation *> cone{root};
  for (Operation *op = root->getPrevNode(); op; op = op->getPrevNode())
    if (!op->use_empty() && computesRowByRow(op, sliced) &&
        llvm::all_of(op->getUses(), [&](OpOperand &use) {
          auto member = members.find(use.getOwner());
          return member != members.end() &&
                 llvm::is_contained(member->second, use.getOperandNumber());
        })) {
      members[op] = sliced;
      cone.push_back(op);
    }
  if (llvm::none_of(cone, [](Operation *op) { return isa<LinearOp>(op); }))
    return {};
  return SetVector<Operation *>(cone.rbegin(), cone.rend());
}

struct PipelineTpSumsPass : impl::PipelineTpSumsBase<PipelineTpSumsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (chunks < 2) {
      getOperation().emitError()
          << "mp-pipeline-tp-sums needs chunks >= 2, not "
          << static_cast<int64_t>(chunks);
      return signalPassFailure();
    }
    getOperation().walk([&](FunctionOpInterface func) {
      if (func.isExternal() || !func.getFunctionBody().hasOneBlock() ||
          !func->hasAttr(MPDialect::kPartitionedAttrName))
        return;
      Block &body = func.getFunctionBody().front();
      llvm::DenseSet<Operation *> grouped;
      for (ArrayRef<CollectiveOpInterface> group : getCollectiveGroups(body))
        for (CollectiveOpInterface member : group)
          grouped.insert(member);
      SmallVector<Operation *> sums;
      for (Operation &op : body) {
        auto scatter = dyn_cast<ReduceScatterOp>(op);
        if ((isa<AllReduceOp>(op) || (scatter && scatter.getDim() != 0)) &&
            !grouped.contains(&op) && !op.hasAttr(MPDialect::kAsyncAttrName))
          sums.push_back(&op);
      }
      for (Operation *sum : sums)
        pipeline(sum);
    });
  }

  /// Rewrites `sum` and the ops computing its input into row chunks.
  void pipeline(Operation *sum) {
    SetVector<Operation *> cone = getRowCone(sum);
    if (cone.empty())
      return;
    Value input = sum->getOperand(0);
    int64_t rows = cast<RankedTensorType>(input.getType()).getDimSize(0);
    int64_t count = std::min<int64_t>(chunks, rows);
    if (count < 2)
      return;
    OpBuilder builder(cone.back()->getContext());
    builder.setInsertionPointAfter(cone.back());
    SmallVector<Value> inputChunks, sumChunks;
    SmallVector<unsigned> sliced;
    int64_t offset = 0;
    for (int64_t chunk = 0; chunk < count; ++chunk) {
      int64_t chunkRows = rows / count + (chunk < rows % count);
      // The chunk's rows of each value read by rows from outside the cone
      // (another op may read the same value whole: a weight).
      IRMapping mapping;
      llvm::DenseMap<Value, Value> rowsOf;
      for (Operation *op : cone) {
        computesRowByRow(op, sliced);
        Operation *copy = builder.clone(*op, mapping);
        for (unsigned index : sliced) {
          Value whole = op->getOperand(index);
          if (mapping.contains(whole))
            continue; // A chunk of a member.
          Value &rows = rowsOf[whole];
          if (!rows) {
            OpBuilder::InsertionGuard guard(builder);
            builder.setInsertionPoint(copy);
            rows = SliceOp::create(builder, op->getLoc(),
                                   withRows(whole.getType(), chunkRows), whole,
                                   /*dim=*/0, offset);
          }
          copy->setOperand(index, rows);
        }
        copy->getResult(0).setType(
            withRows(op->getResult(0).getType(), chunkRows));
      }
      Operation *sumCopy = builder.clone(*sum, mapping);
      sumCopy->getResult(0).setType(
          withRows(sum->getResult(0).getType(), chunkRows));
      inputChunks.push_back(mapping.lookup(input));
      sumChunks.push_back(sumCopy->getResult(0));
      offset += chunkRows;
    }
    Location loc = sum->getLoc();
    if (!input.hasOneUse())
      input.replaceUsesWithIf(
          ConcatOp::create(builder, loc, input.getType(), inputChunks, 0),
          [&](OpOperand &use) { return use.getOwner() != sum; });
    sum->getResult(0).replaceAllUsesWith(ConcatOp::create(
        builder, loc, sum->getResult(0).getType(), sumChunks, 0));
    sum->erase();
    for (Operation *op : llvm::reverse(cone))
      op->erase();
  }
};

} // namespace
} // namespace mp
