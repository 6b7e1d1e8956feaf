//===- ShardingRules.cpp - every op's sharding rule -----------------------===//
//
// One rule per op (see ShardingRule.h); propagation, partitioning and the
// communication report derive everything else from these.
//
//===----------------------------------------------------------------------===//

#include "mp/Dialect/MP/IR/MPOps.h"

using namespace mlir;

namespace mp {

ShardingRule ShardingRule::getElementwise(RankedTensorType type,
                                          unsigned numOperands,
                                          PartialRule partial) {
  ShardingRule rule;
  SmallVector<int64_t> dims;
  for (int64_t extent : type.getShape())
    dims.push_back(rule.addFactor(extent, FactorKind::Parallel));
  rule.operandFactors.assign(numOperands, dims);
  rule.resultFactors.push_back(dims);
  rule.partial = partial;
  rule.linearOperands.assign(numOperands, true);
  return rule;
}

namespace {
RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// The rule of an op reducing `dims` of its operand into a rank-0 or
/// reduced result, through `kind` factors.
ShardingRule getReductionRule(RankedTensorType input, ArrayRef<int64_t> dims,
                              bool averages) {
  ShardingRule rule;
  SmallVector<int64_t> operand, result;
  for (auto [dim, extent] : llvm::enumerate(input.getShape())) {
    bool reduced = llvm::is_contained(dims, static_cast<int64_t>(dim));
    int64_t factor = rule.addFactor(extent, reduced ? FactorKind::Reduction
                                                    : FactorKind::Parallel);
    operand.push_back(factor);
    if (!reduced)
      result.push_back(factor);
  }
  rule.operandFactors.push_back(operand);
  rule.resultFactors.push_back(result);
  rule.partial = PartialRule::Additive;
  rule.linearOperands.push_back(true);
  rule.averages = averages;
  return rule;
}
} // namespace

ShardingRule AnnotateOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getInput()), 1,
                                      PartialRule::Additive);
}

ShardingRule ReshardOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getInput()), 1,
                                      PartialRule::Additive);
}

/// A GEMM is linear in each operand, so a partial sum may pass through it,
/// unless it rounds its operands to bf16: the rounding of a sum is not the
/// sum of the roundings, so a bf16 GEMM reads its operands reduced. (A split
/// contraction is still exact: each rank rounds its own elements.)
static PartialRule getGemmPartialRule(Precision precision) {
  return precision == Precision::bf16 ? PartialRule::NonLinear
                                      : PartialRule::Multilinear;
}

/// A GEMM's accumulator, if it has one: the operand after its factors,
/// split as the result.
static void addAccumulator(ShardingRule &rule, Value accumulator) {
  if (!accumulator)
    return;
  rule.accumulatorOperand = rule.operandFactors.size();
  rule.operandFactors.push_back(rule.resultFactors.front());
  rule.linearOperands.push_back(false);
}

// x[b..., k] · W[n, k]ᵀ = y[b..., n]
ShardingRule LinearOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule;
  SmallVector<int64_t> x, y;
  for (int64_t extent : input.getShape().drop_back()) {
    x.push_back(rule.addFactor(extent, FactorKind::Parallel));
    y.push_back(x.back());
  }
  int64_t k = rule.addFactor(input.getShape().back(), FactorKind::Reduction);
  int64_t n = rule.addFactor(rankedType(getWeight()).getDimSize(0),
                             FactorKind::Parallel);
  x.push_back(k);
  y.push_back(n);
  rule.operandFactors = {x, {n, k}};
  rule.resultFactors = {y};
  rule.partial = getGemmPartialRule(getEffectivePrecision());
  rule.linearOperands = {true, true};
  addAccumulator(rule, getAccumulator());
  return rule;
}

// lhs[b..., m, k] · rhs[b..., k, n] (or rhs[k, n]) = result[b..., m, n]
ShardingRule MatmulOp::getShardingRule() {
  RankedTensorType lhs = rankedType(getLhs());
  RankedTensorType rhs = rankedType(getRhs());
  ShardingRule rule;
  SmallVector<int64_t> batch;
  for (int64_t extent : lhs.getShape().drop_back(2))
    batch.push_back(rule.addFactor(extent, FactorKind::Parallel));
  int64_t m =
      rule.addFactor(lhs.getShape()[lhs.getRank() - 2], FactorKind::Parallel);
  int64_t k = rule.addFactor(lhs.getShape().back(), FactorKind::Reduction);
  int64_t n = rule.addFactor(rhs.getShape().back(), FactorKind::Parallel);
  SmallVector<int64_t> lhsFactors(batch), rhsFactors, result(batch);
  lhsFactors.append({m, k});
  if (rhs.getRank() > 2)
    rhsFactors = batch;
  rhsFactors.append({k, n});
  result.append({m, n});
  rule.operandFactors = {lhsFactors, rhsFactors};
  rule.resultFactors = {result};
  rule.partial = getGemmPartialRule(getEffectivePrecision());
  rule.linearOperands = {true, true};
  addAccumulator(rule, getAccumulator());
  return rule;
}

ShardingRule AddOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 2,
                                      PartialRule::Additive);
}

ShardingRule SubOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 2,
                                      PartialRule::Additive);
}

ShardingRule MulOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 2,
                                      PartialRule::Multilinear);
}

ShardingRule DivOp::getShardingRule() {
  ShardingRule rule = ShardingRule::getElementwise(rankedType(getResult()), 2,
                                                   PartialRule::Multilinear);
  rule.linearOperands = {true, false};
  return rule;
}

ShardingRule NegOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::Additive);
}

ShardingRule ScaleOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::Additive);
}

// Rounding a pending sum's terms is not rounding the sum.
ShardingRule ConvertOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule ExpOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule ReluOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule ClampOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule SigmoidOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule TanhOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule RsqrtOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule SiluOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule GeluOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule SumOp::getShardingRule() {
  return getReductionRule(rankedType(getInput()), getReducedDims(),
                          /*averages=*/false);
}

ShardingRule MeanOp::getShardingRule() {
  return getReductionRule(rankedType(getInput()), getReducedDims(),
                          /*averages=*/true);
}

// Dims that keep their extent across a reshape share a factor; where dims
// merge ([a, b] -> [a*b]) or split ([a*b] -> [a, b]) the major-most dims
// share one, since a split of the major dim is a split of the merged one.
// All other dims stay whole.
ShardingRule ReshapeOp::getShardingRule() {
  ArrayRef<int64_t> in = rankedType(getInput()).getShape();
  ArrayRef<int64_t> out = rankedType(getResult()).getShape();
  ShardingRule rule;
  SmallVector<int64_t> inFactors(in.size(), ShardingRule::kNoFactor);
  SmallVector<int64_t> outFactors(out.size(), ShardingRule::kNoFactor);
  size_t i = 0, o = 0;
  bool empty = llvm::is_contained(in, 0) || llvm::is_contained(out, 0);
  while (!empty && (i < in.size() || o < out.size())) {
    // Skip unit dims: they carry nothing worth splitting.
    if (i < in.size() && in[i] == 1) {
      ++i;
      continue;
    }
    if (o < out.size() && out[o] == 1) {
      ++o;
      continue;
    }
    if (i == in.size() || o == out.size())
      break;
    // Grow the smallest group of dims on each side with equal products.
    size_t iEnd = i + 1, oEnd = o + 1;
    int64_t inProduct = in[i], outProduct = out[o];
    while (inProduct != outProduct) {
      if (inProduct < outProduct)
        inProduct *= in[iEnd++];
      else
        outProduct *= out[oEnd++];
    }
    // A merge [a, b] -> [a*b] or a split [a*b] -> [a, b] shares a factor of
    // extent a between the major dims; a many-to-many group shares none.
    if (iEnd - i == 1 || oEnd - o == 1) {
      int64_t factor =
          rule.addFactor(std::min(in[i], out[o]), FactorKind::Parallel);
      inFactors[i] = factor;
      outFactors[o] = factor;
      // Padded pieces of a dim do not regroup with its neighbours.
      if (iEnd - i != 1 || oEnd - o != 1)
        rule.evenSplitFactors.push_back(factor);
    }
    i = iEnd;
    o = oEnd;
  }
  rule.operandFactors = {inFactors};
  rule.resultFactors = {outFactors};
  rule.partial = PartialRule::Additive;
  rule.linearOperands = {true};
  return rule;
}

ShardingRule TransposeOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule;
  SmallVector<int64_t> in, out;
  for (int64_t extent : input.getShape())
    in.push_back(rule.addFactor(extent, FactorKind::Parallel));
  for (int64_t dim : getPermutation())
    out.push_back(in[dim]);
  rule.operandFactors = {in};
  rule.resultFactors = {out};
  rule.partial = PartialRule::Additive;
  rule.linearOperands = {true};
  return rule;
}

// Every element contributes to the scalar loss: all dims are reductions.
ShardingRule MseLossOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule;
  SmallVector<int64_t> dims;
  for (int64_t extent : input.getShape())
    dims.push_back(rule.addFactor(extent, FactorKind::Reduction));
  rule.operandFactors = {dims, dims};
  rule.resultFactors = {{}};
  rule.linearOperands = {false, false};
  rule.averages = getReduction() == Reduction::mean;
  return rule;
}

// Samples are reduced into the loss; the class dim feeds a logsumexp and
// must stay whole.
ShardingRule CrossEntropyOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule;
  SmallVector<int64_t> samples;
  for (int64_t extent : input.getShape().drop_back())
    samples.push_back(rule.addFactor(extent, FactorKind::Reduction));
  int64_t classes =
      rule.addFactor(input.getShape().back(), FactorKind::Replicated);
  SmallVector<int64_t> logits(samples);
  logits.push_back(classes);
  rule.operandFactors = {logits, samples};
  rule.resultFactors = {{}};
  rule.linearOperands = {false, false};
  rule.averages = getReduction() == Reduction::mean;
  // Padded rows would count as samples.
  rule.evenSplitFactors = samples;
  return rule;
}

ShardingRule LogOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

/// Elementwise from one integer operand, which is never a partial sum.
static ShardingRule getElementwiseFromIntegers(Value result) {
  ShardingRule rule = ShardingRule::getElementwise(rankedType(result), 1,
                                                   PartialRule::NonLinear);
  rule.linearOperands = {false};
  return rule;
}

ShardingRule MaskBiasOp::getShardingRule() {
  return getElementwiseFromIntegers(getResult());
}

ShardingRule TargetMaskOp::getShardingRule() {
  return getElementwiseFromIntegers(getResult());
}

// The heads stay whole: each rank computes them all (an mp.alibi whose
// heads are split reads its slice).
ShardingRule AlibiSlopesOp::getShardingRule() {
  ShardingRule rule;
  rule.resultFactors = {{rule.addFactor(
      rankedType(getResult()).getDimSize(0), FactorKind::Replicated)}};
  return rule;
}

// Elementwise over the scores, the keys whole (the bias counts them from
// 0); the slopes follow the heads.
ShardingRule AlibiOp::getShardingRule() {
  RankedTensorType scores = rankedType(getScores());
  int64_t rank = scores.getRank();
  ShardingRule rule =
      ShardingRule::getElementwise(scores, 1, PartialRule::NonLinear);
  rule.factorKinds[rank - 1] = FactorKind::Replicated;
  rule.operandFactors.push_back({rule.operandFactors[0][rank - 3]});
  rule.linearOperands = {false, false};
  return rule;
}

// [p..., C] -> [p..., K]: block b of the last dim is the factor of extent K
// shared by both last dims (the major part of C), so a split of C into K
// pieces leaves each rank one block.
ShardingRule BlockMaxOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule = ShardingRule::getElementwise(rankedType(getResult()), 1,
                                                   PartialRule::NonLinear);
  // Padded pieces would join the maximum.
  rule.evenSplitFactors.push_back(input.getRank() - 1);
  rule.linearOperands = {false};
  return rule;
}

// [p..., C] and index [p...]: the last dim is contracted (a one-hot dot).
ShardingRule GatherLastOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule;
  SmallVector<int64_t> rows;
  for (int64_t extent : input.getShape().drop_back())
    rows.push_back(rule.addFactor(extent, FactorKind::Parallel));
  int64_t last = rule.addFactor(input.getShape().back(), FactorKind::Reduction);
  SmallVector<int64_t> x(rows);
  x.push_back(last);
  rule.operandFactors = {x, rows};
  rule.resultFactors = {rows};
  rule.partial = PartialRule::Multilinear;
  rule.linearOperands = {true, false};
  rule.indexOperands = {{1, last}};
  return rule;
}

// The counted dim stays whole, so that every rank counts from the op's
// start; the others split freely.
ShardingRule IotaOp::getShardingRule() {
  ShardingRule rule;
  SmallVector<int64_t> result;
  for (auto [dim, extent] :
       llvm::enumerate(rankedType(getResult()).getShape()))
    result.push_back(rule.addFactor(extent, dim == getDim()
                                                ? FactorKind::Replicated
                                                : FactorKind::Parallel));
  rule.resultFactors = {result};
  return rule;
}

// ids[p...] and table[vocab, dim]: the vocabulary is contracted (a one-hot
// product), so a split vocabulary leaves partial sums.
ShardingRule EmbeddingOp::getShardingRule() {
  ShardingRule rule;
  SmallVector<int64_t> ids;
  for (int64_t extent : rankedType(getIds()).getShape())
    ids.push_back(rule.addFactor(extent, FactorKind::Parallel));
  RankedTensorType table = rankedType(getTable());
  int64_t vocab = rule.addFactor(table.getDimSize(0), FactorKind::Reduction);
  int64_t dim = rule.addFactor(table.getDimSize(1), FactorKind::Parallel);
  SmallVector<int64_t> result(ids);
  result.push_back(dim);
  rule.operandFactors = {ids, {vocab, dim}};
  rule.resultFactors = {result};
  rule.partial = PartialRule::Multilinear;
  rule.linearOperands = {false, true};
  rule.indexOperands = {{0, vocab}};
  return rule;
}

namespace {
/// x[p..., d] normalized over d: the rows are parallel, d stays whole.
/// `weights` operands are [d]; `grads` more operands have x's shape.
ShardingRule getNormRule(RankedTensorType input, unsigned weights,
                         unsigned grads) {
  ShardingRule rule;
  SmallVector<int64_t> rows;
  for (int64_t extent : input.getShape().drop_back())
    rows.push_back(rule.addFactor(extent, FactorKind::Parallel));
  int64_t dim = rule.addFactor(input.getShape().back(), FactorKind::Replicated);
  rows.push_back(dim);
  rule.operandFactors.push_back(rows);
  rule.operandFactors.append(weights, {dim});
  rule.operandFactors.append(grads, rows);
  rule.resultFactors = {rows};
  return rule;
}
} // namespace

ShardingRule RmsNormOp::getShardingRule() {
  ShardingRule rule = getNormRule(rankedType(getInput()), 1, 0);
  rule.linearOperands = {false, false};
  return rule;
}

ShardingRule LayerNormOp::getShardingRule() {
  ShardingRule rule = getNormRule(rankedType(getInput()), 2, 0);
  rule.linearOperands = {false, false, false};
  return rule;
}

// Every dim but the last of the input is parallel; the last stays whole,
// and with a causal mask (which compares positions) the one before it too.
ShardingRule SoftmaxOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule =
      ShardingRule::getElementwise(input, 1, PartialRule::NonLinear);
  int64_t rank = input.getRank();
  rule.factorKinds[rank - 1] = FactorKind::Replicated;
  if (getCausal())
    rule.factorKinds[rank - 2] = FactorKind::Replicated;
  rule.linearOperands = {false};
  return rule;
}

namespace {
/// Attention over q [b..., sq, d], k [b..., sk, d], v [b..., sk, dv]: the
/// leading dims are parallel; the keys, d and dv stay whole (a split
/// would leave partial scores under a softmax, or a partial softmax), and
/// so do the query rows where `wholeQueries` (a causal mask compares
/// positions; the key gradients sum over the rows).
ShardingRule getAttentionRule(RankedTensorType query, RankedTensorType key,
                              RankedTensorType value, bool wholeQueries) {
  ShardingRule rule;
  SmallVector<int64_t> batch;
  int64_t rank = query.getRank();
  for (auto [dim, extent] : llvm::enumerate(query.getShape().drop_back(2))) {
    // Grouped-query attention: query heads h read key head h / group, so a
    // split of the key heads is a split of the query heads in as many
    // blocks (as a reshape's merged dims share their major factor).
    int64_t kvExtent = key.getDimSize(dim);
    batch.push_back(rule.addFactor(kvExtent, FactorKind::Parallel));
    if (kvExtent != extent)
      rule.evenSplitFactors.push_back(batch.back());
  }
  int64_t sq = rule.addFactor(query.getDimSize(rank - 2),
                              wholeQueries ? FactorKind::Replicated
                                           : FactorKind::Parallel);
  int64_t sk = rule.addFactor(key.getDimSize(rank - 2), FactorKind::Replicated);
  int64_t d =
      rule.addFactor(query.getDimSize(rank - 1), FactorKind::Replicated);
  int64_t dv =
      rule.addFactor(value.getDimSize(rank - 1), FactorKind::Replicated);
  auto withBatch = [&](std::initializer_list<int64_t> last) {
    SmallVector<int64_t> factors(batch);
    factors.append(last);
    return factors;
  };
  rule.operandFactors = {withBatch({sq, d}), withBatch({sk, d}),
                         withBatch({sk, dv})};
  // The output and the rows' log-sum-exp.
  rule.resultFactors = {withBatch({sq, dv}), withBatch({sq})};
  return rule;
}

/// ALiBi's slopes, one per query head (the query's dim before the
/// sequence), as the rule's last operand: split as the heads.
void appendAlibiSlopes(ShardingRule &rule, Value slopes) {
  if (slopes)
    rule.operandFactors.push_back(
        {rule.operandFactors[0][rule.operandFactors[0].size() - 3]});
}
} // namespace

// The output is linear in v (p · v), but the log-sum-exp is not a sum
// over v's pieces: a partial v is summed first.
ShardingRule AttentionOp::getShardingRule() {
  ShardingRule rule =
      getAttentionRule(rankedType(getQuery()), rankedType(getKey()),
                       rankedType(getValue()), getCausal());
  appendAlibiSlopes(rule, getAlibiSlopes());
  return rule;
}

// [..., seq, heads, head_dim]: a rotation by the absolute position, of pairs
// of head_dim entries, linear in the input.
ShardingRule RopeOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule =
      ShardingRule::getElementwise(input, 1, PartialRule::Additive);
  int64_t rank = input.getRank();
  rule.factorKinds[rank - 3] = FactorKind::Replicated;
  rule.factorKinds[rank - 1] = FactorKind::Replicated;
  return rule;
}

} // namespace mp

//===----------------------------------------------------------------------===//
// Training ops
//===----------------------------------------------------------------------===//

namespace mp {

ShardingRule StepOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

ShardingRule ClampMaskOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

// The repeated dims exist only in the result; splitting them makes each
// rank materialize only its piece of the repetition.
ShardingRule BroadcastOp::getShardingRule() {
  RankedTensorType result = rankedType(getResult());
  ShardingRule rule;
  SmallVector<int64_t> in, out;
  for (auto [dim, extent] : llvm::enumerate(result.getShape())) {
    int64_t factor = rule.addFactor(extent, FactorKind::Parallel);
    out.push_back(factor);
    if (!llvm::is_contained(getDims(), static_cast<int64_t>(dim)))
      in.push_back(factor);
  }
  rule.operandFactors = {in};
  rule.resultFactors = {out};
  rule.partial = PartialRule::Additive;
  rule.linearOperands = {true};
  return rule;
}

/// dy · f'(x): linear in the gradient (a partial one stays partial), not in
/// the input.
static ShardingRule getActivationGradRule(Operation *op) {
  ShardingRule rule = ShardingRule::getElementwise(rankedType(op->getResult(0)),
                                                   2, PartialRule::Multilinear);
  rule.linearOperands = {true, false};
  return rule;
}

ShardingRule GeluGradOp::getShardingRule() {
  return getActivationGradRule(*this);
}

ShardingRule SiluGradOp::getShardingRule() {
  return getActivationGradRule(*this);
}

/// silu(gate) · up: linear in up only.
ShardingRule SwigluOp::getShardingRule() {
  ShardingRule rule = ShardingRule::getElementwise(rankedType(getResult()), 2,
                                                   PartialRule::Multilinear);
  rule.linearOperands = {false, true};
  return rule;
}

/// Both gradients are linear in the incoming gradient (and gate_grad in up
/// too, which up_grad does not read): a partial gradient stays partial.
ShardingRule SwigluGradOp::getShardingRule() {
  ShardingRule rule = ShardingRule::getElementwise(rankedType(getGrad()), 3,
                                                   PartialRule::Multilinear);
  rule.resultFactors.push_back(rule.resultFactors.front());
  rule.linearOperands = {true, false, false};
  return rule;
}

ShardingRule CrossEntropyGradOp::getShardingRule() {
  RankedTensorType input = rankedType(getInput());
  ShardingRule rule;
  SmallVector<int64_t> samples;
  for (int64_t extent : input.getShape().drop_back())
    samples.push_back(rule.addFactor(extent, FactorKind::Parallel));
  SmallVector<int64_t> logits(samples);
  logits.push_back(
      rule.addFactor(input.getShape().back(), FactorKind::Replicated));
  rule.operandFactors = {logits, samples, {}};
  rule.resultFactors = {logits};
  rule.partial = PartialRule::Multilinear;
  rule.linearOperands = {false, false, true};
  return rule;
}

// Every dim is summed; squares are not linear in a partial input.
ShardingRule SquaredNormOp::getShardingRule() {
  ShardingRule rule;
  SmallVector<int64_t> dims;
  for (int64_t extent : rankedType(getInput()).getShape())
    dims.push_back(rule.addFactor(extent, FactorKind::Reduction));
  rule.operandFactors = {dims};
  rule.resultFactors = {{}};
  rule.linearOperands = {false};
  return rule;
}

ShardingRule ClipCoefficientOp::getShardingRule() {
  return ShardingRule::getElementwise(rankedType(getResult()), 1,
                                      PartialRule::NonLinear);
}

namespace {
/// An optimizer update: every tensor operand and result shares one factor
/// per dim, except rank-0 operands (the step count), which have none. The
/// gradient must be whole (reduced) before the update.
ShardingRule getOptimizerRule(Operation *op) {
  auto type = cast<RankedTensorType>(op->getOperand(0).getType());
  ShardingRule rule =
      ShardingRule::getElementwise(type, 0, PartialRule::NonLinear);
  SmallVector<int64_t> dims = rule.resultFactors.front();
  rule.resultFactors.assign(op->getNumResults(), dims);
  for (Value operand : op->getOperands())
    rule.operandFactors.push_back(
        cast<RankedTensorType>(operand.getType()).getRank() == 0
            ? SmallVector<int64_t>()
            : dims);
  rule.linearOperands.assign(op->getNumOperands(), false);
  rule.pullsOperands = false;
  return rule;
}
} // namespace

ShardingRule SgdOp::getShardingRule() { return getOptimizerRule(*this); }
ShardingRule SgdMomentumOp::getShardingRule() {
  return getOptimizerRule(*this);
}
ShardingRule AdamWOp::getShardingRule() { return getOptimizerRule(*this); }

// ids[p...] and grad[p..., dim] summed into rows of [vocab, dim] laid out
// as the table: the ids' dims are contracted.
ShardingRule EmbeddingGradOp::getShardingRule() {
  ShardingRule rule;
  SmallVector<int64_t> ids;
  for (int64_t extent : rankedType(getIds()).getShape())
    ids.push_back(rule.addFactor(extent, FactorKind::Reduction));
  RankedTensorType table = rankedType(getTable());
  int64_t vocab = rule.addFactor(table.getDimSize(0), FactorKind::Parallel);
  int64_t dim = rule.addFactor(table.getDimSize(1), FactorKind::Parallel);
  SmallVector<int64_t> grad(ids);
  grad.push_back(dim);
  rule.operandFactors = {ids, grad, {vocab, dim}};
  rule.resultFactors = {{vocab, dim}};
  rule.partial = PartialRule::Multilinear;
  rule.linearOperands = {false, true, false};
  rule.indexOperands = {{0, vocab}};
  return rule;
}

namespace {
/// A norm's input gradient from its input, `weights` and output gradient
/// `grad`: linear in `grad` (unless a 16-bit type rounds it), not
/// propagated so.
ShardingRule getNormInputGradRule(RankedTensorType input, unsigned weights,
                                  Value grad) {
  ShardingRule rule = getNormRule(input, weights, 1);
  rule.linearOperands.assign(weights + 1, false);
  rule.linearOperands.push_back(true);
  Type element = getElementTypeOrSelf(grad);
  if (element.isF32() || element.isF64())
    rule.partial = PartialRule::Multilinear;
  rule.propagatesPartials = false;
  return rule;
}
} // namespace

ShardingRule RmsNormGradOp::getShardingRule() {
  return getNormInputGradRule(rankedType(getInput()), 1, getGrad());
}

namespace {
/// A norm's parameter gradients from its input and output gradient: the
/// rows are summed into `numResults` results over the normalized dim.
ShardingRule getNormParamGradRule(RankedTensorType input, unsigned numResults) {
  ShardingRule rule = getNormRule(input, 0, 1);
  for (int64_t factor = 0; factor + 1 < rule.getNumFactors(); ++factor)
    rule.factorKinds[factor] = FactorKind::Reduction;
  int64_t dim = rule.getNumFactors() - 1;
  rule.resultFactors.assign(numResults, {dim});
  rule.partial = PartialRule::Multilinear;
  rule.linearOperands = {false, true};
  return rule;
}
} // namespace

ShardingRule RmsNormWeightGradOp::getShardingRule() {
  return getNormParamGradRule(rankedType(getInput()), 1);
}

ShardingRule LayerNormGradOp::getShardingRule() {
  return getNormInputGradRule(rankedType(getInput()), 1, getGrad());
}

// The weight's and the bias' gradients share the normalized dim.
ShardingRule LayerNormWeightGradOp::getShardingRule() {
  return getNormParamGradRule(rankedType(getInput()), 2);
}

ShardingRule SoftmaxGradOp::getShardingRule() {
  RankedTensorType type = rankedType(getResult());
  ShardingRule rule =
      ShardingRule::getElementwise(type, 2, PartialRule::Multilinear);
  rule.factorKinds[type.getRank() - 1] = FactorKind::Replicated;
  rule.linearOperands = {false, true};
  return rule;
}

// Every gradient is linear in `grad` (unless bf16 rounds it): D is
// Σ grad · output.
ShardingRule AttentionGradOp::getShardingRule() {
  ShardingRule rule =
      getAttentionRule(rankedType(getQuery()), rankedType(getKey()),
                       rankedType(getValue()), /*wholeQueries=*/true);
  // q, k, v, the forward pass's output and log-sum-exp, and grad.
  SmallVector<int64_t> output = rule.resultFactors[0];
  rule.operandFactors.append(rule.resultFactors);
  rule.operandFactors.push_back(output);
  rule.resultFactors.assign(rule.operandFactors.begin(),
                            rule.operandFactors.begin() + 3);
  appendAlibiSlopes(rule, getAlibiSlopes());
  rule.partial = getGemmPartialRule(getEffectivePrecision());
  rule.linearOperands = {false, false, false, false, false, true};
  if (getAlibiSlopes())
    rule.linearOperands.push_back(false);
  return rule;
}

// index [p...] and grad [p...] into [p..., C] laid out as `like`.
ShardingRule ScatterLastOp::getShardingRule() {
  RankedTensorType like = rankedType(getLike());
  ShardingRule rule;
  SmallVector<int64_t> rows;
  for (int64_t extent : like.getShape().drop_back())
    rows.push_back(rule.addFactor(extent, FactorKind::Parallel));
  int64_t last = rule.addFactor(like.getShape().back(), FactorKind::Parallel);
  SmallVector<int64_t> full(rows);
  full.push_back(last);
  rule.operandFactors = {rows, rows, full};
  rule.resultFactors = {full};
  rule.partial = PartialRule::Multilinear;
  rule.linearOperands = {false, true, false};
  rule.indexOperands = {{0, last}};
  return rule;
}

} // namespace mp
