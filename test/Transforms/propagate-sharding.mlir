// RUN: mp-opt %s -split-input-file --mp-propagate-sharding | FileCheck %s

// Backward: an explicit annotation on a GEMM's output pulls the split onto
// the unannotated weight, so the GEMM computes only its shard.

// CHECK-LABEL: func.func @backward
// CHECK-SAME: (%arg0: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}, %arg1: tensor<32x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}) -> (tensor<8x32xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>})
// CHECK-NEXT: %0 = mp.linear %arg0, %arg1 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
// CHECK-NEXT: %1 = mp.relu %0 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>} : tensor<8x32xf32>
// CHECK-NEXT: %2 = mp.annotate %1 <@mesh, {{\[}}[], [tp]]> : tensor<8x32xf32>
// CHECK-NEXT: return %2 : tensor<8x32xf32>
module {
  mp.mesh @mesh = <tp = 2>
  func.func @backward(%x: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
                      %w: tensor<32x16xf32>) -> tensor<8x32xf32> {
    %h = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %r = mp.relu %h : tensor<8x32xf32>
    %a = mp.annotate %r <@mesh, [[], [tp]]> : tensor<8x32xf32>
    return %a : tensor<8x32xf32>
  }
}

// -----

// Partial sums pass through additive and multilinear ops and are reduced
// only before a non-linear one.

// CHECK-LABEL: func.func @partials
// CHECK-SAME: (%arg0: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>}, %arg1: tensor<4x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>}, %arg2: tensor<8x4xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>}) -> (tensor<8x4xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>})
// CHECK-NEXT: %0 = mp.linear %arg0, %arg1 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []], partial = [tp]>} : (tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: %1 = mp.linear %arg0, %arg1 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []], partial = [tp]>} : (tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: %2 = mp.add %0, %1 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []], partial = [tp]>} : tensor<8x4xf32>
// CHECK-NEXT: %3 = mp.mul %2, %arg2 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []], partial = [tp]>} : tensor<8x4xf32>
// CHECK-NEXT: %4 = mp.neg %3 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []], partial = [tp]>} : tensor<8x4xf32>
// CHECK-NEXT: %5 = mp.reshard %4 <@mesh, {{\[}}[], []]> origin "argument #0 -> mp.add" : tensor<8x4xf32>
// CHECK-NEXT: %6 = mp.add %5, %arg2 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>} : tensor<8x4xf32>
// CHECK-NEXT: %7 = mp.exp %6 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], []]>} : tensor<8x4xf32>
// CHECK-NEXT: return %7 : tensor<8x4xf32>
module {
  mp.mesh @mesh = <tp = 2>
  func.func @partials(%x: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                      %w: tensor<4x16xf32> {mp.sharding = #mp.sharding<@mesh, [[], [tp]]>},
                      %s: tensor<8x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) -> tensor<8x4xf32> {
    %p = mp.linear %x, %w : (tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<8x4xf32>
    %q = mp.linear %x, %w : (tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<8x4xf32>
    %sum = mp.add %p, %q : tensor<8x4xf32>
    %scaled = mp.mul %sum, %s : tensor<8x4xf32>
    %neg = mp.neg %scaled : tensor<8x4xf32>
    %mixed = mp.add %neg, %s : tensor<8x4xf32>
    %e = mp.exp %mixed : tensor<8x4xf32>
    return %e : tensor<8x4xf32>
  }
}

// -----

// Conflict on one axis between two factors of equal priority: the larger
// tensor (the weight) keeps its layout and the small input moves.

// CHECK-LABEL: func.func @by_size
// CHECK-SAME: (%arg0: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}, %arg1: tensor<64x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}) -> (tensor<8x64xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>})
// CHECK-NEXT: %0 = mp.reshard %arg0 <@mesh, {{\[}}[], []]> origin "argument #0 -> mp.linear" : tensor<8x16xf32>
// CHECK-NEXT: %1 = mp.linear %0, %arg1 {mp.sharding = #mp.sharding<@mesh, {{\[}}[], [tp]]>} : (tensor<8x16xf32>, tensor<64x16xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: return %1 : tensor<8x64xf32>
module {
  mp.mesh @mesh = <tp = 2>
  func.func @by_size(%x: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>},
                     %w: tensor<64x16xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>}) -> tensor<8x64xf32> {
    %y = mp.linear %x, %w : (tensor<8x16xf32>, tensor<64x16xf32>) -> tensor<8x64xf32>
    return %y : tensor<8x64xf32>
  }
}

// -----

// An explicit annotation outranks a plan sharding, whatever the sizes.

// CHECK-LABEL: func.func @by_priority
// CHECK-SAME: (%arg0: tensor<8x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}, %arg1: tensor<64x16xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>}) -> (tensor<8x64xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>})
// CHECK-NEXT: %0 = mp.annotate %arg0 <@mesh, {{\[}}[tp], []]> : tensor<8x16xf32>
// CHECK-NEXT: %1 = mp.reshard %arg1 <@mesh, {{\[}}[], []]> origin "argument #1 -> mp.linear" : tensor<64x16xf32>
// CHECK-NEXT: %2 = mp.linear %0, %1 {mp.sharding = #mp.sharding<@mesh, {{\[}}[tp], []]>} : (tensor<8x16xf32>, tensor<64x16xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: return %2 : tensor<8x64xf32>
module {
  mp.mesh @mesh = <tp = 2>
  func.func @by_priority(%x: tensor<8x16xf32>,
                         %w: tensor<64x16xf32> {mp.sharding = #mp.sharding<@mesh, [[tp], []]>}) -> tensor<8x64xf32> {
    %xa = mp.annotate %x <@mesh, [[tp], []]> : tensor<8x16xf32>
    %y = mp.linear %xa, %w : (tensor<8x16xf32>, tensor<64x16xf32>) -> tensor<8x64xf32>
    return %y : tensor<8x64xf32>
  }
}

// -----

// A softmax's class dim never splits; the batch dims reduce into the loss.

// CHECK-LABEL: func.func @cross_entropy
// CHECK-SAME: (%arg0: tensor<8x10xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[dp], [tp]]>}, %arg1: tensor<8xi64> {mp.sharding = #mp.sharding<@mesh, {{\[}}[dp]]>}) -> (tensor<f32> {mp.sharding = #mp.sharding<@mesh, []>})
// CHECK-NEXT: %0 = mp.reshard %arg0 <@mesh, {{\[}}[dp], []]> origin "argument #0 -> mp.cross_entropy" : tensor<8x10xf32>
// CHECK-NEXT: %1 = mp.cross_entropy %0, %arg1 {mp.sharding = #mp.sharding<@mesh, [], partial = [dp]>} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
// CHECK-NEXT: %2 = mp.reshard %1 <@mesh, []> origin "argument #0 -> func.return" : tensor<f32>
// CHECK-NEXT: return %2 : tensor<f32>
module {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @cross_entropy(%logits: tensor<8x10xf32> {mp.sharding = #mp.sharding<@mesh, [[dp], [tp]]>},
                           %labels: tensor<8xi64> {mp.sharding = #mp.sharding<@mesh, [[dp]]>}) -> tensor<f32> {
    %l = mp.cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// Splits follow dims through transpose and through the major dim of a
// reshape's merge; a split of the minor dim of a merge must be undone.

// CHECK-LABEL: func.func @layout
// CHECK-SAME: (%arg0: tensor<4x6x8xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[a], [], [b]]>}) -> (tensor<8x4x6xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[b], [a], []]>}, tensor<24x8xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[a], [b]]>}, tensor<4x48xf32> {mp.sharding = #mp.sharding<@mesh, {{\[}}[a], []]>})
// CHECK-NEXT: %0 = mp.transpose %arg0 perm [2, 0, 1] {mp.sharding = #mp.sharding<@mesh, {{\[}}[b], [a], []]>} : tensor<4x6x8xf32> -> tensor<8x4x6xf32>
// CHECK-NEXT: %1 = mp.reshape %arg0 {mp.sharding = #mp.sharding<@mesh, {{\[}}[a], [b]]>} : tensor<4x6x8xf32> -> tensor<24x8xf32>
// CHECK-NEXT: %2 = mp.reshard %arg0 <@mesh, {{\[}}[a], [], []]> origin "argument #0 -> mp.reshape" : tensor<4x6x8xf32>
// CHECK-NEXT: %3 = mp.reshape %2 {mp.sharding = #mp.sharding<@mesh, {{\[}}[a], []]>} : tensor<4x6x8xf32> -> tensor<4x48xf32>
// CHECK-NEXT: return %0, %1, %3 : tensor<8x4x6xf32>, tensor<24x8xf32>, tensor<4x48xf32>
module {
  mp.mesh @mesh = <a = 2, b = 2>
  func.func @layout(%x: tensor<4x6x8xf32> {mp.sharding = #mp.sharding<@mesh, [[a], [], [b]]>}) -> (tensor<8x4x6xf32>, tensor<24x8xf32>, tensor<4x48xf32>) {
    %t = mp.transpose %x perm [2, 0, 1] : tensor<4x6x8xf32> -> tensor<8x4x6xf32>
    %m = mp.reshape %x : tensor<4x6x8xf32> -> tensor<24x8xf32>
    %n = mp.reshape %x : tensor<4x6x8xf32> -> tensor<4x48xf32>
    return %t, %m, %n : tensor<8x4x6xf32>, tensor<24x8xf32>, tensor<4x48xf32>
  }
}
