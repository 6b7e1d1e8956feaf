//===- Interpreter.cpp - a reference interpreter for mp programs ----------===//

#include "mp/Execution/Interpreter.h"

#include "Tensor.h"

#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"
#include "mp_runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <unistd.h>

using namespace mlir;
using namespace mp::execution;

namespace mp {
namespace {

using Env = llvm::DenseMap<Value, HostTensor>;

SmallVector<int64_t> shapeOf(Value value) {
  return SmallVector<int64_t>(
      cast<RankedTensorType>(value.getType()).getShape());
}

HostTensor map1(const HostTensor &a, llvm::function_ref<double(double)> f) {
  HostTensor out{a.shape, a.data};
  for (double &v : out.data)
    v = f(v);
  return out;
}

HostTensor map2(const HostTensor &a, const HostTensor &b,
                llvm::function_ref<double(double, double)> f) {
  HostTensor out{a.shape, a.data};
  for (size_t i = 0; i < out.data.size(); ++i)
    out.data[i] = f(a.data[i], b.data[i]);
  return out;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

/// torch.clamp's min(max(x, lower), upper): a NaN stays NaN.
double clamp(double x, double lower, double upper) {
  return x < lower ? lower : (x > upper ? upper : x);
}

double siluDerivative(double x) {
  double s = sigmoid(x);
  return s * (1 + x * (1 - s));
}

constexpr double kSqrt2OverPi = 0.7978845608028654;

double gelu(double x, bool tanhForm) {
  if (tanhForm)
    return 0.5 * x * (1 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

double geluDerivative(double x, bool tanhForm) {
  if (tanhForm) {
    double inner = kSqrt2OverPi * (x + 0.044715 * x * x * x);
    double t = std::tanh(inner);
    return 0.5 * (1 + t) +
           0.5 * x * (1 - t * t) * kSqrt2OverPi * (1 + 3 * 0.044715 * x * x);
  }
  double cdf = 0.5 * (1 + std::erf(x / std::sqrt(2.0)));
  double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
  return cdf + x * pdf;
}

/// Batched row-major product: a [B, m, k] · b [B or 1, k, n].
HostTensor batchedMatmul(const HostTensor &a, const HostTensor &b,
                         int64_t batch, int64_t m, int64_t k, int64_t n,
                         bool sharedRhs, SmallVector<int64_t> shape) {
  HostTensor out = HostTensor::zeros(shape);
  for (int64_t p = 0; p < batch; ++p) {
    const double *lhs = a.data.data() + p * m * k;
    const double *rhs = b.data.data() + (sharedRhs ? 0 : p * k * n);
    double *res = out.data.data() + p * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t l = 0; l < k; ++l)
        for (int64_t j = 0; j < n; ++j)
          res[i * n + j] += lhs[i * k + l] * rhs[l * n + j];
  }
  return out;
}

/// `value` rounded to `from`'s semantics, then to `to`'s (to nearest, ties
/// to even).
double roundThrough(double value, const llvm::fltSemantics &from,
                    const llvm::fltSemantics &to) {
  bool losesInfo;
  llvm::APFloat rounded(value);
  rounded.convert(from, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  rounded.convert(to, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  return rounded.convertToDouble();
}

/// `in`, of element type `from`, in element type `to`: each value as the
/// `from` it stands for (the interpreter carries every float in double),
/// rounded to `to` (nearest, ties to even).
HostTensor convertTo(const HostTensor &in, FloatType from, FloatType to) {
  HostTensor out = in;
  for (double &value : out.data)
    value =
        roundThrough(value, from.getFloatSemantics(), to.getFloatSemantics());
  return out;
}

/// A GEMM operand as the GEMM's precision reads it: a bf16 GEMM rounds its
/// float32 operands to bfloat16; the others read them as they are (tf32 is
/// allowed to round, not required to).
HostTensor operandIn(const HostTensor &in, Value operand, Precision precision) {
  if (precision != Precision::bf16)
    return in;
  auto from = cast<FloatType>(getElementTypeOrSelf(operand.getType()));
  return convertTo(in, from, BFloat16Type::get(operand.getContext()));
}

HostTensor transpose(const HostTensor &in, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape;
  for (int64_t d : perm)
    shape.push_back(in.shape[d]);
  HostTensor out = HostTensor::zeros(shape);
  SmallVector<int64_t> inStrides = getStrides(in.shape);
  SmallVector<int64_t> outStrides = getStrides(shape);
  for (int64_t i = 0; i < out.getNumElements(); ++i) {
    int64_t rest = i, source = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t coord = rest / outStrides[d];
      rest %= outStrides[d];
      source += coord * inStrides[perm[d]];
    }
    out.data[i] = in.data[source];
  }
  return out;
}

/// Sums `in` over `dims` (sorted), dropping them.
HostTensor reduceSum(const HostTensor &in, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> shape;
  for (auto [d, extent] : llvm::enumerate(in.shape))
    if (!llvm::is_contained(dims, static_cast<int64_t>(d)))
      shape.push_back(extent);
  HostTensor out = HostTensor::zeros(shape);
  SmallVector<int64_t> strides = getStrides(in.shape);
  for (int64_t i = 0; i < in.getNumElements(); ++i)
    out.data[indexWithoutDims(in.shape, strides, dims, i)] += in.data[i];
  return out;
}

/// Repeats `in` along the result dims `dims` up to `shape`.
HostTensor broadcast(const HostTensor &in, ArrayRef<int64_t> dims,
                     ArrayRef<int64_t> shape) {
  HostTensor out = HostTensor::zeros(shape);
  SmallVector<int64_t> strides = getStrides(shape);
  for (int64_t i = 0; i < out.getNumElements(); ++i)
    out.data[i] = in.data[indexWithoutDims(shape, strides, dims, i)];
  return out;
}

/// Whether sample `row`'s target is `ignoreIndex`.
bool isIgnored(const HostTensor &target, int64_t row,
               std::optional<int64_t> ignoreIndex) {
  return ignoreIndex && int64_t(target.data[row]) == *ignoreIndex;
}

/// Per-sample logsumexp(x) - x[target] and softmax, over the last dim; the
/// samples whose target is `ignoreIndex` are skipped (softmax left as is).
LogicalResult crossEntropyRows(Operation *op, const HostTensor &logits,
                               const HostTensor &target,
                               std::optional<int64_t> ignoreIndex,
                               std::vector<double> *losses,
                               HostTensor *softmax) {
  int64_t classes = logits.shape.back();
  int64_t rows = logits.getNumElements() / classes;
  for (int64_t r = 0; r < rows; ++r)
    if (!isIgnored(target, r, ignoreIndex) &&
        (target.data[r] < 0 || target.data[r] >= classes))
      return op->emitError()
             << "target " << int64_t(target.data[r]) << " of sample " << r
             << " is not a class in [0, " << classes << ")";
  for (int64_t r = 0; r < rows; ++r) {
    if (isIgnored(target, r, ignoreIndex))
      continue;
    const double *x = logits.data.data() + r * classes;
    double top = x[0];
    for (int64_t c = 1; c < classes; ++c)
      top = std::max(top, x[c]);
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c)
      sum += std::exp(x[c] - top);
    int64_t label = static_cast<int64_t>(target.data[r]);
    if (losses)
      losses->push_back(top + std::log(sum) - x[label]);
    if (softmax)
      for (int64_t c = 0; c < classes; ++c)
        softmax->data[r * classes + c] = std::exp(x[c] - top) / sum;
  }
  return success();
}

/// The entry each id picks among `count` (table rows, classes), checked;
/// -1 for the negative ids, which pick nothing.
FailureOr<std::vector<int64_t>>
pickedEntries(Operation *op, const HostTensor &ids, int64_t count) {
  std::vector<int64_t> rows;
  for (auto [index, id] : llvm::enumerate(ids.data)) {
    if (id >= count)
      return op->emitError() << "id " << int64_t(id) << " at index " << index
                             << " is not below " << count;
    rows.push_back(id < 0 ? -1 : int64_t(id));
  }
  return rows;
}

/// Each row of the last dim times rsqrt(mean(x²) + eps).
std::vector<double> rmsFactors(const HostTensor &x, double eps) {
  int64_t dim = x.shape.back();
  std::vector<double> factors;
  for (int64_t r = 0; r < x.getNumElements() / std::max<int64_t>(dim, 1); ++r) {
    double sumSquares = 0;
    for (int64_t j = 0; j < dim; ++j)
      sumSquares += x.data[r * dim + j] * x.data[r * dim + j];
    factors.push_back(1 / std::sqrt(sumSquares / double(dim) + eps));
  }
  return factors;
}

/// LayerNorm's x̂ = (x - mean) · rstd over each row of the last dim, with
/// rstd = 1 / sqrt(var + eps) (biased variance), which goes to `rstd`.
HostTensor layerNormRows(const HostTensor &x, double eps,
                         std::vector<double> &rstd) {
  HostTensor xhat = x;
  int64_t dim = x.shape.back();
  for (int64_t r = 0; r < x.getNumElements() / std::max<int64_t>(dim, 1); ++r) {
    double *row = xhat.data.data() + r * dim;
    double sum = 0, squares = 0;
    for (int64_t j = 0; j < dim; ++j)
      sum += row[j];
    double mean = sum / double(dim);
    for (int64_t j = 0; j < dim; ++j)
      squares += (row[j] - mean) * (row[j] - mean);
    rstd.push_back(1 / std::sqrt(squares / double(dim) + eps));
    for (int64_t j = 0; j < dim; ++j)
      row[j] = (row[j] - mean) * rstd.back();
  }
  return xhat;
}

/// The entries [first, end) of row `r` of x [..., sq, sk] that a causal mask
/// and a sliding `window` (0: none) leave (all without a mask); the others
/// are masked.
std::pair<int64_t, int64_t> getVisibleColumns(const HostTensor &x, int64_t r,
                                              bool causal, int64_t window) {
  int64_t cols = x.shape.back();
  if (!causal)
    return {0, cols};
  int64_t queries = x.shape[x.shape.size() - 2];
  int64_t end = std::clamp<int64_t>(r % queries + cols - queries + 1, 0, cols);
  return {window ? std::max<int64_t>(end - window, 0) : 0, end};
}

/// mp.softmax over each row's visible entries.
HostTensor softmaxRows(const HostTensor &x, bool causal, int64_t window) {
  HostTensor out = HostTensor::zeros(x.shape);
  int64_t cols = x.shape.back();
  for (int64_t r = 0; cols && r < x.getNumElements() / cols; ++r) {
    auto [first, end] = getVisibleColumns(x, r, causal, window);
    if (first == end)
      continue;
    const double *row = x.data.data() + r * cols;
    double top = *std::max_element(row + first, row + end);
    double sum = 0;
    for (int64_t c = first; c < end; ++c)
      sum += std::exp(row[c] - top);
    for (int64_t c = first; c < end; ++c)
      out.data[r * cols + c] = std::exp(row[c] - top) / sum;
  }
  return out;
}

/// log Σ exp over each row's visible entries of x [..., sq, sk], as
/// [..., sq]; -inf for a row with none.
HostTensor logSumExpRows(const HostTensor &x, bool causal, int64_t window) {
  int64_t cols = x.shape.back();
  HostTensor out = HostTensor::zeros(ArrayRef(x.shape).drop_back());
  for (int64_t r = 0; r < out.getNumElements(); ++r) {
    auto [first, end] = getVisibleColumns(x, r, causal, window);
    const double *row = x.data.data() + r * cols;
    double top = first < end ? *std::max_element(row + first, row + end)
                             : -INFINITY,
           sum = 0;
    for (int64_t c = first; c < end; ++c)
      sum += std::exp(row[c] - top);
    out.data[r] = first < end ? top + std::log(sum) : -INFINITY;
  }
  return out;
}

/// mp.softmax_grad: y · (g - sum(g · y)) over the last dim.
HostTensor softmaxGradRows(const HostTensor &y, const HostTensor &g) {
  HostTensor out = HostTensor::zeros(y.shape);
  int64_t cols = y.shape.back();
  for (int64_t r = 0; cols && r < y.getNumElements() / cols; ++r) {
    double dot = 0;
    for (int64_t c = 0; c < cols; ++c)
      dot += g.data[r * cols + c] * y.data[r * cols + c];
    for (int64_t c = 0; c < cols; ++c)
      out.data[r * cols + c] =
          y.data[r * cols + c] * (g.data[r * cols + c] - dot);
  }
  return out;
}

/// mp.alibi: scores [..., heads, q, k] plus slopes[h] · k, in place; with
/// `bf16Bias`, Falcon's bias: the float32 slope and key each rounded to
/// bfloat16, then their product.
void addAlibi(HostTensor &scores, const HostTensor &slopes, bool bf16Bias) {
  ArrayRef<int64_t> shape = scores.shape;
  int64_t keys = shape.back(), queries = shape.end()[-2],
          heads = shape.end()[-3];
  auto bfloat16 = [](double value) {
    return roundThrough(value, llvm::APFloat::IEEEsingle(),
                        llvm::APFloat::BFloat());
  };
  for (int64_t i = 0; i < scores.getNumElements(); ++i) {
    double slope = slopes.data[i / keys / queries % heads], key = i % keys;
    scores.data[i] +=
        bf16Bias ? bfloat16(bfloat16(slope) * bfloat16(key)) : slope * key;
  }
}

/// mp.attention's and mp.attention_grad's operands as their GEMMs read
/// them, and the products they are made of, whole (the chunks change only
/// the order of the key gradients' sums, which the interpreter's double
/// precision does not see).
struct AttentionOperands {
  template <typename OpTy>
  AttentionOperands(OpTy op, const HostTensor &q, const HostTensor &k,
                    const HostTensor &v, const HostTensor *alibiSlopes)
      : precision(op.getEffectivePrecision()),
        f32(Float32Type::get(op.getContext())),
        bf16(BFloat16Type::get(op.getContext())),
        group(q.shape.size() >= 3 ? q.shape.end()[-3] / k.shape.end()[-3] : 1),
        query(asGemmOperand(q)), key(repeatHeads(asGemmOperand(k))),
        value(repeatHeads(asGemmOperand(v))),
        scale(op.getScale().convertToDouble()),
        softcap(op.getSoftcap() ? op.getSoftcap()->convertToDouble() : 0),
        causal(op.getCausal()), window(op.getWindow().value_or(0)),
        alibiSlopes(alibiSlopes ? std::optional(*alibiSlopes) : std::nullopt),
        alibiBf16(op.getAlibiBf16()) {}

  /// Grouped-query attention's keys or values, [..., heads / group, s, e],
  /// as [..., heads, s, e]: head h is head h / group.
  HostTensor repeatHeads(const HostTensor &t) const {
    if (group == 1)
      return t;
    SmallVector<int64_t> shape(t.shape);
    shape.end()[-3] *= group;
    HostTensor out = HostTensor::zeros(shape);
    int64_t heads = shape.end()[-3], inner = shape.end()[-2] * shape.back();
    for (int64_t i = 0; i < out.getNumElements(); ++i) {
      int64_t outer = i / inner / heads, head = i / inner % heads;
      out.data[i] =
          t.data[(outer * (heads / group) + head / group) * inner + i % inner];
    }
    return out;
  }
  /// The gradient of repeatHeads: each key head sums its group's.
  HostTensor sumHeads(const HostTensor &t) const {
    if (group == 1)
      return t;
    SmallVector<int64_t> shape(t.shape);
    shape.end()[-3] /= group;
    HostTensor out = HostTensor::zeros(shape);
    int64_t heads = t.shape.end()[-3], inner = shape.end()[-2] * shape.back();
    for (int64_t i = 0; i < t.getNumElements(); ++i) {
      int64_t outer = i / inner / heads, head = i / inner % heads;
      out.data[(outer * (heads / group) + head / group) * inner + i % inner] +=
          t.data[i];
    }
    return out;
  }

  /// A float32 tensor as a GEMM of `precision` reads it.
  HostTensor asGemmOperand(const HostTensor &t) const {
    return precision == Precision::bf16 ? convertTo(t, f32, bf16) : t;
  }
  /// `t` with its last two dims swapped.
  static HostTensor transposed(const HostTensor &t) {
    SmallVector<int64_t> perm =
        llvm::to_vector(llvm::seq<int64_t>(0, t.shape.size()));
    std::swap(perm[perm.size() - 2], perm[perm.size() - 1]);
    return transpose(t, perm);
  }
  /// The batched product a · b of [..., m, k] and [..., k, n] as `shape`.
  static HostTensor product(const HostTensor &a, const HostTensor &b,
                            ArrayRef<int64_t> shape) {
    size_t rank = a.shape.size();
    int64_t m = a.shape[rank - 2], k = a.shape[rank - 1], n = b.shape.back();
    return batchedMatmul(a, b, a.getNumElements() / std::max<int64_t>(m * k, 1),
                         m, k, n, false, SmallVector<int64_t>(shape));
  }
  /// [..., sq, sk].
  SmallVector<int64_t> getScoresShape() const {
    SmallVector<int64_t> shape(query.shape);
    shape.back() = key.shape[key.shape.size() - 2];
    return shape;
  }
  /// The softmax's input: t = scale · q · kᵀ, capped to
  /// softcap · tanh(t / softcap) under a soft cap, plus ALiBi's
  /// slopes[h] · k with its slopes; Falcon's bfloat16 bias goes on
  /// q · kᵀ before the scale.
  HostTensor logits() const {
    HostTensor scores = product(query, transposed(key), getScoresShape());
    if (alibiBf16)
      addAlibi(scores, *alibiSlopes, /*bf16Bias=*/true);
    scores = map1(scores, [&](double x) {
      return softcap ? softcap * std::tanh(x * scale / softcap) : x * scale;
    });
    if (alibiSlopes && !alibiBf16)
      addAlibi(scores, *alibiSlopes, /*bf16Bias=*/false);
    return scores;
  }
  /// The cap's slope at the logits: 1 - (t / softcap)², 1 without a cap.
  HostTensor capSlopes(const HostTensor &logits) const {
    return map1(logits, [&](double t) {
      return softcap ? 1 - (t / softcap) * (t / softcap) : 1;
    });
  }
  /// exp(logits - lse) for the rows' log-sum-exp `lse`: the
  /// probabilities, masked as mp.softmax causal (window) masks.
  HostTensor probabilities(HostTensor p, const HostTensor &lse) const {
    int64_t cols = p.shape.back();
    for (int64_t r = 0; r < lse.getNumElements(); ++r) {
      auto [first, end] = getVisibleColumns(p, r, causal, window);
      for (int64_t c = 0; c < cols; ++c) {
        double &entry = p.data[r * cols + c];
        entry = first <= c && c < end ? std::exp(entry - lse.data[r]) : 0;
      }
    }
    return p;
  }

  Precision precision;
  FloatType f32, bf16;
  int64_t group;
  HostTensor query, key, value;
  double scale, softcap;
  bool causal;
  int64_t window;
  /// ALiBi's slopes, if any (a copy: set() may move the operands' storage).
  std::optional<HostTensor> alibiSlopes;
  /// Whether their bias is Falcon's (bf16_bias).
  bool alibiBf16;
};

/// The frequency of pair i: theta^(-2i / rotaryDims), scaled as Llama 3.1's
/// apply_scaling does when `llama3` holds [factor, low_freq_factor,
/// high_freq_factor, original_context] (a factor of 1 scales nothing).
double getLlama3Frequency(int64_t i, int64_t rotaryDims, double theta,
                          std::optional<ArrayRef<double>> llama3) {
  double frequency = std::pow(theta, -2.0 * i / double(rotaryDims));
  if (!llama3 || (*llama3)[0] == 1)
    return frequency;
  double factor = (*llama3)[0], low = (*llama3)[1], high = (*llama3)[2],
         context = (*llama3)[3];
  double wavelength = 2 * M_PI / frequency;
  if (wavelength < context / high)
    return frequency;
  if (wavelength > context / low)
    return frequency / factor;
  double smooth = (context / wavelength - low) / (high - low);
  return (1 - smooth) * frequency / factor + smooth * frequency;
}

/// torchtitan's apply_rotary_emb on [..., seq, heads, head_dim] as `rope`
/// says: the first rotary_dims entries of each head at the frequencies of
/// rotary_dims (then divided by linear_scaling and the pair's longrope
/// factor), cos and sin times the attention factor; the others unchanged.
HostTensor rotate(const HostTensor &x, RopeOp rope) {
  HostTensor out = x;
  size_t rank = x.shape.size();
  int64_t seq = x.shape[rank - 3], heads = x.shape[rank - 2],
          headDim = x.shape[rank - 1];
  int64_t rotaryDims = rope.getEffectiveRotaryDims();
  double theta = rope.getTheta().convertToDouble(),
         linear = rope.getLinearScaling().convertToDouble(),
         amplitude = rope.getAttentionFactor().convertToDouble();
  std::optional<ArrayRef<double>> longrope = rope.getLongropeFactors();
  // Each pair's frequency, shared by every row.
  SmallVector<double> frequencies;
  for (int64_t i = 0; i < rotaryDims / 2; ++i)
    frequencies.push_back(
        getLlama3Frequency(i, rotaryDims, theta, rope.getLlama3Scaling()));
  int64_t rows = x.getNumElements() / std::max<int64_t>(headDim, 1);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t position = (r / heads) % seq;
    for (int64_t i = 0; i < rotaryDims / 2; ++i) {
      double angle = position * frequencies[i] / linear /
                     (longrope ? (*longrope)[i] : 1);
      double c = amplitude * std::cos(angle),
             s = amplitude *
                 (rope.getInverse() ? -std::sin(angle) : std::sin(angle));
      double a = x.data[r * headDim + 2 * i],
             b = x.data[r * headDim + 2 * i + 1];
      out.data[r * headDim + 2 * i] = a * c - b * s;
      out.data[r * headDim + 2 * i + 1] = a * s + b * c;
    }
  }
  return out;
}

HostTensor scalar(double value) {
  HostTensor out = HostTensor::zeros({});
  out.data[0] = value;
  return out;
}

/// A float32 computation's results held in bfloat16 (mayWriteBFloat16):
/// the float32 values, rounded as mp.convert rounds them. (Its bfloat16
/// operands are read as they are: widening is exact.)
void roundBFloat16Results(Operation *op, Env &env) {
  auto f32 = Float32Type::get(op->getContext());
  auto bf16 = BFloat16Type::get(op->getContext());
  for (OpResult result : op->getResults())
    if (getElementTypeOrSelf(result).isBF16() && mayWriteBFloat16(result))
      env[result] = convertTo(env[result], f32, bf16);
}

class Executor {
public:
  Executor(FunctionOpInterface func) : func(func) {}
  FailureOr<std::vector<HostTensor>> run(ArrayRef<HostTensor> args,
                                         double replicaTolerance);

private:
  LogicalResult runLocal(Operation *op, Env &env);
  LogicalResult runCollective(CollectiveOpInterface op);
  LogicalResult runZeroPadding(ZeroPaddingOp op);
  LogicalResult runLocalizeIndex(LocalizeIndexOp op);
  /// Where a rank's piece of a split value lies in the global one.
  struct Piece {
    SmallVector<int64_t> shape, offsets, valids;
  };
  Piece getPiece(int rank, ShardingAttr sharding,
                 ArrayRef<int64_t> globalShape);
  SmallVector<int64_t> getAxisSizes(ArrayRef<StringRef> axes);
  SmallVector<int64_t> getCoordinates(int rank, ArrayRef<StringRef> axes);
  /// The members of each group of `axes`, by group index.
  SmallVector<SmallVector<int>> getGroups(ArrayAttr axes);
  int64_t getPieceIndex(int rank, ArrayRef<StringRef> axes);
  int64_t getAxisSize(StringRef axis) { return mesh.getAxisSize(axis); }
  int64_t getCoordinate(int rank, StringRef axis) {
    return coordinates[rank][*mesh.getAxisIndex(axis)];
  }

  FunctionOpInterface func;
  MeshAttr mesh;
  int numRanks = 1;
  SmallVector<SmallVector<int64_t>> coordinates;
  std::vector<Env> envs;
};

int64_t Executor::getPieceIndex(int rank, ArrayRef<StringRef> axes) {
  int64_t index = 0;
  for (StringRef axis : axes)
    index = index * getAxisSize(axis) + getCoordinate(rank, axis);
  return index;
}

SmallVector<SmallVector<int>> Executor::getGroups(ArrayAttr axesAttr) {
  SmallVector<StringRef> axes = getAxisNames(axesAttr);
  int64_t size = 1;
  for (StringRef axis : axes)
    size *= getAxisSize(axis);
  // Key a group by the coordinates off its axes.
  std::map<SmallVector<int64_t>, SmallVector<int>> groups;
  for (int rank = 0; rank < numRanks; ++rank) {
    SmallVector<int64_t> key;
    for (auto [index, axis] : llvm::enumerate(mesh.getAxisNames()))
      key.push_back(llvm::is_contained(axes, axis.getValue())
                        ? -1
                        : coordinates[rank][index]);
    auto &members = groups[key];
    members.resize(size, -1);
    members[getPieceIndex(rank, axes)] = rank;
  }
  SmallVector<SmallVector<int>> result;
  for (auto &[key, members] : groups)
    result.push_back(members);
  return result;
}

LogicalResult Executor::runLocal(Operation *op, Env &env) {
  auto in = [&](unsigned i) -> const HostTensor & {
    return env[op->getOperand(i)];
  };
  auto set = [&](HostTensor value, unsigned result = 0) {
    env[op->getResult(result)] = std::move(value);
  };
  // A GEMM's product added into its accumulator, if it has one.
  auto accumulate = [&](HostTensor product, Value accumulator) {
    if (!accumulator)
      return product;
    return map2(product, env[accumulator],
                [](double p, double a) { return p + a; });
  };
  // An update's gradient factor (mp-fuse-optimizer's fold of mp.mul): 1
  // multiplies exactly.
  auto gradScaleOf = [&](OptimizerOpInterface update) {
    MutableOperandRange scale = update.getGradScaleMutable();
    return scale.empty() ? 1.0 : env[scale[0].get()].data[0];
  };
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](arith::ConstantOp c) {
        auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
        if (!dense)
          return LogicalResult(c.emitError("only dense constants run"));
        HostTensor out = HostTensor::zeros(shapeOf(c.getResult()));
        if (isa<FloatType>(dense.getElementType())) {
          auto values = dense.getValues<APFloat>();
          for (int64_t i = 0; i < out.getNumElements(); ++i)
            out.data[i] = values[dense.isSplat() ? 0 : i].convertToDouble();
        } else {
          auto values = dense.getValues<APInt>();
          for (int64_t i = 0; i < out.getNumElements(); ++i)
            out.data[i] = values[dense.isSplat() ? 0 : i].getSExtValue();
        }
        set(out);
        return success();
      })
      .Case([&](SliceOp slice) {
        set(sliceDim(in(0), slice.getDim(), slice.getOffset(),
                     shapeOf(slice.getResult())[slice.getDim()]));
        return success();
      })
      .Case([&](ConcatOp concat) {
        HostTensor whole = HostTensor::zeros(shapeOf(concat.getResult()));
        int64_t offset = 0;
        for (unsigned i = 0; i < concat->getNumOperands(); ++i) {
          writeDim(whole, in(i), concat.getDim(), offset);
          offset += in(i).shape[concat.getDim()];
        }
        set(std::move(whole));
        return success();
      })
      .Case([&](ResizeOp resize) {
        set(resizeDim(in(0), resize.getDim(),
                      shapeOf(resize.getResult())[resize.getDim()]));
        return success();
      })
      .Case([&](ConvertOp convert) {
        set(convertTo(
            in(0), cast<FloatType>(getElementTypeOrSelf(convert.getInput())),
            cast<FloatType>(getElementTypeOrSelf(convert.getResult()))));
        return success();
      })
      .Case<AnnotateOp, ReshardOp, WaitOp>([&](Operation *) {
        set(in(0));
        return success();
      })
      .Case([&](LinearOp l) {
        Precision precision = l.getEffectivePrecision();
        HostTensor x = operandIn(in(0), l.getInput(), precision);
        HostTensor w = operandIn(in(1), l.getWeight(), precision);
        int64_t k = x.shape.back(), n = w.shape[0];
        int64_t rows = x.getNumElements() / k;
        HostTensor wt = transpose(w, {1, 0});
        set(accumulate(
            batchedMatmul(x, wt, 1, rows, k, n, true, shapeOf(l.getResult())),
            l.getAccumulator()));
        return success();
      })
      .Case([&](MatmulOp mm) {
        Precision precision = mm.getEffectivePrecision();
        HostTensor a = operandIn(in(0), mm.getLhs(), precision);
        HostTensor b = operandIn(in(1), mm.getRhs(), precision);
        int64_t rank = a.shape.size();
        int64_t m = a.shape[rank - 2], k = a.shape[rank - 1];
        int64_t n = b.shape.back();
        int64_t batch = a.getNumElements() / (m * k);
        HostTensor product = batchedMatmul(
            a, b, batch, m, k, n, b.shape.size() == 2, shapeOf(mm.getResult()));
        double scale = mm.getEffectiveScale();
        set(accumulate(scale == 1
                           ? std::move(product)
                           : map1(product, [&](double x) { return x * scale; }),
                       mm.getAccumulator()));
        return success();
      })
      .Case([&](AddOp) {
        set(map2(in(0), in(1), [](double a, double b) { return a + b; }));
        return success();
      })
      .Case([&](SubOp) {
        set(map2(in(0), in(1), [](double a, double b) { return a - b; }));
        return success();
      })
      .Case([&](MulOp) {
        set(map2(in(0), in(1), [](double a, double b) { return a * b; }));
        return success();
      })
      .Case([&](DivOp) {
        set(map2(in(0), in(1), [](double a, double b) { return a / b; }));
        return success();
      })
      .Case([&](NegOp) {
        set(map1(in(0), [](double a) { return -a; }));
        return success();
      })
      .Case([&](ExpOp) {
        set(map1(in(0), [](double a) { return std::exp(a); }));
        return success();
      })
      .Case([&](ReluOp) {
        set(map1(in(0), [](double a) { return a > 0 ? a : 0.0; }));
        return success();
      })
      .Case([&](StepOp) {
        set(map1(in(0), [](double a) { return a > 0 ? 1.0 : 0.0; }));
        return success();
      })
      .Case<ClampOp, ClampMaskOp>([&](auto c) {
        double lower = c.getMin().convertToDouble();
        double upper = c.getMax().convertToDouble();
        bool mask = isa<ClampMaskOp>(c.getOperation());
        set(map1(in(0), [&](double a) {
          if (mask)
            return a >= lower && a <= upper ? 1.0 : 0.0;
          return clamp(a, lower, upper);
        }));
        return success();
      })
      .Case([&](SigmoidOp) {
        set(map1(in(0), sigmoid));
        return success();
      })
      .Case([&](TanhOp) {
        set(map1(in(0), [](double a) { return std::tanh(a); }));
        return success();
      })
      .Case([&](RsqrtOp r) {
        double eps = r.getEps().convertToDouble();
        set(map1(in(0), [&](double a) { return 1 / std::sqrt(a + eps); }));
        return success();
      })
      .Case([&](SiluOp) {
        set(map1(in(0), [](double a) { return a * sigmoid(a); }));
        return success();
      })
      .Case([&](GeluOp g) {
        bool tanhForm = g.getApproximateTanh();
        set(map1(in(0), [&](double a) { return gelu(a, tanhForm); }));
        return success();
      })
      .Case([&](GeluGradOp g) {
        bool tanhForm = g.getApproximateTanh();
        set(map2(in(0), in(1), [&](double dy, double x) {
          return dy * geluDerivative(x, tanhForm);
        }));
        return success();
      })
      .Case([&](SwigluOp) {
        set(map2(in(0), in(1), [](double gate, double up) {
          return gate * sigmoid(gate) * up;
        }));
        return success();
      })
      .Case([&](SwigluGradOp) {
        // Both computed before set(), which may move the operands' storage.
        const HostTensor &grad = in(0), &gate = in(1), &up = in(2);
        HostTensor gateGrad =
            map2(map2(grad, up, [](double g, double u) { return g * u; }), gate,
                 [](double t, double x) { return t * siluDerivative(x); });
        HostTensor upGrad = map2(
            grad, gate, [](double g, double x) { return g * x * sigmoid(x); });
        set(std::move(gateGrad), 0);
        set(std::move(upGrad), 1);
        return success();
      })
      .Case([&](SiluGradOp) {
        set(map2(in(0), in(1),
                 [](double dy, double x) { return dy * siluDerivative(x); }));
        return success();
      })
      .Case([&](ScaleOp s) {
        double factor = s.getFactor().convertToDouble();
        set(map1(in(0), [&](double a) { return a * factor; }));
        return success();
      })
      .Case([&](SumOp s) {
        set(reduceSum(in(0), s.getReducedDims()));
        return success();
      })
      .Case([&](MeanOp m) {
        SmallVector<int64_t> dims = m.getReducedDims();
        HostTensor sum = reduceSum(in(0), dims);
        double count = double(in(0).getNumElements()) /
                       double(std::max<int64_t>(1, sum.getNumElements()));
        set(map1(sum, [&](double a) { return a / count; }));
        return success();
      })
      .Case([&](BroadcastOp b) {
        set(broadcast(in(0), b.getDims(), shapeOf(b.getResult())));
        return success();
      })
      .Case([&](ReshapeOp r) {
        set(HostTensor{shapeOf(r.getResult()), in(0).data});
        return success();
      })
      .Case([&](TransposeOp t) {
        set(transpose(in(0), t.getPermutation()));
        return success();
      })
      .Case([&](MseLossOp l) {
        double sum = 0;
        for (size_t i = 0; i < in(0).data.size(); ++i) {
          double d = in(0).data[i] - in(1).data[i];
          sum += d * d;
        }
        if (l.getReduction() == Reduction::mean)
          sum /= double(in(0).data.size());
        set(scalar(sum));
        return success();
      })
      .Case([&](LogOp) {
        set(map1(in(0), [](double a) { return std::log(a); }));
        return success();
      })
      .Case([&](AlibiSlopesOp op) {
        HostTensor out = HostTensor::zeros(shapeOf(op.getResult()));
        int64_t heads = out.getNumElements();
        for (int64_t h = 0; h < heads; ++h)
          out.data[h] = float(
              mp_alibi_slope(h, heads, op.getMaxBias().convertToDouble()));
        set(out);
        return success();
      })
      .Case([&](AlibiOp op) {
        HostTensor out = in(0);
        addAlibi(out, in(1), op.getBf16Bias());
        set(out);
        return success();
      })
      .Case([&](MaskBiasOp op) {
        double fill = op.getFill().convertToDouble();
        set(map1(in(0), [&](double keep) { return keep != 0 ? 0.0 : fill; }));
        return success();
      })
      .Case([&](TargetMaskOp op) {
        double ignored = double(op.getIgnoreIndex());
        set(map1(in(0), [&](double t) { return t != ignored ? 1.0 : 0.0; }));
        return success();
      })
      .Case([&](BlockMaxOp op) {
        const HostTensor &x = in(0);
        HostTensor out = HostTensor::zeros(shapeOf(op.getResult()));
        int64_t cols = x.shape.back(), blocks = out.shape.back();
        int64_t width = blocks ? cols / blocks : 0;
        for (int64_t i = 0; i < out.getNumElements(); ++i) {
          const double *block =
              x.data.data() + (i / blocks) * cols + (i % blocks) * width;
          out.data[i] = *std::max_element(block, block + width);
        }
        set(out);
        return success();
      })
      .Case([&](GatherLastOp op) {
        const HostTensor &x = in(0);
        int64_t cols = x.shape.back();
        FailureOr<std::vector<int64_t>> picks = pickedEntries(op, in(1), cols);
        if (failed(picks))
          return failure();
        HostTensor out = HostTensor::zeros(shapeOf(op.getResult()));
        for (auto [row, pick] : llvm::enumerate(*picks))
          if (pick >= 0)
            out.data[row] = x.data[row * cols + pick];
        set(out);
        return success();
      })
      .Case([&](ScatterLastOp op) {
        HostTensor out = HostTensor::zeros(shapeOf(op.getResult()));
        int64_t cols = out.shape.back();
        FailureOr<std::vector<int64_t>> picks = pickedEntries(op, in(0), cols);
        if (failed(picks))
          return failure();
        for (auto [row, pick] : llvm::enumerate(*picks))
          if (pick >= 0)
            out.data[row * cols + pick] = in(1).data[row];
        set(out);
        return success();
      })
      .Case([&](IotaOp iota) {
        HostTensor out = HostTensor::zeros(shapeOf(iota.getResult()));
        ArrayRef<int64_t> shape = out.shape;
        int64_t inner =
            ShapedType::getNumElements(shape.drop_front(iota.getDim() + 1));
        for (int64_t i = 0; i < out.getNumElements(); ++i)
          out.data[i] =
              double(iota.getStart() + i / inner % shape[iota.getDim()]);
        set(out);
        return success();
      })
      .Case([&](EmbeddingOp e) {
        const HostTensor &table = in(1);
        int64_t dim = table.shape[1];
        FailureOr<std::vector<int64_t>> rows =
            pickedEntries(e, in(0), table.shape[0]);
        if (failed(rows))
          return failure();
        HostTensor out = HostTensor::zeros(shapeOf(e.getResult()));
        for (auto [i, row] : llvm::enumerate(*rows))
          if (row >= 0)
            std::copy_n(table.data.begin() + row * dim, dim,
                        out.data.begin() + i * dim);
        set(out);
        return success();
      })
      .Case([&](EmbeddingGradOp e) {
        HostTensor out = HostTensor::zeros(shapeOf(e.getResult()));
        int64_t dim = out.shape[1];
        FailureOr<std::vector<int64_t>> rows =
            pickedEntries(e, in(0), out.shape[0]);
        if (failed(rows))
          return failure();
        for (auto [i, row] : llvm::enumerate(*rows))
          for (int64_t j = 0; row >= 0 && j < dim; ++j)
            out.data[row * dim + j] += in(1).data[i * dim + j];
        set(out);
        return success();
      })
      .Case([&](RmsNormOp n) {
        const HostTensor &x = in(0), &w = in(1);
        std::vector<double> factors =
            rmsFactors(x, n.getEps().convertToDouble());
        HostTensor out = x;
        int64_t dim = x.shape.back();
        double offset = n.getWeightOffset().convertToDouble();
        for (int64_t i = 0; i < out.getNumElements(); ++i)
          out.data[i] *= factors[i / dim] * (offset + w.data[i % dim]);
        set(out);
        return success();
      })
      .Case([&](RmsNormGradOp n) {
        const HostTensor &x = in(0), &w = in(1), &g = in(2);
        std::vector<double> factors =
            rmsFactors(x, n.getEps().convertToDouble());
        HostTensor out = HostTensor::zeros(x.shape);
        int64_t dim = x.shape.back();
        double offset = n.getWeightOffset().convertToDouble();
        for (auto [r, f] : llvm::enumerate(factors)) {
          auto scaled = [&](int64_t j) {
            return g.data[r * dim + j] * (offset + w.data[j]);
          };
          double dot = 0;
          for (int64_t j = 0; j < dim; ++j)
            dot += scaled(j) * x.data[r * dim + j];
          double correction = f * f * f * dot / double(dim);
          for (int64_t j = 0; j < dim; ++j)
            out.data[r * dim + j] =
                f * scaled(j) - x.data[r * dim + j] * correction;
        }
        set(out);
        return success();
      })
      .Case([&](RmsNormWeightGradOp n) {
        const HostTensor &x = in(0), &g = in(1);
        std::vector<double> factors =
            rmsFactors(x, n.getEps().convertToDouble());
        HostTensor out = HostTensor::zeros(shapeOf(n.getResult()));
        int64_t dim = x.shape.back();
        for (int64_t i = 0; i < x.getNumElements(); ++i)
          out.data[i % dim] += g.data[i] * x.data[i] * factors[i / dim];
        set(out);
        return success();
      })
      .Case([&](LayerNormOp n) {
        const HostTensor &w = in(1), &b = in(2);
        std::vector<double> rstd;
        HostTensor out =
            layerNormRows(in(0), n.getEps().convertToDouble(), rstd);
        int64_t dim = out.shape.back();
        for (int64_t i = 0; i < out.getNumElements(); ++i)
          out.data[i] = out.data[i] * w.data[i % dim] + b.data[i % dim];
        set(out);
        return success();
      })
      .Case([&](LayerNormGradOp n) {
        const HostTensor &w = in(1), &g = in(2);
        std::vector<double> rstd;
        HostTensor xhat =
            layerNormRows(in(0), n.getEps().convertToDouble(), rstd);
        HostTensor out = HostTensor::zeros(xhat.shape);
        int64_t dim = xhat.shape.back();
        for (auto [r, f] : llvm::enumerate(rstd)) {
          // mean(gw) and mean(gw · x̂) over the row, gw = g · w.
          double meanGw = 0, meanGwXhat = 0;
          for (int64_t j = 0; j < dim; ++j) {
            double gw = g.data[r * dim + j] * w.data[j];
            meanGw += gw / double(dim);
            meanGwXhat += gw * xhat.data[r * dim + j] / double(dim);
          }
          for (int64_t j = 0; j < dim; ++j)
            out.data[r * dim + j] =
                f * (g.data[r * dim + j] * w.data[j] - meanGw -
                     xhat.data[r * dim + j] * meanGwXhat);
        }
        set(out);
        return success();
      })
      .Case([&](LayerNormWeightGradOp n) {
        const HostTensor &g = in(1);
        std::vector<double> rstd;
        HostTensor xhat =
            layerNormRows(in(0), n.getEps().convertToDouble(), rstd);
        HostTensor dweight = HostTensor::zeros(shapeOf(n.getWeightGrad()));
        HostTensor dbias = HostTensor::zeros(shapeOf(n.getBiasGrad()));
        int64_t dim = xhat.shape.back();
        for (int64_t i = 0; i < xhat.getNumElements(); ++i) {
          dweight.data[i % dim] += g.data[i] * xhat.data[i];
          dbias.data[i % dim] += g.data[i];
        }
        set(dweight, 0);
        set(dbias, 1);
        return success();
      })
      .Case([&](SoftmaxOp s) {
        set(softmaxRows(in(0), s.getCausal(), s.getWindow().value_or(0)));
        return success();
      })
      .Case([&](SoftmaxGradOp) {
        set(softmaxGradRows(in(0), in(1)));
        return success();
      })
      .Case([&](AttentionOp a) {
        AttentionOperands operands(a, in(0), in(1), in(2),
                                   a.getAlibiSlopes() ? &in(3) : nullptr);
        HostTensor scores = operands.logits();
        set(operands.product(operands.asGemmOperand(softmaxRows(
                                 scores, operands.causal, operands.window)),
                             operands.value, shapeOf(a.getResult())),
            0);
        set(logSumExpRows(scores, operands.causal, operands.window), 1);
        return success();
      })
      .Case([&](AttentionGradOp a) {
        // FlashAttention-2's backward pass: p from the forward pass's
        // log-sum-exp, D = Σ grad · output per row.
        AttentionOperands operands(a, in(0), in(1), in(2),
                                   a.getAlibiSlopes() ? &in(6) : nullptr);
        // Copies: set() may move the operands' storage.
        HostTensor output = in(3), grad = in(5);
        HostTensor logits = operands.logits();
        HostTensor slopes = operands.capSlopes(logits);
        HostTensor p = operands.probabilities(std::move(logits), in(4));
        HostTensor dp = operands.product(operands.asGemmOperand(grad),
                                         operands.transposed(operands.value),
                                         operands.getScoresShape());
        int64_t keys = dp.shape.back(), valueDim = grad.shape.back();
        for (int64_t r = 0; keys && r < dp.getNumElements() / keys; ++r) {
          double rowDot = 0;
          for (int64_t c = 0; c < valueDim; ++c)
            rowDot +=
                grad.data[r * valueDim + c] * output.data[r * valueDim + c];
          for (int64_t c = 0; c < keys; ++c) {
            double &entry = dp.data[r * keys + c];
            entry = p.data[r * keys + c] * (entry - rowDot) *
                    slopes.data[r * keys + c];
          }
        }
        HostTensor ds = operands.asGemmOperand(dp);
        auto scaled = [&](HostTensor t) {
          return map1(t, [&](double x) { return x * operands.scale; });
        };
        set(scaled(operands.product(ds, operands.key, shapeOf(a.getQuery()))),
            0);
        set(operands.sumHeads(scaled(operands.product(
                operands.transposed(ds), operands.query, operands.key.shape))),
            1);
        set(operands.sumHeads(operands.product(
                operands.transposed(operands.asGemmOperand(p)),
                operands.asGemmOperand(grad), operands.value.shape)),
            2);
        return success();
      })
      .Case([&](RopeOp r) {
        set(rotate(in(0), r));
        return success();
      })
      .Case([&](CrossEntropyOp c) {
        std::vector<double> losses;
        if (failed(crossEntropyRows(c, in(0), in(1), c.getIgnoreIndex(),
                                    &losses, nullptr)))
          return failure();
        double sum = 0;
        for (double l : losses)
          sum += l;
        if (c.getReduction() == Reduction::mean)
          sum /= double(losses.size());
        set(scalar(sum));
        return success();
      })
      .Case([&](CrossEntropyGradOp c) {
        HostTensor softmax = HostTensor::zeros(in(0).shape);
        if (failed(crossEntropyRows(c, in(0), in(1), c.getIgnoreIndex(),
                                    nullptr, &softmax)))
          return failure();
        int64_t classes = in(0).shape.back();
        double factor = in(2).data[0] * c.getScale().convertToDouble();
        for (int64_t r = 0; r < softmax.getNumElements() / classes; ++r)
          if (!isIgnored(in(1), r, c.getIgnoreIndex()))
            softmax.data[r * classes + int64_t(in(1).data[r])] -= 1;
        set(map1(softmax, [&](double v) { return v * factor; }));
        return success();
      })
      .Case([&](SquaredNormOp) {
        double sum = 0;
        for (double x : in(0).data)
          sum += x * x;
        set(scalar(sum));
        return success();
      })
      .Case([&](ClipCoefficientOp c) {
        double maxNorm = c.getMaxNorm().convertToDouble();
        set(scalar(std::min(1.0, maxNorm / (std::sqrt(in(0).data[0]) + 1e-6))));
        return success();
      })
      .Case([&](SgdOp s) {
        double lr = s.getLr().convertToDouble();
        double wd = s.getWeightDecay().convertToDouble();
        double scale = gradScaleOf(s);
        set(map2(in(0), in(1), [&](double p, double g) {
          return p - lr * (g * scale + wd * p);
        }));
        return success();
      })
      .Case([&](SgdMomentumOp s) {
        double lr = s.getLr().convertToDouble();
        double wd = s.getWeightDecay().convertToDouble();
        double mu = s.getMomentum().convertToDouble();
        double damp = s.getDampening().convertToDouble();
        double scale = gradScaleOf(s);
        HostTensor param = in(0), buffer = in(2);
        for (size_t i = 0; i < param.data.size(); ++i) {
          double g = in(1).data[i] * scale + wd * param.data[i];
          buffer.data[i] = mu * buffer.data[i] + (1 - damp) * g;
          double step =
              s.getNesterov() ? g + mu * buffer.data[i] : buffer.data[i];
          param.data[i] -= lr * step;
        }
        set(param, 0);
        set(buffer, 1);
        return success();
      })
      .Case([&](AdamWOp a) {
        double lr = a.getLr().convertToDouble();
        double beta1 = a.getBeta1().convertToDouble();
        double beta2 = a.getBeta2().convertToDouble();
        double eps = a.getEps().convertToDouble();
        double wd = a.getWeightDecay().convertToDouble();
        double t = in(4).data[0];
        double scale = gradScaleOf(a);
        HostTensor param = in(0), m = in(2), v = in(3);
        double correction1 = 1 - std::pow(beta1, t);
        double correction2Sqrt = std::sqrt(1 - std::pow(beta2, t));
        for (size_t i = 0; i < param.data.size(); ++i) {
          double g = in(1).data[i] * scale;
          param.data[i] *= 1 - lr * wd;
          m.data[i] = beta1 * m.data[i] + (1 - beta1) * g;
          v.data[i] = beta2 * v.data[i] + (1 - beta2) * g * g;
          double denom = std::sqrt(v.data[i]) / correction2Sqrt + eps;
          param.data[i] -= lr / correction1 * m.data[i] / denom;
        }
        set(param, 0);
        set(m, 1);
        set(v, 2);
        return success();
      })
      .Default([](Operation *op) {
        return op->emitError()
               << "the interpreter cannot run '" << op->getName() << "'";
      });
}

LogicalResult Executor::runCollective(CollectiveOpInterface op) {
  if (!mesh)
    return op->emitError() << "a collective outside a partitioned function";
  if (lookupMesh(op, op.getMeshAttr()) != mesh)
    return op->emitError()
           << "runs on another mesh than the function's arguments";
  Value input = op.getInput(), result = op.getResult();
  ArrayRef<int64_t> resultShape =
      cast<RankedTensorType>(result.getType()).getShape();
  CollectiveSteps steps = op.getSteps();
  for (const SmallVector<int> &members : getGroups(op.getAxes())) {
    // The group's value after summing or gathering, if the op does either.
    std::optional<HostTensor> combined;
    if (steps.sums) {
      combined = HostTensor::zeros(envs[members.front()][input].shape);
      for (int rank : members)
        for (size_t i = 0; i < combined->data.size(); ++i)
          combined->data[i] += envs[rank][input].data[i];
      // A bf16 sum (reduce-dtype=bf16) rounds: here the exact sum once; the
      // runtime rounds each addition, in its transport's order.
      if (auto type = dyn_cast<FloatType>(getElementTypeOrSelf(input));
          type && type.isBF16())
        combined = convertTo(*combined, type, type);
    } else if (steps.gatherDim) {
      SmallVector<HostTensor> pieces;
      for (int rank : members)
        pieces.push_back(envs[rank][input]);
      // Padded pieces: the whole is a prefix of their concatenation.
      combined = resizeDim(concat(pieces, *steps.gatherDim), *steps.gatherDim,
                           resultShape[*steps.gatherDim]);
    }
    int64_t count = members.size();
    for (auto [index, rank] : llvm::enumerate(members)) {
      HostTensor value = combined ? *combined : envs[rank][input];
      if (steps.sliceDim) {
        // Padded to a whole number of pieces first.
        int64_t dim = *steps.sliceDim;
        value = slicePiece(resizeDim(value, dim, count * resultShape[dim]), dim,
                           index, count);
      }
      envs[rank][result] = std::move(value);
    }
  }
  return success();
}

LogicalResult Executor::runZeroPadding(ZeroPaddingOp op) {
  if (!mesh || lookupMesh(op, op.getMeshAttr()) != mesh)
    return op->emitError() << "runs outside a partitioned function's mesh";
  SmallVector<StringRef> axes = getAxisNames(op.getAxes());
  for (int rank = 0; rank < numRanks; ++rank) {
    HostTensor value = envs[rank][op.getInput()];
    zeroFrom(value, op.getDim(),
             getValidExtent(op.getExtent(), getAxisSizes(axes),
                            getCoordinates(rank, axes)));
    envs[rank][op.getResult()] = std::move(value);
  }
  return success();
}

LogicalResult Executor::runLocalizeIndex(LocalizeIndexOp op) {
  if (!mesh || lookupMesh(op, op.getMeshAttr()) != mesh)
    return op->emitError() << "runs outside a partitioned function's mesh";
  SmallVector<StringRef> axes = getAxisNames(op.getAxes());
  SmallVector<int64_t> sizes = getAxisSizes(axes);
  for (int rank = 0; rank < numRanks; ++rank) {
    SmallVector<int64_t> coords = getCoordinates(rank, axes);
    int64_t offset = getPieceOffset(op.getExtent(), sizes, coords);
    int64_t valid = getValidExtent(op.getExtent(), sizes, coords);
    envs[rank][op.getResult()] =
        map1(envs[rank][op.getInput()], [&](double id) {
          double local = id - double(offset);
          return local >= 0 && local < double(valid) ? local : -1.0;
        });
  }
  return success();
}

SmallVector<int64_t> Executor::getAxisSizes(ArrayRef<StringRef> axes) {
  return llvm::map_to_vector(axes,
                             [&](StringRef axis) { return getAxisSize(axis); });
}

SmallVector<int64_t> Executor::getCoordinates(int rank,
                                              ArrayRef<StringRef> axes) {
  return llvm::map_to_vector(
      axes, [&](StringRef axis) { return getCoordinate(rank, axis); });
}

Executor::Piece Executor::getPiece(int rank, ShardingAttr sharding,
                                   ArrayRef<int64_t> globalShape) {
  Piece piece;
  for (auto [dim, extent] : llvm::enumerate(globalShape)) {
    SmallVector<StringRef> axes = sharding.getDimAxes(dim);
    SmallVector<int64_t> sizes = getAxisSizes(axes),
                         coords = getCoordinates(rank, axes);
    piece.shape.push_back(getSplitExtent(extent, sizes));
    piece.offsets.push_back(getPieceOffset(extent, sizes, coords));
    piece.valids.push_back(getValidExtent(extent, sizes, coords));
  }
  return piece;
}

FailureOr<std::vector<HostTensor>> Executor::run(ArrayRef<HostTensor> args,
                                                 double replicaTolerance) {
  bool partitioned = func->hasAttr(MPDialect::kPartitionedAttrName);
  SmallVector<ShardingAttr> argShardings;
  for (BlockArgument arg : func.getArguments()) {
    argShardings.push_back(getValueSharding(arg));
    if (partitioned && !mesh && argShardings.back())
      mesh = lookupMesh(func, argShardings.back().getMesh());
  }
  for (unsigned i = 0; partitioned && !mesh && i < func.getNumResults(); ++i)
    if (auto sharding = func.getResultAttrOfType<ShardingAttr>(
            i, MPDialect::kShardingAttrName))
      mesh = lookupMesh(func, sharding.getMesh());
  if (partitioned && !mesh)
    return func.emitError() << "a partitioned function without shardings";
  numRanks = mesh ? mesh.getNumDevices() : 1;
  for (int rank = 0; rank < numRanks; ++rank) {
    SmallVector<int64_t> coords(mesh ? mesh.getAxisSizes().size() : 0);
    int64_t rest = rank;
    for (int64_t d = static_cast<int64_t>(coords.size()) - 1; d >= 0; --d) {
      coords[d] = rest % mesh.getAxisSizes()[d];
      rest /= mesh.getAxisSizes()[d];
    }
    coordinates.push_back(coords);
  }
  envs.assign(numRanks, Env());

  // Each rank's piece of every argument.
  for (auto [index, arg] : llvm::enumerate(func.getArguments())) {
    if (args[index].shape != ArrayRef(getGlobalShape(func, index, false)))
      return emitError(arg.getLoc())
             << "argument #" << index << " has the wrong global shape";
    if (partitioned && !argShardings[index])
      return emitError(arg.getLoc())
             << "argument #" << index
             << " of a partitioned function has no sharding";
    for (int rank = 0; rank < numRanks; ++rank) {
      HostTensor piece = args[index];
      if (partitioned) {
        Piece place = getPiece(rank, argShardings[index], piece.shape);
        piece =
            takePiece(args[index], place.shape, place.offsets, place.valids);
        // A partial sum over some axes: the first rank of each group holds
        // the value and the others zeros, pieces that add up to it exactly.
        for (StringRef axis : Layout::get(argShardings[index]).partial)
          if (getCoordinate(rank, axis) != 0)
            piece = HostTensor::zeros(piece.shape);
      }
      envs[rank][arg] = std::move(piece);
    }
  }

  Operation *terminator = nullptr;
  for (Operation &op : func.getFunctionBody().front()) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      terminator = &op;
      break;
    }
    if (auto collective = dyn_cast<CollectiveOpInterface>(op)) {
      if (failed(runCollective(collective)))
        return failure();
      continue;
    }
    if (auto zeroPadding = dyn_cast<ZeroPaddingOp>(op)) {
      if (failed(runZeroPadding(zeroPadding)))
        return failure();
      continue;
    }
    if (auto localize = dyn_cast<LocalizeIndexOp>(op)) {
      if (failed(runLocalizeIndex(localize)))
        return failure();
      continue;
    }
    for (int rank = 0; rank < numRanks; ++rank) {
      if (failed(runLocal(&op, envs[rank])))
        return failure();
      roundBFloat16Results(&op, envs[rank]);
    }
  }

  // Assemble the global results.
  std::vector<HostTensor> results;
  for (auto [index, value] : llvm::enumerate(terminator->getOperands())) {
    auto sharding = func.getResultAttrOfType<ShardingAttr>(
        index, MPDialect::kShardingAttrName);
    if (!partitioned || !sharding) {
      results.push_back(envs[0][value]);
      continue;
    }
    SmallVector<int64_t> shape = getGlobalShape(func, index, true);
    HostTensor whole = HostTensor::zeros(shape);
    Layout layout = Layout::get(sharding);
    for (int rank = 0; rank < numRanks; ++rank) {
      // The rank holding the same piece with every replicated coordinate 0.
      int canonical = 0;
      bool isCanonical = true;
      for (auto [axisIndex, axis] : llvm::enumerate(mesh.getAxisNames())) {
        int64_t coord = coordinates[rank][axisIndex];
        if (!layout.uses(axis.getValue()) && coord != 0)
          isCanonical = false, coord = 0;
        canonical = canonical * mesh.getAxisSizes()[axisIndex] + coord;
      }
      const HostTensor &piece = envs[rank][value];
      if (!isCanonical) {
        const HostTensor &reference = envs[canonical][value];
        for (size_t i = 0; i < piece.data.size(); ++i)
          if (std::fabs(piece.data[i] - reference.data[i]) >
              replicaTolerance * (1 + std::fabs(reference.data[i])))
            return terminator->emitError()
                   << "result #" << index << " differs between ranks "
                   << canonical << " and " << rank
                   << ", which should hold the same replica";
        continue;
      }
      Piece place = getPiece(rank, sharding, shape);
      addValidPiece(whole, piece, place.offsets, place.valids);
    }
    results.push_back(std::move(whole));
  }
  return results;
}

} // namespace

LogicalResult checkInterpreterMemory(FunctionOpInterface func) {
  static const uint64_t memoryBytes =
      uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGESIZE));
  uint64_t numRanks = 1;
  for (BlockArgument arg : func.getArguments())
    if (ShardingAttr sharding = getValueSharding(arg);
        sharding && func->hasAttr(MPDialect::kPartitionedAttrName)) {
      numRanks = lookupMesh(func, sharding.getMesh()).getNumDevices();
      break;
    }
  // Elements times copies (ranks) times 8 bytes, saturated.
  auto fits = [&](ArrayRef<int64_t> shape, uint64_t copies) {
    uint64_t bytes = 8 * copies;
    bool overflow = false;
    for (int64_t dim : shape)
      bytes = llvm::SaturatingMultiply(bytes, uint64_t(dim), &overflow);
    return !overflow && bytes <= memoryBytes;
  };
  auto tooLarge = [&](InFlightDiagnostic &&diag, Type type) -> LogicalResult {
    return std::move(diag) << type
                           << " does not fit the interpreter, which holds "
                           << (numRanks > 1 ? "each rank's piece of it" : "it")
                           << " as float64 in this machine's " << memoryBytes
                           << " bytes of memory";
  };
  for (auto [index, arg] : llvm::enumerate(func.getArguments()))
    if (auto tensor = dyn_cast<RankedTensorType>(arg.getType());
        tensor && tensor.hasStaticShape() &&
        !fits(getGlobalShape(func, index, /*isResult=*/false), 1))
      return tooLarge(emitError(arg.getLoc())
                          << "argument #" << index << " (global shape) ",
                      arg.getType());
  WalkResult walk = func.walk([&](Operation *op) {
    for (Type type : op->getResultTypes())
      if (auto tensor = dyn_cast<RankedTensorType>(type);
          tensor && tensor.hasStaticShape() &&
          !fits(tensor.getShape(), numRanks)) {
        (void)tooLarge(op->emitError() << "result ", type);
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

FailureOr<std::vector<HostTensor>> runFunction(FunctionOpInterface func,
                                               ArrayRef<HostTensor> args,
                                               double replicaTolerance) {
  if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
    return func.emitError() << "the interpreter runs single-block functions";
  if (args.size() != func.getNumArguments())
    return func.emitError() << "expects " << func.getNumArguments()
                            << " arguments, got " << args.size();
  for (auto [index, type] : llvm::enumerate(func.getArgumentTypes())) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return func.emitError() << "argument #" << index << " is " << type
                              << "; the interpreter runs on statically "
                                 "shaped tensors";
  }
  if (failed(checkInterpreterMemory(func)))
    return failure();
  return Executor(func).run(args, replicaTolerance);
}

} // namespace mp
