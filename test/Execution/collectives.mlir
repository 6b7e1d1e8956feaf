// The collectives of a partitioned program on a 2x2 mesh <a = 2, b = 2>,
// whose ranks are laid row-major: rank 2a + b at coordinates (a, b). Each
// rank starts from its own piece of G = [[1..4], [5..8], [9..12], [13..16]]
// (mp.shard_slice of a constant), and the results are assembled from the
// ranks' pieces by their mp.sharding. A group over axes [x, y] orders its
// ranks by (coord_x, coord_y), the first axis major.
//
// RUN: mp-run %s --entry=shard_slice --print | FileCheck %s --check-prefix=SLICE
// RUN: mp-run %s --entry=all_reduce --print | FileCheck %s --check-prefix=REDUCE
// RUN: mp-run %s --entry=all_gather --print | FileCheck %s --check-prefix=GATHER
// RUN: mp-run %s --entry=reduce_scatter --print | FileCheck %s --check-prefix=SCATTER
// RUN: mp-run %s --entry=all_to_all --print | FileCheck %s --check-prefix=ALLTOALL
// RUN: mp-run %s --entry=partial --print | FileCheck %s --check-prefix=PARTIAL
// RUN: not mp-run %s --entry=not_replicated 2>&1 | FileCheck %s --check-prefix=REPLICA
//
// Random global arguments cut into each rank's piece by their mp.sharding,
// moved by collectives, and compared with a global program.
// RUN: mp-run %s --entry=split_args --reference=%s --reference-entry=identity | FileCheck %s --check-prefix=MATCH
// RUN: mp-run %s --entry=split_args_minor_first --reference=%s --reference-entry=identity_rows | FileCheck %s --check-prefix=MATCH
// RUN: mp-run %s --entry=gather_args --reference=%s --reference-entry=identity | FileCheck %s --check-prefix=MATCH
// RUN: mp-run %s --entry=all_to_all_args --reference=%s --reference-entry=identity | FileCheck %s --check-prefix=MATCH
// RUN: mp-run %s --entry=reduce_args --reference=%s --reference-entry=times_two_and_four | FileCheck %s --check-prefix=MATCH
// A global argument given to a function that takes it partial is split into
// pieces that sum to it (the value on the first rank of each group, zeros
// elsewhere), so reducing them gives it back.
// RUN: mp-run %s --entry=partial_args --reference=%s --reference-entry=identity_rows | FileCheck %s --check-prefix=MATCH

// MATCH: max abs error: 0.000e+00, max rel error: 0.000e+00 over {{[12]}} results: match

mp.mesh @mesh = <a = 2, b = 2>

// Row 2a + b of G for axes [a, b]; row 2b + a for [b, a], which laid out
// by [a, b] swaps rows 1 and 2.
// SLICE: result #0: [4x4]
// SLICE-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00
// SLICE-NEXT: 5.000000e+00 6.000000e+00 7.000000e+00 8.000000e+00
// SLICE-NEXT: 9.000000e+00 1.000000e+01 1.100000e+01 1.200000e+01
// SLICE-NEXT: 1.300000e+01 1.400000e+01 1.500000e+01 1.600000e+01
// SLICE-NEXT: result #1: [4x4]
// SLICE-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00
// SLICE-NEXT: 9.000000e+00 1.000000e+01 1.100000e+01 1.200000e+01
// SLICE-NEXT: 5.000000e+00 6.000000e+00 7.000000e+00 8.000000e+00
// SLICE-NEXT: 1.300000e+01 1.400000e+01 1.500000e+01 1.600000e+01
// SLICE-NOT: result
func.func @shard_slice() -> (tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a, b], []]>},
                             tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a, b], []]>})
    attributes {mp.partitioned} {
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %ab = mp.shard_slice %g on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  %ba = mp.shard_slice %g on @mesh axes ["b", "a"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  return %ab, %ba : tensor<1x4xf32>, tensor<1x4xf32>
}

// Rank (a, b) holds row 2a + b. Over a, the group of b sums rows b and
// 2 + b; over b, the group of a sums rows 2a and 2a + 1; over both, every
// row: [28, 32, 36, 40] on every rank.
// REDUCE: result #0: [2x4]
// REDUCE-NEXT: 1.000000e+01 1.200000e+01 1.400000e+01 1.600000e+01
// REDUCE-NEXT: 1.800000e+01 2.000000e+01 2.200000e+01 2.400000e+01
// REDUCE-NEXT: result #1: [2x4]
// REDUCE-NEXT: 6.000000e+00 8.000000e+00 1.000000e+01 1.200000e+01
// REDUCE-NEXT: 2.200000e+01 2.400000e+01 2.600000e+01 2.800000e+01
// REDUCE-NEXT: result #2: [1x4]
// REDUCE-NEXT: 2.800000e+01 3.200000e+01 3.600000e+01 4.000000e+01
// REDUCE-NOT: result
func.func @all_reduce() -> (tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[b], []]>},
                            tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a], []]>},
                            tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    attributes {mp.partitioned} {
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %row = mp.shard_slice %g on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  %overA = mp.all_reduce %row on @mesh axes ["a"] : tensor<1x4xf32>
  %overB = mp.all_reduce %row on @mesh axes ["b"] : tensor<1x4xf32>
  %overAll = mp.all_reduce %row on @mesh axes ["a", "b"] : tensor<1x4xf32>
  return %overA, %overB, %overAll : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>
}

// Rank (a, b) holds row 2a + b. Gathering dim 0 over b gives the group of
// a rows 2a, 2a + 1 (laid over a: G); over [b, a], every rank gets the rows
// in the order of (b, a): 0, 2, 1, 3. Gathering dim 1 over a puts rows b
// and 2 + b side by side.
// GATHER: result #0: [4x4]
// GATHER-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00
// GATHER-NEXT: 5.000000e+00 6.000000e+00 7.000000e+00 8.000000e+00
// GATHER-NEXT: 9.000000e+00 1.000000e+01 1.100000e+01 1.200000e+01
// GATHER-NEXT: 1.300000e+01 1.400000e+01 1.500000e+01 1.600000e+01
// GATHER-NEXT: result #1: [4x4]
// GATHER-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00
// GATHER-NEXT: 9.000000e+00 1.000000e+01 1.100000e+01 1.200000e+01
// GATHER-NEXT: 5.000000e+00 6.000000e+00 7.000000e+00 8.000000e+00
// GATHER-NEXT: 1.300000e+01 1.400000e+01 1.500000e+01 1.600000e+01
// GATHER-NEXT: result #2: [2x8]
// GATHER-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00 9.000000e+00 1.000000e+01 1.100000e+01 1.200000e+01
// GATHER-NEXT: 5.000000e+00 6.000000e+00 7.000000e+00 8.000000e+00 1.300000e+01 1.400000e+01 1.500000e+01 1.600000e+01
// GATHER-NOT: result
func.func @all_gather() -> (tensor<2x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a], []]>},
                            tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
                            tensor<1x8xf32> {mp.sharding = #mp.sharding<@mesh, [[b], []]>})
    attributes {mp.partitioned} {
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %row = mp.shard_slice %g on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  %overB = mp.all_gather %row on @mesh axes ["b"] dim 0 : tensor<1x4xf32> -> tensor<2x4xf32>
  %overBA = mp.all_gather %row on @mesh axes ["b", "a"] dim 0 : tensor<1x4xf32> -> tensor<4x4xf32>
  %side = mp.all_gather %row on @mesh axes ["a"] dim 1 : tensor<1x4xf32> -> tensor<1x8xf32>
  return %overB, %overBA, %side : tensor<2x4xf32>, tensor<4x4xf32>, tensor<1x8xf32>
}

// Rank (a, b) holds rows 2b, 2b + 1 as %half: over b the sum is
// [[10, 12, 14, 16], [18, 20, 22, 24]], of which b keeps column pair b.
// Rank (a, b) holds row 2a + b as %row: over [a, b] the sum is
// [28, 32, 36, 40], of which it keeps element 2a + b; over [b, a] element
// 2b + a, which laid out by [a, b] swaps elements 1 and 2.
// SCATTER: result #0: [2x4]
// SCATTER-NEXT: 1.000000e+01 1.200000e+01 1.400000e+01 1.600000e+01
// SCATTER-NEXT: 1.800000e+01 2.000000e+01 2.200000e+01 2.400000e+01
// SCATTER-NEXT: result #1: [1x4]
// SCATTER-NEXT: 2.800000e+01 3.200000e+01 3.600000e+01 4.000000e+01
// SCATTER-NEXT: result #2: [1x4]
// SCATTER-NEXT: 2.800000e+01 3.600000e+01 3.200000e+01 4.000000e+01
// SCATTER-NOT: result
func.func @reduce_scatter() -> (tensor<2x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [b]]>},
                                tensor<1x1xf32> {mp.sharding = #mp.sharding<@mesh, [[], [a, b]]>},
                                tensor<1x1xf32> {mp.sharding = #mp.sharding<@mesh, [[], [a, b]]>})
    attributes {mp.partitioned} {
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %half = mp.shard_slice %g on @mesh axes ["b"] dim 0 : tensor<4x4xf32> -> tensor<2x4xf32>
  %cols = mp.reduce_scatter %half on @mesh axes ["b"] dim 1 : tensor<2x4xf32> -> tensor<2x2xf32>
  %row = mp.shard_slice %g on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  %ab = mp.reduce_scatter %row on @mesh axes ["a", "b"] dim 1 : tensor<1x4xf32> -> tensor<1x1xf32>
  %ba = mp.reduce_scatter %row on @mesh axes ["b", "a"] dim 1 : tensor<1x4xf32> -> tensor<1x1xf32>
  return %cols, %ab, %ba : tensor<2x2xf32>, tensor<1x1xf32>, tensor<1x1xf32>
}

// Rows split over b to columns split over b: rank b sends column pair j of
// its rows 2b, 2b + 1 to rank j, which stacks what it receives: G[:, 2j:2j+2].
// Columns split over [a, b] to rows: rank 2a + b sends element j of its
// column to rank j, which lines them up: row j of G. Over [b, a] the
// senders line up in the order of (b, a), holding columns 0, 2, 1, 3, so
// every row comes back with its middle elements swapped.
// ALLTOALL: result #0: [4x4]
// ALLTOALL-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00
// ALLTOALL-NEXT: 5.000000e+00 6.000000e+00 7.000000e+00 8.000000e+00
// ALLTOALL-NEXT: 9.000000e+00 1.000000e+01 1.100000e+01 1.200000e+01
// ALLTOALL-NEXT: 1.300000e+01 1.400000e+01 1.500000e+01 1.600000e+01
// ALLTOALL-NEXT: result #1: [4x4]
// ALLTOALL-NEXT: 1.000000e+00 2.000000e+00 3.000000e+00 4.000000e+00
// ALLTOALL-NEXT: 5.000000e+00 6.000000e+00 7.000000e+00 8.000000e+00
// ALLTOALL-NEXT: 9.000000e+00 1.000000e+01 1.100000e+01 1.200000e+01
// ALLTOALL-NEXT: 1.300000e+01 1.400000e+01 1.500000e+01 1.600000e+01
// ALLTOALL-NEXT: result #2: [4x4]
// ALLTOALL-NEXT: 1.000000e+00 3.000000e+00 2.000000e+00 4.000000e+00
// ALLTOALL-NEXT: 5.000000e+00 7.000000e+00 6.000000e+00 8.000000e+00
// ALLTOALL-NEXT: 9.000000e+00 1.100000e+01 1.000000e+01 1.200000e+01
// ALLTOALL-NEXT: 1.300000e+01 1.500000e+01 1.400000e+01 1.600000e+01
// ALLTOALL-NOT: result
func.func @all_to_all() -> (tensor<4x2xf32> {mp.sharding = #mp.sharding<@mesh, [[], [b]]>},
                            tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a, b], []]>},
                            tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[b, a], []]>})
    attributes {mp.partitioned} {
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %rows = mp.shard_slice %g on @mesh axes ["b"] dim 0 : tensor<4x4xf32> -> tensor<2x4xf32>
  %cols = mp.all_to_all %rows on @mesh axes ["b"] split 1 concat 0 : tensor<2x4xf32> -> tensor<4x2xf32>
  %col = mp.shard_slice %g on @mesh axes ["a", "b"] dim 1 : tensor<4x4xf32> -> tensor<4x1xf32>
  %ab = mp.all_to_all %col on @mesh axes ["a", "b"] split 0 concat 1 : tensor<4x1xf32> -> tensor<1x4xf32>
  %ba = mp.all_to_all %col on @mesh axes ["b", "a"] split 0 concat 1 : tensor<4x1xf32> -> tensor<1x4xf32>
  return %cols, %ab, %ba : tensor<4x2xf32>, tensor<1x4xf32>, tensor<1x4xf32>
}

// A result partial over a is the sum over a of the ranks' values: rows b
// and 2 + b; partial over both axes, the sum of every row.
// PARTIAL: result #0: [2x4]
// PARTIAL-NEXT: 1.000000e+01 1.200000e+01 1.400000e+01 1.600000e+01
// PARTIAL-NEXT: 1.800000e+01 2.000000e+01 2.200000e+01 2.400000e+01
// PARTIAL-NEXT: result #1: [1x4]
// PARTIAL-NEXT: 2.800000e+01 3.200000e+01 3.600000e+01 4.000000e+01
// PARTIAL-NOT: result
func.func @partial() -> (tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[b], []], partial = [a]>},
                         tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []], partial = [a, b]>})
    attributes {mp.partitioned} {
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %row = mp.shard_slice %g on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  return %row, %row : tensor<1x4xf32>, tensor<1x4xf32>
}

// A result said to be replicated whose ranks disagree is an error.
// REPLICA: error: result #0 differs between ranks 0 and 1, which should hold the same replica
func.func @not_replicated() -> (tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    attributes {mp.partitioned} {
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %row = mp.shard_slice %g on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  return %row : tensor<1x4xf32>
}

// The global references.
func.func @identity(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  return %x : tensor<4x4xf32>
}

func.func @identity_rows(%x: tensor<4x4xf32>, %y: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  return %x, %y : tensor<4x4xf32>, tensor<4x4xf32>
}

func.func @times_two_and_four(%x: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %two = mp.scale %x by 2.0 : tensor<4x4xf32>
  %four = mp.scale %x by 4.0 : tensor<4x4xf32>
  return %two, %four : tensor<4x4xf32>, tensor<4x4xf32>
}

// Pieces in, the same pieces out.
func.func @split_args(%x: tensor<2x2xf32> {mp.sharding = #mp.sharding<@mesh, [[a], [b]]>})
    -> (tensor<2x2xf32> {mp.sharding = #mp.sharding<@mesh, [[a], [b]]>}) attributes {mp.partitioned} {
  return %x : tensor<2x2xf32>
}

// Row 2b + a in, the same row out; and one split [b, a] re-laid [a, b] by
// an all_gather over [b, a] and a slice over [a, b].
func.func @split_args_minor_first(%x: tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[b, a], []]>},
                                  %y: tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[b, a], []]>})
    -> (tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[b, a], []]>},
        tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a, b], []]>}) attributes {mp.partitioned} {
  %whole = mp.all_gather %y on @mesh axes ["b", "a"] dim 0 : tensor<1x4xf32> -> tensor<4x4xf32>
  %row = mp.shard_slice %whole on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  return %x, %row : tensor<1x4xf32>, tensor<1x4xf32>
}

// Blocks [[a], [b]] gathered to the whole.
func.func @gather_args(%x: tensor<2x2xf32> {mp.sharding = #mp.sharding<@mesh, [[a], [b]]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %rows = mp.all_gather %x on @mesh axes ["a"] dim 0 : tensor<2x2xf32> -> tensor<4x2xf32>
  %all = mp.all_gather %rows on @mesh axes ["b"] dim 1 : tensor<4x2xf32> -> tensor<4x4xf32>
  return %all : tensor<4x4xf32>
}

// Columns split over [a, b] to rows split over [a, b].
func.func @all_to_all_args(%x: tensor<4x1xf32> {mp.sharding = #mp.sharding<@mesh, [[], [a, b]]>})
    -> (tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a, b], []]>}) attributes {mp.partitioned} {
  %rows = mp.all_to_all %x on @mesh axes ["a", "b"] split 0 concat 1 : tensor<4x1xf32> -> tensor<1x4xf32>
  return %rows : tensor<1x4xf32>
}

// A replicated x summed over a (2x), and summed over [a, b] and scattered
// by rows (4x).
func.func @reduce_args(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
        tensor<1x4xf32> {mp.sharding = #mp.sharding<@mesh, [[a, b], []]>}) attributes {mp.partitioned} {
  %two = mp.all_reduce %x on @mesh axes ["a"] : tensor<4x4xf32>
  %four = mp.reduce_scatter %x on @mesh axes ["a", "b"] dim 0 : tensor<4x4xf32> -> tensor<1x4xf32>
  return %two, %four : tensor<4x4xf32>, tensor<1x4xf32>
}

func.func @partial_args(%x: tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []], partial = [a]>},
                        %y: tensor<2x4xf32> {mp.sharding = #mp.sharding<@mesh, [[b], []], partial = [a]>})
    -> (tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>},
        tensor<4x4xf32> {mp.sharding = #mp.sharding<@mesh, [[], []]>}) attributes {mp.partitioned} {
  %rx = mp.all_reduce %x on @mesh axes ["a"] : tensor<4x4xf32>
  %ry = mp.all_reduce %y on @mesh axes ["a"] : tensor<2x4xf32>
  %gy = mp.all_gather %ry on @mesh axes ["b"] dim 0 : tensor<2x4xf32> -> tensor<4x4xf32>
  return %rx, %gy : tensor<4x4xf32>, tensor<4x4xf32>
}
