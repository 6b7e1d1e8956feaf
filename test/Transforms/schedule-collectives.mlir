// RUN: mp-opt %s -split-input-file --mp-schedule-collectives | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-schedule-collectives="prefetch=0 max-in-flight=2" | FileCheck %s --check-prefix=LAZY
// RUN: not mp-opt %s -split-input-file --mp-schedule-collectives="max-in-flight=65" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: mp-opt %s -split-input-file --mp-schedule-collectives="tp-overlap=true" | FileCheck %s --check-prefix=TP

// Three layers' FSDP gathers, all at the top as partitioning leaves them.
// With prefetch 1, layer 0 stays (the first unit), layer 1's gather is
// issued when layer 0 starts computing, layer 2's when layer 1 does; each
// is waited for right before its first reader, keeping its input alive.
// CHECK-LABEL: func.func @layers
// CHECK-NEXT: %[[G0:.+]] = mp.all_gather %arg0 {{.*}} {mp.async = 0 : i64}
// CHECK-NEXT: %[[G1:.+]] = mp.all_gather %arg1 {{.*}} {mp.async = 1 : i64}
// CHECK-NEXT: %[[W0:.+]] = mp.wait %[[G0]] keeps %arg0
// CHECK-NEXT: %[[H0:.+]] = mp.linear %arg3, %[[W0]]
// CHECK-NEXT: %[[G2:.+]] = mp.all_gather %arg2 {{.*}} {mp.async = 0 : i64}
// CHECK-NEXT: %[[W1:.+]] = mp.wait %[[G1]] keeps %arg1
// CHECK-NEXT: %[[H1:.+]] = mp.linear %[[H0]], %[[W1]]
// CHECK-NEXT: %[[W2:.+]] = mp.wait %[[G2]] keeps %arg2
// CHECK-NEXT: mp.linear %[[H1]], %[[W2]]
// Without prefetch every gather is issued at its use; at most two are in
// flight.
// LAZY-LABEL: func.func @layers
// LAZY-NEXT: %[[G0:.+]] = mp.all_gather %arg0 {{.*}} {mp.async = 0 : i64}
// LAZY-NEXT: %[[W0:.+]] = mp.wait %[[G0]]
// LAZY-NEXT: mp.linear %arg3, %[[W0]]
// LAZY-NEXT: %[[G1:.+]] = mp.all_gather %arg1
// LAZY-NEXT: %[[W1:.+]] = mp.wait %[[G1]]
// LAZY-NEXT: mp.linear
// LAZY-NEXT: %[[G2:.+]] = mp.all_gather %arg2
// LAZY-NEXT: %[[W2:.+]] = mp.wait %[[G2]]
// BAD: error: mp-schedule-collectives needs prefetch >= 0 and max-in-flight in [1, 64]
mp.mesh @mesh = <dp = 2>
func.func @layers(%w0: tensor<4x8xf32> {mp.param = "layers.0.w"},
                  %w1: tensor<4x8xf32> {mp.param = "layers.1.w"},
                  %w2: tensor<4x8xf32> {mp.param = "layers.2.w"},
                  %x: tensor<2x8xf32> {mp.input = "x"}) -> tensor<2x8xf32>
    attributes {mp.partitioned} {
  %g0 = mp.all_gather %w0 on @mesh axes ["dp"] dim 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  %g1 = mp.all_gather %w1 on @mesh axes ["dp"] dim 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  %g2 = mp.all_gather %w2 on @mesh axes ["dp"] dim 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  %h0 = mp.linear %x, %g0 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %h1 = mp.linear %h0, %g1 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %h2 = mp.linear %h1, %g2 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  return %h2 : tensor<2x8xf32>
}

// -----

// Gradients' reduce_scatters are issued as soon as the gradient exists and
// waited for at their first reader; one is in flight at a time, so issuing
// the next waits for the previous (its unsharded gradient is freed then).
// An all_reduce read by the very next op stays synchronous.
// CHECK-LABEL: func.func @gradients
// CHECK-NEXT: %[[A:.+]] = mp.relu %arg0
// CHECK-NEXT: %[[RA:.+]] = mp.reduce_scatter %[[A]] {{.*}} {mp.async = 0 : i64}
// CHECK-NEXT: %[[B:.+]] = mp.relu %arg1
// CHECK-NEXT: %[[WA:.+]] = mp.wait %[[RA]] keeps %[[A]]
// CHECK-NEXT: %[[RB:.+]] = mp.reduce_scatter %[[B]] {{.*}} {mp.async = 0 : i64}
// CHECK-NEXT: %[[C:.+]] = mp.relu %arg2
// CHECK-NEXT: %[[S:.+]] = mp.all_reduce %[[C]] on @mesh axes ["dp"] : tensor<4x8xf32>
// CHECK-NEXT: mp.relu %[[S]]
// CHECK-NEXT: mp.add %[[WA]]
// CHECK-NEXT: %[[WB:.+]] = mp.wait %[[RB]] keeps %[[B]]
// CHECK-NEXT: mp.add
mp.mesh @mesh = <dp = 2>
func.func @gradients(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<4x8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>) attributes {mp.partitioned} {
  %ga = mp.relu %a : tensor<8x8xf32>
  %gb = mp.relu %b : tensor<8x8xf32>
  %c2 = mp.relu %c : tensor<4x8xf32>
  %s = mp.all_reduce %c2 on @mesh axes ["dp"] : tensor<4x8xf32>
  %t = mp.relu %s : tensor<4x8xf32>
  %ra = mp.reduce_scatter %ga on @mesh axes ["dp"] dim 0 : tensor<8x8xf32> -> tensor<4x8xf32>
  %u = mp.add %ra, %t : tensor<4x8xf32>
  %rb = mp.reduce_scatter %gb on @mesh axes ["dp"] dim 0 : tensor<8x8xf32> -> tensor<4x8xf32>
  %v = mp.add %rb, %t : tensor<4x8xf32>
  return %u, %v : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A run of FSDP-grouped collectives (mp-group-fsdp: one runtime call) is
// scheduled as one: layer 1's grouped gathers are prefetched together
// while layer 0 computes, in one slot, and each member is waited for
// before the first reader of any (keeping no input: the call packs its
// inputs when it is issued); the gradients' grouped reduce_scatters
// move up together to right after the last gradient they sum, and run
// beside the compute after it.
// CHECK-LABEL: func.func @grouped
// CHECK-NEXT: %[[A0:.+]] = mp.all_gather %arg0 {{.*}} {mp.async = 0 : i64, mp.fsdp_group = "layers.0"}
// CHECK-NEXT: %[[B0:.+]] = mp.all_gather %arg1 {{.*}} {mp.async = 0 : i64, mp.fsdp_group = "layers.0"}
// CHECK-NEXT: %[[A1:.+]] = mp.all_gather %arg2 {{.*}} {mp.async = 1 : i64, mp.fsdp_group = "layers.1"}
// CHECK-NEXT: %[[B1:.+]] = mp.all_gather %arg3 {{.*}} {mp.async = 1 : i64, mp.fsdp_group = "layers.1"}
// CHECK-NEXT: %[[WA0:.+]] = mp.wait %[[A0]] :
// CHECK-NEXT: %[[WB0:.+]] = mp.wait %[[B0]] :
// CHECK-NEXT: %[[H:.+]] = mp.linear %arg4, %[[WB0]]
// CHECK-NEXT: %[[H0:.+]] = mp.linear %[[H]], %[[WA0]]
// CHECK-NEXT: %[[WA1:.+]] = mp.wait %[[A1]] :
// CHECK-NEXT: %[[WB1:.+]] = mp.wait %[[B1]] :
// CHECK-NEXT: %[[H1:.+]] = mp.linear %[[H0]], %[[WA1]]
// CHECK-NEXT: %[[G1:.+]] = mp.relu %[[H1]]
// CHECK-NEXT: %[[G2:.+]] = mp.relu %[[G1]]
// CHECK-NEXT: %[[R1:.+]] = mp.reduce_scatter %[[G1]] {{.*}} {mp.async = 1 : i64, mp.fsdp_group = "layers.1"}
// CHECK-NEXT: %[[R2:.+]] = mp.reduce_scatter %[[G2]] {{.*}} {mp.async = 1 : i64, mp.fsdp_group = "layers.1"}
// CHECK-NEXT: %[[X:.+]] = mp.linear %[[H1]], %[[WB1]]
// CHECK-NEXT: %[[WR1:.+]] = mp.wait %[[R1]] :
// CHECK-NEXT: %[[WR2:.+]] = mp.wait %[[R2]] :
// CHECK-NEXT: mp.add %[[WR2]], %[[WR1]]
mp.mesh @mesh = <dp = 2>
func.func @grouped(%a0: tensor<4x8xf32> {mp.param = "layers.0.a"},
                   %b0: tensor<4x8xf32> {mp.param = "layers.0.b"},
                   %a1: tensor<4x8xf32> {mp.param = "layers.1.a"},
                   %b1: tensor<4x8xf32> {mp.param = "layers.1.b"},
                   %x: tensor<2x8xf32> {mp.input = "x"})
    -> (tensor<1x8xf32>, tensor<2x8xf32>) attributes {mp.partitioned} {
  %ga0 = mp.all_gather %a0 on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %gb0 = mp.all_gather %b0 on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %ga1 = mp.all_gather %a1 on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.1"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %gb1 = mp.all_gather %b1 on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.1"} : tensor<4x8xf32> -> tensor<8x8xf32>
  %h = mp.linear %x, %gb0 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %h0 = mp.linear %h, %ga0 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %h1 = mp.linear %h0, %ga1 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %g1 = mp.relu %h1 : tensor<2x8xf32>
  %g2 = mp.relu %g1 : tensor<2x8xf32>
  %y = mp.linear %h1, %gb1 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %r1 = mp.reduce_scatter %g1 on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.1"} : tensor<2x8xf32> -> tensor<1x8xf32>
  %r2 = mp.reduce_scatter %g2 on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.1"} : tensor<2x8xf32> -> tensor<1x8xf32>
  %sum = mp.add %r2, %r1 : tensor<1x8xf32>
  return %sum, %y : tensor<1x8xf32>, tensor<2x8xf32>
}

// -----

// A backward tensor-parallel all_reduce of an input gradient (the sum of
// two branches' dX) that the next op reads. By default it stays
// synchronous after the weight gradient's GEMM and reduce_scatter; with
// tp-overlap the work it does not depend on (dW's transpose, GEMM and
// reduce_scatter) moves after it, so it runs beside the GEMM (the
// reduce_scatter, one sum in flight, waits for it); dX's GEMMs stay.
// CHECK-LABEL: func.func @input_gradient
// CHECK: mp.reduce_scatter
// CHECK: mp.add
// CHECK-NEXT: mp.all_reduce %{{.*}} on @mesh axes ["tp"] : tensor<2x8xf32>
// CHECK-NEXT: mp.relu
// TP-LABEL: func.func @input_gradient
// TP-NEXT: %[[DX1:.+]] = mp.matmul %arg2, %arg0
// TP-NEXT: %[[DX2:.+]] = mp.matmul %arg2, %arg1
// TP-NEXT: %[[DX:.+]] = mp.add %[[DX1]], %[[DX2]]
// TP-NEXT: %[[AR:.+]] = mp.all_reduce %[[DX]] on @mesh axes ["tp"] {mp.async = 0 : i64}
// TP-NEXT: %[[XT:.+]] = mp.transpose %arg3
// TP-NEXT: %[[DW:.+]] = mp.matmul %[[XT]], %arg2
// TP-NEXT: %[[W:.+]] = mp.wait %[[AR]] keeps %[[DX]]
// TP-NEXT: %[[RS:.+]] = mp.reduce_scatter %[[DW]] {{.*}} {mp.async = 0 : i64}
// TP-NEXT: mp.relu %[[W]]
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @input_gradient(%w1: tensor<8x8xf32> {mp.param = "w1"}, %w2: tensor<8x8xf32> {mp.param = "w2"},
                          %dy: tensor<2x8xf32> {mp.input = "dy"}, %x: tensor<2x8xf32> {mp.input = "x"})
    -> (tensor<4x8xf32>, tensor<2x8xf32>) attributes {mp.partitioned} {
  %dx1 = mp.matmul %dy, %w1 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %xt = mp.transpose %x perm [1, 0] : tensor<2x8xf32> -> tensor<8x2xf32>
  %dw = mp.matmul %xt, %dy : (tensor<8x2xf32>, tensor<2x8xf32>) -> tensor<8x8xf32>
  %rs = mp.reduce_scatter %dw on @mesh axes ["dp"] dim 0 : tensor<8x8xf32> -> tensor<4x8xf32>
  %dx2 = mp.matmul %dy, %w2 : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %dx = mp.add %dx1, %dx2 : tensor<2x8xf32>
  %ar = mp.all_reduce %dx on @mesh axes ["tp"] : tensor<2x8xf32>
  %r = mp.relu %ar : tensor<2x8xf32>
  return %rs, %r : tensor<4x8xf32>, tensor<2x8xf32>
}

// -----

// A grouped run of bf16 gathers whose widening converts stay (a reader
// that is not a GEMM): every convert first moves down to its reader, then
// the run goes before the first of them, so the run still dominates both
// (lazily, prefetch=0, too).
// CHECK-LABEL: func.func @grouped_widened
// CHECK: %[[A:.+]] = mp.all_gather {{.*}} {mp.async = 0 : i64, mp.fsdp_group = "layers.0"}
// CHECK-NEXT: %[[B:.+]] = mp.all_gather {{.*}} {mp.async = 0 : i64, mp.fsdp_group = "layers.0"}
// CHECK-NEXT: %[[WA:.+]] = mp.wait %[[A]] :
// CHECK-NEXT: %[[WB:.+]] = mp.wait %[[B]] :
// CHECK-NEXT: %[[FA:.+]] = mp.convert %[[WA]]
// CHECK-NEXT: mp.relu %[[FA]]
// CHECK-NEXT: mp.convert %[[WB]]
// LAZY-LABEL: func.func @grouped_widened
// LAZY: %[[A:.+]] = mp.all_gather {{.*}} {mp.async = 0 : i64, mp.fsdp_group = "layers.0"}
// LAZY-NEXT: %[[B:.+]] = mp.all_gather {{.*}} {mp.async = 0 : i64, mp.fsdp_group = "layers.0"}
// LAZY-NEXT: %[[WA:.+]] = mp.wait %[[A]] :
// LAZY-NEXT: %[[WB:.+]] = mp.wait %[[B]] :
// LAZY-NEXT: %[[FA:.+]] = mp.convert %[[WA]]
// LAZY-NEXT: mp.relu %[[FA]]
// LAZY-NEXT: mp.convert %[[WB]]
mp.mesh @mesh = <dp = 2>
func.func @grouped_widened(%a: tensor<4x8xf32> {mp.param = "layers.0.a"},
                           %b: tensor<4x8xf32> {mp.param = "layers.0.b"})
    -> (tensor<8x8xf32>, tensor<8x8xf32>) attributes {mp.partitioned} {
  %ca = mp.convert %a : tensor<4x8xf32> -> tensor<4x8xbf16>
  %cb = mp.convert %b : tensor<4x8xf32> -> tensor<4x8xbf16>
  %ga = mp.all_gather %ca on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<4x8xbf16> -> tensor<8x8xbf16>
  %gb = mp.all_gather %cb on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<4x8xbf16> -> tensor<8x8xbf16>
  %wa = mp.convert %ga : tensor<8x8xbf16> -> tensor<8x8xf32>
  %wb = mp.convert %gb : tensor<8x8xbf16> -> tensor<8x8xf32>
  %ra = mp.relu %wa : tensor<8x8xf32>
  %rb = mp.relu %wb : tensor<8x8xf32>
  return %ra, %rb : tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// A member of a synchronous grouped run reads an asynchronous sum: the sum
// is waited for before the run's first member, so the run stays adjacent
// (one call).
// CHECK-LABEL: func.func @grouped_reads_async
// CHECK: %[[S:.+]] = mp.all_reduce {{.*}} {mp.async = 0 : i64}
// CHECK-NEXT: %[[Q:.+]] = mp.relu %arg0
// CHECK-NEXT: %[[WS:.+]] = mp.wait %[[S]]
// CHECK-NEXT: %[[R1:.+]] = mp.reduce_scatter %[[Q]] {{.*}} {mp.fsdp_group = "layers.0"}
// CHECK-NEXT: %[[R2:.+]] = mp.reduce_scatter %[[WS]] {{.*}} {mp.fsdp_group = "layers.0"}
// CHECK-NEXT: mp.add %[[R1]], %[[R2]]
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @grouped_reads_async(%x: tensor<8x8xf32>, %y: tensor<8x8xf32>) -> tensor<4x8xf32>
    attributes {mp.partitioned} {
  %p = mp.relu %y : tensor<8x8xf32>
  %s = mp.all_reduce %p on @mesh axes ["tp"] : tensor<8x8xf32>
  %q = mp.relu %x : tensor<8x8xf32>
  %r1 = mp.reduce_scatter %q on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<8x8xf32> -> tensor<4x8xf32>
  %r2 = mp.reduce_scatter %s on @mesh axes ["dp"] dim 0 {mp.fsdp_group = "layers.0"} : tensor<8x8xf32> -> tensor<4x8xf32>
  %sum = mp.add %r1, %r2 : tensor<4x8xf32>
  return %sum : tensor<4x8xf32>
}

// -----

// Gathers of activations (sequence parallelism's) run as sums do: issued
// as soon as their input exists, asynchronously when their first reader is
// not the next op, one in flight (issuing the second waits for the first).
// CHECK-LABEL: func.func @activation_gathers
// CHECK-NEXT: %[[A:.+]] = mp.relu %arg0
// CHECK-NEXT: %[[GA:.+]] = mp.all_gather %[[A]] {{.*}} {mp.async = [[SLOT:[0-9]+]] : i64}
// CHECK-NEXT: %[[B:.+]] = mp.relu %arg1
// CHECK-NEXT: %[[WA:.+]] = mp.wait %[[GA]] keeps %[[A]]
// CHECK-NEXT: %[[GB:.+]] = mp.all_gather %[[B]] {{.*}} {mp.async = [[SLOT]] : i64}
// CHECK-NEXT: mp.exp %arg1
// CHECK-NEXT: mp.wait %[[GB]]
mp.mesh @mesh = <tp = 2>
func.func @activation_gathers(%x: tensor<4x2xf32>, %y: tensor<4x2xf32>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x2xf32>) attributes {mp.partitioned} {
  %a = mp.relu %x : tensor<4x2xf32>
  %b = mp.relu %y : tensor<4x2xf32>
  %e = mp.exp %y : tensor<4x2xf32>
  %ga = mp.all_gather %a on @mesh axes ["tp"] dim 1 : tensor<4x2xf32> -> tensor<4x4xf32>
  %gb = mp.all_gather %b on @mesh axes ["tp"] dim 1 : tensor<4x2xf32> -> tensor<4x4xf32>
  return %ga, %gb, %e : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x2xf32>
}
