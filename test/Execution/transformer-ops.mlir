// The transformer ops on the reference interpreter, against values worked
// out by hand.
//
// RUN: mp-run %s --entry=embedding --print | FileCheck %s --check-prefix=EMB
// RUN: mp-run %s --entry=mask_bias --print | FileCheck %s --check-prefix=MASK
// RUN: mp-run %s --entry=alibi --print | FileCheck %s --check-prefix=ALIBI
// RUN: mp-run %s --entry=alibi_bf16 --print | FileCheck %s --check-prefix=ALIBI-BF16
// RUN: mp-run %s --entry=softmax_window --print | FileCheck %s --check-prefix=WINDOW
// RUN: mp-run %s --entry=embedding_grad --print | FileCheck %s --check-prefix=EMBGRAD
// RUN: not mp-run %s --entry=embedding_bad_id 2>&1 | FileCheck %s --check-prefix=BADID
// RUN: mp-run %s --entry=rms_norm --print | FileCheck %s --check-prefix=RMS
// RUN: mp-run %s --entry=rms_norm_weight_offset --print | FileCheck %s --check-prefix=RMS
// RUN: mp-run %s --entry=layer_norm --print | FileCheck %s --check-prefix=LN
// RUN: mp-run %s --entry=softmax --print | FileCheck %s --check-prefix=SOFTMAX
// RUN: mp-run %s --entry=rope --print | FileCheck %s --check-prefix=ROPE
// RUN: mp-run %s --entry=rope_llama3 --print | FileCheck %s --check-prefix=LLAMA3
// RUN: mp-run %s --entry=rope_linear --print | FileCheck %s --check-prefix=LINEAR
// RUN: mp-run %s --entry=rope_partial_longrope --print | FileCheck %s --check-prefix=LONGROPE
// RUN: mp-run %s --entry=loss_pieces --print | FileCheck %s --check-prefix=PIECES
// RUN: mp-run %s --entry=shared_ids_a --print | FileCheck %s --check-prefix=SHARED
// RUN: mp-run %s --entry=shared_ids_b --print | FileCheck %s --check-prefix=SHARED

// table = [[1, 2], [3, 4]]: id 1 is row [3, 4], id -1 a zero row, id 0 [1, 2].
// EMB: result #0: [1x3x2]
// EMB-NEXT: 3.000000e+00 4.000000e+00
// EMB-NEXT: 0.000000e+00 0.000000e+00
// EMB-NEXT: 1.000000e+00 2.000000e+00
func.func @embedding() -> tensor<1x3x2xf32> {
  %ids = arith.constant dense<[[1, -1, 0]]> : tensor<1x3xi64>
  %t = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %h = mp.embedding %ids, %t : (tensor<1x3xi64>, tensor<2x2xf32>) -> tensor<1x3x2xf32>
  return %h : tensor<1x3x2xf32>
}

// ids [1, 1, -1, 0]: row 0 gets grad row 3, row 1 rows 0 + 1, row 2 nothing,
// and id -1 adds nothing.
// EMBGRAD: result #0: [3x2]
// EMBGRAD-NEXT: 7.000000e+00 8.000000e+00
// EMBGRAD-NEXT: 4.000000e+00 6.000000e+00
// EMBGRAD-NEXT: 0.000000e+00 0.000000e+00
func.func @embedding_grad() -> tensor<3x2xf32> {
  %ids = arith.constant dense<[1, 1, -1, 0]> : tensor<4xi64>
  %g = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  // The table's values are not read.
  %t = arith.constant dense<9.0> : tensor<3x2xf32>
  %d = mp.embedding_grad %ids, %g like %t : (tensor<4xi64>, tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %d : tensor<3x2xf32>
}

// BADID: error: id 2 at index 1 is not below 2
func.func @embedding_bad_id() -> tensor<2x2xf32> {
  %ids = arith.constant dense<[0, 2]> : tensor<2xi64>
  %t = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %h = mp.embedding %ids, %t : (tensor<2xi64>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %h : tensor<2x2xf32>
}

// x = [3, 4], eps 0: r = 1/sqrt(mean(x²)) = 1/sqrt(12.5) = 0.28284271.
// With w = [1, 2]: [3r, 8r] = [0.84852814, 2.2627417].
// Gradient for g = [1, 0], w = [1, 1]: Σ g·w·x = 3, r³ = 0.022627417,
// dx = r·g - x·r³·3/2 = [0.28284271 - 0.10182338, -0.13576450]
//    = [0.18101933, -0.13576450]; dw = g·x·r = [0.84852814, 0].
// RMS: result #0: [1x2]
// RMS-NEXT: 8.485281e-01 2.262742e+00
// RMS: result #1: [1x2]
// RMS-NEXT: 1.810193e-01 -1.357645e-01
// RMS: result #2: [2]
// RMS-NEXT: 8.485281e-01 0.000000e+00
func.func @rms_norm() -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<2xf32>) {
  %x = arith.constant dense<[[3.0, 4.0]]> : tensor<1x2xf32>
  %w = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %ones = arith.constant dense<1.0> : tensor<2xf32>
  %g = arith.constant dense<[[1.0, 0.0]]> : tensor<1x2xf32>
  %y = mp.rms_norm %x, %w eps 0.0 : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %dx = mp.rms_norm_grad %x, %ones, %g eps 0.0 : (tensor<1x2xf32>, tensor<2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>
  %dw = mp.rms_norm_weight_grad %x, %g eps 0.0 : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<2xf32>
  return %y, %dx, %dw : tensor<1x2xf32>, tensor<1x2xf32>, tensor<2xf32>
}

// Gemma's norm scales by 1 + weight: weights [0, 1] and [0, 0] with
// weight_offset 1 are @rms_norm's [1, 2] and [1, 1], and give its values.
func.func @rms_norm_weight_offset() -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<2xf32>) {
  %x = arith.constant dense<[[3.0, 4.0]]> : tensor<1x2xf32>
  %w = arith.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %zeros = arith.constant dense<0.0> : tensor<2xf32>
  %g = arith.constant dense<[[1.0, 0.0]]> : tensor<1x2xf32>
  %y = mp.rms_norm %x, %w eps 0.0 weight_offset 1.0 : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %dx = mp.rms_norm_grad %x, %zeros, %g eps 0.0 weight_offset 1.0 : (tensor<1x2xf32>, tensor<2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>
  %dw = mp.rms_norm_weight_grad %x, %g eps 0.0 : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<2xf32>
  return %y, %dx, %dw : tensor<1x2xf32>, tensor<1x2xf32>, tensor<2xf32>
}

// eps 5, rows of 4. Row 0, x = [0, 0, 4, 4]: mean 2, var 4 (biased: the
// squared deviations [4, 4, 4, 4] over 4), r = 1/sqrt(4 + 5) = 1/3,
// x̂ = [-2/3, -2/3, 2/3, 2/3]. Row 1, x = [-6, -2, 2, 6]: mean 0, var 20,
// r = 1/sqrt(20 + 5) = 1/5, x̂ = [-1.2, -0.4, 0.4, 1.2].
// With w = [1, 2, 3, 4] and b = [0, 1, 0, -1], y = x̂·w + b:
//   row 0: [-2/3, -4/3 + 1, 2, 8/3 - 1] = [-0.6666667, -0.3333333, 2, 1.6666667]
//   row 1: [-1.2, -0.8 + 1, 1.2, 4.8 - 1] = [-1.2, 0.2, 1.2, 3.8].
// Gradients for g = [[1, 0, 0, 0], [0, 0, 1, 1]], same w, gw = g·w:
// dx = r·(gw - mean(gw) - x̂·mean(gw·x̂)), each row summing to 0.
//   row 0: gw = [1, 0, 0, 0], mean(gw) = 1/4, mean(gw·x̂) = (-2/3)/4 = -1/6:
//     dx = (gw - 1/4 + x̂/6)/3 = [23, -13, -5, -5]/108
//        = [0.2129630, -0.1203704, -0.0462963, -0.0462963];
//   row 1: gw = [0, 0, 3, 4], mean(gw) = 7/4, mean(gw·x̂) = (1.2 + 4.8)/4 = 1.5:
//     dx = (gw - 1.75 - 1.5·x̂)/5 = [0.05, -1.15, 0.65, 0.45]/5
//        = [0.01, -0.23, 0.13, 0.09].
// dweight = Σ_rows g·x̂ = [-2/3, 0, 0, 0] + [0, 0, 0.4, 1.2]
//         = [-0.6666667, 0, 0.4, 1.2]; dbias = Σ_rows g = [1, 0, 1, 1].
// LN: result #0: [2x4]
// LN-NEXT: -6.666667e-01 -3.333333e-01 2.000000e+00 1.666667e+00
// LN-NEXT: -1.200000e+00 2.000000e-01 1.200000e+00 3.800000e+00
// LN: result #1: [2x4]
// LN-NEXT: 2.129630e-01 -1.203704e-01 -4.629630e-02 -4.629630e-02
// LN-NEXT: 1.000000e-02 -2.300000e-01 1.300000e-01 9.000000e-02
// LN: result #2: [4]
// LN-NEXT: -6.666667e-01 0.000000e+00 4.000000e-01 1.200000e+00
// LN: result #3: [4]
// LN-NEXT: 1.000000e+00 0.000000e+00 1.000000e+00 1.000000e+00
func.func @layer_norm() -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %x = arith.constant dense<[[0.0, 0.0, 4.0, 4.0], [-6.0, -2.0, 2.0, 6.0]]> : tensor<2x4xf32>
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %b = arith.constant dense<[0.0, 1.0, 0.0, -1.0]> : tensor<4xf32>
  %g = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]> : tensor<2x4xf32>
  %y = mp.layer_norm %x, %w, %b eps 5.0 : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %dx = mp.layer_norm_grad %x, %w, %g eps 5.0 : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %dw, %db = mp.layer_norm_weight_grad %x, %g eps 5.0 : (tensor<2x4xf32>, tensor<2x4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %y, %dx, %dw, %db : tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// Rows [0, ln 3]: softmax [1/4, 3/4]; causal on 2x2 keeps entry (0, 0)
// only in row 0. Causal 3x2 (more queries than keys): query q sees keys
// k <= q - 1, so row 0 sees none (zeros), row 1 key 0, row 2 both. Its
// gradient for g = [1, 0]: y·(g - Σ g·y) = [3/16, -3/16].
// SOFTMAX: result #0: [2x2]
// SOFTMAX-NEXT: 2.500000e-01 7.500000e-01
// SOFTMAX-NEXT: 2.500000e-01 7.500000e-01
// SOFTMAX: result #1: [2x2]
// SOFTMAX-NEXT: 1.000000e+00 0.000000e+00
// SOFTMAX-NEXT: 2.500000e-01 7.500000e-01
// SOFTMAX: result #2: [3x2]
// SOFTMAX-NEXT: 0.000000e+00 0.000000e+00
// SOFTMAX-NEXT: 1.000000e+00 0.000000e+00
// SOFTMAX-NEXT: 2.500000e-01 7.500000e-01
// SOFTMAX: result #3: [2x2]
// SOFTMAX-NEXT: 1.875000e-01 -1.875000e-01
// SOFTMAX-NEXT: 1.875000e-01 -1.875000e-01
func.func @softmax() -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<3x2xf32>, tensor<2x2xf32>) {
  %x = arith.constant dense<[[0.0, 1.0986122886681098], [0.0, 1.0986122886681098]]> : tensor<2x2xf32>
  %x3 = arith.constant dense<[[5.0, 7.0], [0.0, 9.0], [0.0, 1.0986122886681098]]> : tensor<3x2xf32>
  %g = arith.constant dense<[[1.0, 0.0], [1.0, 0.0]]> : tensor<2x2xf32>
  %p = mp.softmax %x : tensor<2x2xf32>
  %c = mp.softmax %x causal : tensor<2x2xf32>
  %c3 = mp.softmax %x3 causal : tensor<3x2xf32>
  %d = mp.softmax_grad %p, %g : tensor<2x2xf32>
  return %p, %c, %c3, %d : tensor<2x2xf32>, tensor<2x2xf32>, tensor<3x2xf32>, tensor<2x2xf32>
}

// Sliding windows: with window 2 row q of a [3, 3] causal softmax sees keys
// q - 1 and q (row 0 only key 0), so row 2's key 0 (100) is masked; ln 3 =
// 1.0986122886681098 makes a pair 1/4, 3/4. Window 1 leaves each row its
// diagonal. For [2, 3] (the last key aligned) the diagonal of row q is key
// q + 1.
// WINDOW: result #0: [3x3]
// WINDOW-NEXT: 1.000000e+00 0.000000e+00 0.000000e+00
// WINDOW-NEXT: 2.500000e-01 7.500000e-01 0.000000e+00
// WINDOW-NEXT: 0.000000e+00 2.500000e-01 7.500000e-01
// WINDOW: result #1: [3x3]
// WINDOW-NEXT: 1.000000e+00 0.000000e+00 0.000000e+00
// WINDOW-NEXT: 0.000000e+00 1.000000e+00 0.000000e+00
// WINDOW-NEXT: 0.000000e+00 0.000000e+00 1.000000e+00
// WINDOW: result #2: [2x3]
// WINDOW-NEXT: 2.500000e-01 7.500000e-01 0.000000e+00
// WINDOW-NEXT: 0.000000e+00 2.500000e-01 7.500000e-01
func.func @softmax_window() -> (tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>) {
  %x = arith.constant dense<[[5.0, 7.0, 9.0], [0.0, 1.0986122886681098, 9.0], [100.0, 0.0, 1.0986122886681098]]> : tensor<3x3xf32>
  %y = arith.constant dense<[[0.0, 1.0986122886681098, 9.0], [100.0, 0.0, 1.0986122886681098]]> : tensor<2x3xf32>
  %w2 = mp.softmax %x causal window 2 : tensor<3x3xf32>
  %w1 = mp.softmax %x causal window 1 : tensor<3x3xf32>
  %wy = mp.softmax %y causal window 2 : tensor<2x3xf32>
  return %w2, %w1, %wy : tensor<3x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>
}

// [seq 2, heads 1, head_dim 4], theta 100: pair i turns by p·100^(-i/2), so
// at position 1 pair 0 by 1 rad and pair 1 by 0.1 rad; position 0 stays.
// (1, 0) -> (cos, sin): cos 1 = 0.54030231, sin 1 = 0.84147098,
// cos 0.1 = 0.99500417, sin 0.1 = 0.09983342. The inverse turns back.
// ROPE: result #0: [2x1x4]
// ROPE-NEXT: 1.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00
// ROPE-NEXT: 5.403023e-01 8.414710e-01 9.950042e-01 9.983342e-02
// ROPE: result #1: [2x1x4]
// ROPE-NEXT: 1.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00
// ROPE-NEXT: 1.000000e+00 {{-?0\.000000e\+00|-?[0-9.]+e-(0[7-9]|1[0-9])}} 1.000000e+00 {{-?0\.000000e\+00|-?[0-9.]+e-(0[7-9]|1[0-9])}}
func.func @rope() -> (tensor<2x1x4xf32>, tensor<2x1x4xf32>) {
  %x = arith.constant dense<[[[1.0, 0.0, 1.0, 0.0]], [[1.0, 0.0, 1.0, 0.0]]]> : tensor<2x1x4xf32>
  %r = mp.rope %x theta 100.0 : tensor<2x1x4xf32>
  %back = mp.rope %r theta 100.0 inverse : tensor<2x1x4xf32>
  return %r, %back : tensor<2x1x4xf32>, tensor<2x1x4xf32>
}

// Scaled as Llama 3.1 with factor 8, low_freq_factor 1, high_freq_factor 4
// and an original context of 64, at head dim 8 and theta 100: the
// frequencies 100^(-i/4) = 1, 0.316228, 0.1, 0.0316228 have wavelengths
// 2π / f = 6.28 (below 64 / 4 = 16: kept), 19.87 and 62.83 (between 16 and
// 64: smoothed, s = (64 / w - 1) / 3 = 0.740356 and 0.006197, so
// (1 - s) f / 8 + s f = 0.244385 and 0.0130423) and 198.7 (above 64: f / 8
// = 0.00395285). Position 1 turns (1, 0) to (cos f, sin f).
// LLAMA3: result #0: [2x1x8]
// LLAMA3-NEXT: 1.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00
// LLAMA3-NEXT: 5.403023e-01 8.414710e-01 9.702864e-01 2.419593e-01 9.999150e-01 1.304189e-02 9.999922e-01 3.952837e-03
func.func @rope_llama3() -> tensor<2x1x8xf32> {
  %x = arith.constant dense<[[[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]], [[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]]]> : tensor<2x1x8xf32>
  %r = mp.rope %x theta 100.0 llama3_scaling [8.0, 1.0, 4.0, 64.0] : tensor<2x1x8xf32>
  return %r : tensor<2x1x8xf32>
}

// Scaled linearly by 4 at theta 100, head dim 4: the frequencies 1 and 0.1
// become 0.25 and 0.025, so position 1 turns (1, 0) to (cos 0.25, sin 0.25)
// and (cos 0.025, sin 0.025).
// LINEAR: result #0: [2x1x4]
// LINEAR-NEXT: 1.000000e+00 0.000000e+00 1.000000e+00 0.000000e+00
// LINEAR-NEXT: 9.689124e-01 2.474040e-01 9.996875e-01 2.499740e-02
func.func @rope_linear() -> tensor<2x1x4xf32> {
  %x = arith.constant dense<[[[1.0, 0.0, 1.0, 0.0]], [[1.0, 0.0, 1.0, 0.0]]]> : tensor<2x1x4xf32>
  %r = mp.rope %x theta 100.0 linear_scaling 4.0 : tensor<2x1x4xf32>
  return %r : tensor<2x1x4xf32>
}

// The first 4 of 8 entries rotate (rotary_dims 4: frequencies 100^(-2i/4) =
// 1 and 0.1), divided by the longrope factors 2 and 4 (0.5 and 0.025), cos
// and sin times the attention factor 1.5: position 1 turns (1, 0) to 1.5 ·
// (cos 0.5, sin 0.5) = (1.316374, 0.719138) and 1.5 · (cos 0.025,
// sin 0.025) = (1.499531, 0.037496); entries 4 to 7 pass as they are. The
// inverse turns back, scaling by 1.5 again: 2.25 x on the rotated entries.
// LONGROPE: result #0: [2x1x8]
// LONGROPE-NEXT: 1.500000e+00 0.000000e+00 1.500000e+00 0.000000e+00 7.000000e+00 -3.000000e+00 5.000000e+00 9.000000e+00
// LONGROPE-NEXT: 1.316374e+00 7.191383e-01 1.499531e+00 3.749609e-02 7.000000e+00 -3.000000e+00 5.000000e+00 9.000000e+00
// LONGROPE: result #1: [2x1x8]
// LONGROPE-NEXT: 2.250000e+00 0.000000e+00 2.250000e+00 0.000000e+00 7.000000e+00 -3.000000e+00 5.000000e+00 9.000000e+00
// LONGROPE-NEXT: 2.250000e+00 {{-?0\.000000e\+00|-?[0-9.]+e-(0[7-9]|1[0-9])}} 2.250000e+00 {{-?0\.000000e\+00|-?[0-9.]+e-(0[7-9]|1[0-9])}} 7.000000e+00 -3.000000e+00 5.000000e+00 9.000000e+00
func.func @rope_partial_longrope() -> (tensor<2x1x8xf32>, tensor<2x1x8xf32>) {
  %x = arith.constant dense<[[[1.0, 0.0, 1.0, 0.0, 7.0, -3.0, 5.0, 9.0]], [[1.0, 0.0, 1.0, 0.0, 7.0, -3.0, 5.0, 9.0]]]> : tensor<2x1x8xf32>
  %r = mp.rope %x theta 100.0 rotary_dims 4 longrope_factors [2.0, 4.0] attention_factor 1.5 : tensor<2x1x8xf32>
  %back = mp.rope %r theta 100.0 rotary_dims 4 longrope_factors [2.0, 4.0] attention_factor 1.5 inverse : tensor<2x1x8xf32>
  return %r, %back : tensor<2x1x8xf32>, tensor<2x1x8xf32>
}

// Rows [1, 5, 3, 2] and [-4, -1, -3, -2] in 2 blocks: maxima [5, 3] and
// [-1, -2]. Picks: index 2 of row 0 (3), index -1 of row 1 (0). Scattering
// [7, 8] back: 7 at [0][2], nothing for row 1. log(e) = 1, log(1) = 0.
// PIECES: result #0: [2x2]
// PIECES-NEXT: 5.000000e+00 3.000000e+00
// PIECES-NEXT: -1.000000e+00 -2.000000e+00
// PIECES: result #1: [2]
// PIECES-NEXT: 3.000000e+00 0.000000e+00
// PIECES: result #2: [2x4]
// PIECES-NEXT: 0.000000e+00 0.000000e+00 7.000000e+00 0.000000e+00
// PIECES-NEXT: 0.000000e+00 0.000000e+00 0.000000e+00 0.000000e+00
// PIECES: result #3: [2]
// PIECES-NEXT: 1.000000e+00 0.000000e+00
func.func @loss_pieces() -> (tensor<2x2xf32>, tensor<2xf32>, tensor<2x4xf32>, tensor<2xf32>) {
  %x = arith.constant dense<[[1.0, 5.0, 3.0, 2.0], [-4.0, -1.0, -3.0, -2.0]]> : tensor<2x4xf32>
  %t = arith.constant dense<[2, -1]> : tensor<2xi64>
  %g = arith.constant dense<[7.0, 8.0]> : tensor<2xf32>
  %e = arith.constant dense<[2.718281828459045, 1.0]> : tensor<2xf32>
  %b = mp.block_max %x : tensor<2x4xf32> -> tensor<2x2xf32>
  %p = mp.gather_last %x, %t : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<2xf32>
  %s = mp.scatter_last %t, %g like %x : (tensor<2xi64>, tensor<2xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %l = mp.log %e : tensor<2xf32>
  return %b, %p, %s, %l : tensor<2x2xf32>, tensor<2xf32>, tensor<2x4xf32>, tensor<2xf32>
}

// Ids that a 12-row embedding and a 5-class cross entropy both read: mp-run
// draws them below the smaller bound, whichever consumer comes first (one
// of these two orders failed when the first consumer found set it).
// SHARED: result #0: []
func.func @shared_ids_a(%ids: tensor<6xi64>, %t: tensor<12x5xf32>) -> tensor<f32> {
  %h = mp.embedding %ids, %t : (tensor<6xi64>, tensor<12x5xf32>) -> tensor<6x5xf32>
  %l = mp.cross_entropy %h, %ids : (tensor<6x5xf32>, tensor<6xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
func.func @shared_ids_b(%ids: tensor<6xi64>, %t: tensor<12x5xf32>, %x: tensor<6x5xf32>) -> tensor<f32> {
  %l = mp.cross_entropy %x, %ids : (tensor<6x5xf32>, tensor<6xi64>) -> tensor<f32>
  %h = mp.embedding %ids, %t : (tensor<6xi64>, tensor<12x5xf32>) -> tensor<6x5xf32>
  %s = mp.sum %h : tensor<6x5xf32> -> tensor<f32>
  %r = mp.add %l, %s : tensor<f32>
  return %r : tensor<f32>
}


// The bias of a mask: 0 where it keeps (any non-zero), the fill where it
// drops (0).
// MASK: result #0: [2x3]
// MASK-NEXT: 0.000000e+00 -inf 0.000000e+00
// MASK-NEXT: -inf 0.000000e+00 0.000000e+00
// MASK: result #1: [2x3]
// MASK-NEXT: 0.000000e+00 -1.000000e+09 0.000000e+00
// ALiBi's slopes: 2^(-8(h+1)/p) for the first p = 4 of 6 heads, then
// 2^(-8(2(h-p)+1)/2p) for the others, 2^-1 and 2^-3 (BLOOM's and MPT's at 6
// heads); at max_bias 4, 2 heads have 2^-2 and 2^-4. The bias adds slope ·
// key to each row of a head: head 0 (slope 1/4) and head 1 (1/16) of 2.
// ALIBI: result #0: [6]
// ALIBI-NEXT: 2.500000e-01 6.250000e-02 1.562500e-02 3.906250e-03 5.000000e-01 1.250000e-01
// ALIBI: result #1: [2]
// ALIBI-NEXT: 2.500000e-01 6.250000e-02
// ALIBI: result #2: [1x2x2x3]
// ALIBI-NEXT: 1.000000e+00 1.250000e+00 1.500000e+00
// ALIBI-NEXT: -1.000000e+00 -7.500000e-01 -5.000000e-01
// ALIBI-NEXT: 2.000000e+00 2.062500e+00 2.125000e+00
// ALIBI-NEXT: 0.000000e+00 6.250000e-02 1.250000e-01
func.func @alibi() -> (tensor<6xf32>, tensor<2xf32>, tensor<1x2x2x3xf32>) {
  %six = mp.alibi_slopes : tensor<6xf32>
  %two = mp.alibi_slopes max_bias 4.0 : tensor<2xf32>
  %scores = arith.constant dense<[[[[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]],
                                   [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]]]> : tensor<1x2x2x3xf32>
  %b = mp.alibi %scores, %two : tensor<1x2x2x3xf32>, tensor<2xf32>
  return %six, %two, %b : tensor<6xf32>, tensor<2xf32>, tensor<1x2x2x3xf32>
}

// Falcon-RW's bias (bf16_bias) on zero scores: slope 1 and 0.3 (0.30078125
// in bfloat16) times the keys rounded to bfloat16, their products rounded:
// keys 257 and 259 are ties that go to 256 and 260, so 0.30078125 · 257
// is 0.30078125 · 256 = 77 (unrounded, 77.30 would round to 77.5).
// ALIBI-BF16: result #0: [1x2x1x260]
// ALIBI-BF16-NEXT: {{^}}0.000000e+00 1.000000e+00 2.000000e+00 {{.*}} 2.550000e+02 2.560000e+02 2.560000e+02 2.580000e+02 2.600000e+02{{$}}
// ALIBI-BF16-NEXT: {{^}}0.000000e+00 3.007812e-01 6.015625e-01 9.023438e-01 {{.*}} 7.650000e+01 7.700000e+01 7.700000e+01 7.750000e+01 7.800000e+01{{$}}
func.func @alibi_bf16() -> tensor<1x2x1x260xf32> {
  %slopes = arith.constant dense<[1.0, 0.3]> : tensor<2xf32>
  %scores = arith.constant dense<0.0> : tensor<1x2x1x260xf32>
  %b = mp.alibi %scores, %slopes bf16_bias : tensor<1x2x1x260xf32>, tensor<2xf32>
  return %b : tensor<1x2x1x260xf32>
}

func.func @mask_bias() -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %m = arith.constant dense<[[1, 0, 1], [0, -3, 7]]> : tensor<2x3xi64>
  %a = mp.mask_bias %m fill 0xFFF0000000000000 : tensor<2x3xi64> -> tensor<2x3xf32>
  %b = mp.mask_bias %m fill -1.0e9 : tensor<2x3xi64> -> tensor<2x3xf32>
  return %a, %b : tensor<2x3xf32>, tensor<2x3xf32>
}
