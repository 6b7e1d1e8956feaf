// Collective counts and bytes of training steps held against the analytical
// minimum (PyTorch's and Megatron-LM's counts), on tp = 4, f32. Each count
// is per train step: forward, backward (one reduction per partial value,
// partials combined before one reduction), no optimizer traffic (no FSDP).
//
// RUN: split-file %s %t
// RUN: mp-opt %t/mlp3.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1" --mp-spmd --mp-verify-gradient-sync --mp-comm-report=%t/mlp3.json -o /dev/null
// RUN: FileCheck %s --check-prefix=MLP3 < %t/mlp3.json
// RUN: mp-opt %t/layer.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1" --mp-spmd --mp-verify-gradient-sync --mp-comm-report=%t/layer.json -o /dev/null
// RUN: FileCheck %s --check-prefix=LAYER < %t/layer.json
// RUN: mp-opt %t/layer-sp.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1" --mp-spmd --mp-verify-gradient-sync --mp-comm-report=%t/sp.json -o /dev/null
// RUN: FileCheck %s --check-prefix=SP < %t/sp.json

// Three Megatron MLP blocks (colwise then rowwise), batch 8, dim 16: the
// forward pass all_reduces each block's output, the last one inside the
// loss (a scalar); the backward pass the input gradient of each block but
// the first (its input needs none): 3 + 2, as PyTorch. An 8x16 f32 value
// is 512 bytes, of which a ring all_reduce sends 2(t-1)/t: 768 per rank; the
// loss 2 · 3/4 · 4 = 6. Before one reduction per partial value the backward
// pass reduced each gradient twice (for the input gradient and, transposed,
// for the weight gradient): 7 all_reduces, 4614 bytes.
// MLP3: "function": "mlp_train_step"
// MLP3: "total": {
// MLP3-NEXT: "count": 5,
// MLP3-NEXT: "bytes_per_rank": 3078,

// A pre-norm transformer-shaped layer (a stand-in norm, q/k/v colwise, o
// rowwise, an MLP colwise then rowwise, residuals): Megatron's 2 forward
// all_reduces; backward one for the MLP's input gradient (which feeds the
// residual and the second norm's weight gradient) and one of the q, k and v
// input gradients summed, here a 16-float norm weight gradient (96 bytes)
// since the input x needs no gradient. Before: 5 collectives, 2496 bytes.
// LAYER: "function": "layer_train_step"
// LAYER: "kind": "all_reduce",
// LAYER: "bytes_per_rank": 768,
// LAYER: "kind": "all_reduce",
// LAYER: "bytes_per_rank": 768,
// LAYER: "kind": "all_reduce",
// LAYER: "bytes_per_rank": 768,
// LAYER: "kind": "all_reduce",
// LAYER: "bytes_per_rank": 96,
// LAYER: "total": {
// LAYER-NEXT: "count": 4,
// LAYER-NEXT: "bytes_per_rank": 2400,

// The same layer with sequence parallelism: forward 2 all_gathers and 2
// reduce_scatters (384 bytes each, (t-1)/t of 512). Backward: the rowwise
// outputs' gradients gathered once each (for the input and, transposed, the
// weight gradient), the colwise inputs' gradients reduce_scattered once each
// (q, k and v summed first), the norm weights' gradients all_reduced (96
// each) and the loss (6). Not yet at Megatron's 2 + 2: the weight gradients
// of wo and wq take their operands in another layout than the one already
// gathered (a reduce_scatter of 768 bytes and an all_to_all of 96), a
// choice propagation makes per use. Before: 16 collectives, 5286 bytes.
// SP: "function": "layer_train_step"
// SP: "total": {
// SP-NEXT: "count": 13,
// SP-NEXT: "bytes_per_rank": 4134,

//--- mlp3.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {a1 = colwise, b1 = rowwise, a2 = colwise, b2 = rowwise, a3 = colwise, b3 = rowwise}>} {
  mp.mesh @mesh = <tp = 4>
  func.func @mlp(%x: tensor<8x16xf32> {mp.input = "x"},
                 %a1: tensor<32x16xf32> {mp.param = "a1"}, %b1: tensor<16x32xf32> {mp.param = "b1"},
                 %a2: tensor<32x16xf32> {mp.param = "a2"}, %b2: tensor<16x32xf32> {mp.param = "b2"},
                 %a3: tensor<32x16xf32> {mp.param = "a3"}, %b3: tensor<16x32xf32> {mp.param = "b3"}) -> (tensor<f32> {mp.output = "loss"}) {
    %h1 = mp.linear %x, %a1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %r1 = mp.relu %h1 : tensor<8x32xf32>
    %o1 = mp.linear %r1, %b1 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %h2 = mp.linear %o1, %a2 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %r2 = mp.relu %h2 : tensor<8x32xf32>
    %o2 = mp.linear %r2, %b2 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %h3 = mp.linear %o2, %a3 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %r3 = mp.relu %h3 : tensor<8x32xf32>
    %o3 = mp.linear %r3, %b3 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %l = mp.sum %o3 : tensor<8x16xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

//--- layer.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {wq = colwise, wk = colwise, wv = colwise, wo = rowwise, w1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <tp = 4>
  func.func @layer(%x: tensor<8x16xf32> {mp.input = "x"},
                   %n1: tensor<16xf32> {mp.param = "n1"},
                   %wq: tensor<16x16xf32> {mp.param = "wq"}, %wk: tensor<16x16xf32> {mp.param = "wk"},
                   %wv: tensor<16x16xf32> {mp.param = "wv"}, %wo: tensor<16x16xf32> {mp.param = "wo"},
                   %n2: tensor<16xf32> {mp.param = "n2"},
                   %w1: tensor<32x16xf32> {mp.param = "w1"}, %w2: tensor<16x32xf32> {mp.param = "w2"}) -> (tensor<f32> {mp.output = "loss"}) {
    %b1 = mp.broadcast %n1 dims [0] : tensor<16xf32> -> tensor<8x16xf32>
    %h = mp.mul %x, %b1 : tensor<8x16xf32>
    %q = mp.linear %h, %wq : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %k = mp.linear %h, %wk : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %v = mp.linear %h, %wv : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %qk = mp.mul %q, %k : tensor<8x16xf32>
    %s = mp.sigmoid %qk : tensor<8x16xf32>
    %a = mp.mul %s, %v : tensor<8x16xf32>
    %o = mp.linear %a, %wo : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %r1 = mp.add %x, %o : tensor<8x16xf32>
    %b2 = mp.broadcast %n2 dims [0] : tensor<16xf32> -> tensor<8x16xf32>
    %h2 = mp.mul %r1, %b2 : tensor<8x16xf32>
    %f1 = mp.linear %h2, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %g = mp.silu %f1 : tensor<8x32xf32>
    %f2 = mp.linear %g, %w2 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %r2 = mp.add %r1, %f2 : tensor<8x16xf32>
    %l = mp.sum %r2 : tensor<8x16xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

//--- layer-sp.mlir
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp,
    styles = {wq = colwise, wk = colwise, wv = colwise, wo = rowwise, w1 = colwise, w2 = rowwise, x = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 4>
  func.func @layer(%x: tensor<8x16xf32> {mp.input = "x"},
                   %n1: tensor<16xf32> {mp.param = "n1"},
                   %wq: tensor<16x16xf32> {mp.param = "wq"}, %wk: tensor<16x16xf32> {mp.param = "wk"},
                   %wv: tensor<16x16xf32> {mp.param = "wv"}, %wo: tensor<16x16xf32> {mp.param = "wo"},
                   %n2: tensor<16xf32> {mp.param = "n2"},
                   %w1: tensor<32x16xf32> {mp.param = "w1"}, %w2: tensor<16x32xf32> {mp.param = "w2"}) -> (tensor<f32> {mp.output = "loss"}) {
    %b1 = mp.broadcast %n1 dims [0] : tensor<16xf32> -> tensor<8x16xf32>
    %h = mp.mul %x, %b1 : tensor<8x16xf32>
    %q = mp.linear %h, %wq : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %k = mp.linear %h, %wk : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %v = mp.linear %h, %wv : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %qk = mp.mul %q, %k : tensor<8x16xf32>
    %s = mp.sigmoid %qk : tensor<8x16xf32>
    %a = mp.mul %s, %v : tensor<8x16xf32>
    %o = mp.linear %a, %wo : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    %r1 = mp.add %x, %o : tensor<8x16xf32>
    %b2 = mp.broadcast %n2 dims [0] : tensor<16xf32> -> tensor<8x16xf32>
    %h2 = mp.mul %r1, %b2 : tensor<8x16xf32>
    %f1 = mp.linear %h2, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %g = mp.silu %f1 : tensor<8x32xf32>
    %f2 = mp.linear %g, %w2 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %r2 = mp.add %r1, %f2 : tensor<8x16xf32>
    %l = mp.sum %r2 : tensor<8x16xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}
