// RUN: mp-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(mp-raise-tosa-composites))" -verify-diagnostics | FileCheck %s

// RMSNorm as torch-mlir spells torchtitan's: x² a pow by 2, the mean a
// reduce_sum times 1/D, eps added, rsqrt, then the products with x and the
// weight reshaped to [1, 1, D]. eps is the decimal the exporter wrote, not
// the f32 it became.

// CHECK-LABEL: func.func @rms_norm_pow
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x8xf32>, %[[W:.+]]: tensor<8xf32>)
// CHECK-NEXT: %[[N:.+]] = mp.rms_norm %[[X]], %[[W]] eps 1.000000e-05 : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
// CHECK-NEXT: return %[[N]]
func.func @rms_norm_pow(%x: tensor<2x3x8xf32>, %w: tensor<8xf32>) -> tensor<2x3x8xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %two = "tosa.const"() <{values = dense<2.000000e+00> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %inv = "tosa.const"() <{values = dense<1.250000e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %eps = "tosa.const"() <{values = dense<9.99999974E-6> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sq = tosa.pow %x, %two : (tensor<2x3x8xf32>, tensor<1x1x1xf32>) -> tensor<2x3x8xf32>
  %sum = tosa.reduce_sum %sq {axis = 2 : i32} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
  %mean = tosa.mul %sum, %inv, %shift : (tensor<2x3x1xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<2x3x1xf32>
  %shifted = tosa.add %mean, %eps : (tensor<2x3x1xf32>, tensor<1x1x1xf32>) -> tensor<2x3x1xf32>
  %r = tosa.rsqrt %shifted : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %n = tosa.mul %x, %r, %shift : (tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  %s = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %w3 = tosa.reshape %w, %s : (tensor<8xf32>, !tosa.shape<3>) -> tensor<1x1x8xf32>
  %y = tosa.mul %n, %w3, %shift : (tensor<2x3x8xf32>, tensor<1x1x8xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// x² as a product, every product and sum with its operands the other way
// round, and a weight held as [1, 1, D]: reshaped to the [D] mp takes.

// CHECK-LABEL: func.func @rms_norm_mul
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x8xf32>, %[[W:.+]]: tensor<1x1x8xf32>)
// CHECK-NEXT: %[[R:.+]] = mp.reshape %[[W]] : tensor<1x1x8xf32> -> tensor<8xf32>
// CHECK-NEXT: %[[N:.+]] = mp.rms_norm %[[X]], %[[R]] eps 1.000000e-03
// CHECK-NEXT: return %[[N]]
func.func @rms_norm_mul(%x: tensor<2x3x8xf32>, %w: tensor<1x1x8xf32>) -> tensor<2x3x8xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %inv = "tosa.const"() <{values = dense<1.250000e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %eps = "tosa.const"() <{values = dense<1.000000e-03> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sq = tosa.mul %x, %x, %shift : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  %sum = tosa.reduce_sum %sq {axis = 2 : i32} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
  %mean = tosa.mul %inv, %sum, %shift : (tensor<1x1x1xf32>, tensor<2x3x1xf32>, tensor<1xi8>) -> tensor<2x3x1xf32>
  %shifted = tosa.add %eps, %mean : (tensor<1x1x1xf32>, tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %r = tosa.rsqrt %shifted : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %n = tosa.mul %r, %x, %shift : (tensor<2x3x1xf32>, tensor<2x3x8xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  %y = tosa.mul %w, %n, %shift : (tensor<1x1x8xf32>, tensor<2x3x8xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// A mean over another count than the normalized dim (1/4 of 8 entries) is
// not an RMSNorm: the rsqrt is left, and named.

func.func @rms_norm_wrong_count(%x: tensor<2x3x8xf32>, %w: tensor<1x1x8xf32>) -> tensor<2x3x8xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %inv = "tosa.const"() <{values = dense<2.500000e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %eps = "tosa.const"() <{values = dense<1.000000e-03> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sq = tosa.mul %x, %x, %shift : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  %sum = tosa.reduce_sum %sq {axis = 2 : i32} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
  %mean = tosa.mul %inv, %sum, %shift : (tensor<1x1x1xf32>, tensor<2x3x1xf32>, tensor<1xi8>) -> tensor<2x3x1xf32>
  %shifted = tosa.add %eps, %mean : (tensor<1x1x1xf32>, tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  // expected-error @+1 {{cannot import 'tosa.rsqrt' on its own: mp reads it only as part of RMSNorm (x * rsqrt(mean(x^2) + eps) * weight), and this one is not part of such a pattern}}
  %r = tosa.rsqrt %shifted : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %n = tosa.mul %r, %x, %shift : (tensor<2x3x1xf32>, tensor<2x3x8xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  %y = tosa.mul %w, %n, %shift : (tensor<1x1x8xf32>, tensor<2x3x8xf32>, tensor<1xi8>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// softmax as torch-mlir spells aten._softmax over the last axis.

// CHECK-LABEL: func.func @softmax
// CHECK-NEXT: %[[P:.+]] = mp.softmax %arg0 : tensor<2x3x3xf32>
// CHECK-NEXT: return %[[P]]
func.func @softmax(%x: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.reduce_max %x {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %d = tosa.sub %x, %m : (tensor<2x3x3xf32>, tensor<2x3x1xf32>) -> tensor<2x3x3xf32>
  %e = tosa.exp %d : (tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %s = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %r = tosa.reciprocal %s : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<2x3x3xf32>, tensor<2x3x1xf32>, tensor<1xi8>) -> tensor<2x3x3xf32>
  return %p : tensor<2x3x3xf32>
}

// -----

// The causal mask of a registered bool buffer (masked_fill(~tril, -inf)),
// and as a constant 0/-inf bias added to the scores: softmax causal.

// CHECK-LABEL: func.func @causal_select
// CHECK-NEXT: %[[P:.+]] = mp.softmax %arg0 causal : tensor<2x3x3xf32>
// CHECK-NEXT: return %[[P]]
func.func @causal_select(%x: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %tril = "tosa.const"() <{values = dense<[[[true, false, false], [true, true, false], [true, true, true]]]> : tensor<1x3x3xi1>}> : () -> tensor<1x3x3xi1>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %masked = tosa.select %tril, %x, %ninf : (tensor<1x3x3xi1>, tensor<2x3x3xf32>, tensor<1x1x1xf32>) -> tensor<2x3x3xf32>
  %m = tosa.reduce_max %masked {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %d = tosa.sub %masked, %m : (tensor<2x3x3xf32>, tensor<2x3x1xf32>) -> tensor<2x3x3xf32>
  %e = tosa.exp %d : (tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %s = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %r = tosa.reciprocal %s : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %p = tosa.mul %r, %e, %shift : (tensor<2x3x1xf32>, tensor<2x3x3xf32>, tensor<1xi8>) -> tensor<2x3x3xf32>
  return %p : tensor<2x3x3xf32>
}

// CHECK-LABEL: func.func @causal_bias
// CHECK-NEXT: %[[P:.+]] = mp.softmax %arg0 causal : tensor<2x3x3xf32>
// CHECK-NEXT: return %[[P]]
func.func @causal_bias(%x: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %bias = "tosa.const"() <{values = dense<[[[0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0]]]> : tensor<1x3x3xf32>}> : () -> tensor<1x3x3xf32>
  %masked = tosa.add %bias, %x : (tensor<1x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %m = tosa.reduce_max %masked {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %d = tosa.sub %masked, %m : (tensor<2x3x3xf32>, tensor<2x3x1xf32>) -> tensor<2x3x3xf32>
  %e = tosa.exp %d : (tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %s = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %r = tosa.reciprocal %s : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<2x3x3xf32>, tensor<2x3x1xf32>, tensor<1xi8>) -> tensor<2x3x3xf32>
  return %p : tensor<2x3x3xf32>
}

// -----

// A mask mp has no op for (the upper triangle kept: anti-causal) leaves
// its select, named; the softmax over it is raised.

func.func @anticausal(%x: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %triu = "tosa.const"() <{values = dense<[[[true, true, true], [false, true, true], [false, false, true]]]> : tensor<1x3x3xi1>}> : () -> tensor<1x3x3xi1>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  // expected-error @+1 {{cannot import 'tosa.select' on its own: mp reads it only as part of softmax}}
  %masked = tosa.select %triu, %x, %ninf : (tensor<1x3x3xi1>, tensor<2x3x3xf32>, tensor<1x1x1xf32>) -> tensor<2x3x3xf32>
  %m = tosa.reduce_max %masked {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %d = tosa.sub %masked, %m : (tensor<2x3x3xf32>, tensor<2x3x1xf32>) -> tensor<2x3x3xf32>
  %e = tosa.exp %d : (tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %s = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %r = tosa.reciprocal %s : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<2x3x3xf32>, tensor<2x3x1xf32>, tensor<1xi8>) -> tensor<2x3x3xf32>
  return %p : tensor<2x3x3xf32>
}

// -----

// A max reduction that is not softmax's shift (max pooling) has no mp op.

func.func @max_pool(%x: tensor<2x3x3xf32>) -> tensor<2x3x1xf32> {
  // expected-error @+1 {{cannot import 'tosa.reduce_max' on its own: mp reads it only as part of softmax}}
  %m = tosa.reduce_max %x {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  return %m : tensor<2x3x1xf32>
}

// -----

// torchtitan's rotary embedding in real arithmetic (gpt-fast's
// apply_rotary_emb): pairs of head_dim rotated by constant cos/sin caches
// [1, seq, 1, head_dim / 2, 1]; theta is read from the caches (here 100:
// pair 1 turns by 100^(-2/4) = 0.1 per position), products and the sum in
// either order.

// CHECK-LABEL: func.func @rope
// CHECK-NEXT: %[[R:.+]] = mp.rope %arg0 theta 1.000000e+02 : tensor<1x2x1x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @rope(%x: tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %cos = "tosa.const"() <{values = dense<[[[[[1.0], [1.0]]], [[[0.540302306], [0.995004165]]]]]> : tensor<1x2x1x2x1xf32>}> : () -> tensor<1x2x1x2x1xf32>
  %sin = "tosa.const"() <{values = dense<[[[[[0.0], [0.0]]], [[[0.841470985], [0.0998334166]]]]]> : tensor<1x2x1x2x1xf32>}> : () -> tensor<1x2x1x2x1xf32>
  %s5 = tosa.const_shape {values = dense<[1, 2, 1, 2, 2]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %s4 = tosa.const_shape {values = dense<[1, 2, 1, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %start0 = tosa.const_shape {values = dense<[0, 0, 0, 0, 0]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %start1 = tosa.const_shape {values = dense<[0, 0, 0, 0, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %size = tosa.const_shape {values = dense<[1, 2, 1, 2, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %x5 = tosa.reshape %x, %s5 : (tensor<1x2x1x4xf32>, !tosa.shape<5>) -> tensor<1x2x1x2x2xf32>
  %a = tosa.slice %x5, %start0, %size : (tensor<1x2x1x2x2xf32>, !tosa.shape<5>, !tosa.shape<5>) -> tensor<1x2x1x2x1xf32>
  %b = tosa.slice %x5, %start1, %size : (tensor<1x2x1x2x2xf32>, !tosa.shape<5>, !tosa.shape<5>) -> tensor<1x2x1x2x1xf32>
  %ac = tosa.mul %a, %cos, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %bs = tosa.mul %sin, %b, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %re = tosa.sub %ac, %bs : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>) -> tensor<1x2x1x2x1xf32>
  %bc = tosa.mul %b, %cos, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %as = tosa.mul %a, %sin, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %im = tosa.add %as, %bc : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>) -> tensor<1x2x1x2x1xf32>
  %pairs = tosa.concat %re, %im {axis = 4 : i32} : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>) -> tensor<1x2x1x2x2xf32>
  %y = tosa.reshape %pairs, %s4 : (tensor<1x2x1x2x2xf32>, !tosa.shape<4>) -> tensor<1x2x1x4xf32>
  return %y : tensor<1x2x1x4xf32>
}

// -----

// Caches that are not the angles of one theta (cos(1) read as 0.6) are not
// a rotary embedding mp has: the slices are left, and named.

func.func @rope_other_cache(%x: tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %cos = "tosa.const"() <{values = dense<[[[[[1.0], [1.0]]], [[[0.6], [0.995004165]]]]]> : tensor<1x2x1x2x1xf32>}> : () -> tensor<1x2x1x2x1xf32>
  %sin = "tosa.const"() <{values = dense<[[[[[0.0], [0.0]]], [[[0.841470985], [0.0998334166]]]]]> : tensor<1x2x1x2x1xf32>}> : () -> tensor<1x2x1x2x1xf32>
  %s5 = tosa.const_shape {values = dense<[1, 2, 1, 2, 2]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %s4 = tosa.const_shape {values = dense<[1, 2, 1, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %start0 = tosa.const_shape {values = dense<[0, 0, 0, 0, 0]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %start1 = tosa.const_shape {values = dense<[0, 0, 0, 0, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %size = tosa.const_shape {values = dense<[1, 2, 1, 2, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %x5 = tosa.reshape %x, %s5 : (tensor<1x2x1x4xf32>, !tosa.shape<5>) -> tensor<1x2x1x2x2xf32>
  // expected-error @+1 {{cannot import 'tosa.slice' on its own: mp reads it only as part of the rotary embedding (pairs of the last dim rotated by constant cos/sin caches of one theta), and this one is not part of such a pattern}}
  %a = tosa.slice %x5, %start0, %size : (tensor<1x2x1x2x2xf32>, !tosa.shape<5>, !tosa.shape<5>) -> tensor<1x2x1x2x1xf32>
  %b = tosa.slice %x5, %start1, %size : (tensor<1x2x1x2x2xf32>, !tosa.shape<5>, !tosa.shape<5>) -> tensor<1x2x1x2x1xf32>
  %ac = tosa.mul %a, %cos, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %bs = tosa.mul %sin, %b, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %re = tosa.sub %ac, %bs : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>) -> tensor<1x2x1x2x1xf32>
  %bc = tosa.mul %b, %cos, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %as = tosa.mul %a, %sin, %shift : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>, tensor<1xi8>) -> tensor<1x2x1x2x1xf32>
  %im = tosa.add %as, %bc : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>) -> tensor<1x2x1x2x1xf32>
  %pairs = tosa.concat %re, %im {axis = 4 : i32} : (tensor<1x2x1x2x1xf32>, tensor<1x2x1x2x1xf32>) -> tensor<1x2x1x2x2xf32>
  %y = tosa.reshape %pairs, %s4 : (tensor<1x2x1x2x2xf32>, !tosa.shape<4>) -> tensor<1x2x1x4xf32>
  return %y : tensor<1x2x1x4xf32>
}

// -----

// A mask the model is given (an i64 input compared with 0, as HF's
// masked_fill(mask == 0, -inf) spells it; or cast to bool, kept where
// non-zero): the select becomes the sum with mp.mask_bias of the mask,
// which TOSA's add broadcasts as the select did, and the softmax is raised.

// CHECK-LABEL: func.func @mask_argument
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x3xf32>, %[[M:.+]]: tensor<3x3xi64>)
// CHECK: %[[B:.+]] = mp.mask_bias %[[M]] fill 0xFFF0000000000000 : tensor<3x3xi64> -> tensor<3x3xf32>
// CHECK-NEXT: %[[B3:.+]] = mp.reshape %[[B]] : tensor<3x3xf32> -> tensor<1x3x3xf32>
// CHECK-NEXT: %[[S:.+]] = tosa.add %[[X]], %[[B3]] : (tensor<2x3x3xf32>, tensor<1x3x3xf32>) -> tensor<2x3x3xf32>
// CHECK-NEXT: %[[P:.+]] = mp.softmax %[[S]] : tensor<2x3x3xf32>
// CHECK-NEXT: return %[[P]]
func.func @mask_argument(%x: tensor<2x3x3xf32>, %mask: tensor<3x3xi64>) -> tensor<2x3x3xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %zero = "tosa.const"() <{values = dense<0> : tensor<1x1x1xi64>}> : () -> tensor<1x1x1xi64>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s3 = tosa.const_shape {values = dense<[1, 3, 3]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %m3 = tosa.reshape %mask, %s3 : (tensor<3x3xi64>, !tosa.shape<3>) -> tensor<1x3x3xi64>
  %dropped = tosa.equal %m3, %zero : (tensor<1x3x3xi64>, tensor<1x1x1xi64>) -> tensor<1x3x3xi1>
  %masked = tosa.select %dropped, %ninf, %x : (tensor<1x3x3xi1>, tensor<1x1x1xf32>, tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %m = tosa.reduce_max %masked {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %d = tosa.sub %masked, %m : (tensor<2x3x3xf32>, tensor<2x3x1xf32>) -> tensor<2x3x3xf32>
  %e = tosa.exp %d : (tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %s = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<2x3x3xf32>) -> tensor<2x3x1xf32>
  %r = tosa.reciprocal %s : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<2x3x3xf32>, tensor<2x3x1xf32>, tensor<1xi8>) -> tensor<2x3x3xf32>
  return %p : tensor<2x3x3xf32>
}

// CHECK-LABEL: func.func @mask_argument_bool
// CHECK: %[[B:.+]] = mp.mask_bias %arg1 fill 0xFFF0000000000000 : tensor<1x3x3xi32> -> tensor<1x3x3xf32>
// CHECK-NEXT: %[[S:.+]] = tosa.add %arg0, %[[B]]
// CHECK-NEXT: return %[[S]]
func.func @mask_argument_bool(%x: tensor<2x3x3xf32>, %mask: tensor<1x3x3xi32>) -> tensor<2x3x3xf32> {
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %keep = tosa.cast %mask : (tensor<1x3x3xi32>) -> tensor<1x3x3xi1>
  %masked = tosa.select %keep, %x, %ninf : (tensor<1x3x3xi1>, tensor<2x3x3xf32>, tensor<1x1x1xf32>) -> tensor<2x3x3xf32>
  return %masked : tensor<2x3x3xf32>
}

// -----

// Filled with a finite value (HF's finfo.min), the select is not the sum
// with a bias: mp has no op for it yet, and says so at the select.

func.func @mask_argument_finite(%x: tensor<2x3x3xf32>, %mask: tensor<1x3x3xi64>) -> tensor<2x3x3xf32> {
  %zero = "tosa.const"() <{values = dense<0> : tensor<1x1x1xi64>}> : () -> tensor<1x1x1xi64>
  %min = "tosa.const"() <{values = dense<-3.40282347E+38> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %dropped = tosa.equal %mask, %zero : (tensor<1x3x3xi64>, tensor<1x1x1xi64>) -> tensor<1x3x3xi1>
  // expected-error @+1 {{cannot import 'tosa.select' on its own: mp reads it only as part of softmax}}
  %masked = tosa.select %dropped, %min, %x : (tensor<1x3x3xi1>, tensor<1x1x1xf32>, tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  return %masked : tensor<2x3x3xf32>
}

// -----

// A gather that is not an embedding's (its table not a reshaped [V, D]
// matrix) has no mp op.

func.func @gather(%values: tensor<1x6x4xf32>, %ids: tensor<1x3xi32>) -> tensor<1x3x4xf32> {
  // expected-error @+1 {{cannot import 'tosa.gather' on its own: mp reads it only as part of an embedding}}
  %g = tosa.gather %values, %ids : (tensor<1x6x4xf32>, tensor<1x3xi32>) -> tensor<1x3x4xf32>
  return %g : tensor<1x3x4xf32>
}
