//===- Costs.cpp - what an op costs to run (CostOpInterface) --------------===//

#include "mp/Dialect/MP/IR/MPOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace mp {

int64_t getOperandAndResultBytes(Operation *op) {
  uint64_t bytes = 0;
  for (Type type :
       llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        tensor && tensor.hasStaticShape())
      bytes = llvm::SaturatingAdd(
          bytes, uint64_t(getTensorBytes(tensor).value_or(INT64_MAX)));
  return std::min<uint64_t>(bytes, INT64_MAX);
}

namespace {
/// y = x·Wᵀ and batched matmuls alike: 2 FLOPs per output element and
/// contracted element, the contraction being the first operand's last dim.
int64_t getProductFlops(Value lhs, Value result) {
  uint64_t flops = llvm::SaturatingMultiply(
      uint64_t(2 * cast<RankedTensorType>(result.getType()).getNumElements()),
      uint64_t(cast<RankedTensorType>(lhs.getType()).getShape().back()));
  return std::min<uint64_t>(flops, INT64_MAX);
}
} // namespace

int64_t LinearOp::getGemmFlops() {
  return getProductFlops(getInput(), getResult());
}

int64_t MatmulOp::getGemmFlops() {
  return getProductFlops(getLhs(), getResult());
}

namespace {
/// Saturating sum of products, for costs.
int64_t
sumOfProducts(std::initializer_list<std::initializer_list<int64_t>> terms) {
  uint64_t sum = 0;
  for (auto term : terms) {
    uint64_t product = 1;
    for (int64_t factor : term)
      product = llvm::SaturatingMultiply(product, uint64_t(factor));
    sum = llvm::SaturatingAdd(sum, product);
  }
  return int64_t(std::min<uint64_t>(sum, INT64_MAX));
}

/// Attention's chunked GEMMs: `gemmsOverD` of them contract or produce the
/// head dim (q·kᵀ, ds·k, dsᵀ·q) and `gemmsOverDv` the value dim (p·v,
/// grad·vᵀ, pᵀ·grad), each over the scores computed.
int64_t getAttentionFlops(const AttentionGeometry &g, int64_t gemmsOverD,
                          int64_t gemmsOverDv) {
  int64_t scores = g.getScoresPerBatch();
  return sumOfProducts({{2, gemmsOverD, g.batch, scores, g.headDim},
                        {2, gemmsOverDv, g.batch, scores, g.valueDim}});
}

/// The bytes of `rows` key and value rows per batch entry, at their
/// element sizes.
int64_t getKeyValueBytes(const AttentionGeometry &g, int64_t rows) {
  return sumOfProducts({{g.keyBytes, g.batch, rows, g.headDim},
                        {g.valueBytes, g.batch, rows, g.valueDim}});
}

/// Attention's bytes: `scorePasses` float passes over the scores computed,
/// the visible key and value rows read once per chunk, a pass over q and
/// the output (the forward pass's reads and writes of them, at their
/// element sizes), `queryPasses` more float passes over the query-side rows
/// (q and the result or its gradient) and `keyPasses` over the whole
/// key-side tensors (the gradients' zeroing and sums).
int64_t getAttentionBytes(const AttentionGeometry &g, int64_t scorePasses,
                          int64_t queryPasses, int64_t keyPasses) {
  int64_t f = sizeof(float);
  return sumOfProducts(
      {{scorePasses, f, g.batch, g.getScoresPerBatch()},
       {getKeyValueBytes(g, g.getKeyRowsPerBatch())},
       {g.queryBytes, g.batch, g.queries, g.headDim},
       {g.outputBytes, g.batch, g.queries, g.valueDim},
       {queryPasses, f, g.batch, g.queries, g.headDim + g.valueDim},
       {keyPasses, f, g.batch, g.keys, g.headDim + g.valueDim}});
}
} // namespace

// Per chunk: s = q·kᵀ (written), its soft cap or ALiBi's bias (read and
// written; Falcon's scale after it too), its softmax (read and written),
// p·v (read); and the rows' log-sum-exp.
int64_t AttentionOp::getGemmFlops() {
  return getAttentionFlops(*getAttentionGeometry(*this), 1, 1);
}
int64_t AttentionOp::getKernelBytes() {
  AttentionGeometry g = *getAttentionGeometry(*this);
  int64_t biasPasses =
      (getSoftcap() || g.alibi ? 2 : 0) + (g.alibiBf16 ? 2 : 0);
  return sumOfProducts({{getAttentionBytes(g, 4 + biasPasses, 0, 0)},
                        {int64_t(sizeof(float)), g.batch, g.queries}});
}
// Per chunk, the scores' and the output's GEMMs (one per query head of a
// key head's group, one for the group where a chunk holds every row), the
// soft cap or ALiBi's bias (and Falcon's scale), and the softmax.
int64_t AttentionOp::getKernelLaunches() {
  AttentionGeometry g = *getAttentionGeometry(*this);
  int64_t biasLaunches =
      (getSoftcap() || g.alibi ? 1 : 0) + (g.alibiBf16 ? 1 : 0);
  return g.getChunks() * (2 * g.getGemmCallsPerChunk() + 1 + biasLaunches);
}

// Per chunk: s = q·kᵀ and its softmax p again (3 passes), dp = grad·vᵀ (1),
// ds = softmax_grad(p, dp) (3), dq = ds·k, dk += dsᵀ·q and dv += pᵀ·grad
// (3); under a soft cap, the cap of s (2) and its slope's product with ds
// (reading p and ds, writing ds: 3); with ALiBi, the bias of s (2; 4 with
// Falcon's scale after it). The
// query side is passed over 3 times (q
// at its element size in one of them; grad, float32, stands where the forward's
// output does). The key gradients are zeroed and read and written by every
// chunk's sums (counted as 3 passes over them, as if the chunks were one).
int64_t AttentionGradOp::getGemmFlops() {
  return getAttentionFlops(*getAttentionGeometry(*this), 3, 2);
}
int64_t AttentionGradOp::getKernelBytes() {
  AttentionGeometry g = *getAttentionGeometry(*this);
  g.outputBytes = sizeof(float);
  return getAttentionBytes(g,
                           getSoftcap()  ? 15
                           : g.alibiBf16 ? 14
                           : g.alibi     ? 12
                                         : 10,
                           2, 3);
}
// The key gradients' zeroing, then per chunk five GEMMs (scores, dp, dq,
// dk, dv), each as many calls as the forward's, the softmax and its
// gradient, under a soft cap the cap and its slope, and with ALiBi its bias
// (and Falcon's scale).
int64_t AttentionGradOp::getKernelLaunches() {
  AttentionGeometry g = *getAttentionGeometry(*this);
  int64_t biasLaunches = getSoftcap() || g.alibiBf16 ? 2 : g.alibi ? 1 : 0;
  return 2 + g.getChunks() * (5 * g.getGemmCallsPerChunk() + 2 + biasLaunches);
}

std::optional<KernelCost> getOnChipAttentionCost(Operation *op) {
  std::optional<AttentionGeometry> geometry = getAttentionGeometry(op);
  if (!geometry)
    return std::nullopt;
  AttentionGeometry g = *geometry;
  // FlashAttention.cuh's kRows.
  g.chunkRows = 64;
  int64_t f = sizeof(float), keyRows = g.getKeyRowsPerBatch();
  if (!isa<AttentionGradOp>(op))
    return KernelCost{
        getAttentionFlops(g, 1, 1),
        sumOfProducts({{getKeyValueBytes(g, keyRows)},
                       {g.queryBytes, g.batch, g.queries, g.headDim},
                       {g.outputBytes, g.batch, g.queries, g.valueDim},
                       {f, g.batch, g.queries}}),
        1};
  // FlashAttention-2's two kernels: per block of query rows, the scores,
  // grad·vᵀ and dq over the keys the rows see (reading q, grad, the output
  // and the log-sum-exp, writing dq and Σ grad·output); per block of keys,
  // the scores and grad·vᵀ again, dk and dv over the rows that see them.
  return KernelCost{
      getAttentionFlops(g, 4, 3),
      sumOfProducts(
          {{2, getKeyValueBytes(g, keyRows)},
           {2, g.queryBytes, g.batch, g.queries, g.headDim},
           {2, f, g.batch, g.queries, g.valueDim + 1},
           {2, f, g.batch / g.group, g.keys, g.headDim + g.valueDim}}),
      2};
}

} // namespace mp
