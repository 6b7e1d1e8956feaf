//===- Transformer.h - formulas of the transformer layers -------*- C++ -*-===//
//
// What the host loops and the CUDA kernels of the norms, the softmax, the
// rotary embedding, the index localization and the block maxima compute
// alike: the masked length of a causal row, the rotation of a pair, an
// index's place in a piece, the larger of two entries. Math is in double,
// as in Elementwise.h, except attention's soft cap (in float, as its
// scores).
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_TRANSFORMER_H
#define MP_RUNTIME_TRANSFORMER_H

#include "Elementwise.h"

#include <stdint.h>

namespace mp::runtime {

/// 1 / sqrt(mean + eps): a norm's rstd from the row's mean square (RMSNorm)
/// or variance (LayerNorm).
MP_HOST_DEVICE inline double getInverseRoot(double mean, double eps) {
  return 1 / ::sqrt(mean + eps);
}

/// How many leading entries of row q of a causal [sq, sk] softmax are not
/// masked: those with k <= q + (sk - sq), none when that is negative.
MP_HOST_DEVICE inline int64_t getCausalLength(int64_t q, int64_t sq,
                                              int64_t sk) {
  int64_t length = q + (sk - sq) + 1;
  return length < 0 ? 0 : length < sk ? length : sk;
}

/// The first key row q of a causal [sq, sk] softmax sees under a sliding
/// `window` (0: none): keys k <= q + (sk - sq) - window are masked.
MP_HOST_DEVICE inline int64_t getWindowStart(int64_t q, int64_t sq, int64_t sk,
                                             int64_t window) {
  int64_t start = window > 0 ? q + (sk - sq) - window + 1 : 0;
  return start < 0 ? 0 : start < sk ? start : sk;
}

/// A scaled attention score x soft-capped, softcap · tanh(x / softcap)
/// (Gemma 2's attn_logit_softcapping), x where softcap is 0 (none). In
/// float, as the on-chip kernels compute their scores.
MP_HOST_DEVICE inline float capScore(float x, float softcap) {
  return softcap == 0 ? x : softcap * ::tanhf(x / softcap);
}

/// The cap's slope at the capped score t: 1 - (t / softcap)², from the
/// capped value as tanh' = 1 - tanh²; never negative where rounding puts
/// t past the cap. 1 where softcap is 0.
MP_HOST_DEVICE inline float capSlope(float t, float softcap) {
  if (softcap == 0)
    return 1;
  float ratio = t / softcap;
  return ratio * ratio < 1 ? 1 - ratio * ratio : 0;
}

/// A softmax gradient entry ds through the cap, from its probability p and
/// its row's log-sum-exp: the capped score is t = log p + lse; 0 where p is
/// (its ds is, and log 0 gives no t).
MP_HOST_DEVICE inline float capGradient(float ds, float p, float rowLse,
                                        float softcap) {
  return p > 0 ? ds * capSlope(::logf(p) + rowLse, softcap) : 0;
}

/// Score `score` of key `key` plus ALiBi's bias `slope · key`: the product
/// rounded to float, then the float sum (BLOOM's alibi tensor added to the
/// scores), each step exact in double before its rounding.
MP_HOST_DEVICE inline float alibiBias(float score, float slope, int64_t key) {
  float bias = float(double(slope) * double(key));
  return float(double(score) + double(bias));
}

/// Score `score` of key `key` plus ALiBi's bias as Falcon's
/// build_alibi_tensor computes it in bfloat16 (`slopes.bfloat16() *
/// arange`): the slope and the key rounded to bfloat16, their product
/// (exact in double: two 8-bit significands) rounded to bfloat16, then
/// the float sum.
MP_HOST_DEVICE inline float alibiBiasBFloat16(float score, float slope,
                                              int64_t key) {
  auto round = [](float x) { return fromBFloat16Bits(toBFloat16Bits(x)); };
  float bias = round(float(double(round(slope)) * double(round(float(key)))));
  return float(double(score) + double(bias));
}

/// The sizes of an attention call (mp_attention_f32): `batch` query
/// matrices [sq, headDim], key and value matrices [sk, headDim] and
/// [sk, valueDim], one per `group` query matrices (query matrix i reads key
/// matrix i / group), the queries taken `chunk` rows at a time; and what
/// its scores get beside the scale: a mask, a soft cap or ALiBi's bias.
struct AttentionShape {
  int64_t batch, group, sq, sk, headDim, valueDim, chunk;
  bool causal;
  /// A causal sliding window (mp_softmax_f32's; 0: none).
  int64_t window = 0;
  /// The scores' soft cap (capScore; 0: none).
  float softcap = 0;
  /// ALiBi's heads (0: none) and their slopes (backend memory): query
  /// matrix i's scaled scores get alibiBias(score, alibiSlopes[i %
  /// alibiHeads], key), or with alibiBf16 its unscaled scores
  /// alibiBiasBFloat16's (Falcon's).
  int64_t alibiHeads = 0;
  const float *alibiSlopes = nullptr;
  bool alibiBf16 = false;

  /// Query matrix `matrix`'s ALiBi slope (0 without ALiBi).
  MP_HOST_DEVICE float alibiSlope(int64_t matrix) const {
    return alibiHeads ? alibiSlopes[matrix % alibiHeads] : 0;
  }
  /// The softmax's input for a score `score` (q · kᵀ) of key `key`, in a
  /// query matrix of ALiBi slope `slope` (alibiSlope): scaled, then capped
  /// or biased; Falcon's bias before the scale.
  MP_HOST_DEVICE float logit(float score, float scale, float slope,
                             int64_t key) const {
    if (alibiBf16)
      return alibiBiasBFloat16(score, slope, key) * scale;
    float capped = capScore(score * scale, softcap);
    return alibiHeads ? alibiBias(capped, slope, key) : capped;
  }

  /// The rows of the chunk from row `first`.
  MP_HOST_DEVICE int64_t rowsFrom(int64_t first) const {
    return chunk < sq - first ? chunk : sq - first;
  }
  /// The end of the keys rows [first, first + rows) see: that of the last
  /// row under `causal`.
  MP_HOST_DEVICE int64_t keysSeen(int64_t first, int64_t rows) const {
    return causal ? getCausalLength(first + rows - 1, sq, sk) : sk;
  }
  /// The first key row `row` sees: its window's start (the rows after it
  /// start no earlier).
  MP_HOST_DEVICE int64_t firstKeySeen(int64_t row) const {
    return causal ? getWindowStart(row, sq, sk, window) : 0;
  }
  /// The end of the rows that see key `key`: all of them, or under a
  /// window those up to row key - (sk - sq) + window - 1.
  MP_HOST_DEVICE int64_t rowsSeeingEnd(int64_t key) const {
    if (!causal || window == 0)
      return sq;
    int64_t end = key - (sk - sq) + window;
    return end < 0 ? 0 : end < sq ? end : sq;
  }
  /// Floats of one chunk's scores: its rows by the keys they see, at most
  /// (mp_attention_chunk_keys).
  int64_t scoreFloats() const {
    return batch * (chunk < sq ? chunk : sq) *
           mp_attention_chunk_keys(sq, sk, window, chunk);
  }
};

/// The rotary embedding's frequencies (mp_rope_f32): theta over the
/// rotated entries, Llama 3.1's scaling, whose factor 1 scales nothing, the
/// linear scaling's divisor, longrope's divisor per pair, and the factor on
/// cos and sin. Held by value: the CUDA kernel takes it as its argument.
struct RopeFrequencies {
  double theta;
  int64_t rotaryDims;
  mp_rope_scaling scaling = {1, 1, 1, 1};
  double linearScaling = 1;
  double attentionFactor = 1;
  bool hasLongropeFactors = false;
  double longropeFactors[MP_ROPE_MAX_LONGROPE_FACTORS] = {};

  /// The frequency of pair i < rotaryDims / 2, in double.
  MP_HOST_DEVICE double at(int64_t i) const {
    double frequency =
        scaleAsLlama3(1 / ::pow(theta, double(2 * i) / double(rotaryDims))) /
        linearScaling;
    return hasLongropeFactors ? frequency / longropeFactors[i] : frequency;
  }

private:
  MP_HOST_DEVICE double scaleAsLlama3(double frequency) const {
    if (scaling.factor == 1)
      return frequency;
    double wavelength = 2 * 3.141592653589793 / frequency;
    if (wavelength < scaling.original_context / scaling.high_freq_factor)
      return frequency;
    if (wavelength > scaling.original_context / scaling.low_freq_factor)
      return frequency / scaling.factor;
    double smooth =
        (scaling.original_context / wavelength - scaling.low_freq_factor) /
        (scaling.high_freq_factor - scaling.low_freq_factor);
    return (1 - smooth) * frequency / scaling.factor + smooth * frequency;
  }
};

/// cos and sin of the angle of pair i < rotaryDims / 2 at position p (p
/// times its frequency, in double), times the attention factor, rounded to
/// float; the sine negated for the inverse.
MP_HOST_DEVICE inline void getRopeRotation(int64_t p, int64_t i,
                                           const RopeFrequencies &frequencies,
                                           bool inverse, float &cosine,
                                           float &sine) {
  double angle = double(p) * frequencies.at(i);
  cosine = float(::cos(angle) * frequencies.attentionFactor);
  sine = float(::sin(angle) * frequencies.attentionFactor);
  if (inverse)
    sine = -sine;
}

/// Rotates the pair (x0, x1), the complex number x0 + i·x1, by cosine +
/// i·sine.
MP_HOST_DEVICE inline void rotatePair(float x0, float x1, float cosine,
                                      float sine, float &y0, float &y1) {
  y0 = float(double(x0) * cosine - double(x1) * sine);
  y1 = float(double(x0) * sine + double(x1) * cosine);
}

/// The place of global index `index` in a piece whose `valid` entries hold
/// the global ones from `offset` on, or -1 (without overflowing int64).
MP_HOST_DEVICE inline int64_t localizeIndex(int64_t index, int64_t offset,
                                            int64_t valid) {
  return index >= offset && index - offset < valid ? index - offset : -1;
}

/// Entry `index` of mp_iota_i64's [outer][extent][inner]: `start` plus its
/// index along the middle dim.
MP_HOST_DEVICE inline int64_t iotaAt(int64_t index, int64_t extent,
                                     int64_t inner, int64_t start) {
  return start + index / inner % extent;
}

/// The additive bias of attention mask entry `keep`: 0 where it keeps the
/// entry, `fill` where it drops it.
MP_HOST_DEVICE inline float maskBias(int64_t keep, float fill) {
  return keep != 0 ? 0.0f : fill;
}

/// The target a cross entropy skips, if any (the ABI's nullable
/// `ignore_index`).
struct IgnoredTarget {
  bool active = false;
  int64_t index = 0;

  static IgnoredTarget fromPointer(const int64_t *ignoreIndex) {
    return ignoreIndex ? IgnoredTarget{true, *ignoreIndex} : IgnoredTarget{};
  }
  MP_HOST_DEVICE bool skips(int64_t target) const {
    return active && target == index;
  }
};

/// 1 where a cross entropy keeps `target`, 0 where it is `ignoreIndex`.
MP_HOST_DEVICE inline float targetMask(int64_t target, int64_t ignoreIndex) {
  return target != ignoreIndex ? 1.0f : 0.0f;
}

/// The larger of a and b, NaN if either is (torch.amax's rule): a NaN
/// logit is not hidden by the shift of a log-sum-exp.
MP_HOST_DEVICE inline float maxKeepingNan(float a, float b) {
  return a > b || a != a ? a : b;
}

} // namespace mp::runtime

#endif // MP_RUNTIME_TRANSFORMER_H
