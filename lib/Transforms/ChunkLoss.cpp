//===- ChunkLoss.cpp - the loss and its gradient in chunks of tokens ------===//
//
// A language model's step holds its vocabulary-sized tensors at once: the
// logits, the exponentials the loss's gradient reads again, the logits'
// gradient ([tokens, vocab / tp] each, gigabytes at Llama's 128K
// vocabulary). Every row of them is computed from one token's hidden
// state and read by that token's loss and gradient only, so the output
// GEMM, the loss and its gradient, and the GEMMs that take the gradient back
// to the hidden states and into the output weight's gradient can run chunk
// of tokens by chunk of tokens, forward and backward together: then only a
// chunk's vocabulary-sized tensors are ever live (the fused linear cross
// entropy of Liger-Kernel, torchtune's chunked output loss). The weight's
// gradient accumulates over the chunks (a GEMM with an accumulator); each
// token's loss and hidden-state gradient is computed from the same floats.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/PartitionedSteps.h"
#include "mp/Transforms/Passes.h"
#include "mp/Transforms/RowChunks.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_CHUNKLOSS
#include "mp/Transforms/Passes.h.inc"

namespace {

/// Where a chunk's entries of a value are: a block of dim `dim` (extent /
/// rows entries per token row of the chunk), or, where `strided`, entries
/// of `dim` that are no block of it (the chunked dim merged into `dim`
/// after a dim that is not 1): such a value is only ever computed in its
/// chunk, never sliced from the whole or joined into it.
struct RowBlock {
  int64_t dim;
  bool strided;
  bool operator==(const RowBlock &other) const {
    return dim == other.dim && strided == other.strided;
  }
};

/// How an op runs on a chunk: each operand in `rows` is read as the
/// chunk's block of it (the others whole); its result is the chunk's block
/// `result`, or, where none, the op sums over the chunk dim (a GEMM whose
/// contraction runs over the tokens) and the chunks' products accumulate.
struct ChunkRule {
  SmallVector<std::pair<unsigned, RowBlock>> rows;
  std::optional<RowBlock> result;
};

int64_t rankOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getRank();
}

/// For a reshape that only merges runs of adjacent dims, the run of `in`'s
/// dims (begin, end) each of `out`'s is made of (dims of extent 1 join the
/// run after them, or the last); none for any other reshape.
std::optional<SmallVector<std::pair<int64_t, int64_t>>>
getMergedRuns(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  SmallVector<std::pair<int64_t, int64_t>> runs;
  int64_t next = 0, count = in.size();
  for (int64_t extent : out) {
    int64_t begin = next, product = 1;
    while (next < count && product != extent)
      product *= in[next++];
    if (product != extent)
      return std::nullopt;
    runs.push_back({begin, next});
  }
  for (; next < count; ++next)
    if (in[next] != 1 || runs.empty())
      return std::nullopt;
    else
      runs.back().second = next + 1;
  return runs;
}

/// The rule by which `op` runs on a chunk when its operand `seed` is read
/// as the block `at`, or none when it cannot: ops that compute each entry
/// of the token dim from the same entry of their operands (elementwise
/// ops, reductions and collectives over other dims, GEMMs over another
/// contraction, the cross entropy's per-row ops), reshapes that keep a
/// chunk contiguous, transposes, and GEMMs contracting over the tokens.
std::optional<ChunkRule> getChunkRule(Operation *op, unsigned seed,
                                      RowBlock at) {
  ChunkRule rule;
  auto all = [&](ArrayRef<unsigned> operands, RowBlock block) {
    for (unsigned index : operands)
      rule.rows.push_back({index, block});
    rule.result = block;
    return rule;
  };
  int64_t resultRank = op->getNumResults() == 1 ? rankOf(op->getResult(0)) : -1;
  return TypeSwitch<Operation *, std::optional<ChunkRule>>(op)
      .Case([&](LinearOp linear) -> std::optional<ChunkRule> {
        if (seed != 0 || at.dim >= resultRank - 1 ||
            rankOf(linear.getInput()) != resultRank)
          return std::nullopt;
        if (linear.getAccumulator())
          return all({0, 2}, at);
        return all({0}, at);
      })
      .Case([&](MatmulOp matmul) -> std::optional<ChunkRule> {
        int64_t lhsRank = rankOf(matmul.getLhs());
        int64_t rhsRank = rankOf(matmul.getRhs());
        bool contractsLhs = seed == 0 && at.dim == lhsRank - 1;
        bool contractsRhs = seed == 1 && at.dim == rhsRank - 2;
        if (contractsLhs || contractsRhs) {
          // A batch dim is no token dim: only a contraction over the
          // tokens of plain matrices sums over the chunks.
          if (lhsRank != 2 || rhsRank != 2)
            return std::nullopt;
          rule.rows = {{0, {1, at.strided}}, {1, {0, at.strided}}};
          return rule;
        }
        if (seed == 0 && at.dim == lhsRank - 2) {
          rule.result = at;
          if (matmul.getAccumulator())
            rule.rows.push_back({2, at});
          rule.rows.push_back({0, at});
          return rule;
        }
        return std::nullopt;
      })
      .Case([&](BlockMaxOp) -> std::optional<ChunkRule> {
        if (at.dim >= resultRank - 1)
          return std::nullopt;
        return all({0}, at);
      })
      .Case<SumOp, MeanOp>([&](auto reduction) -> std::optional<ChunkRule> {
        if (!reduction.getDims())
          return std::nullopt;
        SmallVector<int64_t> reduced = reduction.getReducedDims();
        if (llvm::is_contained(reduced, at.dim))
          return std::nullopt;
        int64_t before =
            llvm::count_if(reduced, [&](int64_t dim) { return dim < at.dim; });
        rule.rows.push_back({0, at});
        rule.result = RowBlock{at.dim - before, at.strided};
        return rule;
      })
      .Case([&](BroadcastOp broadcast) -> std::optional<ChunkRule> {
        // Input dim i is the result's i-th dim that is not broadcast.
        int64_t inputDim = -1;
        for (int64_t dim = 0; dim < resultRank; ++dim)
          if (!llvm::is_contained(broadcast.getDims(), dim) &&
              ++inputDim == at.dim) {
            rule.rows.push_back({0, at});
            rule.result = RowBlock{dim, at.strided};
            return rule;
          }
        return std::nullopt;
      })
      .Case([&](ReshapeOp reshape) -> std::optional<ChunkRule> {
        // The chunked dim is merged into a dim of the result: a block of it
        // where the dims merged before it are 1.
        ArrayRef<int64_t> in = reshape.getInput().getType().getShape();
        auto runs = getMergedRuns(in, reshape.getResult().getType().getShape());
        if (!runs)
          return std::nullopt;
        const auto *run = llvm::find_if(*runs, [&](auto run) {
          return run.first <= at.dim && at.dim < run.second;
        });
        if (run == runs->end())
          return std::nullopt;
        bool strided = at.strided ||
                       llvm::any_of(in.slice(run->first, at.dim - run->first),
                                    [](int64_t extent) { return extent != 1; });
        rule.rows.push_back({0, at});
        rule.result = RowBlock{run - runs->begin(), strided};
        return rule;
      })
      .Case([&](TransposeOp transpose) -> std::optional<ChunkRule> {
        ArrayRef<int64_t> perm = transpose.getPermutation();
        rule.rows.push_back({0, at});
        rule.result = RowBlock{
            static_cast<int64_t>(llvm::find(perm, at.dim) - perm.begin()),
            at.strided};
        return rule;
      })
      .Case([&](GatherLastOp) -> std::optional<ChunkRule> {
        if (at.dim >= resultRank)
          return std::nullopt;
        return all({0, 1}, at);
      })
      .Case([&](ScatterLastOp) -> std::optional<ChunkRule> {
        if (at.dim >= resultRank - 1)
          return std::nullopt;
        return all({0, 1, 2}, at);
      })
      .Case([&](CrossEntropyOp) -> std::optional<ChunkRule> {
        if (at.dim >= rankOf(op->getOperand(0)) - 1)
          return std::nullopt;
        rule.rows = {{0, at}, {1, at}};
        return rule;
      })
      .Case([&](CrossEntropyGradOp) -> std::optional<ChunkRule> {
        if (at.dim >= resultRank - 1)
          return std::nullopt;
        return all({0, 1}, at);
      })
      .Case<AllGatherOp, ReduceScatterOp, ShardSliceOp>(
          [&](auto collective) -> std::optional<ChunkRule> {
            if (static_cast<int64_t>(collective.getDim()) == at.dim)
              return std::nullopt;
            return all({0}, at);
          })
      .Case<AllReduceOp, LocalizeIndexOp>(
          [&](Operation *) { return all({0}, at); })
      .Default([&](Operation *op) -> std::optional<ChunkRule> {
        // An elementwise op on operands of its result's shape.
        if (!op->hasTrait<OpTrait::Elementwise>() || resultRank < 1)
          return std::nullopt;
        ArrayRef<int64_t> shape =
            cast<ShapedType>(op->getResult(0).getType()).getShape();
        if (llvm::any_of(op->getOperandTypes(), [&](Type type) {
              return cast<ShapedType>(type).getShape() != shape;
            }))
          return std::nullopt;
        return all(llvm::to_vector(llvm::seq<unsigned>(op->getNumOperands())),
                   at);
      });
}

/// The ops run chunk by chunk: from the output GEMM (`root`), in program
/// order, every op that reads their values in the blocks they are made in,
/// up to the GEMMs that take the logits' gradient back (their results are
/// the region's outputs, read whole after it); and the reshapes of values
/// from outside whose strided blocks they read (`copied`: they are computed
/// in each chunk, and stay for other readers).
struct Region {
  SmallVector<Operation *> members; // program order
  llvm::DenseMap<Operation *, ChunkRule> rules;
  llvm::DenseMap<Value, RowBlock> blocks; // member results
  llvm::DenseSet<Operation *> copied;
  int64_t rows = 0;

  bool contains(Operation *op) const { return rules.count(op); }
  bool isMemberValue(Value value) const {
    Operation *def = value.getDefiningOp();
    return def && contains(def);
  }
};

/// A reshape of a value from outside the region that makes the strided
/// block `block` of its result from a block of a dim of `rows` entries of
/// its input: the weight gradient's token rows when the chunked dim is not
/// the outermost.
std::optional<ChunkRule> getCopiedReshape(Value value, RowBlock block,
                                          const Region &region) {
  auto reshape = value.getDefiningOp<ReshapeOp>();
  if (!block.strided || !reshape || region.isMemberValue(reshape.getInput()))
    return std::nullopt;
  ArrayRef<int64_t> in = reshape.getInput().getType().getShape();
  for (int64_t dim = 0, rank = in.size(); dim < rank; ++dim) {
    if (in[dim] != region.rows)
      continue;
    std::optional<ChunkRule> rule = getChunkRule(reshape, 0, {dim, false});
    if (rule && *rule->result == block)
      return rule;
  }
  return std::nullopt;
}

/// The region from `root`, the GEMM computing the logits, cut into
/// `chunks`: its token dim is the logits' outermost dim (not the vocabulary)
/// with at least `chunks` entries, else their longest.
std::optional<Region> getRegion(LinearOp root, int64_t chunks) {
  Region region;
  ArrayRef<int64_t> tokens = root.getResult().getType().getShape().drop_back();
  const auto *dim =
      llvm::find_if(tokens, [&](int64_t extent) { return extent >= chunks; });
  if (dim == tokens.end())
    dim = llvm::max_element(tokens);
  if (dim == tokens.end() || *dim < 2)
    return std::nullopt;
  region.rows = *dim;
  std::optional<ChunkRule> rootRule =
      getChunkRule(root, 0, {dim - tokens.begin(), false});
  if (!rootRule)
    return std::nullopt;
  region.rules[root] = *rootRule;
  region.blocks[root.getResult()] = *rootRule->result;
  region.members.push_back(root);
  // GEMMs after the root end the region: what reads them reads them whole.
  auto isOutput = [&](Value value) {
    Operation *def = value.getDefiningOp();
    return def != root && isa<LinearOp, MatmulOp>(def);
  };
  for (Operation *op = root->getNextNode(); op; op = op->getNextNode()) {
    auto memberOperand =
        llvm::find_if(op->getOpOperands(), [&](OpOperand &use) {
          return region.isMemberValue(use.get());
        });
    if (memberOperand == op->getOpOperands().end() ||
        llvm::any_of(op->getOperands(), [&](Value operand) {
          return region.isMemberValue(operand) && isOutput(operand);
        }))
      continue;
    unsigned seed = memberOperand->getOperandNumber();
    std::optional<ChunkRule> rule =
        getChunkRule(op, seed, region.blocks.lookup(memberOperand->get()));
    if (!rule)
      continue;
    // Each value of the region is read in the block it is made in; a value
    // from outside is sliced, or copied where it is read strided.
    SmallVector<std::pair<Operation *, ChunkRule>> copies;
    bool joins = llvm::all_of(op->getOpOperands(), [&](OpOperand &use) {
      const auto *read = llvm::find_if(rule->rows, [&](auto &entry) {
        return entry.first == use.getOperandNumber();
      });
      // (A sum over the tokens, which has no block, is read whole.)
      if (region.isMemberValue(use.get())) {
        auto made = region.blocks.find(use.get());
        return read != rule->rows.end() && made != region.blocks.end() &&
               read->second == made->second;
      }
      if (read == rule->rows.end())
        return true;
      if (!read->second.strided)
        return cast<RankedTensorType>(use.get().getType())
                       .getDimSize(read->second.dim) %
                   region.rows ==
               0;
      std::optional<ChunkRule> copy =
          getCopiedReshape(use.get(), read->second, region);
      if (copy)
        copies.push_back({use.get().getDefiningOp(), *copy});
      return copy.has_value();
    });
    if (!joins)
      continue;
    for (auto &[reshape, copy] : copies) {
      if (region.contains(reshape))
        continue;
      region.rules[reshape] = copy;
      region.blocks[reshape->getResult(0)] = *copy.result;
      region.copied.insert(reshape);
      region.members.push_back(reshape);
    }
    region.rules[op] = *rule;
    if (rule->result)
      region.blocks[op->getResult(0)] = *rule->result;
    region.members.push_back(op);
  }
  llvm::sort(region.members,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return region;
}

/// The first collective of `body` issued asynchronously, if any.
Operation *findAsync(Block &body) {
  for (Operation &op : body)
    if (op.hasAttr(MPDialect::kAsyncAttrName))
      return &op;
  return nullptr;
}

/// `type`'s extent in `dim` for `rows` of the region's `total`.
RankedTensorType withRows(Type type, int64_t dim, int64_t rows, int64_t total) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tensor.getShape());
  shape[dim] = shape[dim] / total * rows;
  return tensor.clone(shape);
}

struct ChunkLossPass : impl::ChunkLossBase<ChunkLossPass> {
  using Base::Base;

  void runOnOperation() override {
    if (chunks < 2) {
      getOperation().emitError() << "mp-chunk-loss needs chunks >= 2, not "
                                 << static_cast<int64_t>(chunks);
      return signalPassFailure();
    }
    forEachPartitionedStep(getOperation(), [&](FunctionOpInterface func) {
      chunkLosses(func.getFunctionBody().front());
    });
  }

  /// Chunks the region of each GEMM whose result a loss reads as logits.
  void chunkLosses(Block &body) {
    // Moving ops would break a schedule's slots and waits.
    if (Operation *async = findAsync(body)) {
      async->emitWarning() << "mp-chunk-loss: the step is already scheduled; "
                              "run --mp-chunk-loss before "
                              "--mp-schedule-collectives (its losses are left "
                              "whole)";
      return;
    }
    llvm::SetVector<Operation *> roots;
    for (Operation &op : body) {
      if (!isa<GatherLastOp, CrossEntropyOp, CrossEntropyGradOp>(op))
        continue;
      // Through gathers of a split vocabulary, sums of a split
      // contraction and elementwise ops of the logits alone (Gemma 2's
      // soft cap: mp.scale, mp.tanh, mp.scale), to the GEMM.
      Value logits = op.getOperand(0);
      while (Operation *def = logits.getDefiningOp()) {
        if (!isa<AllGatherOp, AllReduceOp>(def) &&
            !(def->hasTrait<OpTrait::Elementwise>() &&
              def->getNumOperands() == 1))
          break;
        logits = def->getOperand(0);
      }
      auto root = logits.getDefiningOp<LinearOp>();
      if (!root) {
        op.emitWarning() << "mp-chunk-loss: the logits are not an "
                            "mp.linear's result; the loss is left whole";
        continue;
      }
      roots.insert(root);
    }
    // A root another's region takes (its logits a GEMM of them) is gone.
    while (!roots.empty()) {
      Operation *root = roots.front();
      roots.remove(root);
      std::optional<Region> region = getRegion(cast<LinearOp>(root), chunks);
      if (!region) {
        root->emitWarning() << "mp-chunk-loss: the logits have no token dim "
                               "to chunk; the loss is left whole";
        continue;
      }
      chunk(root, *region, roots);
    }
  }

  /// Emits `region`'s ops chunk after chunk where its last op was; the ops
  /// between its members that read its values move after it. Where that
  /// cannot be, warns and leaves the loss whole.
  void chunk(Operation *root, const Region &region,
             llvm::SetVector<Operation *> &roots) {
    auto readOutside = [&](Operation *op) {
      return !region.copied.contains(op) && op->getNumResults() == 1 &&
             llvm::any_of(op->getResult(0).getUsers(), [&](Operation *user) {
               return !region.contains(user);
             });
    };
    if (readOutside(root)) {
      root->emitWarning() << "mp-chunk-loss: an op outside the loss reads the "
                             "logits whole; the loss is left whole";
      return;
    }
    // Every reader of the logits is in the region: its last op is after them.
    Operation *last = region.members.back();
    // What reads the region's values, in its span, follows it.
    llvm::SetVector<Operation *> moved;
    for (Operation *op = root->getNextNode(); op != last;
         op = op->getNextNode())
      if (!region.contains(op) &&
          llvm::any_of(op->getOperands(), [&](Value operand) {
            Operation *def = operand.getDefiningOp();
            return def && (region.contains(def) || moved.contains(def));
          }))
        moved.insert(op);
    for (Operation *op : region.members)
      for (Value operand : op->getOperands())
        if (Operation *def = operand.getDefiningOp();
            def && moved.contains(def)) {
          root->emitWarning()
              << "mp-chunk-loss: the loss's gradient reads " << def->getName()
              << " of the loss's values, so its chunks cannot run forward "
                 "and backward together; the loss is left whole";
          return;
        }
    for (Operation *op : region.members)
      if (auto block = region.blocks.find(op->getResult(0));
          readOutside(op) && block != region.blocks.end() &&
          block->second.strided) {
        op->emitWarning() << "mp-chunk-loss: a value the loss's chunks "
                             "compute in no block of it is read whole; the "
                             "loss is left whole";
        return;
      }

    int64_t count = std::min<int64_t>(chunks, region.rows);
    OpBuilder builder(last);
    SmallVector<IRMapping> chunkValues(count);
    llvm::DenseMap<Operation *, Value> accumulated;
    for (int64_t chunk = 0; chunk < count; ++chunk) {
      auto [offset, rows] = getRowChunk(region.rows, count, chunk);
      llvm::DenseMap<std::pair<Value, int64_t>, Value> slices;
      for (Operation *op : region.members) {
        const ChunkRule &rule = region.rules.find(op)->second;
        Operation *copy = builder.clone(*op, chunkValues[chunk]);
        // The chunk's block of a value from outside the region.
        for (auto [index, block] : rule.rows) {
          Value whole = op->getOperand(index);
          if (region.isMemberValue(whole))
            continue;
          Value &slice = slices[{whole, block.dim}];
          if (!slice) {
            OpBuilder::InsertionGuard guard(builder);
            builder.setInsertionPoint(copy);
            int64_t perRow =
                cast<RankedTensorType>(whole.getType()).getDimSize(block.dim) /
                region.rows;
            slice = SliceOp::create(
                builder, op->getLoc(),
                withRows(whole.getType(), block.dim, rows, region.rows), whole,
                block.dim, offset * perRow);
          }
          copy->setOperand(index, slice);
        }
        if (rule.result) {
          copy->getResult(0).setType(withRows(
              op->getResult(0).getType(), rule.result->dim, rows, region.rows));
          continue;
        }
        // A sum over the tokens adds each chunk's to the chunks' before.
        Value previous = accumulated.lookup(op);
        if (auto matmul = dyn_cast<MatmulOp>(copy)) {
          if (previous)
            matmul.getAccumulatorMutable().assign(previous);
          accumulated[op] = matmul.getResult();
          continue;
        }
        auto loss = cast<CrossEntropyOp>(copy);
        loss.setReduction(Reduction::sum);
        accumulated[op] =
            previous ? AddOp::create(builder, loss.getLoc(), previous, loss)
                           .getResult()
                     : loss.getResult();
      }
    }
    // The values read after the region: joined, or the last accumulation.
    for (Operation *op : region.members) {
      if (!readOutside(op))
        continue;
      Value whole = op->getResult(0);
      Value joined = accumulated.lookup(op);
      if (auto loss = dyn_cast<CrossEntropyOp>(op);
          loss && loss.getReduction() == Reduction::mean) {
        auto logits = cast<RankedTensorType>(loss.getInput().getType());
        int64_t samples = logits.getNumElements() / logits.getShape().back();
        joined = ScaleOp::create(builder, loss.getLoc(), joined,
                                 builder.getF64FloatAttr(1.0 / samples));
      }
      if (!joined) {
        SmallVector<Value> pieces = llvm::map_to_vector(
            chunkValues, [&](IRMapping &map) { return map.lookup(whole); });
        joined = ConcatOp::create(builder, op->getLoc(), whole.getType(),
                                  pieces, region.blocks.lookup(whole).dim);
      }
      whole.replaceUsesWithIf(joined, [&](OpOperand &use) {
        return !region.contains(use.getOwner());
      });
    }
    for (Operation *op : moved)
      op->moveBefore(last);
    for (Operation *op : llvm::reverse(region.members))
      if (op->use_empty()) {
        roots.remove(op);
        op->erase();
      }
  }
};

} // namespace
} // namespace mp
