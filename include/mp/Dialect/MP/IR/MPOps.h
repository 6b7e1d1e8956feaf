//===- MPOps.h - mp dialect operations --------------------------*- C++ -*-===//

#ifndef MP_DIALECT_MP_IR_MPOPS_H
#define MP_DIALECT_MP_IR_MPOPS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mp/Dialect/MP/IR/MPAttrs.h"
#include "mp/Dialect/MP/IR/MPDialect.h"

#include "mp/Dialect/MP/IR/CollectiveSteps.h"
#include "mp/Dialect/MP/IR/ShardingRule.h"

namespace mp {
/// The mesh `meshName` refers to from `op`; the verifier has checked it.
MeshAttr lookupMesh(mlir::Operation *op, mlir::FlatSymbolRefAttr meshName);
/// The number of ranks in a group of `axes` of `mesh`.
int64_t getGroupSize(MeshAttr mesh, mlir::ArrayAttr axes);
/// Checks that `sharding`, which `op` gives a value of type `type`, names an
/// mp.mesh and fits the type on it.
mlir::LogicalResult verifyValueSharding(mlir::Operation *op,
                                        ShardingAttr sharding, mlir::Type type,
                                        mlir::SymbolTableCollection &table);
/// The mesh axis names a collective lists.
llvm::SmallVector<llvm::StringRef> getAxisNames(mlir::ArrayAttr axes);
/// The bytes of `op`'s statically shaped tensor operands and results: what
/// a kernel reading each operand once and writing each result once touches
/// (saturated at INT64_MAX: a cost, not a size).
int64_t getOperandAndResultBytes(mlir::Operation *op);
/// The bytes a statically shaped tensor of `type` holds, or nothing when
/// its element count or its byte size does not fit int64.
std::optional<int64_t> getTensorBytes(mlir::ShapedType type);
/// Checks that `type` is a tensor mp can hold: not empty (mp takes no
/// zero-sized dims) and with a byte size that int64 counts. `emitError`
/// reports it, with the tensor named by `what`.
mlir::LogicalResult
verifyTensorSize(llvm::function_ref<mlir::InFlightDiagnostic()> emitError,
                 mlir::Type type, llvm::StringRef what);

namespace MPTrait {
/// Every tensor an mp op takes or gives passes verifyTensorSize, so that
/// every later size computation (memory plan, lowering, interpreter,
/// runtime) multiplies without wrapping.
template <typename ConcreteType>
class BoundedTensors
    : public mlir::OpTrait::TraitBase<ConcreteType, BoundedTensors> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op);
};
/// The trait's check, out of line.
mlir::LogicalResult verifyBoundedTensors(mlir::Operation *op);
template <typename ConcreteType>
mlir::LogicalResult
BoundedTensors<ConcreteType>::verifyTrait(mlir::Operation *op) {
  return verifyBoundedTensors(op);
}
/// BFloat16Storage's check, out of line.
mlir::LogicalResult verifyBFloat16Storage(mlir::Operation *op);
/// A float32 computation whose operands and results may be held in
/// bfloat16 (MP_BFloat16Storage in MPDialect.td): its tensors' element
/// types are one type, or float32 and bfloat16 mixed.
template <typename ConcreteType>
class BFloat16Storage
    : public mlir::OpTrait::TraitBase<ConcreteType, BFloat16Storage> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyBFloat16Storage(op);
  }
};
} // namespace MPTrait
/// True if `op` computes in float32 on tensors it holds in bfloat16 and in
/// float32 mixed (MP_BFloat16Storage, the norms and their gradients, bf16
/// attention and its gradient).
bool mixesBFloat16Storage(mlir::Operation *op);
/// True if `use` may be a bfloat16 tensor where its op computes in float32
/// (read widened): any operand of an MP_BFloat16Storage op, the norms' and
/// their gradients' input and gradient, a bf16 GEMM's factors, bf16
/// attention's q, k and v (and its gradient's output).
bool mayReadBFloat16(mlir::OpOperand &use);
/// True if `result` may be bfloat16 where its op computes it in float32
/// (rounded to nearest even): an MP_BFloat16Storage op's, a norm's, a bf16
/// GEMM's that adds into nothing, bf16 attention's output.
bool mayWriteBFloat16(mlir::OpResult result);
/// A norm over the last dim (mp.rms_norm, mp.layer_norm): its input, and
/// the parameters a norm module holds, its weight and (layer_norm) its bias.
/// All null when `op` is neither.
struct NormOperands {
  mlir::OpOperand *input = nullptr;
  mlir::Value weight, bias;
};
NormOperands getNormOperands(mlir::Operation *op);

/// How mp.attention and mp.attention_grad run on their (local) types, which
/// the memory plan, the cost model and the lowering share: `batch` query
/// matrices (the product of the leading dims) of `queries` rows, each
/// `group` of them reading one key and value matrix, cut into chunks of
/// `chunkRows` rows; each chunk computes its scores against the keys it
/// sees, in a scratch buffer of `batch × chunkRows × keys` floats (two for
/// the gradient) that its GEMMs' workspace follows (the memory plan's
/// getAttentionScratchBytes).
struct AttentionGeometry {
  int64_t batch = 0, group = 1, queries = 0, keys = 0, headDim = 0,
          valueDim = 0;
  int64_t chunkRows = 0;
  bool causal = false;
  /// A causal sliding window (0: none): a row sees its last `window` keys.
  int64_t window = 0;
  /// ALiBi's bias, added to each chunk's (or on-chip tile's) scores;
  /// Falcon's (bf16_bias) before the scale, which the chunks then apply in
  /// a pass of their own.
  bool alibi = false, alibiBf16 = false;
  /// The precision of its GEMMs.
  Precision precision = Precision::tf32;
  /// Bytes per element of q, k, v and the output: 4, or 2 where they are
  /// held in bfloat16.
  int64_t queryBytes = 4, keyBytes = 4, valueBytes = 4, outputBytes = 4;

  /// The keys that the chunk of `rows` rows from row `first` sees: all of
  /// them, or under `causal` those up to its last row's (mp.softmax's
  /// mask), from its first row's window start, none when that is negative.
  int64_t getVisibleKeys(int64_t first, int64_t rows) const;
  /// Per batch entry, the scores computed over all chunks (rows times
  /// visible keys) and the key rows read (the visible keys summed over
  /// the chunks); saturated at INT64_MAX (costs).
  int64_t getScoresPerBatch() const;
  int64_t getKeyRowsPerBatch() const;
  /// The chunks of query rows.
  int64_t getChunks() const {
    return chunkRows > 0 ? (queries + chunkRows - 1) / chunkRows : 0;
  }
  /// The runtime's calls for one of a chunk's GEMMs: one per query matrix
  /// of a group, or one where a chunk holds every row (a group's query
  /// matrices are then consecutive).
  int64_t getGemmCallsPerChunk() const {
    return chunkRows >= queries ? 1 : group;
  }
};
/// The geometry of an mp.attention or mp.attention_grad (null otherwise).
std::optional<AttentionGeometry> getAttentionGeometry(mlir::Operation *op);

/// What a run of kernels costs: CostOpInterface's three numbers.
struct KernelCost {
  int64_t gemmFlops = 0, kernelBytes = 0, launches = 0;
};
/// What an mp.attention or mp.attention_grad costs run as on-chip kernels
/// (the CUDA backend's in bf16 and tf32, runtime/src/cuda/
/// FlashAttention.cuh) instead of chunks through memory: blocks of 64
/// query rows against the keys they see, no score in memory. Forward, one
/// launch: q·kᵀ and p·v; q read, the output and the log-sum-exp written
/// once, the keys and values read once per block of rows. Gradient, two
/// launches (query gradient, key gradients): q·kᵀ and grad·vᵀ in each,
/// ds·k, dsᵀ·q and pᵀ·grad once; the first reads q, grad, the output and
/// the log-sum-exp and writes dq and a float per row, the keys and values
/// read once per block of rows; the second reads the query side once per
/// block of keys and writes dk and dv. Null for other ops.
std::optional<KernelCost> getOnChipAttentionCost(mlir::Operation *op);
} // namespace mp

#include "mp/Dialect/MP/IR/MPInterfaces.h.inc"

#define GET_OP_CLASSES
#include "mp/Dialect/MP/IR/MPOps.h.inc"

namespace mp {
/// The runs of collectives in `block` that run as one runtime call on a
/// packed buffer (FSDP2's flat parameters): consecutive all_gathers, or
/// consecutive reduce_scatters, over the same mesh axes with the same
/// element type, tagged with the same `mp.fsdp_group` (--mp-group-fsdp puts
/// them side by side), or consecutive all_reduces tagged with the same
/// `mp.coalesced` (--mp-coalesce-reductions), and the same `mp.async` slot
/// or none (an asynchronous run is issued at its first member and unpacked
/// at its first mp.wait).
/// Runs of two or more, in program order.
llvm::SmallVector<llvm::SmallVector<CollectiveOpInterface>>
getCollectiveGroups(mlir::Block &block);

/// The arithmetic of a GEMM (mp.linear, mp.matmul); none for other ops.
std::optional<Precision> getGemmPrecision(mlir::Operation &op);

/// True if `use` is one of the two factors a GEMM multiplies (not the
/// accumulator it adds the product into): what it may read transposed or
/// as bfloat16.
bool isGemmFactor(mlir::OpOperand &use);

/// The tensor a GEMM adds its product into; null for other ops and for
/// GEMMs without one.
mlir::Value getGemmAccumulator(mlir::Operation &op);
} // namespace mp

#endif // MP_DIALECT_MP_IR_MPOPS_H
