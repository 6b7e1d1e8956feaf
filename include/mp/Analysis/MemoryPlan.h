//===- MemoryPlan.h - a static per-rank memory plan -------------*- C++ -*-===//
//
// The buffers a partitioned function needs on each rank, laid out before it
// runs: arguments (parameters, optimizer state, the batch) are persistent;
// every value an op produces gets an offset in one arena, where no value
// live at the same program position lies, so buffers whose values are dead
// are reused: the smallest of first fit in program order and four
// placements greedy by size (largest first, each in a gap beside the values
// it lives with); a value computed elementwise from or
// all-reduced from an operand that no later op reads takes over that
// operand's buffer, and a reshape shares its input's (it moves no element),
// keeping it alive while either is read. The arena's size is the per-rank peak
// of temporaries; the lowering to the runtime allocates exactly that.
//
// A training step returns the new value of each parameter and optimizer
// state under the argument's name; the compiled step writes it back into the
// argument's buffer. Where the op computing it reads the argument element by
// element and nothing reads the argument afterwards, the op runs in place in
// the argument's buffer and the value takes no arena space.
//
// A transpose of the last two dims that only GEMMs read (matmul operands,
// linear weights) is not computed: the GEMMs read its input with the other
// transpose flag, so it takes no buffer and keeps its input alive instead.
//
// A weight gradient of few rows that only its AdamW or SGD update reads
// (the mp.matmul of a transposed view [k, m]ᵀ and [k, n]) is not computed
// either: the update computes each element where it reads it
// (mp_adamw_outer_f32, mp_sgd_outer_f32), so the gradient takes no buffer
// and keeps the product's operands alive to the update instead.
//
// A GEMM that converts or lays out its operands before it multiplies (a
// bf16 GEMM's rounded copies on the host; on CUDA a converted operand of
// mixed dtypes and the transposed A of a FLOP-bound NT GEMM) does so in a
// workspace the plan gives it beside the temporaries while it runs, sized
// by the runtime's own mp_gemm_workspace_bytes for the backend planned
// for, so that the runtime allocates nothing of its own for it.
//
// A contiguous block of rows (mp.slice of a dim after extent-1 dims) is a
// view into its input's buffer, which it keeps alive; a concatenation of
// such blocks (mp.concat) gets one buffer with each operand's buffer placed
// inside it, so its operands are computed in place and it copies nothing.
// Both need the block's offset to keep the plan's alignment.
//
//===----------------------------------------------------------------------===//

#ifndef MP_ANALYSIS_MEMORYPLAN_H
#define MP_ANALYSIS_MEMORYPLAN_H

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/Value.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

namespace mp {

/// True if the GEMMs that read `transpose` read its input with the other
/// transpose flag instead: it swaps the last two dims, converts no element
/// and only GEMMs read it (matmul operands, linear weights). It takes no
/// buffer.
bool isTransposedView(TransposeOp transpose);

/// The most rows (k) a weight gradient computed in its update may have:
/// at 2k FLOPs per element against the update's 24 bytes the product stays
/// bound by memory on a GPU's CUDA cores too.
constexpr int64_t kMaxGradientRowsInUpdate = 32;

/// True if `matmul`'s update computes it (mp_adamw_outer_f32,
/// mp_sgd_outer_f32): a float32 [m, k] · [k, n] of a transposed view
/// [k, m]ᵀ and a matrix that is not one, with k at most
/// kMaxGradientRowsInUpdate and no accumulator, whose only reader is an
/// mp.adamw, mp.sgd or mp.sgd_momentum taking it as its gradient,
/// unscaled. It takes no buffer.
bool isGradientInUpdate(MatmulOp matmul);

/// The backend a step's GEMM workspaces are planned for: either one, or
/// (Any) the larger of the two, so that the step runs on both without
/// scratch of the runtime's own.
enum class WorkspaceBackend { Any, Host, Cuda };

/// Whether `op` is an mp.attention or mp.attention_grad whose head dims are
/// at most `maxHeadDim`'s entry for its precision ("bf16", "tf32"): where a
/// backend runs such calls as on-chip kernels, it runs this one so.
bool fitsOnChipAttention(mlir::Operation *op,
                         const llvm::StringMap<int64_t> &maxHeadDim);

/// What a step is planned for: the backend whose runtime scratch it takes,
/// and per precision the largest head dim at which that backend runs
/// attention as on-chip kernels (CUDA's), which take a float per query row
/// for the gradient instead of the chunks' scores and their GEMMs'
/// workspace (mp_attention_on_chip_scratch_bytes). For Any, the larger of
/// the host's and CUDA's.
struct PlanTarget {
  WorkspaceBackend backend = WorkspaceBackend::Any;
  llvm::StringMap<int64_t> onChipAttentionMaxHeadDim;
};

/// What the runtime's context for `backend` holds beside every step for
/// its whole life (mp_backend_reserved_bytes; for Any, CUDA's, the larger).
int64_t getBackendReservedBytes(WorkspaceBackend backend);

/// The CUDA architectures a step is planned for when its pass is not told
/// (`cuda-archs`): those the runtime is built for by default
/// (runtime/CMakeLists.txt: A100 and H100/H200).
inline constexpr int64_t kDefaultCudaArchs[] = {80, 90};

/// Sets `target` from a pass's `backend` ("any", "host" or "cuda") and
/// `cuda-archs` (compute capabilities times ten, as
/// CMAKE_CUDA_ARCHITECTURES numbers them; empty for kDefaultCudaArchs)
/// options: attention planned on chip where it runs so on every one of
/// those architectures (mp_cuda_on_chip_attention_max_head_dim of its
/// shared memory). An unknown backend or architecture, or architectures
/// for the host backend, is reported to `errorHandler`.
mlir::LogicalResult parsePlanTarget(
    llvm::StringRef backend, llvm::ArrayRef<int64_t> cudaArchs,
    PlanTarget &target,
    llvm::function_ref<mlir::LogicalResult(const llvm::Twine &)> errorHandler);

/// The runtime GEMM a GEMM op (mp.linear, mp.matmul) runs as:
/// mp_gemm_batched_f32's arguments but for the scalars and pointers
/// (mp_gemm_f32's for a linear: one batch, strides 0), an operand that is
/// a transposed view read through its input with the transpose flag.
struct GemmCall {
  Precision precision;
  /// Whether A, B and C are bfloat16 (else float32).
  bool aBFloat16, bBFloat16, cBFloat16;
  bool transA, transB;
  int64_t batch, m, n, k, strideA, strideB, strideC;

  /// The call of `op`, or none when `op` is no GEMM.
  static std::optional<GemmCall>
  of(mlir::Operation *op, const llvm::DenseSet<mlir::Value> &transposedViews);

  /// The workspace the runtime takes for it on `backend`
  /// (mp_gemm_workspace_bytes); none when the bytes overflow int64.
  std::optional<int64_t> getWorkspaceBytes(WorkspaceBackend backend) const;
};

/// The scratch the runtime takes for an mp.attention (or, with `gradient`,
/// mp.attention_grad) of `geometry` on `target`'s backend: its score
/// chunks, then its GEMMs' workspace (mp_attention_scratch_bytes), or with
/// `onChip` (fitsOnChipAttention) on CUDA the on-chip kernels' scratch;
/// none when the bytes overflow int64.
std::optional<int64_t>
getAttentionScratchBytes(const AttentionGeometry &geometry, bool gradient,
                         bool onChip, WorkspaceBackend backend);

/// The scratch the runtime stages a collective's split dim in on `backend`
/// (mp_collective_scratch_bytes: an mp_all_gather, mp_reduce_scatter or
/// mp_all_to_all whose split dim rows precede); 0 for the others; none when
/// the bytes overflow int64.
std::optional<int64_t> getCollectiveScratchBytes(CollectiveOpInterface op,
                                                 WorkspaceBackend backend);

/// The scratch a norm's gradient (mp.rms_norm_grad, mp.rms_norm_weight_grad,
/// mp.layer_norm_grad, mp.layer_norm_weight_grad) keeps its rows'
/// statistics and widened inputs in on `backend`
/// (mp_norm_grad_scratch_bytes); 0 for other ops; none when the bytes
/// overflow int64.
std::optional<int64_t> getNormGradScratchBytes(mlir::Operation *op,
                                               WorkspaceBackend backend);

struct MemoryPlan {
  /// Buffers start at multiples of this many bytes.
  static constexpr int64_t kAlignment = 64;

  struct Buffer {
    int64_t offset;
    int64_t bytes;
    /// Program positions (op indices) of the definition and the last use.
    int64_t begin, end;
  };

  /// Arena buffers by value.
  llvm::DenseMap<mlir::Value, Buffer> buffers;
  /// Values computed in place in an argument's buffer: argument numbers.
  llvm::DenseMap<mlir::Value, unsigned> inPlace;
  /// Transposes (of the last two dims) that their GEMMs read through.
  llvm::DenseSet<mlir::Value> transposedViews;
  /// Weight gradients that their AdamW update computes (isGradientInUpdate).
  llvm::DenseSet<mlir::Value> gradientsInUpdate;
  /// Slices that are views of their input's buffer, and concatenations
  /// whose operands' buffers the plan placed inside the result's (computed
  /// in place): neither copies anything.
  llvm::DenseSet<mlir::Value> views;
  /// Per function result, the argument it updates (same name as a parameter
  /// or optimizer state), or -1 for an output such as the loss.
  llvm::SmallVector<int> updatedArgument;
  /// Runs of collectives that run as one call (getCollectiveGroups), and
  /// the scratch buffer, at the top of the arena, that the synchronous ones
  /// pack into: the largest any of them needs.
  llvm::SmallVector<llvm::SmallVector<CollectiveOpInterface>> collectiveGroups;
  /// Each grouped collective's index in collectiveGroups.
  llvm::DenseMap<mlir::Operation *, unsigned> groupOf;
  int64_t scratchOffset = 0;
  int64_t scratchBytes = 0;
  /// Per group, the arena offset of its packed buffer: the shared scratch
  /// for a synchronous group; its own for an asynchronous one, live from
  /// its call to its first mp.wait (where it unpacks), pooled with the
  /// temporaries.
  llvm::SmallVector<int64_t> groupScratchOffset;
  /// Per group, its members' first mp.wait (null when synchronous): the
  /// one that waits for the run and unpacks it.
  llvm::SmallVector<mlir::Operation *> groupFirstWait;
  /// The asynchronous groups' packed buffers, summed (each is pooled in
  /// the arena while its call is in flight).
  int64_t asyncScratchBytes = 0;
  /// The scratch buffers of the ops that need one while they run (the
  /// score chunks of mp.attention and mp.attention_grad, GEMMs'
  /// workspaces, collectives' staging: until the wait of an asynchronous
  /// one), pooled with the temporaries: each op's buffer.
  llvm::DenseMap<mlir::Operation *, Buffer> opScratch;
  /// Runs of adjacent optimizer updates of one kind with the same
  /// hyperparameters (and step count), which run as one multi-tensor call
  /// at their first (mp_adamw_multi_f32, mp_sgd_multi_f32: as PyTorch's
  /// fused optimizers over a tensor list; mp-fuse-optimizer makes them
  /// adjacent), and each member's run.
  llvm::SmallVector<llvm::SmallVector<mlir::Operation *>> optimizerRuns;
  llvm::DenseMap<mlir::Operation *, unsigned> optimizerRunOf;
  /// Bytes of the function's arguments on this rank.
  int64_t persistentBytes = 0;
  /// Size of the arena: where the highest temporary ends.
  int64_t arenaBytes = 0;
  /// The most bytes of temporaries live at one program position (with the
  /// synchronous collectives' scratch): no placement's arena is smaller.
  int64_t maxLiveBytes = 0;
  /// What the temporaries would take without reuse.
  int64_t unpooledBytes = 0;
  /// What fills the arena where it is highest (below the synchronous
  /// collectives' scratch): every buffer live at the program position where
  /// a buffer reaching the arena's top is live and the most bytes are, with
  /// what made it (a value, or the
  /// op whose scratch it is; neither: an asynchronous collective group's
  /// scratch); the rest of the arena there is gaps between them.
  struct PeakBuffer {
    mlir::Value value;
    mlir::Operation *scratchOf = nullptr;
    int64_t bytes = 0;
  };
  llvm::SmallVector<PeakBuffer> peakBuffers;
  int64_t peakGapBytes = 0;

  /// Where a value is stored: a function argument's buffer (`argument`, a
  /// number of the function as planned: the value's own, or the one it is
  /// computed in place in) or the arena at `offset`.
  struct Storage {
    int64_t argument = -1;
    int64_t offset = -1;
    bool operator==(const Storage &other) const {
      return argument == other.argument && offset == other.offset;
    }
    bool operator!=(const Storage &other) const { return !(*this == other); }
  };
  /// `value`'s storage; a transposed view is stored in its input. A copy
  /// between two values stored alike (a reshape that took over its
  /// operand's buffer, a wait's result) copies nothing.
  Storage getStorage(mlir::Value value) const;

  /// Plans `func` (one block; the types are the per-rank ones), the
  /// runtime's scratch (GEMM workspaces, attention's, collectives' staging)
  /// for `target`. Fails, with an error on `func`, when the plan's bytes do
  /// not fit int64.
  static llvm::FailureOr<MemoryPlan> build(mlir::FunctionOpInterface func,
                                           const PlanTarget &target = {});
};

} // namespace mp

#endif // MP_ANALYSIS_MEMORYPLAN_H
