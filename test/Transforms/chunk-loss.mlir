// RUN: mp-opt %s -split-input-file --mp-chunk-loss=chunks=2 | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-chunk-loss=chunks=8 | FileCheck %s --check-prefix=SEQ
// RUN: mp-opt %s -split-input-file --mp-chunk-loss=chunks=3 | FileCheck %s --check-prefix=THREE
// RUN: mp-opt %s -split-input-file --mp-chunk-loss=chunks=4 --mp-memory-report=output=- -o /dev/null | FileCheck %s --check-prefixes=MEMORY,CHUNKED
// RUN: mp-opt %s -split-input-file --mp-memory-report=output=- -o /dev/null | FileCheck %s --check-prefixes=MEMORY,WHOLE

// A plain cross entropy over [batch 4, seq 8] tokens and its gradients.
// With 2 chunks, of the batch: each chunk computes its logits, its loss's
// sum, the logits' gradient, the hidden states' gradient (joined after the
// chunks, in place) and its product into the weight's gradient (accumulated
// chunk to chunk), before the next chunk starts; the loss is the chunks'
// sums over the 32 tokens, and what read the loss (the scale) follows.
// CHECK-LABEL: func.func @plain
// CHECK-NEXT: %[[H:.+]] = mp.relu %arg0
// CHECK-NEXT: %[[WT:.+]] = mp.transpose %arg1
// CHECK-NEXT: %[[HROWS:.+]] = mp.reshape %[[H]] : tensor<4x8x16xf32> -> tensor<32x16xf32>
// CHECK-NEXT: %[[H0:.+]] = mp.slice %[[H]] dim 0 offset 0 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[L0:.+]] = mp.linear %[[H0]], %arg1 : (tensor<2x8x16xf32>, tensor<128x16xf32>) -> tensor<2x8x128xf32>
// CHECK-NEXT: %[[T0:.+]] = mp.slice %arg2 dim 0 offset 0 : tensor<4x8xi64> -> tensor<2x8xi64>
// CHECK-NEXT: %[[S0:.+]] = mp.cross_entropy %[[L0]], %[[T0]] reduction sum : (tensor<2x8x128xf32>, tensor<2x8xi64>) -> tensor<f32>
// CHECK-NEXT: %[[G0:.+]] = mp.cross_entropy_grad %[[L0]], %[[T0]], %arg3 scale 3.125000e-02 : (tensor<2x8x128xf32>, tensor<2x8xi64>, tensor<f32>) -> tensor<2x8x128xf32>
// CHECK-NEXT: %[[DH0:.+]] = mp.linear %[[G0]], %[[WT]] : (tensor<2x8x128xf32>, tensor<16x128xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[R0:.+]] = mp.reshape %[[G0]] : tensor<2x8x128xf32> -> tensor<16x128xf32>
// CHECK-NEXT: %[[RT0:.+]] = mp.transpose %[[R0]] perm [1, 0] : tensor<16x128xf32> -> tensor<128x16xf32>
// CHECK-NEXT: %[[HR0:.+]] = mp.slice %[[HROWS]] dim 0 offset 0 : tensor<32x16xf32> -> tensor<16x16xf32>
// CHECK-NEXT: %[[DW0:.+]] = mp.matmul %[[RT0]], %[[HR0]] : (tensor<128x16xf32>, tensor<16x16xf32>) -> tensor<128x16xf32>
// CHECK-NEXT: %[[H1:.+]] = mp.slice %[[H]] dim 0 offset 2
// CHECK-NEXT: %[[L1:.+]] = mp.linear %[[H1]], %arg1
// CHECK-NEXT: %[[T1:.+]] = mp.slice %arg2 dim 0 offset 2
// CHECK-NEXT: %[[S1:.+]] = mp.cross_entropy %[[L1]], %[[T1]] reduction sum
// CHECK-NEXT: %[[S:.+]] = mp.add %[[S0]], %[[S1]] : tensor<f32>
// CHECK-NEXT: %[[G1:.+]] = mp.cross_entropy_grad %[[L1]], %[[T1]], %arg3
// CHECK-NEXT: %[[DH1:.+]] = mp.linear %[[G1]], %[[WT]]
// CHECK-NEXT: %[[R1:.+]] = mp.reshape %[[G1]]
// CHECK-NEXT: %[[RT1:.+]] = mp.transpose %[[R1]]
// CHECK-NEXT: %[[HR1:.+]] = mp.slice %[[HROWS]] dim 0 offset 16 : tensor<32x16xf32> -> tensor<16x16xf32>
// CHECK-NEXT: %[[DW:.+]] = mp.matmul %[[RT1]], %[[HR1]] accumulate %[[DW0]] : (tensor<128x16xf32>, tensor<16x16xf32>, tensor<128x16xf32>) -> tensor<128x16xf32>
// CHECK-NEXT: %[[MEAN:.+]] = mp.scale %[[S]] by 3.125000e-02 : tensor<f32>
// CHECK-NEXT: %[[DH:.+]] = mp.concat %[[DH0]], %[[DH1]] dim 0 : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<4x8x16xf32>
// CHECK-NEXT: %[[HALF:.+]] = mp.scale %[[MEAN]] by 5.000000e-01
// CHECK-NEXT: return %[[HALF]], %[[DH]], %[[DW]]
// With 8 chunks the batch (4) has too few tokens: the chunks are of the
// sequence (8), all 4 rows of it each. A chunk's weight-gradient rows
// ([4 x 1, 16]) are no block of the hidden states' rows ([32, 16]): each
// chunk reshapes its own; the hidden states' gradient joins over dim 1.
// SEQ-LABEL: func.func @plain
// SEQ-NEXT: %[[H:.+]] = mp.relu %arg0
// SEQ: %[[H0:.+]] = mp.slice %[[H]] dim 1 offset 0 : tensor<4x8x16xf32> -> tensor<4x1x16xf32>
// SEQ-NEXT: mp.linear %[[H0]], %arg1 : (tensor<4x1x16xf32>, tensor<128x16xf32>) -> tensor<4x1x128xf32>
// SEQ: mp.slice %arg2 dim 1 offset 0 : tensor<4x8xi64> -> tensor<4x1xi64>
// SEQ: %[[G0:.+]] = mp.cross_entropy_grad
// SEQ: %[[R0:.+]] = mp.reshape %[[G0]] : tensor<4x1x128xf32> -> tensor<4x128xf32>
// SEQ-NEXT: %[[RT0:.+]] = mp.transpose %[[R0]]
// SEQ-NEXT: %[[HR0:.+]] = mp.reshape %[[H0]] : tensor<4x1x16xf32> -> tensor<4x16xf32>
// SEQ-NEXT: mp.matmul %[[RT0]], %[[HR0]] : (tensor<128x4xf32>, tensor<4x16xf32>) -> tensor<128x16xf32>
// SEQ: mp.slice %[[H]] dim 1 offset 7
// SEQ: %[[DW:.+]] = mp.matmul {{.*}} accumulate
// SEQ: %[[DH:.+]] = mp.concat {{.*}} dim 1 : ({{.*}}) -> tensor<4x8x16xf32>
// SEQ: return {{.*}}, %[[DH]], %[[DW]]
// SEQ-NOT: mp.reshape %[[H]]
// Chunks as even as the tokens allow: 2, 1, 1.
// THREE-LABEL: func.func @plain
// THREE-NEXT: %[[H:.+]] = mp.relu %arg0
// THREE: mp.slice %[[H]] dim 0 offset 0 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
// THREE: mp.slice %[[H]] dim 0 offset 2 : tensor<4x8x16xf32> -> tensor<1x8x16xf32>
// THREE: mp.slice %[[H]] dim 0 offset 3 : tensor<4x8x16xf32> -> tensor<1x8x16xf32>
// THREE: mp.concat {{.*}} dim 0 : (tensor<2x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> tensor<4x8x16xf32>
// Whole, the logits (16 KB) and their gradient (16 KB) are live together;
// in 4 chunks, a chunk's of each (4 KB) beside the weight's gradient (8 KB,
// accumulated in place) and the hidden states' gradient (2 KB, its chunks
// computed in place in the joined buffer).
// MEMORY: "function": "plain"
// CHUNKED: "arena_bytes": 20608
// WHOLE: "arena_bytes": 34880
func.func @plain(%x: tensor<4x8x16xf32>, %w: tensor<128x16xf32>,
                 %labels: tensor<4x8xi64>, %dl: tensor<f32>)
    -> (tensor<f32>, tensor<4x8x16xf32>, tensor<128x16xf32>)
    attributes {mp.partitioned} {
  %h = mp.relu %x : tensor<4x8x16xf32>
  %logits = mp.linear %h, %w : (tensor<4x8x16xf32>, tensor<128x16xf32>) -> tensor<4x8x128xf32>
  %loss = mp.cross_entropy %logits, %labels : (tensor<4x8x128xf32>, tensor<4x8xi64>) -> tensor<f32>
  %half = mp.scale %loss by 0.5 : tensor<f32>
  %dlogits = mp.cross_entropy_grad %logits, %labels, %dl scale 0.03125 : (tensor<4x8x128xf32>, tensor<4x8xi64>, tensor<f32>) -> tensor<4x8x128xf32>
  %wt = mp.transpose %w perm [1, 0] : tensor<128x16xf32> -> tensor<16x128xf32>
  %dh = mp.linear %dlogits, %wt : (tensor<4x8x128xf32>, tensor<16x128xf32>) -> tensor<4x8x16xf32>
  %rows = mp.reshape %dlogits : tensor<4x8x128xf32> -> tensor<32x128xf32>
  %rowsT = mp.transpose %rows perm [1, 0] : tensor<32x128xf32> -> tensor<128x32xf32>
  %hrows = mp.reshape %h : tensor<4x8x16xf32> -> tensor<32x16xf32>
  %dw = mp.matmul %rowsT, %hrows : (tensor<128x32xf32>, tensor<32x16xf32>) -> tensor<128x16xf32>
  return %half, %dh, %dw : tensor<f32>, tensor<4x8x16xf32>, tensor<128x16xf32>
}

// -----

// The vocabulary-parallel loss (--mp-loss-parallel's per-row ops, their
// collectives over tp) of a one-sequence batch: the chunks are of the
// sequence, each with its own collectives (the same origin); the per-token
// losses are joined and their mean follows the chunks.
// CHECK-LABEL: func.func @vocab_parallel
// CHECK-NEXT: %[[LOCAL:.+]] = mp.localize_index %arg2
// CHECK-NEXT: %[[H0:.+]] = mp.slice %arg0 dim 1 offset 0 : tensor<1x8x16xf32> -> tensor<1x4x16xf32>
// CHECK-NEXT: %[[L0:.+]] = mp.linear %[[H0]], %arg1 : (tensor<1x4x16xf32>, tensor<32x16xf32>) -> tensor<1x4x32xf32>
// CHECK-NEXT: mp.block_max %[[L0]] : tensor<1x4x32xf32> -> tensor<1x4x1xf32>
// CHECK-NEXT: mp.all_gather {{.*}} dim 2 origin "'output' (colwise) -> mp.block_max" : tensor<1x4x1xf32> -> tensor<1x4x2xf32>
// CHECK: mp.sum {{.*}} dims [2] : tensor<1x4x32xf32> -> tensor<1x4xf32>
// CHECK-NEXT: mp.all_reduce {{.*}} : tensor<1x4xf32>
// CHECK: %[[X0:.+]] = mp.slice %[[LOCAL]] dim 1 offset 0 : tensor<1x8xi64> -> tensor<1x4xi64>
// CHECK-NEXT: mp.gather_last %[[L0]], %[[X0]]
// CHECK: %[[LOSS0:.+]] = mp.sub {{.*}} : tensor<1x4xf32>
// CHECK: mp.slice %arg0 dim 1 offset 4
// CHECK: %[[LOSS1:.+]] = mp.sub {{.*}} : tensor<1x4xf32>
// CHECK-NEXT: %[[LOSSES:.+]] = mp.concat %[[LOSS0]], %[[LOSS1]] dim 1 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x8xf32>
// CHECK-NEXT: %[[MEAN:.+]] = mp.mean %[[LOSSES]]
// CHECK-NEXT: return %[[MEAN]]
mp.mesh @mesh = <dp = 2, tp = 2>
func.func @vocab_parallel(%h: tensor<1x8x16xf32>, %w: tensor<32x16xf32>,
                          %labels: tensor<1x8xi64>) -> tensor<f32>
    attributes {mp.partitioned} {
  %logits = mp.linear %h, %w : (tensor<1x8x16xf32>, tensor<32x16xf32>) -> tensor<1x8x32xf32>
  %blocks = mp.block_max %logits : tensor<1x8x32xf32> -> tensor<1x8x1xf32>
  %gathered = mp.all_gather %blocks on @mesh axes ["tp"] dim 2 origin "'output' (colwise) -> mp.block_max" : tensor<1x8x1xf32> -> tensor<1x8x2xf32>
  %max = mp.block_max %gathered : tensor<1x8x2xf32> -> tensor<1x8x1xf32>
  %shift = mp.reshape %max : tensor<1x8x1xf32> -> tensor<1x8xf32>
  %spread = mp.broadcast %shift dims [2] : tensor<1x8xf32> -> tensor<1x8x32xf32>
  %shifted = mp.sub %logits, %spread : tensor<1x8x32xf32>
  %exp = mp.exp %shifted : tensor<1x8x32xf32>
  %partial = mp.sum %exp dims [2] : tensor<1x8x32xf32> -> tensor<1x8xf32>
  %sum = mp.all_reduce %partial on @mesh axes ["tp"] origin "'output' (colwise) -> mp.log" : tensor<1x8xf32>
  %log = mp.log %sum : tensor<1x8xf32>
  %lse = mp.add %shift, %log : tensor<1x8xf32>
  %local = mp.localize_index %labels on @mesh axes ["tp"] extent 64 : tensor<1x8xi64>
  %picked = mp.gather_last %logits, %local : (tensor<1x8x32xf32>, tensor<1x8xi64>) -> tensor<1x8xf32>
  %target = mp.all_reduce %picked on @mesh axes ["tp"] origin "'output' (colwise) -> mp.sub" : tensor<1x8xf32>
  %losses = mp.sub %lse, %target : tensor<1x8xf32>
  %mean = mp.mean %losses : tensor<1x8xf32> -> tensor<f32>
  return %mean : tensor<f32>
}

// -----

// A second loss over a GEMM of the first's logits: that GEMM is the first
// region's output (joined after its chunks), and its loss, whose logits
// are then a join, is left whole.
// CHECK-LABEL: func.func @loss_of_logits
// CHECK: %[[A0:.+]] = mp.linear {{.*}} -> tensor<2x8x32xf32>
// CHECK: %[[B0:.+]] = mp.linear %[[A0]], %arg2 : (tensor<2x8x32xf32>, tensor<10x32xf32>) -> tensor<2x8x10xf32>
// CHECK: %[[B:.+]] = mp.concat %[[B0]], %{{.+}} dim 0 : (tensor<2x8x10xf32>, tensor<2x8x10xf32>) -> tensor<4x8x10xf32>
// CHECK: mp.cross_entropy %[[B]], %arg3 : (tensor<4x8x10xf32>, tensor<4x8xi64>) -> tensor<f32>
func.func @loss_of_logits(%x: tensor<4x8x16xf32>, %w: tensor<32x16xf32>,
                          %w2: tensor<10x32xf32>, %labels: tensor<4x8xi64>)
    -> (tensor<f32>, tensor<f32>) attributes {mp.partitioned} {
  %h = mp.relu %x : tensor<4x8x16xf32>
  %logits = mp.linear %h, %w : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
  %loss = mp.cross_entropy %logits, %labels : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<f32>
  %again = mp.linear %logits, %w2 : (tensor<4x8x32xf32>, tensor<10x32xf32>) -> tensor<4x8x10xf32>
  %loss2 = mp.cross_entropy %again, %labels : (tensor<4x8x10xf32>, tensor<4x8xi64>) -> tensor<f32>
  return %loss, %loss2 : tensor<f32>, tensor<f32>
}

// -----

// Gemma 2's soft-capped logits, 30 · tanh(l / 30), and their gradient
// through the cap: the cap's ops and its gradient's are elementwise, so
// the chunks start from the GEMM under them and each chunk caps its own
// logits.
// CHECK-LABEL: func.func @capped
// CHECK: %[[H0:.+]] = mp.slice %arg0 dim 0 offset 0 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[L0:.+]] = mp.linear %[[H0]], %arg1 : (tensor<2x8x16xf32>, tensor<32x16xf32>) -> tensor<2x8x32xf32>
// CHECK-NEXT: %[[A0:.+]] = mp.scale %[[L0]] by {{.+}} : tensor<2x8x32xf32>
// CHECK-NEXT: %[[T0:.+]] = mp.tanh %[[A0]] : tensor<2x8x32xf32>
// CHECK-NEXT: %[[C0:.+]] = mp.scale %[[T0]] by 3.000000e+01 : tensor<2x8x32xf32>
// CHECK: mp.cross_entropy %[[C0]], %{{.+}} reduction sum
// CHECK: mp.slice %arg0 dim 0 offset 2
// CHECK: %[[DW:.+]] = mp.matmul {{.*}} accumulate
// CHECK: %[[DH:.+]] = mp.concat {{.*}} dim 0 : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<4x8x16xf32>
// CHECK: return {{.*}}, %[[DH]], %[[DW]]
func.func @capped(%h: tensor<4x8x16xf32>, %w: tensor<32x16xf32>,
                  %labels: tensor<4x8xi64>, %dl: tensor<f32>)
    -> (tensor<f32>, tensor<4x8x16xf32>, tensor<32x16xf32>)
    attributes {mp.partitioned} {
  %logits = mp.linear %h, %w : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
  %a = mp.scale %logits by 0.033333333333333333 : tensor<4x8x32xf32>
  %t = mp.tanh %a : tensor<4x8x32xf32>
  %capped = mp.scale %t by 30.0 : tensor<4x8x32xf32>
  %loss = mp.cross_entropy %capped, %labels : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<f32>
  %dcapped = mp.cross_entropy_grad %capped, %labels, %dl scale 0.03125 : (tensor<4x8x32xf32>, tensor<4x8xi64>, tensor<f32>) -> tensor<4x8x32xf32>
  %dt = mp.scale %dcapped by 30.0 : tensor<4x8x32xf32>
  %gy = mp.mul %dt, %t : tensor<4x8x32xf32>
  %gyy = mp.mul %gy, %t : tensor<4x8x32xf32>
  %da = mp.sub %dt, %gyy : tensor<4x8x32xf32>
  %dlogits = mp.scale %da by 0.033333333333333333 : tensor<4x8x32xf32>
  %wt = mp.transpose %w perm [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
  %dh = mp.linear %dlogits, %wt : (tensor<4x8x32xf32>, tensor<16x32xf32>) -> tensor<4x8x16xf32>
  %rows = mp.reshape %dlogits : tensor<4x8x32xf32> -> tensor<32x32xf32>
  %rowsT = mp.transpose %rows perm [1, 0] : tensor<32x32xf32> -> tensor<32x32xf32>
  %hrows = mp.reshape %h : tensor<4x8x16xf32> -> tensor<32x16xf32>
  %dw = mp.matmul %rowsT, %hrows : (tensor<32x32xf32>, tensor<32x16xf32>) -> tensor<32x16xf32>
  return %loss, %dh, %dw : tensor<f32>, tensor<4x8x16xf32>, tensor<32x16xf32>
}
