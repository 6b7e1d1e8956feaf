// RUN: mp-opt %s -split-input-file --mp-fuse-attention | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-fuse-attention="chunk-bytes=2048" | FileCheck %s --check-prefix=CHUNK
// RUN: not mp-opt %s --mp-fuse-attention="chunk-bytes=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: mp-fuse-attention chunk-bytes must not be negative, got -1

// A Llama's attention: [b, s, h, d] queries, keys and values transposed to
// [b, h, s, d], the keys to [b, h, d, s]. The key's two transposes compose
// into one like the values'; the scale and the softmax's mask move
// into the op, and chunk-bytes' bound, if any.
// CHECK-LABEL: func.func @llama_attention
// CHECK-NEXT: %[[Q:.+]] = mp.transpose %arg0 perm [0, 2, 1, 3]
// CHECK-NEXT: %[[K:.+]] = mp.transpose %arg1 perm [0, 2, 1, 3]
// CHECK-NEXT: %[[V:.+]] = mp.transpose %arg2 perm [0, 2, 1, 3]
// CHECK-NEXT: %[[O:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %[[Q]], %[[K]], %[[V]] scale 2.500000e-01 causal precision <bf16> : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16xf32>)
// CHECK-NEXT: return %[[O]]
// CHUNK-LABEL: func.func @llama_attention
// CHUNK: mp.attention %{{.+}}, %{{.+}}, %{{.+}} scale 2.500000e-01 causal chunk_bytes 2048 precision <bf16>
func.func @llama_attention(%xq: tensor<2x16x4x8xf32>, %xk: tensor<2x16x4x8xf32>, %xv: tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32> {
  %q = mp.transpose %xq perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  %kt = mp.transpose %xk perm [0, 2, 3, 1] : tensor<2x16x4x8xf32> -> tensor<2x4x8x16xf32>
  %v = mp.transpose %xv perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  %s = mp.matmul %q, %kt precision <bf16> : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  %t = mp.scale %s by 0.25 : tensor<2x4x16x16xf32>
  %p = mp.softmax %t causal : tensor<2x4x16x16xf32>
  %o = mp.matmul %p, %v precision <bf16> : (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %o : tensor<2x4x16x8xf32>
}

// -----

// Sliding window attention (Mistral's): the softmax's window moves into the
// op with its mask.
// CHECK-LABEL: func.func @window
// CHECK-NEXT: %[[K:.+]] = mp.transpose %arg1 perm [0, 2, 1] : tensor<3x4x10xf32> -> tensor<3x10x4xf32>
// CHECK-NEXT: %[[O:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %arg0, %[[K]], %arg2 scale 5.000000e-01 causal window 4 : (tensor<3x10x4xf32>, tensor<3x10x4xf32>, tensor<3x10x6xf32>) -> (tensor<3x10x6xf32>, tensor<3x10xf32>)
// CHECK-NEXT: return %[[O]]
// CHUNK-LABEL: func.func @window
// CHUNK: mp.attention %arg0, %{{.+}}, %arg2 scale 5.000000e-01 causal window 4 chunk_bytes 2048 :
func.func @window(%q: tensor<3x10x4xf32>, %kt: tensor<3x4x10xf32>, %v: tensor<3x10x6xf32>) -> tensor<3x10x6xf32> {
  %s = mp.matmul %q, %kt : (tensor<3x10x4xf32>, tensor<3x4x10xf32>) -> tensor<3x10x10xf32>
  %t = mp.scale %s by 0.5 : tensor<3x10x10xf32>
  %p = mp.softmax %t causal window 4 : tensor<3x10x10xf32>
  %o = mp.matmul %p, %v : (tensor<3x10x10xf32>, tensor<3x10x6xf32>) -> tensor<3x10x6xf32>
  return %o : tensor<3x10x6xf32>
}

// -----

// No scale op but a scaled GEMM (mp-fold-gemm-scales ran first), no mask,
// more keys than queries; the key given as kᵀ, not a transpose: one is
// made. A transposed key that another op reads stays; the attention reads
// the key itself (the two transposes cancel).
// CHECK-LABEL: func.func @plain
// CHECK-NEXT: %[[K:.+]] = mp.transpose %arg1 perm [0, 2, 1] : tensor<3x4x10xf32> -> tensor<3x10x4xf32>
// CHECK-NEXT: %[[O:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %arg0, %[[K]], %arg2 scale -5.000000e-01 : (tensor<3x5x4xf32>, tensor<3x10x4xf32>, tensor<3x10x6xf32>) -> (tensor<3x5x6xf32>, tensor<3x5xf32>)
// CHECK-NEXT: %[[K2:.+]] = mp.transpose %arg3 perm [0, 2, 1]
// CHECK-NEXT: %[[O2:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %arg0, %arg3, %arg2 scale 1.000000e+00 :
// CHECK-NEXT: return %[[O]], %[[O2]], %[[K2]]
// CHUNK-LABEL: func.func @plain
// CHUNK: mp.attention %arg0, %{{.+}}, %arg2 scale -5.000000e-01 chunk_bytes 2048 :
func.func @plain(%q: tensor<3x5x4xf32>, %kt: tensor<3x4x10xf32>, %v: tensor<3x10x6xf32>, %k: tensor<3x10x4xf32>) -> (tensor<3x5x6xf32>, tensor<3x5x6xf32>, tensor<3x4x10xf32>) {
  %s = mp.matmul %q, %kt scale -0.5 : (tensor<3x5x4xf32>, tensor<3x4x10xf32>) -> tensor<3x5x10xf32>
  %p = mp.softmax %s : tensor<3x5x10xf32>
  %o = mp.matmul %p, %v : (tensor<3x5x10xf32>, tensor<3x10x6xf32>) -> tensor<3x5x6xf32>
  %kt2 = mp.transpose %k perm [0, 2, 1] : tensor<3x10x4xf32> -> tensor<3x4x10xf32>
  %s2 = mp.matmul %q, %kt2 : (tensor<3x5x4xf32>, tensor<3x4x10xf32>) -> tensor<3x5x10xf32>
  %p2 = mp.softmax %s2 : tensor<3x5x10xf32>
  %o2 = mp.matmul %p2, %v : (tensor<3x5x10xf32>, tensor<3x10x6xf32>) -> tensor<3x5x6xf32>
  return %o, %o2, %kt2 : tensor<3x5x6xf32>, tensor<3x5x6xf32>, tensor<3x4x10xf32>
}

// -----

// Grouped-query attention: keys and values repeated per query head
// (torchtitan's repeat_kv: broadcast, then reshape) are read once per group
// of 2 query heads instead; the repetitions go. Keys repeated but values
// not (or by another factor) stay repeated.
// CHECK-LABEL: func.func @grouped
// CHECK-NEXT: %[[Q:.+]] = mp.transpose %arg0 perm [0, 2, 1, 3]
// CHECK-NEXT: %[[K:.+]] = mp.transpose %arg1 perm [0, 2, 1, 3] : tensor<2x16x2x8xf32> -> tensor<2x2x16x8xf32>
// CHECK-NEXT: %[[V:.+]] = mp.transpose %arg2 perm [0, 2, 1, 3] : tensor<2x16x2x8xf32> -> tensor<2x2x16x8xf32>
// CHECK-NEXT: %[[O:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %[[Q]], %[[K]], %[[V]] scale 2.500000e-01 causal : (tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16xf32>)
// CHECK-NEXT: %[[KB:.+]] = mp.broadcast %arg1 dims [3]
// CHECK-NEXT: %[[KR:.+]] = mp.reshape %[[KB]]
// CHECK-NEXT: %[[K2:.+]] = mp.transpose %[[KR]] perm [0, 2, 1, 3]
// CHECK-NEXT: %[[V2:.+]] = mp.transpose %arg3 perm [0, 2, 1, 3]
// CHECK-NEXT: %[[O2:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %[[Q]], %[[K2]], %[[V2]] scale 2.500000e-01 causal : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16xf32>)
// CHECK-NEXT: return %[[O]], %[[O2]]
func.func @grouped(%xq: tensor<2x16x4x8xf32>, %xk: tensor<2x16x2x8xf32>, %xv: tensor<2x16x2x8xf32>, %xv4: tensor<2x16x4x8xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) {
  %q = mp.transpose %xq perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  %kb = mp.broadcast %xk dims [3] : tensor<2x16x2x8xf32> -> tensor<2x16x2x2x8xf32>
  %kr = mp.reshape %kb : tensor<2x16x2x2x8xf32> -> tensor<2x16x4x8xf32>
  %kt = mp.transpose %kr perm [0, 2, 3, 1] : tensor<2x16x4x8xf32> -> tensor<2x4x8x16xf32>
  %vb = mp.broadcast %xv dims [3] : tensor<2x16x2x8xf32> -> tensor<2x16x2x2x8xf32>
  %vr = mp.reshape %vb : tensor<2x16x2x2x8xf32> -> tensor<2x16x4x8xf32>
  %v = mp.transpose %vr perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  %s = mp.matmul %q, %kt : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  %t = mp.scale %s by 0.25 : tensor<2x4x16x16xf32>
  %p = mp.softmax %t causal : tensor<2x4x16x16xf32>
  %o = mp.matmul %p, %v : (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %kb2 = mp.broadcast %xk dims [3] : tensor<2x16x2x8xf32> -> tensor<2x16x2x2x8xf32>
  %kr2 = mp.reshape %kb2 : tensor<2x16x2x2x8xf32> -> tensor<2x16x4x8xf32>
  %kt2 = mp.transpose %kr2 perm [0, 2, 3, 1] : tensor<2x16x4x8xf32> -> tensor<2x4x8x16xf32>
  %v2 = mp.transpose %xv4 perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  %s2 = mp.matmul %q, %kt2 : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  %t2 = mp.scale %s2 by 0.25 : tensor<2x4x16x16xf32>
  %p2 = mp.softmax %t2 causal : tensor<2x4x16x16xf32>
  %o2 = mp.matmul %p2, %v2 : (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %o, %o2 : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>
}

// -----

// What stays: probabilities another op reads (a step that already has its
// backward pass), scores another op reads, GEMMs of different precisions,
// a value shared by every batch ([K, N]), float64 operands, a scaled
// output GEMM.
// CHECK-LABEL: func.func @unfused
// CHECK-NOT: mp.attention
// CHECK: return
func.func @unfused(%q: tensor<2x4x4xf32>, %kt: tensor<2x4x4xf32>, %v: tensor<2x4x4xf32>, %shared: tensor<4x4xf32>,
                   %q64: tensor<2x4x4xf64>, %kt64: tensor<2x4x4xf64>, %v64: tensor<2x4x4xf64>) -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf64>, tensor<2x4x4xf32>) {
  %s1 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p1 = mp.softmax %s1 causal : tensor<2x4x4xf32>
  %o1 = mp.matmul %p1, %v : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s2 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p2 = mp.softmax %s2 : tensor<2x4x4xf32>
  %o2 = mp.matmul %p2, %v : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s3 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p3 = mp.softmax %s3 : tensor<2x4x4xf32>
  %o3 = mp.matmul %p3, %v precision <bf16> : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s4 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p4 = mp.softmax %s4 : tensor<2x4x4xf32>
  %o4 = mp.matmul %p4, %shared : (tensor<2x4x4xf32>, tensor<4x4xf32>) -> tensor<2x4x4xf32>
  %s5 = mp.matmul %q64, %kt64 : (tensor<2x4x4xf64>, tensor<2x4x4xf64>) -> tensor<2x4x4xf64>
  %p5 = mp.softmax %s5 : tensor<2x4x4xf64>
  %o5 = mp.matmul %p5, %v64 : (tensor<2x4x4xf64>, tensor<2x4x4xf64>) -> tensor<2x4x4xf64>
  %s6 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p6 = mp.softmax %s6 : tensor<2x4x4xf32>
  %o6 = mp.matmul %p6, %v scale 2.0 : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %o1, %p1, %o2, %s2, %o3, %o4, %o5, %o6 : tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf64>, tensor<2x4x4xf32>
}


// -----

// Gemma 2's soft-capped scores, 50 · tanh(s / 50) between the scale and the
// softmax: the cap moves into the op, with the scale, the mask and the
// window; without a scale op, the scaled GEMM's scale.
// CHECK-LABEL: func.func @softcap
// CHECK-NEXT: %[[K:.+]] = mp.transpose %arg1 perm [0, 2, 1] : tensor<3x4x10xf32> -> tensor<3x10x4xf32>
// CHECK-NEXT: %[[O:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %arg0, %[[K]], %arg2 scale 5.000000e-01 softcap 5.000000e+01 causal window 4 : (tensor<3x10x4xf32>, tensor<3x10x4xf32>, tensor<3x10x6xf32>) -> (tensor<3x10x6xf32>, tensor<3x10xf32>)
// CHECK-NEXT: %[[K2:.+]] = mp.transpose %arg1 perm [0, 2, 1]
// CHECK-NEXT: %[[O2:[a-z_0-9]+]], %{{[a-z_0-9]+}} = mp.attention %arg0, %[[K2]], %arg2 scale 2.500000e-01 softcap 3.000000e+00 :
// CHECK-NEXT: return %[[O]], %[[O2]]
// CHUNK-LABEL: func.func @softcap
// CHUNK: mp.attention %arg0, %{{.+}}, %arg2 scale 5.000000e-01 softcap 5.000000e+01 causal window 4 chunk_bytes 2048 :
func.func @softcap(%q: tensor<3x10x4xf32>, %kt: tensor<3x4x10xf32>, %v: tensor<3x10x6xf32>) -> (tensor<3x10x6xf32>, tensor<3x10x6xf32>) {
  %s = mp.matmul %q, %kt : (tensor<3x10x4xf32>, tensor<3x4x10xf32>) -> tensor<3x10x10xf32>
  %t = mp.scale %s by 0.5 : tensor<3x10x10xf32>
  %c1 = mp.scale %t by 0.02 : tensor<3x10x10xf32>
  %c2 = mp.tanh %c1 : tensor<3x10x10xf32>
  %c3 = mp.scale %c2 by 50.0 : tensor<3x10x10xf32>
  %p = mp.softmax %c3 causal window 4 : tensor<3x10x10xf32>
  %o = mp.matmul %p, %v : (tensor<3x10x10xf32>, tensor<3x10x6xf32>) -> tensor<3x10x6xf32>
  %s2 = mp.matmul %q, %kt scale 0.25 : (tensor<3x10x4xf32>, tensor<3x4x10xf32>) -> tensor<3x10x10xf32>
  %d1 = mp.scale %s2 by 0.3333333333333333 : tensor<3x10x10xf32>
  %d2 = mp.tanh %d1 : tensor<3x10x10xf32>
  %d3 = mp.scale %d2 by 3.0 : tensor<3x10x10xf32>
  %p2 = mp.softmax %d3 : tensor<3x10x10xf32>
  %o2 = mp.matmul %p2, %v : (tensor<3x10x10xf32>, tensor<3x10x6xf32>) -> tensor<3x10x6xf32>
  return %o, %o2 : tensor<3x10x6xf32>, tensor<3x10x6xf32>
}

// -----

// What stays: a tanh between scales that are not reciprocal (not a cap), a
// cap whose tanh another op reads, a cap by a negative factor.
// CHECK-LABEL: func.func @softcap_unfused
// CHECK-NOT: mp.attention
// CHECK: return
func.func @softcap_unfused(%q: tensor<2x4x4xf32>, %kt: tensor<2x4x4xf32>, %v: tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) {
  %s1 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %a1 = mp.scale %s1 by 0.5 : tensor<2x4x4xf32>
  %a2 = mp.tanh %a1 : tensor<2x4x4xf32>
  %a3 = mp.scale %a2 by 3.0 : tensor<2x4x4xf32>
  %p1 = mp.softmax %a3 causal : tensor<2x4x4xf32>
  %o1 = mp.matmul %p1, %v : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s2 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %b1 = mp.scale %s2 by 0.5 : tensor<2x4x4xf32>
  %b2 = mp.tanh %b1 : tensor<2x4x4xf32>
  %b3 = mp.scale %b2 by 2.0 : tensor<2x4x4xf32>
  %p2 = mp.softmax %b3 causal : tensor<2x4x4xf32>
  %o2 = mp.matmul %p2, %v : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s3 = mp.matmul %q, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %c1 = mp.scale %s3 by -0.5 : tensor<2x4x4xf32>
  %c2 = mp.tanh %c1 : tensor<2x4x4xf32>
  %c3 = mp.scale %c2 by -2.0 : tensor<2x4x4xf32>
  %p3 = mp.softmax %c3 causal : tensor<2x4x4xf32>
  %o3 = mp.matmul %p3, %v : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %o1, %o2, %b2, %o3 : tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>
}

// -----

// ALiBi's bias between the scale and the softmax (BLOOM's, MPT's) moves
// into the op with mp.alibi_slopes's slopes; learned slopes (an argument),
// which mp.attention gives no gradient, a float32 bias before the scale,
// Falcon's bfloat16 bias after it, and Falcon's on a GEMM that scales its
// product (the bias would go on the scaled scores) stay unfused.
// CHECK-LABEL: func.func @alibi
// CHECK-NEXT: %[[SLOPES:.+]] = mp.alibi_slopes
// CHECK-NEXT: %[[K:.+]] = mp.transpose %arg1 perm [0, 1, 3, 2]
// CHECK-NEXT: %{{.+}}, %{{.+}} = mp.attention %arg0, %[[K]], %arg2 alibi %[[SLOPES]] scale 5.000000e-01 causal : (tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<4xf32>) -> (tensor<2x4x8x4xf32>, tensor<2x4x8xf32>)
// CHECK-NOT: mp.softmax
// CHECK: return
func.func @alibi(%q: tensor<2x4x8x4xf32>, %kt: tensor<2x4x4x8xf32>, %v: tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32> {
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %s = mp.matmul %q, %kt : (tensor<2x4x8x4xf32>, tensor<2x4x4x8xf32>) -> tensor<2x4x8x8xf32>
  %scaled = mp.scale %s by 5.000000e-01 : tensor<2x4x8x8xf32>
  %b = mp.alibi %scaled, %slopes : tensor<2x4x8x8xf32>, tensor<4xf32>
  %p = mp.softmax %b causal : tensor<2x4x8x8xf32>
  %o = mp.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32>
  return %o : tensor<2x4x8x4xf32>
}

// -----

// Falcon's bias, in bfloat16 on the unscaled scores, moves into the op as
// bf16_bias.
// CHECK-LABEL: func.func @falcon_alibi
// CHECK-NEXT: %[[SLOPES:.+]] = mp.alibi_slopes
// CHECK-NEXT: %[[K:.+]] = mp.transpose %arg1 perm [0, 1, 3, 2]
// CHECK-NEXT: %{{.+}}, %{{.+}} = mp.attention %arg0, %[[K]], %arg2 alibi %[[SLOPES]] bf16_bias scale 5.000000e-01 causal : (tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<4xf32>) -> (tensor<2x4x8x4xf32>, tensor<2x4x8xf32>)
// CHECK-NOT: mp.softmax
// CHECK: return
func.func @falcon_alibi(%q: tensor<2x4x8x4xf32>, %kt: tensor<2x4x4x8xf32>, %v: tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32> {
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %s = mp.matmul %q, %kt : (tensor<2x4x8x4xf32>, tensor<2x4x4x8xf32>) -> tensor<2x4x8x8xf32>
  %b = mp.alibi %s, %slopes bf16_bias : tensor<2x4x8x8xf32>, tensor<4xf32>
  %scaled = mp.scale %b by 5.000000e-01 : tensor<2x4x8x8xf32>
  %p = mp.softmax %scaled causal : tensor<2x4x8x8xf32>
  %o = mp.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32>
  return %o : tensor<2x4x8x4xf32>
}

// -----

// CHECK-LABEL: func.func @alibi_unfused
// CHECK-NOT: mp.attention
// CHECK: mp.alibi %{{.+}}, %arg3
// CHECK: mp.alibi %{{.+}}, %[[SLOPES:.+]] :
// CHECK-NEXT: mp.scale
// CHECK-NEXT: mp.softmax
// CHECK: mp.scale
// CHECK-NEXT: mp.alibi %{{.+}}, %[[SLOPES]] bf16_bias
// CHECK-NEXT: mp.softmax
// CHECK: mp.matmul %arg0, %arg1 scale 2.000000e+00
// CHECK-NEXT: mp.alibi %{{.+}}, %[[SLOPES]] bf16_bias
// CHECK-NEXT: mp.scale
func.func @alibi_unfused(%q: tensor<2x4x8x4xf32>, %kt: tensor<2x4x4x8xf32>, %v: tensor<2x4x8x4xf32>, %learned: tensor<4xf32>) -> (tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>) {
  %s = mp.matmul %q, %kt : (tensor<2x4x8x4xf32>, tensor<2x4x4x8xf32>) -> tensor<2x4x8x8xf32>
  %scaled = mp.scale %s by 5.000000e-01 : tensor<2x4x8x8xf32>
  %b = mp.alibi %scaled, %learned : tensor<2x4x8x8xf32>, tensor<4xf32>
  %p = mp.softmax %b causal : tensor<2x4x8x8xf32>
  %o = mp.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32>
  %slopes = mp.alibi_slopes : tensor<4xf32>
  %s2 = mp.matmul %q, %kt : (tensor<2x4x8x4xf32>, tensor<2x4x4x8xf32>) -> tensor<2x4x8x8xf32>
  %b2 = mp.alibi %s2, %slopes : tensor<2x4x8x8xf32>, tensor<4xf32>
  %scaled2 = mp.scale %b2 by 5.000000e-01 : tensor<2x4x8x8xf32>
  %p2 = mp.softmax %scaled2 causal : tensor<2x4x8x8xf32>
  %o2 = mp.matmul %p2, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32>
  %s3 = mp.matmul %q, %kt : (tensor<2x4x8x4xf32>, tensor<2x4x4x8xf32>) -> tensor<2x4x8x8xf32>
  %scaled3 = mp.scale %s3 by 5.000000e-01 : tensor<2x4x8x8xf32>
  %b3 = mp.alibi %scaled3, %slopes bf16_bias : tensor<2x4x8x8xf32>, tensor<4xf32>
  %p3 = mp.softmax %b3 causal : tensor<2x4x8x8xf32>
  %o3 = mp.matmul %p3, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32>
  %s4 = mp.matmul %q, %kt scale 2.0 : (tensor<2x4x8x4xf32>, tensor<2x4x4x8xf32>) -> tensor<2x4x8x8xf32>
  %b4 = mp.alibi %s4, %slopes bf16_bias : tensor<2x4x8x8xf32>, tensor<4xf32>
  %scaled4 = mp.scale %b4 by 5.000000e-01 : tensor<2x4x8x8xf32>
  %p4 = mp.softmax %scaled4 causal : tensor<2x4x8x8xf32>
  %o4 = mp.matmul %p4, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x4xf32>) -> tensor<2x4x8x4xf32>
  return %o, %o2, %o3, %o4 : tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>, tensor<2x4x8x4xf32>
}
