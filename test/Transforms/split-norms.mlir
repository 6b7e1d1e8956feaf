// RUN: mp-opt %s -split-input-file --mp-split-norms | FileCheck %s

// OLMo 2's norm of a whole projection that a colwise weight splits by rows
// over tp (4 ranks): the norm's own formula, whose mean square is the only
// value that needs the whole row.
module {
  mp.mesh @mesh = <dp = 2, tp = 4>
  // CHECK-LABEL: func.func @colwise
  // CHECK: %[[Q:.+]] = mp.linear %arg0, %{{.+}} : (tensor<2x3x8xf32>, tensor<16x8xf32>) -> tensor<2x3x16xf32>
  // CHECK-NEXT: %[[SQ:.+]] = mp.mul %[[Q]], %[[Q]] : tensor<2x3x16xf32>
  // CHECK-NEXT: %[[MS:.+]] = mp.mean %[[SQ]] dims [2] : tensor<2x3x16xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: %[[R:.+]] = mp.rsqrt %[[MS]] eps 1.000000e-03 : tensor<2x3xf32>
  // CHECK-NEXT: %[[RB:.+]] = mp.broadcast %[[R]] dims [2] : tensor<2x3xf32> -> tensor<2x3x16xf32>
  // CHECK-NEXT: %[[N:.+]] = mp.mul %[[Q]], %[[RB]] : tensor<2x3x16xf32>
  // CHECK-NEXT: %[[WB:.+]] = mp.broadcast %arg2 dims [0, 1] : tensor<16xf32> -> tensor<2x3x16xf32>
  // CHECK-NEXT: %[[Y:.+]] = mp.mul %[[N]], %[[WB]] : tensor<2x3x16xf32>
  // CHECK-NEXT: return %[[Y]]
  func.func @colwise(%x: tensor<2x3x8xf32>, %wq: tensor<16x8xf32>, %w: tensor<16xf32>) -> tensor<2x3x16xf32> {
    %a = mp.annotate %wq <@mesh, [[tp], []]> : tensor<16x8xf32>
    %q = mp.linear %x, %a : (tensor<2x3x8xf32>, tensor<16x8xf32>) -> tensor<2x3x16xf32>
    %y = mp.rms_norm %q, %w eps 1.000000e-03 : (tensor<2x3x16xf32>, tensor<16xf32>) -> tensor<2x3x16xf32>
    return %y : tensor<2x3x16xf32>
  }
  // Without FSDP no annotation pins the weight's use: its argument's
  // sharding is the colwise split.
  // CHECK-LABEL: func.func @colwise_argument
  // CHECK-NOT: mp.rms_norm
  // CHECK: mp.rsqrt
  func.func @colwise_argument(%x: tensor<2x8xf32>, %wq: tensor<16x8xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>}, %w: tensor<16xf32>) -> tensor<2x16xf32> {
    %q = mp.linear %x, %wq : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf32>
    %y = mp.rms_norm %q, %w eps 1.000000e-05 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    return %y : tensor<2x16xf32>
  }
  // The input annotated split on its last dim, over both axes.
  // CHECK-LABEL: func.func @annotated
  // CHECK-NOT: mp.rms_norm
  // CHECK: mp.rsqrt
  func.func @annotated(%x: tensor<4x16xf32>, %w: tensor<16xf32>) -> tensor<4x16xf32> {
    %a = mp.annotate %x <@mesh, [[], [dp, tp]]> : tensor<4x16xf32>
    %y = mp.rms_norm %a, %w eps 1.000000e-05 : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
    return %y : tensor<4x16xf32>
  }
  // Left: a rowwise weight (the output whole), an input split on another
  // dim, an input nothing annotates, Gemma's weight offset, and a bf16
  // norm (the fused one computes in float32, its formula would not).
  // CHECK-LABEL: func.func @left
  // CHECK-NOT: mp.rsqrt
  // CHECK-COUNT-5: mp.rms_norm
  // CHECK-NOT: mp.rsqrt
  func.func @left(%x: tensor<2x16xf32>, %wo: tensor<16x16xf32>, %wq: tensor<16x16xf32>, %w: tensor<16xf32>, %xh: tensor<2x16xbf16>, %wh: tensor<16xbf16>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xbf16>) {
    %ro = mp.annotate %wo <@mesh, [[], [tp]]> : tensor<16x16xf32>
    %o = mp.linear %x, %ro : (tensor<2x16xf32>, tensor<16x16xf32>) -> tensor<2x16xf32>
    %y0 = mp.rms_norm %o, %w eps 1.000000e-05 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    %rows = mp.annotate %x <@mesh, [[dp], []]> : tensor<2x16xf32>
    %y1 = mp.rms_norm %rows, %w eps 1.000000e-05 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    %y2 = mp.rms_norm %x, %w eps 1.000000e-05 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    %cq = mp.annotate %wq <@mesh, [[tp], []]> : tensor<16x16xf32>
    %q = mp.linear %x, %cq : (tensor<2x16xf32>, tensor<16x16xf32>) -> tensor<2x16xf32>
    %y3 = mp.rms_norm %q, %w eps 1.000000e-06 weight_offset 1.000000e+00 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    %h = mp.annotate %xh <@mesh, [[], [tp]]> : tensor<2x16xbf16>
    %y4 = mp.rms_norm %h, %wh eps 1.000000e-06 : (tensor<2x16xbf16>, tensor<16xbf16>) -> tensor<2x16xbf16>
    return %y0, %y1, %y2, %y3, %y4 : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xbf16>
  }
}

// -----

// A split over one rank changes nothing: the norm stays fused.
module {
  mp.mesh @mesh = <dp = 2, tp = 1>
  // CHECK-LABEL: func.func @one_rank
  // CHECK-NOT: mp.rsqrt
  // CHECK: mp.rms_norm
  func.func @one_rank(%x: tensor<2x8xf32>, %wq: tensor<16x8xf32>, %w: tensor<16xf32>) -> tensor<2x16xf32> {
    %a = mp.annotate %wq <@mesh, [[tp], []]> : tensor<16x8xf32>
    %q = mp.linear %x, %a : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf32>
    %y = mp.rms_norm %q, %w eps 1.000000e-05 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    return %y : tensor<2x16xf32>
  }
}
