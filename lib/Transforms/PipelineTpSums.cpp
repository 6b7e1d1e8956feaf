//===- PipelineTpSums.cpp - sums and the work around them in row chunks ---===//
//
// A tensor-parallel all_reduce right after the GEMM that computes its input
// has nothing to run beside: its reader needs it, and the GEMM is done.
// Cut into row chunks with the row-by-row work before and after it, chunk
// k's sum runs beside chunk k+1's GEMM and chunk k-1's work after the sum
// (once mp-schedule-collectives makes the sums asynchronous): the
// collective matmul of Megatron-LM's and torchtitan's tensor-parallel
// communication overlap, carried through the layer. Each row's arithmetic
// is unchanged (a BLAS may still pick another kernel for fewer rows).
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/PartitionedSteps.h"
#include "mp/Transforms/Passes.h"
#include "mp/Transforms/RowChunks.h"

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

/// True if row i of `op`'s result (entry i of dim 0) is computed from row
/// i of the operands it returns in `sliced` (the others it reads whole): a
/// linear (its input's rows; not a vector's single row), a norm or its
/// input gradient (over the last dim), attention's ops where dim 0 is a
/// batch dim (a batched matmul with per-batch operands, a softmax or its
/// gradient over the last dims, rotary embedding before the sequence dim,
/// reshapes, transposes and broadcasts that keep dim 0), or an elementwise
/// op on operands of the result's shape.
bool computesRowByRow(Operation *op, SmallVectorImpl<unsigned> &sliced) {
  sliced.clear();
  if (op->getNumResults() != 1 || op->getNumRegions() != 0 || !isPure(op))
    return false;
  auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!result || result.getRank() < 2)
    return false;
  int64_t rank = result.getRank();
  auto rowsOf = [](Value value) {
    auto type = cast<RankedTensorType>(value.getType());
    return type.getRank() >= 2 ? type.getDimSize(0) : -1;
  };
  auto keepsRows = [&](Value input) {
    return rowsOf(input) == result.getDimSize(0);
  };
  // A GEMM's accumulator has the result's shape: its rows are sliced too.
  if (auto linear = dyn_cast<LinearOp>(op)) {
    sliced.push_back(0);
    if (linear.getAccumulator())
      sliced.push_back(2);
    return linear.getInput().getType().getRank() == rank;
  }
  if (isa<RmsNormOp, LayerNormOp>(op)) {
    sliced.push_back(0);
    return true;
  }
  if (isa<RmsNormGradOp, LayerNormGradOp>(op)) {
    sliced.append({0, 2});
    return true;
  }
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    sliced.append({0, 1});
    if (matmul.getAccumulator())
      sliced.push_back(2);
    return rank >= 3 && matmul.getLhs().getType().getRank() == rank &&
           matmul.getRhs().getType().getRank() == rank;
  }
  if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
    sliced.push_back(0);
    return rank >= (softmax.getCausal() ? 3 : 2);
  }
  if (isa<SoftmaxGradOp>(op)) {
    sliced.append({0, 1});
    return true;
  }
  if (isa<RopeOp>(op)) {
    sliced.push_back(0);
    return rank >= 4; // [..., seq, heads, head_dim]: dim 0 is no position
  }
  if (isa<ReshapeOp>(op)) {
    sliced.push_back(0);
    return keepsRows(op->getOperand(0));
  }
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    sliced.push_back(0);
    return transpose.getPermutation()[0] == 0;
  }
  if (auto broadcast = dyn_cast<BroadcastOp>(op)) {
    sliced.push_back(0);
    return !llvm::is_contained(broadcast.getDims(), 0) &&
           keepsRows(broadcast.getInput());
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

/// True if the pass cuts `op` into chunks: an all_reduce, or a
/// reduce_scatter (or, with `gathers`, an all_gather) over a dim other than
/// 0, of a tensor with rows, synchronous and not in an FSDP group.
bool isChunkableCollective(Operation *op,
                           const llvm::DenseSet<Operation *> &grouped,
                           bool gathers) {
  auto scatter = dyn_cast<ReduceScatterOp>(op);
  auto gather = dyn_cast<AllGatherOp>(op);
  if (!isa<AllReduceOp>(op) && !(scatter && scatter.getDim() != 0) &&
      !(gathers && gather && gather.getDim() != 0))
    return false;
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  return type.getRank() >= 2 && !grouped.contains(op) &&
         !op->hasAttr(MPDialect::kAsyncAttrName);
}

/// The ops a sum is pipelined with, cut into the same row chunks: the ops
/// computing its input row by row whose results only they read, as rows;
/// then, in program order, every op after them that reads their values as
/// rows only and computes row by row (further sums, and gathers over
/// another dim, too), up to the first op that reads them otherwise (`end`,
/// where the chunks are emitted).
struct Region {
  SmallVector<Operation *> members; // program order
  llvm::DenseMap<Operation *, SmallVector<unsigned>> rowOperands;
  Operation *end = nullptr;
  int64_t rows = 0;

  bool contains(Operation *op) const { return rowOperands.count(op); }
  bool isMemberValue(Value value) const {
    Operation *def = value.getDefiningOp();
    return def && contains(def);
  }
};

/// The region of `sum`, or none when it has no GEMM (no compute to run
/// beside) or an op that reads its input otherwise comes before it.
std::optional<Region> getRegion(Operation *sum,
                                const llvm::DenseSet<Operation *> &grouped) {
  Region region;
  region.rows =
      cast<RankedTensorType>(sum->getOperand(0).getType()).getDimSize(0);
  Operation *root = sum->getOperand(0).getDefiningOp();
  SmallVector<unsigned> sliced;
  // A sum of what no op computes row by row (an embedding's rows, say)
  // starts the region: it overlaps the work after it only.
  if (!root || root->getBlock() != sum->getBlock() ||
      !computesRowByRow(root, sliced)) {
    root = sum;
    sliced.assign({0});
  }
  // Each use of a member's result reads it as rows of a member.
  auto readsAsRows = [&](Operation *op) {
    return llvm::all_of(op->getUses(), [&](OpOperand &use) {
      auto member = region.rowOperands.find(use.getOwner());
      return member != region.rowOperands.end() &&
             llvm::is_contained(member->second, use.getOperandNumber());
    });
  };
  region.rowOperands[root] = sliced;
  SmallVector<Operation *> before;
  for (Operation *op = root == sum ? nullptr : root->getPrevNode(); op;
       op = op->getPrevNode())
    if (!op->use_empty() && computesRowByRow(op, sliced) && readsAsRows(op)) {
      region.rowOperands[op] = sliced;
      before.push_back(op);
    }
  region.members.assign(before.rbegin(), before.rend());
  region.members.push_back(root);
  for (Operation *op = root->getNextNode(); op; op = op->getNextNode()) {
    if (llvm::none_of(op->getOperands(), [&](Value operand) {
          return region.isMemberValue(operand);
        }))
      continue;
    // A further sum or gather reads its input as rows.
    bool chunkable = isChunkableCollective(op, grouped, /*gathers=*/true);
    if (chunkable)
      sliced.assign({0});
    bool joins =
        (chunkable || computesRowByRow(op, sliced)) &&
        cast<RankedTensorType>(op->getResult(0).getType()).getDimSize(0) ==
            region.rows &&
        llvm::all_of(
            op->getOpOperands(), [&](OpOperand &operand) {
              bool rows =
                  llvm::is_contained(sliced, operand.getOperandNumber());
              return rows ? cast<RankedTensorType>(operand.get().getType())
                                    .getDimSize(0) == region.rows
                          : !region.isMemberValue(operand.get());
            });
    if (!joins) {
      region.end = op;
      break;
    }
    region.rowOperands[op] = sliced;
    region.members.push_back(op);
  }
  if (!region.contains(sum) || llvm::none_of(region.members, [](Operation *op) {
        return isa<LinearOp>(op);
      }))
    return std::nullopt;
  if (!region.end)
    region.end = root->getBlock()->getTerminator();
  return region;
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
    forEachPartitionedStep(getOperation(), [&](FunctionOpInterface func) {
      Block &body = func.getFunctionBody().front();
      llvm::DenseSet<Operation *> grouped;
      for (ArrayRef<CollectiveOpInterface> group : getCollectiveGroups(body))
        for (CollectiveOpInterface member : group)
          grouped.insert(member);
      SmallVector<Operation *> sums;
      for (Operation &op : body)
        if (isChunkableCollective(&op, grouped, /*gathers=*/false))
          sums.push_back(&op);
      // A sum another's region took is gone (its address may be reused).
      llvm::DenseSet<Operation *> erased;
      for (Operation *sum : sums)
        if (!erased.contains(sum))
          if (std::optional<Region> region = getRegion(sum, grouped))
            pipeline(*region, erased);
    });
  }

  /// Emits `region` in row chunks before its end, software-pipelined: a
  /// member's stage is the number of sums on its longest path from the
  /// region's inputs, and step t runs stage s of chunk t - s for s = 0,
  /// 1, ...: so while chunk k's sum is in flight, the next chunk's work
  /// before its sum and the previous chunk's work after its sum run.
  void pipeline(const Region &region, llvm::DenseSet<Operation *> &erased) {
    int64_t count = std::min<int64_t>(chunks, region.rows);
    if (count < 2)
      return;
    llvm::DenseMap<Operation *, int64_t> stage;
    SmallVector<SmallVector<Operation *>> stages; // members, program order
    for (Operation *op : region.members) {
      int64_t at = 0;
      for (Value operand : op->getOperands())
        if (region.isMemberValue(operand)) {
          Operation *def = operand.getDefiningOp();
          at = std::max(at, stage[def] + isa<CollectiveOpInterface>(def));
        }
      stage[op] = at;
      if (at >= static_cast<int64_t>(stages.size()))
        stages.resize(at + 1);
      stages[at].push_back(op);
    }
    int64_t lastStage = stages.size() - 1;
    OpBuilder builder(region.end);
    SmallVector<IRMapping> chunkValues(count);
    SmallVector<llvm::DenseMap<Value, Value>> chunkRowsOf(count);
    auto emit = [&](Operation *op, int64_t chunk) {
      auto [offset, rows] = getRowChunk(region.rows, count, chunk);
      Operation *copy = builder.clone(*op, chunkValues[chunk]);
      // The chunk's rows of a value from outside the region (another op
      // may read the same value whole: a weight).
      for (unsigned index : region.rowOperands.lookup(op)) {
        Value whole = op->getOperand(index);
        if (region.isMemberValue(whole))
          continue;
        Value &slice = chunkRowsOf[chunk][whole];
        if (!slice) {
          OpBuilder::InsertionGuard guard(builder);
          builder.setInsertionPoint(copy);
          slice = SliceOp::create(builder, op->getLoc(),
                                  withRows(whole.getType(), rows), whole,
                                  /*dim=*/0, offset);
        }
        copy->setOperand(index, slice);
      }
      copy->getResult(0).setType(withRows(op->getResult(0).getType(), rows));
    };
    for (int64_t step = 0; step < lastStage + count; ++step)
      for (int64_t at = 0; at <= lastStage; ++at)
        if (int64_t chunk = step - at; chunk >= 0 && chunk < count)
          for (Operation *op : stages[at])
            emit(op, chunk);
    // Values read outside the region, joined.
    for (Operation *op : region.members) {
      Value whole = op->getResult(0);
      if (llvm::all_of(whole.getUsers(),
                       [&](Operation *user) { return region.contains(user); }))
        continue;
      SmallVector<Value> pieces = llvm::map_to_vector(
          chunkValues, [&](IRMapping &map) { return map.lookup(whole); });
      Value joined = ConcatOp::create(builder, op->getLoc(), whole.getType(),
                                      pieces, /*dim=*/0);
      whole.replaceUsesWithIf(joined, [&](OpOperand &use) {
        return !region.contains(use.getOwner());
      });
    }
    for (Operation *op : llvm::reverse(region.members)) {
      erased.insert(op);
      op->erase();
    }
  }
};

} // namespace
} // namespace mp
