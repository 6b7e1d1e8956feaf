//===- FlashAttentionEmulation.cpp - the CUDA attention kernels on CPU ----===//
//
// mp-flash-attention-emulation: runs the CUDA backend's on-chip attention
// kernels (src/cuda/FlashAttention.cuh, the same source nvcc compiles) on
// CPU threads through CudaEmulation.h, over single and many blocks of rows
// and keys, causal masks with sq < sk and sq > sk, sliding windows (shorter
// and longer than a block of keys), ALiBi's bias (BLOOM's slopes, on the
// keys' positions across blocks of keys), grouped-query attention,
// head dims that are not whole tiles and the largest the kernels take,
// with fewer blocks than work items (the kernels' grid-stride loops), and
// checks the forward output, the rows' log-sum-exp and the three gradients
// (computed from the kernels' output and log-sum-exp) against float64 on
// the same rounded inputs, in bf16 and in tf32; in bf16 also that the
// kernels on q, k, v and out held in bfloat16 compute, bit for bit, what
// they compute on float32 ones holding the same values. Prints each case's
// error; exits 1 on a failure. `--small` runs the cases of at most 2 blocks
// each way (for the build under ThreadSanitizer, where a block's threads race
// on shared memory if a barrier the kernels need is missing); `--random N
// SEED` runs N cases of sizes drawn from SEED instead (up to 4 query
// matrices in groups of up to 3, 1 to 150 queries and keys, head dims 1 to
// 128, causal or not, a third of the causal ones with a window of 1 to 150,
// a third of all with ALiBi over 1 or 2 heads per query matrix, 1 to 4
// blocks).
//
//===----------------------------------------------------------------------===//

#include "CudaEmulation.h"

namespace mp::runtime::flash {
#define MP_FLASH_DEVICE inline
using emulation::Bf16;
using emulation::shuffleXor;
using emulation::syncBlock;
using emulation::syncWarp;
using emulation::threadInBlock;
using emulation::toBf16;
using emulation::toTf32;
namespace wmma = emulation::wmma;
} // namespace mp::runtime::flash

#include "cuda/FlashAttention.cuh"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

using namespace mp;
using namespace mp::runtime;

namespace {

/// `x` rounded to the operands T (Bf16, or float for tf32).
template <typename T> double roundOperand(double x) {
  if constexpr (std::is_same_v<T, emulation::Bf16>)
    return emulation::toFloat(emulation::toBf16(static_cast<float>(x)));
  else
    return emulation::toTf32(static_cast<float>(x));
}

template <typename T>
std::vector<float> makeOperandValues(int64_t n, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> values(n);
  for (float &x : values)
    x = roundOperand<T>(uniform(generator));
  return values;
}

/// What a rounding of x to T that the kernels' float arithmetic may flip
/// changes: one unit in T's last place where x lies within `window` of a
/// midpoint between two T values, else 0. (The reference rounds x computed
/// in float64; the kernels round it computed in float, which may land on
/// the other side of a midpoint it is that close to.)
template <typename T> double flipAllowance(double x, double window) {
  if (x == 0)
    return 0;
  int bits = std::is_same_v<T, emulation::Bf16> ? 8 : 11;
  double ulp = std::ldexp(1.0, std::ilogb(x) - (bits - 1));
  double units = std::fabs(x) / ulp;
  return std::fabs(units - std::floor(units) - 0.5) * ulp <= window ? ulp : 0;
}

/// An expected output: the reference's values and, per entry, the change
/// the roundings the kernels may flip make in it at most.
struct Expected {
  std::vector<double> values, allowances;
  explicit Expected(size_t n, double value = 0)
      : values(n, value), allowances(n, 0) {}
};

/// The largest difference beyond an entry's allowance, over the
/// reference's root mean square (of its finite entries; an infinite one
/// must be matched exactly). The inputs are of order 1: outputs that cancel
/// to about 0 (with one key, p = 1 and ds = 0) are measured against 1e-3.
double relativeError(const std::vector<float> &got, const Expected &want) {
  double worst = 0, squares = 0;
  for (size_t i = 0; i < want.values.size(); ++i) {
    double value = want.values[i];
    double difference = got[i] == value
                            ? 0
                            : std::max(0.0, std::fabs(double(got[i]) - value) -
                                                want.allowances[i]);
    worst = std::isnan(difference) ? INFINITY : std::max(worst, difference);
    if (std::isfinite(value))
      squares += value * value;
  }
  double rms = std::sqrt(squares / std::max<size_t>(1, want.values.size()));
  return worst / std::max(rms, 1e-3);
}

struct Case {
  int64_t batch, group, sq, sk, headDim, valueDim;
  bool causal;
  /// Blocks each launch gets at most (fewer than the items: grid-stride).
  int64_t maxBlocks;
  /// The causal mask's sliding window (0: none).
  int64_t window = 0;
  /// ALiBi's heads (0: none): the query matrices' last leading dim.
  int64_t alibiHeads = 0;
  /// Whether the bias is Falcon's: in bfloat16, before the scale.
  bool alibiBf16 = false;
};

TensorIn floats(const std::vector<float> &x) {
  return {MP_DTYPE_F32, x.data()};
}

/// The three gradient kernels' results; every output starts as NaN, so an
/// entry left unwritten shows.
struct Gradients {
  std::vector<float> dq, dk, dv, rowDots;
};

/// Launches of a case's kernels, on q, k, v and out held in float32 or
/// bfloat16.
template <typename T> struct Launches {
  const Case &c;
  flash::FlashShape shape;
  int64_t blocksFor(int64_t items) const {
    return std::max<int64_t>(1, std::min(items, c.maxBlocks));
  }
  void forward(TensorIn q, TensorIn k, TensorIn v, TensorOut out,
               float *lse) const {
    emulation::launch(
        blocksFor(shape.queryBlocks() * c.batch), flash::kThreads,
        flash::forwardSharedBytes<T>(shape),
        [&](unsigned char *shared, int64_t block, int64_t blocks) {
          flash::attentionForward<T>(shape, q, k, v, out, lse, shared, block,
                                     blocks);
        });
  }
  Gradients gradients(TensorIn q, TensorIn k, TensorIn v, TensorIn out,
                      const float *lse, const float *g) const {
    int64_t keyMatrices = c.batch / c.group;
    Gradients r{std::vector<float>(c.batch * c.sq * c.headDim, NAN),
                std::vector<float>(keyMatrices * c.sk * c.headDim, NAN),
                std::vector<float>(keyMatrices * c.sk * c.valueDim, NAN),
                std::vector<float>(c.batch * c.sq, NAN)};
    emulation::launch(
        blocksFor(shape.queryBlocks() * c.batch), flash::kThreads,
        flash::gradSharedBytes<T>(shape, false),
        [&](unsigned char *shared, int64_t block, int64_t blocks) {
          flash::attentionGradQuery<T>(shape, q, k, v, out, lse, g, r.dq.data(),
                                       r.rowDots.data(), shared, block, blocks);
        });
    emulation::launch(
        blocksFor(shape.keyBlocks() * keyMatrices), flash::kThreads,
        flash::gradSharedBytes<T>(shape, true),
        [&](unsigned char *shared, int64_t block, int64_t blocks) {
          flash::attentionGradKeys<T>(shape, q, k, v, lse, g, r.rowDots.data(),
                                      r.dk.data(), r.dv.data(), shared, block,
                                      blocks);
        });
    return r;
  }
};

std::vector<uint16_t> toBFloat16(const std::vector<float> &x) {
  std::vector<uint16_t> bits(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    bits[i] = toBFloat16Bits(x[i]);
  return bits;
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// In bf16, the kernels reading q, k, v and out held in bfloat16 and
/// writing out in bfloat16 compute what they compute on float32 tensors
/// holding the same values, bit for bit: out rounded to nearest even, the
/// same lse, and the same gradients from the bfloat16 out.
bool checkBFloat16Storage(const Launches<emulation::Bf16> &run,
                          const std::vector<float> &q,
                          const std::vector<float> &k,
                          const std::vector<float> &v,
                          const std::vector<float> &g,
                          const std::vector<float> &out,
                          const std::vector<float> &lse) {
  std::vector<uint16_t> q16 = toBFloat16(q), k16 = toBFloat16(k),
                        v16 = toBFloat16(v), out16(out.size(), 0x7fc0);
  std::vector<float> lse16(lse.size(), NAN);
  TensorIn q16In{MP_DTYPE_BF16, q16.data()}, k16In{MP_DTYPE_BF16, k16.data()},
      v16In{MP_DTYPE_BF16, v16.data()};
  run.forward(q16In, k16In, v16In, {MP_DTYPE_BF16, out16.data()}, lse16.data());
  std::vector<float> widenedOut(out.size());
  bool ok = sameBits(lse16, lse);
  for (size_t i = 0; i < out.size(); ++i) {
    widenedOut[i] = fromBFloat16Bits(out16[i]);
    ok &= out16[i] == toBFloat16Bits(out[i]);
  }
  Gradients held = run.gradients(q16In, k16In, v16In,
                                 {MP_DTYPE_BF16, out16.data()}, lse.data(),
                                 g.data()),
            widened = run.gradients(floats(q), floats(k), floats(v),
                                    floats(widenedOut), lse.data(), g.data());
  ok &= sameBits(held.dq, widened.dq) && sameBits(held.dk, widened.dk) &&
        sameBits(held.dv, widened.dv) &&
        sameBits(held.rowDots, widened.rowDots);
  if (!ok)
    std::printf("FAIL bf16 storage: the kernels on bfloat16 q, k, v and out "
                "differ from them on float32 ones\n");
  return ok;
}

template <typename T> bool runCase(const Case &c) {
  std::vector<float> slopes(std::max<int64_t>(c.alibiHeads, 1));
  for (int64_t h = 0; h < c.alibiHeads; ++h)
    slopes[h] = float(mp_alibi_slope(h, c.alibiHeads, 8.0));
  AttentionShape sizes{
      c.batch,  c.group,  c.sq, c.sk,         c.headDim,     c.valueDim, c.sq,
      c.causal, c.window, 0,    c.alibiHeads, slopes.data(), c.alibiBf16};
  const float scale = 0.7f;
  flash::FlashShape shape(sizes, scale);
  int64_t keyMatrices = c.batch / c.group;
  std::vector<float> q = makeOperandValues<T>(c.batch * c.sq * c.headDim, 1),
                     k = makeOperandValues<T>(keyMatrices * c.sk * c.headDim,
                                              2),
                     v = makeOperandValues<T>(keyMatrices * c.sk * c.valueDim,
                                              3),
                     g = makeOperandValues<T>(c.batch * c.sq * c.valueDim, 4);

  // The reference, in float64, from the same inputs, rounding to operands
  // where the kernels' GEMMs read: the forward pass's probabilities
  // against the running maximum of each block of keys, the gradients' p
  // and ds. So it differs from the kernels only by their float sums and
  // the roundings those may flip (each allowed for where the kernels' float
  // error, 1e-5 of the terms here, could flip it), and a wrong mask or a
  // lost term stands out.
  const double floatError = 1e-5;
  Expected out(g.size()), lse(c.batch * c.sq, -INFINITY), dq(q.size()),
      dk(k.size()), dv(v.size());
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.sq; ++i) {
      // Row i sees keys [start, seen).
      int64_t seen = sizes.keysSeen(i, 1), start = sizes.firstKeySeen(i),
              kb = b / c.group;
      if (seen == 0)
        continue;
      std::vector<double> p(seen), dp(seen, 0), dpTerms(seen, 0);
      double top = -INFINITY, sum = 0, dot = 0, dotTerms = 0, dotAllowance = 0;
      for (int64_t j = start; j < seen; ++j) {
        double score = 0;
        for (int64_t e = 0; e < c.headDim; ++e)
          score += double(q[(b * c.sq + i) * c.headDim + e]) *
                   k[(kb * c.sk + j) * c.headDim + e];
        // Falcon's bias: the slope, the key and their product in bfloat16.
        auto bf16 = [](double x) { return roundOperand<emulation::Bf16>(x); };
        if (c.alibiBf16)
          score += bf16(bf16(slopes[b % c.alibiHeads]) * bf16(double(j)));
        p[j] = score * scale;
        if (c.alibiHeads && !c.alibiBf16)
          p[j] += double(slopes[b % c.alibiHeads]) * double(j);
        top = std::max(top, p[j]);
      }
      std::vector<double> outRow(c.valueDim, 0), outAllowance(c.valueDim, 0);
      double runningMax = -INFINITY, runningSum = 0;
      // The kernel's blocks of keys start at the window of its block of
      // rows' first row.
      for (int64_t j0 = sizes.firstKeySeen(i / flash::kRows * flash::kRows);
           j0 < seen; j0 += flash::kKeys) {
        int64_t from = std::max(j0, start),
                end = std::min(seen, j0 + flash::kKeys);
        if (from >= end)
          continue;
        double newMax = std::max(
            runningMax, *std::max_element(p.begin() + from, p.begin() + end));
        double rescale = std::exp(runningMax - newMax);
        runningSum *= rescale;
        for (int64_t e = 0; e < c.valueDim; ++e) {
          outRow[e] *= rescale;
          outAllowance[e] *= rescale;
        }
        for (int64_t j = from; j < end; ++j) {
          double unnormalized = std::exp(p[j] - newMax),
                 flip =
                     flipAllowance<T>(unnormalized, floatError * unnormalized);
          runningSum += unnormalized;
          for (int64_t e = 0; e < c.valueDim; ++e) {
            double value = v[(kb * c.sk + j) * c.valueDim + e];
            outRow[e] += roundOperand<T>(unnormalized) * value;
            outAllowance[e] += flip * std::fabs(value);
          }
        }
        runningMax = newMax;
      }
      for (int64_t e = 0; e < c.valueDim; ++e) {
        out.values[(b * c.sq + i) * c.valueDim + e] = outRow[e] / runningSum;
        out.allowances[(b * c.sq + i) * c.valueDim + e] =
            outAllowance[e] / runningSum;
      }
      for (int64_t j = start; j < seen; ++j)
        sum += (p[j] = std::exp(p[j] - top));
      lse.values[b * c.sq + i] = top + std::log(sum);
      // The gradient's D: Σ grad·out (Σ_j p_j·dp_j before rounding).
      for (int64_t e = 0; e < c.valueDim; ++e) {
        double term = double(g[(b * c.sq + i) * c.valueDim + e]) *
                      out.values[(b * c.sq + i) * c.valueDim + e];
        dot += term;
        dotTerms += std::fabs(term);
        // D inherits the output's flipped roundings.
        dotAllowance += std::fabs(g[(b * c.sq + i) * c.valueDim + e]) *
                        out.allowances[(b * c.sq + i) * c.valueDim + e];
      }
      for (int64_t j = start; j < seen; ++j) {
        p[j] /= sum;
        double flip = flipAllowance<T>(p[j], floatError * p[j]);
        for (int64_t e = 0; e < c.valueDim; ++e) {
          double gradient = g[(b * c.sq + i) * c.valueDim + e],
                 value = v[(kb * c.sk + j) * c.valueDim + e];
          dp[j] += gradient * value;
          dpTerms[j] += std::fabs(gradient * value);
          int64_t entry = (kb * c.sk + j) * c.valueDim + e;
          dv.values[entry] += roundOperand<T>(p[j]) * gradient;
          dv.allowances[entry] += flip * std::fabs(gradient);
        }
      }
      for (int64_t j = start; j < seen; ++j) {
        double unrounded = p[j] * (dp[j] - dot);
        // ds = p·(dp - D) carries the float error of the difference (all of
        // ds where it cancels, as with one key) and D's flips, and may
        // round the other way.
        double error =
            floatError * p[j] * (dpTerms[j] + dotTerms) + p[j] * dotAllowance;
        double ds = roundOperand<T>(unrounded) * scale,
               flip = scale * (error + flipAllowance<T>(unrounded, error));
        for (int64_t e = 0; e < c.headDim; ++e) {
          int64_t row = (b * c.sq + i) * c.headDim + e,
                  key = (kb * c.sk + j) * c.headDim + e;
          dq.values[row] += ds * k[key];
          dq.allowances[row] += flip * std::fabs(k[key]);
          dk.values[key] += ds * q[row];
          dk.allowances[key] += flip * std::fabs(q[row]);
        }
      }
    }

  std::vector<float> gotOut(g.size(), NAN), gotLse(c.batch * c.sq, NAN);
  Launches<T> run{c, shape};
  run.forward(floats(q), floats(k), floats(v), {MP_DTYPE_F32, gotOut.data()},
              gotLse.data());
  Gradients got = run.gradients(floats(q), floats(k), floats(v), floats(gotOut),
                                gotLse.data(), g.data());

  // Beyond what is allowed for, float sums differ by about 1e-6 of the
  // root mean square (8e-6 at most in 600 random cases); ds off by 0.01%
  // fails.
  double errors[] = {relativeError(gotOut, out), relativeError(gotLse, lse),
                     relativeError(got.dq, dq), relativeError(got.dk, dk),
                     relativeError(got.dv, dv)};
  bool ok = std::all_of(std::begin(errors), std::end(errors),
                        [](double e) { return e <= 5e-4; });
  if constexpr (std::is_same_v<T, emulation::Bf16>)
    ok &= checkBFloat16Storage(run, q, k, v, g, gotOut, gotLse);
  std::string mask = c.causal ? "causal " : "";
  if (c.window)
    mask += "window " + std::to_string(c.window) + " ";
  if (c.alibiHeads)
    mask += std::string(c.alibiBf16 ? "Falcon's " : "") + "ALiBi over " +
            std::to_string(c.alibiHeads) + " heads ";
  std::printf("%s %s %s%lld x %lld x %lld (groups of %lld), head dims "
              "%lld/%lld, %lld blocks: out %.2e lse %.2e dq %.2e dk %.2e "
              "dv %.2e\n",
              ok ? "ok  " : "FAIL",
              std::is_same_v<T, emulation::Bf16> ? "bf16" : "tf32",
              mask.c_str(), (long long)c.batch, (long long)c.sq,
              (long long)c.sk, (long long)c.group, (long long)c.headDim,
              (long long)c.valueDim, (long long)c.maxBlocks, errors[0],
              errors[1], errors[2], errors[3], errors[4]);
  return ok;
}

} // namespace

/// `count` cases drawn from `seed`.
std::vector<Case> makeRandomCases(int count, unsigned seed) {
  std::mt19937 generator(seed);
  auto draw = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(generator);
  };
  std::vector<Case> cases;
  for (int i = 0; i < count; ++i) {
    int64_t group = draw(1, 3), keyMatrices = draw(1, 4 / group);
    Case c{keyMatrices * group, group,        draw(1, 150),    draw(1, 150),
           draw(1, 128),        draw(1, 128), draw(0, 1) == 1, draw(1, 4)};
    if (c.causal && draw(0, 2) == 0)
      c.window = draw(1, 150);
    // Heads that divide the query matrices (the heads are their last
    // leading dim).
    if (draw(0, 2) == 0) {
      c.alibiHeads = c.batch % 2 == 0 ? draw(1, 2) : 1;
      c.alibiBf16 = draw(0, 1) == 1;
    }
    cases.push_back(c);
  }
  return cases;
}

/// Whether mp_runtime.h's mp_cuda_on_chip_attention_shared_bytes, which a
/// step planned for CUDA sizes its on-chip attention by, is the kernels'
/// largest shared memory for head dims and value dims up to each whole
/// tile, in T's precision; and what that makes the largest head dim on
/// chip for each architecture the header knows.
template <typename T> bool checkPlannedSharedBytes() {
  bool bf16 = std::is_same_v<T, emulation::Bf16>;
  mp_precision precision = bf16 ? MP_PRECISION_BF16 : MP_PRECISION_TF32;
  auto sharedBytes = [](int64_t headDim, int64_t valueDim) {
    flash::FlashShape s(
        AttentionShape{1, 1, 64, 64, headDim, valueDim, 64, true}, 1);
    return std::max({flash::forwardSharedBytes<T>(s),
                     flash::gradSharedBytes<T>(s, false),
                     flash::gradSharedBytes<T>(s, true)});
  };
  bool ok = true;
  size_t largest = 0;
  for (int64_t tiles = 1; tiles * flash::kTile <= flash::kMaxHeadDim; ++tiles) {
    int64_t from = (tiles - 1) * flash::kTile + 1, to = tiles * flash::kTile;
    for (int64_t d = 1; d <= to; ++d)
      for (int64_t dv = d < from ? from : 1; dv <= to; ++dv)
        largest = std::max(largest, sharedBytes(d, dv));
    int64_t planned = mp_cuda_on_chip_attention_shared_bytes(precision, tiles);
    if (planned != static_cast<int64_t>(largest)) {
      std::printf("FAIL  %s head dims up to %lld: the kernels take %zu bytes "
                  "of shared memory, mp_runtime.h plans %lld\n",
                  bf16 ? "bf16" : "tf32", static_cast<long long>(to), largest,
                  static_cast<long long>(planned));
      ok = false;
    }
  }
  for (int64_t arch = 10; arch < 1000; ++arch)
    if (int64_t shared = mp_cuda_shared_bytes_per_block(arch); shared > 0)
      std::printf("%s  %s on sm_%lld (%lld bytes of shared memory per "
                  "block): on chip up to head dim %lld\n",
                  ok ? "ok  " : "FAIL", bf16 ? "bf16" : "tf32",
                  static_cast<long long>(arch), static_cast<long long>(shared),
                  static_cast<long long>(mp_cuda_on_chip_attention_max_head_dim(
                      precision, shared)));
  return ok;
}

int main(int argc, char **argv) {
  bool small = argc == 2 && std::string(argv[1]) == "--small";
  bool random = argc == 4 && std::string(argv[1]) == "--random";
  if (argc > 1 && !small && !random) {
    std::fprintf(stderr, "usage: %s [--small | --random N SEED]\n", argv[0]);
    return 2;
  }
  const std::vector<Case> fixed = {
      {3, 1, 5, 5, 4, 3, true, 8},
      {2, 1, 3, 6, 4, 2, true, 8},
      {2, 1, 6, 3, 2, 3, true, 8},
      {2, 1, 4, 7, 5, 4, false, 8},
      {6, 3, 5, 5, 4, 3, true, 2},
      {1, 1, 64, 64, 16, 16, true, 1},
      {2, 1, 130, 130, 64, 64, true, 3},
      {4, 2, 70, 135, 24, 40, false, 3},
      {2, 2, 100, 67, 128, 128, true, 2},
      {2, 1, 67, 200, 8, 72, true, 4},
      {1, 1, 65, 65, 32, 32, true, 2},
      // Sliding windows: shorter than a block of keys, one block, across
      // blocks with sq > sk and sq < sk, of one key.
      {2, 1, 130, 130, 64, 64, true, 3, 40},
      {3, 1, 150, 150, 8, 8, true, 8, 64},
      {2, 2, 100, 67, 32, 32, true, 2, 70},
      {1, 1, 67, 200, 16, 24, true, 4, 5},
      {2, 1, 9, 9, 4, 4, true, 2, 1},
      // ALiBi: causal across blocks of keys, unmasked with sq < sk, under
      // a window (its keys from past key 0) and grouped, the heads being
      // query matrices.
      {2, 1, 130, 130, 64, 64, true, 3, 0, 2},
      {4, 2, 70, 135, 24, 40, false, 3, 0, 4},
      {3, 1, 150, 150, 8, 8, true, 8, 64, 3},
      {6, 3, 5, 5, 4, 3, true, 2, 0, 6},
      // Falcon's ALiBi (bfloat16, before the scale) across blocks of keys,
      // under a window and grouped.
      {2, 1, 130, 130, 64, 64, true, 3, 0, 2, true},
      {3, 1, 150, 150, 8, 8, true, 8, 64, 3, true},
      {6, 3, 5, 5, 4, 3, true, 2, 0, 6, true}};
  std::vector<Case> cases =
      random ? makeRandomCases(std::atoi(argv[2]),
                               static_cast<unsigned>(std::atoll(argv[3])))
             : fixed;
  int failures = !checkPlannedSharedBytes<emulation::Bf16>() +
                 !checkPlannedSharedBytes<float>(),
      runs = 2;
  for (const Case &c : cases) {
    if (small && (c.sq > 2 * flash::kRows || c.sk > 2 * flash::kKeys ||
                  c.headDim > 32 || c.valueDim > 32))
      continue;
    failures += !runCase<emulation::Bf16>(c) + !runCase<float>(c);
    runs += 2;
  }
  std::printf("mp-flash-attention-emulation: %d cases, %d failed\n", runs,
              failures);
  return failures ? 1 : 0;
}
