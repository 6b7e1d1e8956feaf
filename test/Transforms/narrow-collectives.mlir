// RUN: mp-opt %s -split-input-file --mp-narrow-collectives | FileCheck %s

// A gathered parameter read by bf16 GEMMs only (the forward linear, and
// through a transposed view the backward one) moves as bf16 and is read
// as bf16: no f32 copy of it is made. Its regather reuses the one rounded
// copy, made where the parameter is.
// CHECK-LABEL: func.func @fsdp_weight
// CHECK-NEXT: %[[N:.+]] = mp.convert %arg0 : tensor<8x16xf32> -> tensor<8x16xbf16>
// CHECK-NEXT: %[[G:.+]] = mp.all_gather %[[N]] on @mesh axes ["dp"] dim 0 origin "fsdp(dp): w" : tensor<8x16xbf16> -> tensor<16x16xbf16>
// CHECK-NEXT: %[[Y:.+]] = mp.linear %arg1, %[[G]] precision <bf16> : (tensor<4x16xf32>, tensor<16x16xbf16>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[R:.+]] = mp.all_gather %[[N]] on @mesh axes ["dp"] dim 0 {mp.regather} : tensor<8x16xbf16> -> tensor<16x16xbf16>
// CHECK-NEXT: %[[T:.+]] = mp.transpose %[[R]] perm [1, 0] : tensor<16x16xbf16> -> tensor<16x16xbf16>
// CHECK-NEXT: mp.linear %[[Y]], %[[T]] precision <bf16> : (tensor<4x16xf32>, tensor<16x16xbf16>) -> tensor<4x16xf32>
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @fsdp_weight(%w: tensor<8x16xf32>, %x: tensor<4x16xf32>) -> tensor<4x16xf32>
    attributes {mp.partitioned} {
  %g = mp.all_gather %w on @mesh axes ["dp"] dim 0 origin "fsdp(dp): w" : tensor<8x16xf32> -> tensor<16x16xf32>
  %y = mp.linear %x, %g precision <bf16> : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  %r = mp.all_gather %w on @mesh axes ["dp"] dim 0 {mp.regather} : tensor<8x16xf32> -> tensor<16x16xf32>
  %t = mp.transpose %r perm [1, 0] : tensor<16x16xf32> -> tensor<16x16xf32>
  %z = mp.linear %y, %t precision <bf16> : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  return %z : tensor<4x16xf32>
}

// -----

// Sequence parallelism's activation gather before a bf16 matmul, and an
// all_to_all read by one through a reshape, move as bf16 and are read as
// bf16.
// CHECK-LABEL: func.func @activations
// CHECK: mp.convert %arg0 : tensor<2x16xf32> -> tensor<2x16xbf16>
// CHECK: %[[G:.+]] = mp.all_gather %{{.*}} : tensor<2x16xbf16> -> tensor<4x16xbf16>
// CHECK: mp.matmul %[[G]], %arg1 precision <bf16> : (tensor<4x16xbf16>, tensor<16x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[A:.+]] = mp.all_to_all %{{.*}} : tensor<4x8xbf16> -> tensor<8x4xbf16>
// CHECK: %[[R:.+]] = mp.reshape %[[A]] : tensor<8x4xbf16> -> tensor<4x8xbf16>
// CHECK: mp.matmul %[[R]], %arg3 precision <bf16> : (tensor<4x8xbf16>, tensor<8x8xf32>) -> tensor<4x8xf32>
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @activations(%x: tensor<2x16xf32>, %w: tensor<16x8xf32>, %a: tensor<4x8xf32>, %c: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<8x8xf32>)
    attributes {mp.partitioned} {
  %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<2x16xf32> -> tensor<4x16xf32>
  %y = mp.matmul %g, %w precision <bf16> : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  %b = mp.all_to_all %a on @mesh axes ["tp"] split 1 concat 0 : tensor<4x8xf32> -> tensor<8x4xf32>
  %r = mp.reshape %b : tensor<8x4xf32> -> tensor<4x8xf32>
  %z = mp.matmul %r, %c precision <bf16> : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %o = mp.transpose %z perm [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %p = mp.matmul %o, %y : (tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  return %y, %p : tensor<4x8xf32>, tensor<8x8xf32>
}

// -----

// What another op reads, or a GEMM in another precision reads, keeps moving
// in f32 (its values are needed unrounded), as do sums, and values outside
// a partitioned function.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: mp.convert
// CHECK: return
// CHECK-LABEL: func.func @global
// CHECK-NOT: mp.convert
// CHECK: return
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @kept(%w: tensor<8x16xf32>, %v: tensor<8x16xf32>, %x: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<16x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>)
    attributes {mp.partitioned} {
  %g = mp.all_gather %w on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<16x16xf32>
  %y = mp.linear %x, %g precision <bf16> : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  %r = mp.relu %g : tensor<16x16xf32>
  %h = mp.all_gather %v on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<16x16xf32>
  %z = mp.linear %x, %h precision <fp32> : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  %s = mp.all_reduce %x on @mesh axes ["tp"] : tensor<4x16xf32>
  %u = mp.linear %s, %g precision <bf16> : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  return %y, %r, %z, %u : tensor<4x16xf32>, tensor<16x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}
func.func @global(%w: tensor<8x16xf32>, %x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %g = mp.all_gather %w on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<16x16xf32>
  %y = mp.linear %x, %g precision <bf16> : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A transpose that is computed (here the linear's input, which the GEMM
// cannot read transposed) would run on bf16 values: the gathered value
// moves as bf16 and is widened to f32 after the collective.
// CHECK-LABEL: func.func @computed_transpose
// CHECK: %[[G:.+]] = mp.all_gather %{{.*}} : tensor<8x16xbf16> -> tensor<16x16xbf16>
// CHECK-NEXT: %[[W:.+]] = mp.convert %[[G]] : tensor<16x16xbf16> -> tensor<16x16xf32>
// CHECK-NEXT: %[[T:.+]] = mp.transpose %[[W]] perm [1, 0] : tensor<16x16xf32> -> tensor<16x16xf32>
// CHECK-NEXT: mp.linear %[[T]], %arg1 precision <bf16> : (tensor<16x16xf32>, tensor<4x16xf32>) -> tensor<16x4xf32>
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @computed_transpose(%w: tensor<8x16xf32>, %x: tensor<4x16xf32>) -> tensor<16x4xf32>
    attributes {mp.partitioned} {
  %g = mp.all_gather %w on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<16x16xf32>
  %t = mp.transpose %g perm [1, 0] : tensor<16x16xf32> -> tensor<16x16xf32>
  %y = mp.linear %t, %x precision <bf16> : (tensor<16x16xf32>, tensor<4x16xf32>) -> tensor<16x4xf32>
  return %y : tensor<16x4xf32>
}

// -----

// reduce-dtype=bf16 (mp.reduce_dtype on the step): a sum on its way to an
// optimizer update's gradient (here through clipping's product) is summed
// in bf16 and read back as f32; a sum that feeds anything else (an
// activation's all_reduce before a GEMM) stays f32.
// CHECK-LABEL: func.func @gradient_sums
// CHECK: %[[N:.+]] = mp.convert %{{.*}} : tensor<8x4xf32> -> tensor<8x4xbf16>
// CHECK-NEXT: %[[S:.+]] = mp.reduce_scatter %[[N]] on @mesh axes ["dp"] dim 0 : tensor<8x4xbf16> -> tensor<4x4xbf16>
// CHECK-NEXT: %[[G:.+]] = mp.convert %[[S]] : tensor<4x4xbf16> -> tensor<4x4xf32>
// CHECK: mp.all_reduce %{{.*}} on @mesh axes ["tp"] : tensor<2x4xf32>
// CHECK: mp.mul %[[G]], %{{.*}} : tensor<4x4xf32>
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @gradient_sums(%w: tensor<4x4xf32>, %x: tensor<2x8xf32>, %y: tensor<2x4xf32>, %c: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<2x4xf32>)
    attributes {mp.partitioned, mp.reduce_dtype = bf16} {
  %xt = mp.transpose %x perm [1, 0] : tensor<2x8xf32> -> tensor<8x2xf32>
  %g = mp.matmul %xt, %y : (tensor<8x2xf32>, tensor<2x4xf32>) -> tensor<8x4xf32>
  %s = mp.reduce_scatter %g on @mesh axes ["dp"] dim 0 : tensor<8x4xf32> -> tensor<4x4xf32>
  %a = mp.all_reduce %y on @mesh axes ["tp"] : tensor<2x4xf32>
  %h = mp.matmul %a, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %scaled = mp.mul %s, %c : tensor<4x4xf32>
  %new = mp.sgd %w, %scaled {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<4x4xf32>
  return %new, %h : tensor<4x4xf32>, tensor<2x4xf32>
}

// -----

// A gradient summed over one axis, then another: the second sum reads the
// first's bf16 result, with no widening and rounding again between them.
// CHECK-LABEL: func.func @chained_gradient_sums
// CHECK-NEXT: %[[N:.+]] = mp.convert %arg1 : tensor<4x4xf32> -> tensor<4x4xbf16>
// CHECK-NEXT: %[[A:.+]] = mp.all_reduce %[[N]] on @mesh axes ["dp"] : tensor<4x4xbf16>
// CHECK-NEXT: %[[B:.+]] = mp.all_reduce %[[A]] on @mesh axes ["tp"] : tensor<4x4xbf16>
// CHECK-NEXT: %[[G:.+]] = mp.convert %[[B]] : tensor<4x4xbf16> -> tensor<4x4xf32>
// CHECK-NEXT: mp.sgd %arg0, %[[G]]
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @chained_gradient_sums(%w: tensor<4x4xf32>, %g: tensor<4x4xf32>) -> tensor<4x4xf32>
    attributes {mp.partitioned, mp.reduce_dtype = bf16} {
  %a = mp.all_reduce %g on @mesh axes ["dp"] : tensor<4x4xf32>
  %b = mp.all_reduce %a on @mesh axes ["tp"] : tensor<4x4xf32>
  %new = mp.sgd %w, %b {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<4x4xf32>
  return %new : tensor<4x4xf32>
}

// -----

// tp-reduce-dtype=bf16 (mp.tp_reduce_dtype on the step): tensor
// parallelism's partial products are summed in bf16 and read back as f32:
// a rowwise linear's output (reduce_scatter, as sequence parallelism sums
// it), a colwise pair's input gradients added before their sum, and a sum
// over one axis, then another (the second reads the first's bf16 result).
// A sum of a tf32 GEMM, of anything but a GEMM (loss parallelism's) and a
// gradient's (reduce-dtype's, f32 here) stay f32.
// CHECK-LABEL: func.func @tp_partial_sums
// CHECK: %[[Y:.+]] = mp.linear %arg1, %arg0 precision <bf16>
// CHECK-NEXT: %[[YN:.+]] = mp.convert %[[Y]] : tensor<2x8x4xf32> -> tensor<2x8x4xbf16>
// CHECK: %[[DX:.+]] = mp.add
// CHECK-NEXT: %[[DXN:.+]] = mp.convert %[[DX]] : tensor<2x8x4xf32> -> tensor<2x8x4xbf16>
// CHECK: mp.reduce_scatter %[[YN]] on @mesh axes ["tp"] dim 1 : tensor<2x8x4xbf16> -> tensor<2x4x4xbf16>
// CHECK-NEXT: mp.convert %{{.*}} : tensor<2x4x4xbf16> -> tensor<2x4x4xf32>
// CHECK: %[[A:.+]] = mp.all_reduce %[[DXN]] on @mesh axes ["tp"] : tensor<2x8x4xbf16>
// CHECK-NEXT: %[[B:.+]] = mp.all_reduce %[[A]] on @mesh axes ["dp"] : tensor<2x8x4xbf16>
// CHECK-NEXT: mp.convert %[[B]] : tensor<2x8x4xbf16> -> tensor<2x8x4xf32>
// CHECK: mp.all_reduce %{{.*}} on @mesh axes ["tp"] : tensor<2x8x4xf32>
// CHECK: mp.all_reduce %{{.*}} on @mesh axes ["tp"] : tensor<2x8x4xf32>
// CHECK: mp.reduce_scatter %{{.*}} on @mesh axes ["dp"] dim 0 : tensor<4x4xf32> -> tensor<2x4xf32>
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @tp_partial_sums(%w: tensor<4x4xf32>, %x: tensor<2x8x4xf32>, %g: tensor<2x8x4xf32>)
    -> (tensor<2x4x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x4xf32>)
    attributes {mp.partitioned, mp.tp_reduce_dtype = bf16} {
  %y = mp.linear %x, %w precision <bf16> : (tensor<2x8x4xf32>, tensor<4x4xf32>) -> tensor<2x8x4xf32>
  %dq = mp.linear %g, %w precision <bf16> : (tensor<2x8x4xf32>, tensor<4x4xf32>) -> tensor<2x8x4xf32>
  %dk = mp.linear %g, %w precision <bf16> : (tensor<2x8x4xf32>, tensor<4x4xf32>) -> tensor<2x8x4xf32>
  %dx = mp.add %dq, %dk : tensor<2x8x4xf32>
  %t = mp.linear %x, %w : (tensor<2x8x4xf32>, tensor<4x4xf32>) -> tensor<2x8x4xf32>
  %e = mp.exp %x : tensor<2x8x4xf32>
  %s = mp.reduce_scatter %y on @mesh axes ["tp"] dim 1 : tensor<2x8x4xf32> -> tensor<2x4x4xf32>
  %a = mp.all_reduce %dx on @mesh axes ["tp"] : tensor<2x8x4xf32>
  %b = mp.all_reduce %a on @mesh axes ["dp"] : tensor<2x8x4xf32>
  %ts = mp.all_reduce %t on @mesh axes ["tp"] : tensor<2x8x4xf32>
  %es = mp.all_reduce %e on @mesh axes ["tp"] : tensor<2x8x4xf32>
  %gw = mp.reshape %g : tensor<2x8x4xf32> -> tensor<16x4xf32>
  %xw = mp.reshape %x : tensor<2x8x4xf32> -> tensor<16x4xf32>
  %gwt = mp.transpose %gw perm [1, 0] : tensor<16x4xf32> -> tensor<4x16xf32>
  %dw = mp.matmul %gwt, %xw precision <bf16> : (tensor<4x16xf32>, tensor<16x4xf32>) -> tensor<4x4xf32>
  %dws = mp.reduce_scatter %dw on @mesh axes ["dp"] dim 0 : tensor<4x4xf32> -> tensor<2x4xf32>
  %ws = mp.slice %w dim 0 offset 0 : tensor<4x4xf32> -> tensor<2x4xf32>
  %new = mp.sgd %ws, %dws {lr = 1.0e-01 : f64, weight_decay = 0.0 : f64} : tensor<2x4xf32>
  return %s, %b, %ts, %es, %new : tensor<2x4x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x4xf32>
}

// -----

// A parallel block's two norms' input gradients of bf16 partial products,
// added before one sum (mp-simplify-collectives): summed in bf16 too.
// CHECK-LABEL: func.func @tp_norm_gradients
// CHECK: %[[S:.+]] = mp.add
// CHECK-NEXT: %[[SN:.+]] = mp.convert %[[S]] : tensor<2x8x4xf32> -> tensor<2x8x4xbf16>
// CHECK-NEXT: %[[R:.+]] = mp.all_reduce %[[SN]] on @mesh axes ["tp"] : tensor<2x8x4xbf16>
// CHECK-NEXT: mp.convert %[[R]] : tensor<2x8x4xbf16> -> tensor<2x8x4xf32>
mp.mesh @mesh = <tp = 2>
func.func @tp_norm_gradients(%w: tensor<4x4xf32>, %x: tensor<2x8x4xf32>, %g: tensor<2x8x4xf32>, %n1: tensor<4xf32>, %n2: tensor<4xf32>)
    -> tensor<2x8x4xf32> attributes {mp.partitioned, mp.tp_reduce_dtype = bf16} {
  %da = mp.linear %g, %w precision <bf16> : (tensor<2x8x4xf32>, tensor<4x4xf32>) -> tensor<2x8x4xf32>
  %db = mp.linear %g, %w precision <bf16> : (tensor<2x8x4xf32>, tensor<4x4xf32>) -> tensor<2x8x4xf32>
  %na = mp.rms_norm_grad %x, %n1, %da eps 1.0e-05 : (tensor<2x8x4xf32>, tensor<4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %nb = mp.layer_norm_grad %x, %n2, %db eps 1.0e-05 : (tensor<2x8x4xf32>, tensor<4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %s = mp.add %na, %nb : tensor<2x8x4xf32>
  %r = mp.all_reduce %s on @mesh axes ["tp"] : tensor<2x8x4xf32>
  return %r : tensor<2x8x4xf32>
}
