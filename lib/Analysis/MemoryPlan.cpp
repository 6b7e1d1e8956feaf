//===- MemoryPlan.cpp - a static per-rank memory plan ---------------------===//

#include "mp/Analysis/MemoryPlan.h"
#include "mp/Analysis/RuntimePrecision.h"

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <functional>
#include <limits>
#include <map>
#include <queue>

using namespace mlir;

namespace mp {
namespace {

/// A tensor's bytes; mp ops' verifier (BoundedTensors) made sure they fit.
int64_t getBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor ? getTensorBytes(tensor).value_or(0) : 0;
}

/// The larger of the runtime's sizes on the host and on CUDA, or on
/// `backend` alone; none where one is negative (overflow).
template <typename BytesOn>
std::optional<int64_t> getLargerOnBackends(WorkspaceBackend backend,
                                           BytesOn bytesOn) {
  int64_t host =
      backend == WorkspaceBackend::Cuda ? 0 : bytesOn(MP_BACKEND_HOST);
  int64_t cuda =
      backend == WorkspaceBackend::Host ? 0 : bytesOn(MP_BACKEND_CUDA);
  if (host < 0 || cuda < 0)
    return std::nullopt;
  return std::max(host, cuda);
}

int64_t alignUp(int64_t bytes) {
  if (bytes > INT64_MAX - MemoryPlan::kAlignment)
    return INT64_MAX;
  return (bytes + MemoryPlan::kAlignment - 1) / MemoryPlan::kAlignment *
         MemoryPlan::kAlignment;
}

/// True if `result` may be computed in the buffer of its operand `arg`:
/// it is computed from it element by element (an elementwise op, an
/// optimizer's new parameter or state from the old one, a GEMM's sum from
/// its accumulator).
bool canOverwrite(OpResult result, Value arg) {
  Operation *op = result.getOwner();
  if (auto update = dyn_cast<OptimizerOpInterface>(op))
    return op->getOperand(update.getTiedOperandIndex(
               result.getResultNumber())) == arg;
  if (Value accumulator = getGemmAccumulator(*op))
    return accumulator == arg;
  return op->hasTrait<OpTrait::Elementwise>() &&
         result.getType() == arg.getType() &&
         llvm::is_contained(op->getOperands(), arg);
}

/// True if the runtime computes `op`'s result in its operand's buffer.
bool runsInPlace(Operation *op) {
  auto collective = dyn_cast<CollectiveOpInterface>(op);
  return collective && collective.getRuntimeCall().inPlace;
}

/// True if `op` swaps the last two dims and keeps the others in place: what
/// a GEMM's transpose flag does.
bool swapsLastTwoDims(TransposeOp op) {
  ArrayRef<int64_t> perm = op.getPermutation();
  int64_t rank = perm.size();
  if (rank < 2 || perm[rank - 2] != rank - 1 || perm[rank - 1] != rank - 2)
    return false;
  for (int64_t d = 0; d < rank - 2; ++d)
    if (perm[d] != d)
      return false;
  return true;
}

/// The byte offset of entry `entry` of dim `dim` of `type` when the dims
/// before `dim` have extent 1 (the entries from there on are contiguous),
/// if it is a multiple of the plan's alignment.
std::optional<int64_t> getAlignedBlockOffset(RankedTensorType type, int64_t dim,
                                             int64_t entry) {
  for (int64_t outer = 0; outer < dim; ++outer)
    if (type.getDimSize(outer) != 1)
      return std::nullopt;
  int64_t extent = type.getDimSize(dim);
  int64_t bytes = getBytes(type);
  // A block of rows of a tensor whose bytes fit int64 fits it too.
  int64_t offset = extent == 0 ? 0 : bytes / extent * entry;
  if (offset % MemoryPlan::kAlignment != 0)
    return std::nullopt;
  return offset;
}

using Buffer = MemoryPlan::Buffer;

/// True if `a` and `b` are live at a common program position: they may not
/// share bytes.
bool liveTogether(const Buffer &a, const Buffer &b) {
  return a.begin <= b.end && b.begin <= a.end;
}

/// The end of the highest of `buffers`.
int64_t getArenaTop(ArrayRef<Buffer> buffers) {
  int64_t top = 0;
  for (const Buffer &buffer : buffers)
    top = std::max(top, buffer.offset + buffer.bytes);
  return top;
}

/// Places `buffers` (sorted by their first position) by first fit in
/// program order: each in the lowest gap that the buffers still live leave,
/// else on top of them. The gaps below the top are kept by offset and the
/// live buffers by the end of their range, so that a deep model's thousands
/// of saved activations are not scanned for every new buffer.
void placeFirstFit(MutableArrayRef<Buffer> buffers) {
  std::map<int64_t, int64_t> gaps; // offset -> bytes
  int64_t top = 0;
  using Expiry = std::pair<int64_t, size_t>; // end, index in `buffers`
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>> live;
  auto release = [&](int64_t offset, int64_t bytes) {
    if (auto next = gaps.find(offset + bytes); next != gaps.end()) {
      bytes += next->second;
      gaps.erase(next);
    }
    if (auto after = gaps.lower_bound(offset); after != gaps.begin()) {
      auto before = std::prev(after);
      if (before->first + before->second == offset) {
        offset = before->first;
        bytes += before->second;
        gaps.erase(before);
      }
    }
    if (offset + bytes == top)
      top = offset;
    else
      gaps[offset] = bytes;
  };
  for (auto [index, buffer] : llvm::enumerate(buffers)) {
    while (!live.empty() && live.top().first < buffer.begin) {
      const Buffer &done = buffers[live.top().second];
      release(done.offset, done.bytes);
      live.pop();
    }
    auto gap = llvm::find_if(
        gaps, [&](const auto &entry) { return entry.second >= buffer.bytes; });
    if (gap != gaps.end()) {
      auto [offset, bytes] = *gap;
      gaps.erase(gap);
      if (bytes > buffer.bytes)
        gaps[offset + buffer.bytes] = bytes - buffer.bytes;
      buffer.offset = offset;
    } else {
      buffer.offset = top;
      top += buffer.bytes;
    }
    live.push({buffer.end, index});
  }
}

/// Which of two equal-sized buffers greedy by size places first, and which
/// gap it takes: on some steps these move the arena by a tenth.
enum class EqualSizes { LongerLivedFirst, ShorterLivedFirst };
enum class Gap { Smallest, Lowest };

/// Places `buffers` greedily by size, as TensorFlow Lite's planner does
/// (Pisarchyk and Lee, "Efficient Memory Management for Deep Neural Net
/// Inference", 2020): the largest first (of equal ones as `equalSizes` says,
/// then the earlier), each in a gap between the buffers placed so far that
/// are live beside it (the smallest or the lowest that holds it), else above
/// them all. Program order cannot see that a small early buffer splits the
/// room a large later one needs; this can.
void placeBySize(MutableArrayRef<Buffer> buffers, EqualSizes equalSizes,
                 Gap gapChoice) {
  auto bySize = llvm::to_vector(llvm::seq<size_t>(0, buffers.size()));
  llvm::stable_sort(bySize, [&](size_t a, size_t b) {
    const Buffer &first = buffers[a], &second = buffers[b];
    if (first.bytes != second.bytes)
      return first.bytes > second.bytes;
    int64_t firstLife = first.end - first.begin;
    int64_t secondLife = second.end - second.begin;
    return equalSizes == EqualSizes::LongerLivedFirst ? firstLife > secondLife
                                                      : firstLife < secondLife;
  });
  SmallVector<size_t> byOffset; // the placed buffers, lowest first
  for (size_t index : bySize) {
    Buffer &buffer = buffers[index];
    int64_t free = 0; // where the bytes below, live beside it, end
    std::optional<std::pair<int64_t, int64_t>> chosen; // gap bytes, offset
    for (size_t other : byOffset) {
      const Buffer &placed = buffers[other];
      if (!liveTogether(buffer, placed))
        continue;
      int64_t gap = placed.offset - free;
      if (gap >= buffer.bytes &&
          (!chosen || (gapChoice == Gap::Smallest && gap < chosen->first)))
        chosen = {gap, free};
      free = std::max(free, placed.offset + placed.bytes);
    }
    buffer.offset = chosen ? chosen->second : free;
    byOffset.insert(llvm::upper_bound(byOffset, buffer.offset,
                                      [&](int64_t offset, size_t other) {
                                        return offset < buffers[other].offset;
                                      }),
                    index);
  }
}

/// True if two of `buffers` (sorted by their first position) that are live
/// together share bytes: what no placement may do, checked on every plan
/// (by a sweep over positions: the buffers live at each are disjoint, so
/// each new one is checked against its neighbours by offset).
bool overlapsLiveBuffer(ArrayRef<Buffer> buffers) {
  std::map<int64_t, int64_t> liveByOffset;   // offset -> end offset
  using Expiry = std::pair<int64_t, size_t>; // end, index in `buffers`
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>> live;
  for (auto [index, buffer] : llvm::enumerate(buffers)) {
    while (!live.empty() && live.top().first < buffer.begin) {
      liveByOffset.erase(buffers[live.top().second].offset);
      live.pop();
    }
    auto above = liveByOffset.lower_bound(buffer.offset);
    if (above != liveByOffset.end() &&
        above->first < buffer.offset + buffer.bytes)
      return true;
    if (above != liveByOffset.begin() &&
        std::prev(above)->second > buffer.offset)
      return true;
    liveByOffset[buffer.offset] = buffer.offset + buffer.bytes;
    live.push({buffer.end, index});
  }
  return false;
}

} // namespace

bool isTransposedView(TransposeOp transpose) {
  Value view = transpose.getResult();
  // A view reads its input's elements as they are: it converts none.
  return swapsLastTwoDims(transpose) && !view.use_empty() &&
         getElementTypeOrSelf(view) ==
             getElementTypeOrSelf(transpose.getInput()) &&
         llvm::all_of(view.getUses(), [](OpOperand &use) {
           return isGemmFactor(use) && (isa<MatmulOp>(use.getOwner()) ||
                                        use.getOperandNumber() == 1);
         });
}

bool isGradientInUpdate(MatmulOp matmul) {
  Value gradient = matmul.getResult();
  if (!gradient.hasOneUse() || matmul.getAccumulator())
    return false;
  auto update = dyn_cast<OptimizerOpInterface>(*gradient.user_begin());
  auto view = matmul.getLhs().getDefiningOp<TransposeOp>();
  auto rhsView = matmul.getRhs().getDefiningOp<TransposeOp>();
  if (!update || !isa<AdamWOp, SgdOp, SgdMomentumOp>(update.getOperation()) ||
      update.getGradMutable().get() != gradient ||
      !update.getGradScaleMutable().empty() || !view ||
      !isTransposedView(view) || (rhsView && isTransposedView(rhsView)))
    return false;
  auto rows = cast<RankedTensorType>(view.getInput().getType());
  auto right = cast<RankedTensorType>(matmul.getRhs().getType());
  return rows.getRank() == 2 && right.getRank() == 2 &&
         rows.getElementType().isF32() && right.getElementType().isF32() &&
         getElementTypeOrSelf(gradient).isF32() &&
         rows.getDimSize(0) <= kMaxGradientRowsInUpdate;
}

mp_precision getRuntimePrecision(Precision precision) {
  switch (precision) {
  case Precision::fp32:
    return MP_PRECISION_FP32;
  case Precision::tf32:
    return MP_PRECISION_TF32;
  case Precision::bf16:
    return MP_PRECISION_BF16;
  }
  llvm_unreachable("unknown precision");
}

int64_t getBackendReservedBytes(WorkspaceBackend backend) {
  return backend == WorkspaceBackend::Host
             ? mp_backend_reserved_bytes(MP_BACKEND_HOST)
             : mp_backend_reserved_bytes(MP_BACKEND_CUDA);
}

LogicalResult
parsePlanTarget(StringRef backend, ArrayRef<int64_t> cudaArchs,
                PlanTarget &target,
                function_ref<LogicalResult(const Twine &)> errorHandler) {
  std::optional<WorkspaceBackend> parsed =
      llvm::StringSwitch<std::optional<WorkspaceBackend>>(backend)
          .Case("any", WorkspaceBackend::Any)
          .Case("host", WorkspaceBackend::Host)
          .Case("cuda", WorkspaceBackend::Cuda)
          .Default(std::nullopt);
  if (!parsed)
    return errorHandler("backend must be any, host or cuda, not '" + backend +
                        "'");
  target = PlanTarget();
  target.backend = *parsed;
  if (target.backend == WorkspaceBackend::Host)
    return cudaArchs.empty()
               ? success()
               : errorHandler("cuda-archs plans the CUDA backend's scratch, "
                              "not the host's (backend=cuda or any)");
  if (cudaArchs.empty())
    cudaArchs = kDefaultCudaArchs;
  int64_t leastShared = std::numeric_limits<int64_t>::max();
  for (int64_t arch : cudaArchs) {
    int64_t shared = mp_cuda_shared_bytes_per_block(arch);
    if (shared <= 0) {
      std::string known;
      for (int64_t candidate = 10; candidate < 1000; ++candidate)
        if (mp_cuda_shared_bytes_per_block(candidate) > 0)
          known += (known.empty() ? "" : ", ") + std::to_string(candidate);
      return errorHandler("cuda-archs: the runtime does not know the shared "
                          "memory of architecture " +
                          Twine(arch) + " (it knows " + known + ")");
    }
    leastShared = std::min(leastShared, shared);
  }
  for (Precision precision : {Precision::bf16, Precision::tf32})
    target.onChipAttentionMaxHeadDim[stringifyPrecision(precision)] =
        mp_cuda_on_chip_attention_max_head_dim(getRuntimePrecision(precision),
                                               leastShared);
  return success();
}

std::optional<GemmCall>
GemmCall::of(Operation *op, const llvm::DenseSet<Value> &transposedViews) {
  auto isBFloat16 = [](Value value) {
    return getElementTypeOrSelf(value).isBF16();
  };
  auto shapeOf = [](Value value) {
    return cast<RankedTensorType>(value.getType()).getShape();
  };
  auto elements = [](Value value) {
    return cast<RankedTensorType>(value.getType()).getNumElements();
  };
  if (auto linear = dyn_cast<LinearOp>(op)) {
    // x [..., K] · wᵀ with w [N, K].
    int64_t k = shapeOf(linear.getInput()).back();
    int64_t n = shapeOf(linear.getWeight())[0];
    return GemmCall{linear.getEffectivePrecision(),
                    isBFloat16(linear.getInput()),
                    isBFloat16(linear.getWeight()),
                    isBFloat16(linear.getResult()),
                    /*transA=*/false,
                    /*transB=*/!transposedViews.contains(linear.getWeight()),
                    /*batch=*/1,
                    k ? elements(linear.getInput()) / k : 0,
                    n,
                    k,
                    0,
                    0,
                    0};
  }
  auto matmul = dyn_cast<MatmulOp>(op);
  if (!matmul)
    return std::nullopt;
  ArrayRef<int64_t> lhs = shapeOf(matmul.getLhs()),
                    rhs = shapeOf(matmul.getRhs());
  int64_t m = lhs[lhs.size() - 2], k = lhs.back(), n = rhs.back();
  int64_t batch = m != 0 && k != 0 ? elements(matmul.getLhs()) / (m * k) : 0;
  bool transA = transposedViews.contains(matmul.getLhs());
  bool transB = transposedViews.contains(matmul.getRhs());
  if (rhs.size() == 2 && !transA) {
    // A shared right operand: the batch folds into the rows.
    m *= batch;
    batch = 1;
  }
  return GemmCall{matmul.getEffectivePrecision(),
                  isBFloat16(matmul.getLhs()),
                  isBFloat16(matmul.getRhs()),
                  isBFloat16(matmul.getResult()),
                  transA,
                  transB,
                  batch,
                  m,
                  n,
                  k,
                  m * k,
                  rhs.size() == 2 ? 0 : k * n,
                  m * n};
}

std::optional<int64_t>
GemmCall::getWorkspaceBytes(WorkspaceBackend backend) const {
  auto dtype = [](bool bfloat16) {
    return bfloat16 ? MP_DTYPE_BF16 : MP_DTYPE_F32;
  };
  auto bytesOn = [&](mp_backend on) {
    return mp_gemm_workspace_bytes(on, getRuntimePrecision(precision),
                                   dtype(aBFloat16), dtype(bBFloat16), transA,
                                   transB, batch, m, n, k, strideA, strideB,
                                   dtype(cBFloat16), strideC);
  };
  return getLargerOnBackends(backend, bytesOn);
}

bool fitsOnChipAttention(Operation *op,
                         const llvm::StringMap<int64_t> &maxHeadDim) {
  std::optional<AttentionGeometry> geometry = getAttentionGeometry(op);
  if (!geometry)
    return false;
  auto limit = maxHeadDim.find(stringifyPrecision(geometry->precision));
  return limit != maxHeadDim.end() &&
         std::max(geometry->headDim, geometry->valueDim) <= limit->second;
}

std::optional<int64_t>
getAttentionScratchBytes(const AttentionGeometry &geometry, bool gradient,
                         bool onChip, WorkspaceBackend backend) {
  auto dtype = [](int64_t elementBytes) {
    return elementBytes == 2 ? MP_DTYPE_BF16 : MP_DTYPE_F32;
  };
  auto bytesOn = [&](mp_backend on) {
    if (onChip && on == MP_BACKEND_CUDA)
      return mp_attention_on_chip_scratch_bytes(gradient, geometry.batch,
                                                geometry.queries);
    return mp_attention_scratch_bytes(
        on, getRuntimePrecision(geometry.precision), gradient, geometry.batch,
        geometry.group, geometry.queries, geometry.keys, geometry.headDim,
        geometry.valueDim, geometry.causal, geometry.window, geometry.chunkRows,
        dtype(geometry.queryBytes), dtype(geometry.keyBytes),
        dtype(geometry.valueBytes), dtype(geometry.outputBytes));
  };
  return getLargerOnBackends(backend, bytesOn);
}

std::optional<int64_t> getCollectiveScratchBytes(CollectiveOpInterface op,
                                                 WorkspaceBackend backend) {
  RuntimeCollectiveCall call = op.getRuntimeCall();
  std::optional<mp_collective> kind =
      llvm::StringSwitch<std::optional<mp_collective>>(call.function)
          .Case("mp_all_gather", MP_COLLECTIVE_ALL_GATHER)
          .Case("mp_reduce_scatter", MP_COLLECTIVE_REDUCE_SCATTER)
          .Case("mp_all_to_all", MP_COLLECTIVE_ALL_TO_ALL)
          .Default(std::nullopt);
  if (!kind)
    return 0;
  auto input = cast<RankedTensorType>(op.getInput().getType());
  // Only the element's size matters.
  unsigned bits = input.getElementType().getIntOrFloatBitWidth();
  mp_dtype dtype = bits == 16   ? MP_DTYPE_BF16
                   : bits == 64 ? MP_DTYPE_F64
                                : MP_DTYPE_F32;
  int64_t groupSize =
      getGroupSize(lookupMesh(op, op.getMeshAttr()), op.getAxes());
  ArrayRef<int64_t> shape = input.getShape();
  auto bytesOn = [&](mp_backend on) {
    return mp_collective_scratch_bytes(on, *kind, groupSize, dtype,
                                       shape.size(), shape.data(), call.dims[0],
                                       call.dims.size() > 1 ? call.dims[1] : 0);
  };
  return getLargerOnBackends(backend, bytesOn);
}

std::optional<int64_t> getNormGradScratchBytes(Operation *op,
                                               WorkspaceBackend backend) {
  auto operands =
      llvm::TypeSwitch<Operation *, std::optional<std::pair<Value, Value>>>(op)
          .Case<RmsNormGradOp, RmsNormWeightGradOp, LayerNormGradOp,
                LayerNormWeightGradOp>([](auto norm) {
            return std::pair(norm.getInput(), norm.getGrad());
          })
          .Default(std::nullopt);
  if (!operands)
    return 0;
  auto [input, grad] = *operands;
  // Rows of `dim` elements (with none, the call reads no row).
  auto type = cast<RankedTensorType>(input.getType());
  int64_t dim = type.getShape().back();
  int64_t rows = dim ? type.getNumElements() / dim : 0;
  auto dtype = [](Value value) {
    return getElementTypeOrSelf(value).isBF16() ? MP_DTYPE_BF16 : MP_DTYPE_F32;
  };
  auto bytesOn = [&](mp_backend on) {
    return mp_norm_grad_scratch_bytes(on, rows, dim, dtype(input), dtype(grad));
  };
  return getLargerOnBackends(backend, bytesOn);
}

MemoryPlan::Storage MemoryPlan::getStorage(Value value) const {
  if (auto arg = dyn_cast<BlockArgument>(value))
    return Storage{arg.getArgNumber(), -1};
  if (auto it = inPlace.find(value); it != inPlace.end())
    return Storage{it->second, -1};
  if (transposedViews.contains(value))
    return getStorage(value.getDefiningOp()->getOperand(0));
  return Storage{-1, buffers.lookup(value).offset};
}

FailureOr<MemoryPlan> MemoryPlan::build(FunctionOpInterface func,
                                        const PlanTarget &target) {
  WorkspaceBackend backend = target.backend;
  MemoryPlan plan;
  // Each tensor's bytes fit int64; their sum may not. Offsets in the arena
  // never exceed the unpooled sum, so checking the sums checks them all.
  std::optional<int64_t> total = 0;
  auto count = [&](int64_t &sum, int64_t bytes) {
    if (std::optional<int64_t> newSum = llvm::checkedAdd(sum, bytes))
      sum = *newSum;
    if (total)
      total = llvm::checkedAdd(*total, bytes);
  };
  for (Type type : func.getArgumentTypes())
    count(plan.persistentBytes, getBytes(type));

  Block &body = func.getFunctionBody().front();
  llvm::DenseMap<Operation *, int64_t> position;
  for (auto [index, op] : llvm::enumerate(body))
    position[&op] = index;
  int64_t last = body.getOperations().size();
  // A group of collectives runs as one call at its first member: every
  // member reads its operand and writes its result there. The call packs
  // them in a scratch buffer of (group size + 1) times the smaller side; an
  // all_reduce group, summed in place, in one buffer of its tensors' bytes.
  // An asynchronous group unpacks at its first wait: its scratch lives
  // until then.
  plan.collectiveGroups = getCollectiveGroups(body);
  SmallVector<Buffer> asyncScratch;
  SmallVector<unsigned> asyncScratchGroup;
  for (auto [index, group] : llvm::enumerate(plan.collectiveGroups)) {
    CollectiveOpInterface leader = group.front();
    int64_t shares = 0;
    Operation *firstWait = nullptr;
    for (CollectiveOpInterface member : group) {
      plan.groupOf[member] = index;
      position[member] = position[leader];
      shares += std::min(getBytes(member.getInput().getType()),
                         getBytes(member.getResult().getType()));
      if (leader->hasAttr(MPDialect::kAsyncAttrName))
        for (Operation *wait : member->getUsers())
          if (!firstWait || wait->isBeforeInBlock(firstWait))
            firstWait = wait;
    }
    int64_t copies =
        isa<AllReduceOp>(leader)
            ? 1
            : getGroupSize(lookupMesh(leader, leader.getMeshAttr()),
                           leader.getAxes()) +
                  1;
    int64_t bytes = llvm::checkedMul(shares, copies).value_or(INT64_MAX);
    plan.groupFirstWait.push_back(firstWait);
    plan.groupScratchOffset.push_back(0);
    if (firstWait) {
      count(plan.unpooledBytes, alignUp(bytes));
      plan.asyncScratchBytes =
          llvm::checkedAdd(plan.asyncScratchBytes, alignUp(bytes))
              .value_or(INT64_MAX);
      asyncScratch.push_back(
          Buffer{0, alignUp(bytes), position[leader], position[firstWait]});
      asyncScratchGroup.push_back(index);
    } else {
      plan.scratchBytes = std::max(plan.scratchBytes, bytes);
    }
  }
  if (total)
    total = llvm::checkedAdd(*total, alignUp(plan.scratchBytes));
  // An op's scratch of `bytes` (the runtime's rule; none on overflow, an
  // error naming `what`), live from the op to position `end`.
  auto addOpScratch = [&](Operation *op, std::optional<int64_t> bytes,
                          StringRef what, int64_t end) -> LogicalResult {
    if (!bytes)
      return op->emitError()
             << "the " << what << " needs more bytes than int64 counts";
    count(plan.unpooledBytes, alignUp(*bytes));
    plan.opScratch[op] = Buffer{0, alignUp(*bytes), position[op], end};
    return success();
  };
  // Attention's score chunks and GEMM workspace (on chip: the gradient's
  // float per row), live while the op runs.
  for (Operation &op : body) {
    std::optional<AttentionGeometry> geometry = getAttentionGeometry(&op);
    if (!geometry)
      continue;
    std::optional<int64_t> bytes = getAttentionScratchBytes(
        *geometry, /*gradient=*/isa<AttentionGradOp>(op),
        fitsOnChipAttention(&op, target.onChipAttentionMaxHeadDim), backend);
    if (bytes != 0 &&
        failed(addOpScratch(&op, bytes, "attention's scratch", position[&op])))
      return failure();
  }
  for (auto transpose : body.getOps<TransposeOp>())
    if (isTransposedView(transpose))
      plan.transposedViews.insert(transpose.getResult());
  for (auto matmul : body.getOps<MatmulOp>())
    if (isGradientInUpdate(matmul))
      plan.gradientsInUpdate.insert(matmul.getResult());
  // GEMMs' workspaces, live while the GEMM runs.
  for (Operation &op : body) {
    std::optional<GemmCall> gemm = GemmCall::of(&op, plan.transposedViews);
    if (!gemm || plan.gradientsInUpdate.contains(op.getResult(0)))
      continue;
    std::optional<int64_t> bytes = gemm->getWorkspaceBytes(backend);
    if (bytes != 0 &&
        failed(addOpScratch(&op, bytes, "GEMM's workspace", position[&op])))
      return failure();
  }
  // Norm gradients' statistics (and the host's widened bfloat16 inputs),
  // live while the op runs.
  for (Operation &op : body) {
    std::optional<int64_t> bytes = getNormGradScratchBytes(&op, backend);
    if (bytes != 0 && failed(addOpScratch(&op, bytes, "norm gradient's scratch",
                                          position[&op])))
      return failure();
  }
  // Collectives' staging of a split dim that rows precede, live while the
  // collective runs: until its first wait where it is asynchronous.
  for (auto collective : body.getOps<CollectiveOpInterface>()) {
    if (plan.groupOf.contains(collective))
      continue;
    std::optional<int64_t> bytes =
        getCollectiveScratchBytes(collective, backend);
    if (bytes == 0)
      continue;
    int64_t end = position[collective];
    if (collective->hasAttr(MPDialect::kAsyncAttrName) &&
        !collective->use_empty()) {
      end = INT64_MAX;
      for (Operation *wait : collective->getUsers())
        end = std::min(end, position[wait]);
    }
    if (failed(addOpScratch(collective, bytes, "collective's staging", end)))
      return failure();
  }
  // A run of updates reads and writes every member's buffers at its first.
  // Updates of one kind, hyperparameters, step count (AdamW's operand past
  // the tensors) and gradient scale share a call; one that computes its
  // gradient runs alone.
  auto computesGradient = [&](Operation *update) {
    return plan.gradientsInUpdate.contains(
        cast<OptimizerOpInterface>(update).getGradMutable().get());
  };
  auto sameCall = [&](Operation *a, Operation *b) {
    auto stepOf = [](Operation *update) {
      auto adamw = dyn_cast<AdamWOp>(update);
      return adamw ? adamw.getStep() : Value();
    };
    auto gradScaleOf = [](Operation *update) {
      MutableOperandRange scale =
          cast<OptimizerOpInterface>(update).getGradScaleMutable();
      return scale.empty() ? Value() : scale[0].get();
    };
    return !computesGradient(a) && !computesGradient(b) &&
           a->getName() == b->getName() &&
           a->getAttrDictionary() == b->getAttrDictionary() &&
           stepOf(a) == stepOf(b) && gradScaleOf(a) == gradScaleOf(b);
  };
  for (Operation &op : body) {
    if (!isa<OptimizerOpInterface>(op))
      continue;
    Operation *previous = op.getPrevNode();
    if (previous && isa<OptimizerOpInterface>(previous) &&
        sameCall(previous, &op)) {
      unsigned run = plan.optimizerRunOf[previous];
      plan.optimizerRuns[run].push_back(&op);
      plan.optimizerRunOf[&op] = run;
      position[&op] = position[plan.optimizerRuns[run].front()];
      continue;
    }
    plan.optimizerRunOf[&op] = plan.optimizerRuns.size();
    plan.optimizerRuns.push_back({&op});
  }

  // Which argument each result updates, by name.
  llvm::StringMap<unsigned> stateArguments;
  plan.updatedArgument.assign(func.getNumResults(), -1);
  for (const ModelValue &value : getModelValues(func)) {
    if (value.role == ModelRole::Param || value.role == ModelRole::State)
      stateArguments[value.name.getValue()] = value.index;
    if (value.isResult())
      if (auto it = stateArguments.find(value.name.getValue());
          it != stateArguments.end())
        plan.updatedArgument[value.index] = it->second;
  }

  // Where `value` is last read: by its users, or by theirs when a user is a
  // transposed view of it or a gradient its update computes; the end of the
  // function when it is returned.
  std::function<int64_t(Value)> lastUse = [&](Value value) {
    int64_t end = -1;
    for (Operation *user : value.getUsers()) {
      if (user->hasTrait<OpTrait::IsTerminator>())
        end = last;
      else if (plan.transposedViews.count(user->getResult(0)) ||
               plan.gradientsInUpdate.count(user->getResult(0)))
        end = std::max(end, lastUse(user->getResult(0)));
      else
        end = std::max(end, position[user]);
    }
    return end;
  };

  // In-place updates: the returned value overwrites the argument it updates
  // when its op reads that argument elementwise and nothing reads the
  // argument later. Each argument is overwritten at most once.
  Operation *terminator = body.getTerminator();
  llvm::DenseSet<unsigned> overwritten;
  for (auto [index, returned] : llvm::enumerate(terminator->getOperands())) {
    int argNumber = plan.updatedArgument[index];
    auto result = dyn_cast<OpResult>(returned);
    if (argNumber < 0 || !result || plan.inPlace.count(returned) ||
        overwritten.count(argNumber))
      continue;
    BlockArgument arg = func.getArgument(argNumber);
    if (!canOverwrite(result, arg))
      continue;
    if (lastUse(arg) > position[result.getOwner()])
      continue;
    plan.inPlace[returned] = argNumber;
    overwritten.insert(argNumber);
  }

  // Live ranges: from the defining op to the last user; what the function
  // returns lives to its end. A result computed elementwise from or
  // all-reduced from an operand this op reads last takes over the operand's
  // buffer (the kernels read each element before writing it); a reshape
  // always shares its input's.
  SmallVector<Value> values;
  llvm::DenseMap<Value, Value> owner; // value -> value whose buffer it has
  // Views: their byte offset in their owner's buffer.
  llvm::DenseMap<Value, int64_t> viewOffset;
  // Buffers placed inside a concatenation's: the concatenation and the
  // byte offset there.
  llvm::DenseMap<Value, std::pair<Value, int64_t>> placedIn;
  auto rootOf = [&](Value value) {
    Value root = owner.lookup(value);
    return root ? root : value;
  };
  // Keeps a buffer, and the concatenations it is placed in, live to `end`.
  std::function<void(Value, int64_t)> keepAlive = [&](Value root, int64_t end) {
    Buffer &buffer = plan.buffers[root];
    buffer.end = std::max(buffer.end, end);
    if (auto placed = placedIn.find(root); placed != placedIn.end())
      keepAlive(rootOf(placed->second.first), end);
  };
  // A concatenation's operands, each alone in its own buffer of exactly its
  // bytes, are placed inside the result's buffer (as long as any of them
  // lives) at their blocks' offsets.
  auto placeOperands = [&](ConcatOp concat) {
    auto type = concat.getResult().getType();
    SmallVector<std::pair<Value, int64_t>> blocks;
    llvm::SmallPtrSet<Value, 8> roots;
    int64_t entry = 0;
    for (Value input : concat.getInputs()) {
      std::optional<int64_t> offset =
          getAlignedBlockOffset(type, concat.getDim(), entry);
      entry +=
          cast<RankedTensorType>(input.getType()).getDimSize(concat.getDim());
      Value root = rootOf(input);
      if (!offset || !plan.buffers.count(input) || viewOffset.count(input) ||
          placedIn.count(root) || !roots.insert(root).second ||
          plan.buffers[root].bytes != getBytes(input.getType()))
        return false;
      blocks.push_back({root, *offset});
    }
    Buffer &whole = plan.buffers[concat.getResult()];
    for (auto [root, offset] : blocks) {
      whole.begin = std::min(whole.begin, plan.buffers[root].begin);
      whole.end = std::max(whole.end, plan.buffers[root].end);
      placedIn[root] = {concat.getResult(), offset};
    }
    return true;
  };
  for (Operation &op : body)
    for (Value result : op.getResults()) {
      int64_t bytes = getBytes(result.getType());
      if (bytes == 0 || plan.inPlace.count(result) ||
          plan.transposedViews.count(result) ||
          plan.gradientsInUpdate.count(result))
        continue;
      int64_t end = std::max(position[&op], lastUse(result));
      count(plan.unpooledBytes, alignUp(bytes));
      // A reshape moves no element (tensors are contiguous and row-major):
      // its result is its input's buffer, kept alive while either is read.
      if (auto reshape = dyn_cast<ReshapeOp>(op);
          reshape && plan.buffers.count(reshape.getInput())) {
        Value root = rootOf(reshape.getInput());
        keepAlive(root, end);
        owner[result] = root;
        if (auto offset = viewOffset.find(reshape.getInput());
            offset != viewOffset.end())
          viewOffset[result] = offset->second;
        plan.buffers[result] = Buffer{0, bytes, position[&op], end};
        continue;
      }
      if (auto slice = dyn_cast<SliceOp>(op)) {
        std::optional<int64_t> offset = getAlignedBlockOffset(
            slice.getInput().getType(), slice.getDim(), slice.getOffset());
        if (offset && plan.buffers.count(slice.getInput())) {
          Value root = rootOf(slice.getInput());
          keepAlive(root, end);
          owner[result] = root;
          viewOffset[result] = viewOffset.lookup(slice.getInput()) + *offset;
          plan.buffers[result] = Buffer{0, bytes, position[&op], end};
          plan.views.insert(result);
          continue;
        }
      }
      // A wait's result is its collective's, never an input it keeps. A
      // buffer that a view or a concatenation still needs is not taken over,
      // nor one a GEMM also multiplies (it reads its factors whole while it
      // writes).
      auto wait = dyn_cast<WaitOp>(op);
      auto storageRoot = [&](Value value) {
        while (plan.transposedViews.count(value))
          value = value.getDefiningOp()->getOperand(0);
        return rootOf(value);
      };
      auto readByGemmFactor = [&](Value operand) {
        return getGemmAccumulator(op) &&
               llvm::any_of(op.getOpOperands(), [&](OpOperand &use) {
                 return isGemmFactor(use) &&
                        storageRoot(use.get()) == storageRoot(operand);
               });
      };
      auto reusable = llvm::find_if(op.getOperands(), [&](Value operand) {
        if (wait && operand != wait.getValue())
          return false;
        return getBytes(operand.getType()) == bytes &&
               !readByGemmFactor(operand) && plan.buffers.count(operand) &&
               !viewOffset.count(operand) && !placedIn.count(rootOf(operand)) &&
               lastUse(operand) == position[&op] &&
               plan.buffers[rootOf(operand)].end == position[&op] &&
               (isa<WaitOp>(op) || runsInPlace(&op) ||
                canOverwrite(cast<OpResult>(result), operand));
      });
      if (reusable != op.operand_end()) {
        Value root = owner.lookup(*reusable);
        root = root ? root : Value(*reusable);
        Buffer &rootBuffer = plan.buffers[root];
        rootBuffer.end = std::max(rootBuffer.end, end);
        Buffer shared = rootBuffer;
        owner[result] = root;
        plan.buffers[result] = shared;
        continue;
      }
      plan.buffers[result] = Buffer{0, alignUp(bytes), position[&op], end};
      values.push_back(result);
      if (auto concat = dyn_cast<ConcatOp>(op); concat && placeOperands(concat))
        plan.views.insert(result);
    }

  if (!total)
    return func.emitError()
           << "the step's arguments and temporaries need more bytes per rank "
              "than int64 counts";

  // The values' buffers and the asynchronous groups' and ops' scratch, in
  // program order of their first position, with what made each.
  struct Placement {
    Buffer *buffer;
    MemoryPlan::PeakBuffer madeBy;
  };
  SmallVector<Placement> order;
  for (Value value : values)
    if (!placedIn.count(value))
      order.push_back({&plan.buffers[value], {value}});
  for (Buffer &scratch : asyncScratch)
    order.push_back({&scratch, {}});
  for (auto &[op, scratch] : plan.opScratch)
    order.push_back({&scratch, {Value(), op}});
  llvm::stable_sort(order, [](const Placement &a, const Placement &b) {
    return a.buffer->begin < b.buffer->begin;
  });
  // First fit and four placements by size, the smallest arena kept (the
  // earliest tried where they tie): none is always the smallest.
  SmallVector<Buffer> pooled;
  for (const Placement &placement : order)
    pooled.push_back(*placement.buffer);
  SmallVector<Buffer> unplaced = pooled;
  placeFirstFit(pooled);
  for (EqualSizes equalSizes :
       {EqualSizes::LongerLivedFirst, EqualSizes::ShorterLivedFirst})
    for (Gap gapChoice : {Gap::Smallest, Gap::Lowest}) {
      SmallVector<Buffer> bySize = unplaced;
      placeBySize(bySize, equalSizes, gapChoice);
      if (getArenaTop(bySize) < getArenaTop(pooled))
        pooled = std::move(bySize);
    }
  if (overlapsLiveBuffer(pooled))
    return func.emitError()
           << "internal error: the memory plan places two values live at "
              "the same time in the same bytes";
  for (auto [placement, buffer] : llvm::zip(order, pooled))
    placement.buffer->offset = buffer.offset;
  plan.arenaBytes = getArenaTop(pooled);

  // The bytes live at each position: no placement's arena is smaller than
  // their most.
  SmallVector<int64_t> liveBytes(last + 2, 0);
  for (const Buffer &buffer : pooled) {
    liveBytes[buffer.begin] += buffer.bytes;
    liveBytes[buffer.end + 1] -= buffer.bytes;
  }
  for (size_t position = 1; position < liveBytes.size(); ++position)
    liveBytes[position] += liveBytes[position - 1];
  plan.maxLiveBytes = *llvm::max_element(liveBytes);
  // What fills the arena where it is highest: every buffer live at the
  // position, among those where a buffer reaching the top is, with the most
  // bytes live (the fewest gaps).
  int64_t peakPosition = -1;
  for (const Buffer &buffer : pooled)
    if (buffer.offset + buffer.bytes == plan.arenaBytes)
      for (int64_t position = buffer.begin; position <= buffer.end; ++position)
        if (peakPosition < 0 || liveBytes[position] > liveBytes[peakPosition])
          peakPosition = position;
  plan.peakGapBytes = plan.arenaBytes;
  for (const Placement &placement : order)
    if (placement.buffer->begin <= peakPosition &&
        peakPosition <= placement.buffer->end) {
      MemoryPlan::PeakBuffer live = placement.madeBy;
      live.bytes = placement.buffer->bytes;
      plan.peakBuffers.push_back(live);
      plan.peakGapBytes -= live.bytes;
    }
  // Placed buffers (concatenations may nest), then the values sharing a
  // buffer or viewing into one.
  std::function<int64_t(Value)> placedOffset = [&](Value root) {
    auto placed = placedIn.find(root);
    if (placed == placedIn.end())
      return plan.buffers[root].offset;
    auto [whole, offset] = placed->second;
    return placedOffset(rootOf(whole)) + offset;
  };
  for (Value value : values)
    if (placedIn.count(value))
      plan.buffers[value].offset = placedOffset(value);
  for (auto &[value, root] : owner)
    plan.buffers[value].offset =
        plan.buffers[root].offset + viewOffset.lookup(value);
  if (plan.scratchBytes > 0) {
    plan.scratchOffset = alignUp(plan.arenaBytes);
    plan.arenaBytes = plan.scratchOffset + alignUp(plan.scratchBytes);
    plan.maxLiveBytes += alignUp(plan.scratchBytes);
  }
  for (auto [index, firstWait] : llvm::enumerate(plan.groupFirstWait))
    if (!firstWait)
      plan.groupScratchOffset[index] = plan.scratchOffset;
  for (auto [group, scratch] : llvm::zip(asyncScratchGroup, asyncScratch))
    plan.groupScratchOffset[group] = scratch.offset;
  return plan;
}

} // namespace mp
