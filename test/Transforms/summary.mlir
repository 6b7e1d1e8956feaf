// RUN: mp-opt %s -split-input-file --mp-apply-plan --mp-summary -o /dev/null | FileCheck %s
// RUN: mp-opt %s -split-input-file --mp-apply-plan --mp-summary=%t.txt -o /dev/null && FileCheck %s --check-prefix=FILE < %t.txt
// RUN: mp-opt %s -split-input-file --mp-apply-plan --mp-summary=%t.txt | mp-opt -split-input-file | FileCheck %s --check-prefix=IR

// With an output file, each split's summary is written to it (the last stays).
// FILE: Model summary of @mlp on mesh @mesh <pp = 2, dp = 4, tp = 2> (16 ranks)

// The IR passes through unchanged.
// IR-LABEL: func.func @ffn
// IR: mp.linear

// The seed's FFN at dim = hidden = 1024 on data_parallel=2 x tensor_parallel=2
// with FSDP: every weight is split over both axes, a quarter per rank.

// CHECK-LABEL: Model summary of @ffn on mesh @mesh <data_parallel = 2, tensor_parallel = 2> (4 ranks)
// CHECK-NEXT: | Name | Op     | Shape     | Params | data_parallel | tensor_parallel | Params per rank
// CHECK-NEXT: ------------------------------------------------------------------------------------------
// CHECK-NEXT: 0 | w1   | linear | 1024x1024 | 1.0 M  | S(0)          | S(0)            | 262 K
// CHECK-NEXT: 1 | w2   | linear | 1024x1024 | 1.0 M  | S(0)          | S(1)            | 262 K
// CHECK-NEXT: 2 | w3   | linear | 1024x1024 | 1.0 M  | S(0)          | S(0)            | 262 K
// CHECK-NEXT: ------------------------------------------------------------------------------------------
// CHECK-NEXT: 3.1 M     Total params
// CHECK-NEXT: 786 K     Params per rank
// CHECK-NEXT: 12.583    Total estimated model params size (MB)
// CHECK-NEXT: 3.146     Estimated params size per rank (MB)
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>} {
  mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
  func.func @ffn(%x: tensor<8x1024xf32> {mp.input = "x"},
                 %w1: tensor<1024x1024xf32> {mp.param = "w1"},
                 %w2: tensor<1024x1024xf32> {mp.param = "w2"},
                 %w3: tensor<1024x1024xf32> {mp.param = "w3"}) -> tensor<f32> {
    %h1 = mp.linear %x, %w1 : (tensor<8x1024xf32>, tensor<1024x1024xf32>) -> tensor<8x1024xf32>
    %a = mp.silu %h1 : tensor<8x1024xf32>
    %h3 = mp.linear %x, %w3 : (tensor<8x1024xf32>, tensor<1024x1024xf32>) -> tensor<8x1024xf32>
    %g = mp.mul %a, %h3 : tensor<8x1024xf32>
    %out = mp.linear %g, %w2 : (tensor<8x1024xf32>, tensor<1024x1024xf32>) -> tensor<8x1024xf32>
    %loss = mp.sum %out : tensor<8x1024xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// A 3-axis mesh, bf16 weights (2 bytes each), a bias, a parameter used by
// two ops, an unused one, and a replicated one that FSDP alone shards.

// CHECK-LABEL: Model summary of @mlp on mesh @mesh <pp = 2, dp = 4, tp = 2> (16 ranks)
// CHECK-NEXT: | Name      | Op         | Shape   | Params | pp | dp   | tp   | Params per rank
// CHECK-NEXT: ----------------------------------------------------------------------------------
// CHECK-NEXT: 0 | fc.weight | linear     | 256x128 | 32.8 K | R  | S(0) | S(0) | 4.1 K
// CHECK-NEXT: 1 | fc.bias   | add        | 8x256   | 2.0 K  | R  | S(0) | R    | 512
// CHECK-NEXT: 2 | scale     | linear,mul | 128x128 | 16.4 K | R  | S(0) | R    | 4.1 K
// CHECK-NEXT: 3 | unused    | -          | 8       | 8      | R  | S(0) | R    | 2
// CHECK-NEXT: ----------------------------------------------------------------------------------
// CHECK-NEXT: 51.2 K    Total params
// CHECK-NEXT: 8.7 K     Params per rank
// CHECK-NEXT: 0.102     Total estimated model params size (MB)
// CHECK-NEXT: 0.017     Estimated params size per rank (MB)
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {"fc.weight" = colwise}>} {
  mp.mesh @mesh = <pp = 2, dp = 4, tp = 2>
  func.func @mlp(%x: tensor<8x128xbf16> {mp.input = "x"},
                 %w: tensor<256x128xbf16> {mp.param = "fc.weight"},
                 %b: tensor<8x256xbf16> {mp.param = "fc.bias"},
                 %s: tensor<128x128xbf16> {mp.param = "scale"},
                 %u: tensor<8xbf16> {mp.param = "unused"}) -> tensor<8x256xbf16> {
    %xs = mp.mul %x, %x : tensor<8x128xbf16>
    %p = mp.linear %xs, %s : (tensor<8x128xbf16>, tensor<128x128xbf16>) -> tensor<8x128xbf16>
    %q = mp.mul %s, %s : tensor<128x128xbf16>
    %h = mp.linear %p, %w : (tensor<8x128xbf16>, tensor<256x128xbf16>) -> tensor<8x256xbf16>
    %y = mp.add %h, %b : tensor<8x256xbf16>
    return %y : tensor<8x256xbf16>
  }
}
