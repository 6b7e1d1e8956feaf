//===- MPCollectiveOps.td - resharding and collectives -----*- tablegen -*-===//
//
// Included by MPOps.td. `mp.reshard` lives in the global program that
// propagation produces; the collectives live in the per-rank program that
// partitioning produces, on local tensor types.
//
//===----------------------------------------------------------------------===//

#ifndef MP_DIALECT_MP_IR_MPCOLLECTIVEOPS_TD
#define MP_DIALECT_MP_IR_MPCOLLECTIVEOPS_TD

// Collectives move model values and integer targets alike.
def MP_CollectiveTensor : StaticShapeTensorOf<[F16, BF16, F32, F64, I32, I64]>;

def MP_ReshardOp : MP_Op<"reshard", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "changes the sharding of a value (inserted by propagation)";
  let description = [{
    Returns its operand with the sharding `sharding`, where the operand has
    another one (its producer's `mp.sharding`). Sharding propagation inserts
    it wherever a consumer needs a value laid out differently than it was
    produced; partitioning turns it into collectives. `origin` says why: the
    plan entry or parameter whose sharding led here, and the consumer.

    ```mlir
    %r = mp.reshard %y <@mesh, [[], []]> origin "w2 (rowwise): partial over [tensor_parallel] for func.return" : tensor<8x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, MP_ShardingAttr:$sharding,
                       OptionalAttr<StrAttr>:$origin);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input $sharding (`origin` $origin^)? attr-dict `:` type($result)
  }];
}

class MP_CollectiveOp<string mnemonic, list<Trait> traits = []>
    : MP_Op<mnemonic, !listconcat([Pure,
        DeclareOpInterfaceMethods<SymbolUserOpInterface>,
        MP_CollectiveOpInterface], traits)> {
  code commonDescription = [{
    Runs over the ranks that differ only in the coordinates of `axes` (the
    groups of those mesh axes), on the per-rank (local) tensors. `origin`
    names the plan entry or parameter and the op that caused it, so that
    `mp-opt --mp-comm-report` can say why it is there.
  }];
  let extraClassDeclaration = [{
    /// The mesh this collective runs on (verified to exist).
    MeshAttr lookupMesh() {
      return ::mp::lookupMesh(getOperation(), getMeshAttr());
    }
    /// The number of ranks in each group: the product of the axis sizes.
    int64_t getGroupSize() {
      return ::mp::getGroupSize(lookupMesh(), getAxes());
    }
    // CollectiveOpInterface, beyond the accessors.
    ::mp::CollectiveSteps getSteps();
    double getBytesSentPerRank();
    ::mp::RuntimeCollectiveCall getRuntimeCall();
    /// CostOpInterface: a collective that communicates runs no compute
    /// kernel (the communication report counts what it sends).
    int64_t getKernelBytes() {
      return getSteps().communicates()
                 ? 0
                 : ::mp::getOperandAndResultBytes(getOperation());
    }
  }];
  let hasVerifier = 1;
}

def MP_AllReduceOp : MP_CollectiveOp<"all_reduce", [SameOperandsAndResultType]> {
  let summary = "sums a tensor over mesh axes, every rank gets the sum";
  let description = commonDescription # [{
    ```mlir
    %s = mp.all_reduce %p on @mesh axes ["tensor_parallel"] : tensor<4x64xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$input, FlatSymbolRefAttr:$mesh,
                       StrArrayAttr:$axes, OptionalAttr<StrAttr>:$origin);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $input `on` $mesh `axes` $axes (`origin` $origin^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 0;
}

def MP_AllGatherOp : MP_CollectiveOp<"all_gather"> {
  let summary = "concatenates the shards of a dim over mesh axes";
  let description = commonDescription # [{
    Concatenates along `dim`, in the order of the group's coordinates
    (the first axis major): the result dim is `size(axes)` times larger.

    ```mlir
    %g = mp.all_gather %w on @mesh axes ["data_parallel"] dim 0 : tensor<2x8xf32> -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$input, FlatSymbolRefAttr:$mesh,
                       StrArrayAttr:$axes, I64Attr:$dim,
                       OptionalAttr<StrAttr>:$origin);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $input `on` $mesh `axes` $axes `dim` $dim (`origin` $origin^)? attr-dict
    `:` type($input) `->` type($result)
  }];
}

def MP_ReduceScatterOp : MP_CollectiveOp<"reduce_scatter"> {
  let summary = "sums over mesh axes and leaves each rank its shard of a dim";
  let description = commonDescription # [{
    The sum over the group, split along `dim`: rank `i` of the group keeps
    the `i`-th of `size(axes)` pieces.

    ```mlir
    %s = mp.reduce_scatter %g on @mesh axes ["data_parallel"] dim 0 : tensor<4x8xf32> -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$input, FlatSymbolRefAttr:$mesh,
                       StrArrayAttr:$axes, I64Attr:$dim,
                       OptionalAttr<StrAttr>:$origin);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $input `on` $mesh `axes` $axes `dim` $dim (`origin` $origin^)? attr-dict
    `:` type($input) `->` type($result)
  }];
}

def MP_AllToAllOp : MP_CollectiveOp<"all_to_all"> {
  let summary = "moves a split from one dim to another";
  let description = commonDescription # [{
    Splits `split_dim` into `size(axes)` pieces, sends piece `i` to rank `i`
    of the group, and concatenates what it receives along `concat_dim`.

    ```mlir
    %t = mp.all_to_all %x on @mesh axes ["tp"] split 1 concat 0 : tensor<2x8xf32> -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$input, FlatSymbolRefAttr:$mesh,
                       StrArrayAttr:$axes, I64Attr:$split_dim,
                       I64Attr:$concat_dim, OptionalAttr<StrAttr>:$origin);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $input `on` $mesh `axes` $axes `split` $split_dim `concat` $concat_dim
    (`origin` $origin^)? attr-dict `:` type($input) `->` type($result)
  }];
}

def MP_ShardSliceOp : MP_CollectiveOp<"shard_slice"> {
  let summary = "keeps this rank's shard of a dim (no communication)";
  let description = commonDescription # [{
    Rank `i` of the group keeps the `i`-th of `size(axes)` pieces of `dim`:
    going from replicated to split costs nothing.

    ```mlir
    %s = mp.shard_slice %x on @mesh axes ["tp"] dim 1 : tensor<4x8xf32> -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$input, FlatSymbolRefAttr:$mesh,
                       StrArrayAttr:$axes, I64Attr:$dim,
                       OptionalAttr<StrAttr>:$origin);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $input `on` $mesh `axes` $axes `dim` $dim (`origin` $origin^)? attr-dict
    `:` type($input) `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Padding of uneven splits (docs/uneven-sharding.md)
//===----------------------------------------------------------------------===//

def MP_ZeroPaddingOp : MP_Op<"zero_padding", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "zeros the padding of an unevenly split dim";
  let description = [{
    A dim of global extent `extent` split over `axes` (major to minor) that
    do not divide it leaves some ranks padding past their last value (see
    `#mp.sharding`). This op returns its operand with that padding zero on
    each rank. Partitioning puts it before a reduction over such a dim (a
    contraction, a sum, a loss) when the operand's padding may not be zero
    already: a bias added to padded rows, for instance.

    ```mlir
    %z = mp.zero_padding %h on @mesh axes ["tp"] dim 1 extent 17 : tensor<4x9xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$input, FlatSymbolRefAttr:$mesh,
                       StrArrayAttr:$axes, I64Attr:$dim, I64Attr:$extent);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $input `on` $mesh `axes` $axes `dim` $dim `extent` $extent attr-dict
    `:` type($result)
  }];
  let hasVerifier = 1;
}

def MP_LocalizeIndexOp : MP_Op<"localize_index", [Pure,
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "shifts ids into this rank's slice of a split dim";
  let description = [{
    For ids into a dim of `extent` entries split over `axes` (major to
    minor, padded as `#mp.sharding` lays uneven splits out), each id
    becomes its position in this rank's piece, or -1 where another rank
    holds it. Partitioning puts it before an op whose integer operand
    indexes a split dim (the ids of a vocab-parallel embedding), which then
    skips the ids that are -1.

    ```mlir
    %local = mp.localize_index %ids on @mesh axes ["tp"] extent 1000 : tensor<2x16xi64>
    ```
  }];
  let arguments = (ins MP_IndexTensor:$input, FlatSymbolRefAttr:$mesh,
                       StrArrayAttr:$axes, I64Attr:$extent);
  let results = (outs MP_IndexTensor:$result);
  let assemblyFormat = [{
    $input `on` $mesh `axes` $axes `extent` $extent attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Overlap (docs/overlap.md)
//===----------------------------------------------------------------------===//

def MP_WaitOp : MP_Op<"wait", [Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "the result of an asynchronous collective, once it is done";
  let description = [{
    Returns `value`, the result of a collective issued asynchronously
    (`{mp.async = slot}`, set by `mp-schedule-collectives`), once that
    collective is done: the ops between the collective and the wait run
    beside it. `keeps` are the collective's inputs, which it may read until
    here (their buffers live until the wait); a grouped call
    (`mp.fsdp_group`), which reads its inputs only to pack them at its
    issue, keeps none. The runtime call is
    `mp_async_wait(ctx, slot)`; the result takes `value`'s buffer.

    ```mlir
    %g = mp.all_gather %w on @mesh axes ["dp"] dim 0 {mp.async = 0 : i64} : tensor<8x16xf32> -> tensor<16x16xf32>
    %y = mp.linear %x, %v : ...   // runs while %g is gathered
    %r = mp.wait %g keeps %w : tensor<8x16xf32> : tensor<16x16xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$value,
                       Variadic<MP_CollectiveTensor>:$keeps);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $value (`keeps` $keeps^ `:` type($keeps))? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def MP_ResizeOp : MP_Op<"resize", [Pure]> {
  let summary = "truncates a dim, or extends it with zeros";
  let description = [{
    Keeps the first entries of `dim`, as many as the result has, and fills
    the rest of the result with zeros. Uneven collectives lower to even ones
    through it (`--mp-expand-uneven-collectives`): an all_gather of padded
    pieces is truncated to the whole extent, a reduce_scatter's input is
    extended to a whole number of pieces.

    ```mlir
    %t = mp.resize %g dim 0 : tensor<18x8xf32> -> tensor<17x8xf32>
    ```
  }];
  let arguments = (ins MP_CollectiveTensor:$input, I64Attr:$dim);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $input `dim` $dim attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Row chunks of a per-rank program (docs/overlap.md)
//===----------------------------------------------------------------------===//

def MP_SliceOp : MP_Op<"slice", [Pure]> {
  let summary = "a block of consecutive entries of one dim";
  let description = [{
    Entries `offset` to `offset` plus the result's extent of `dim`, all of
    the other dims. It acts on a rank's local tensor: a slice of a split
    dim is a slice of this rank's piece. `--mp-pipeline-tp-sums` cuts the
    rows a tensor-parallel sum's GEMMs read into chunks with it.

    ```mlir
    %c = mp.slice %x dim 0 offset 4 : tensor<8x16xf32> -> tensor<4x16xf32>
    ```

    When the dims before `dim` have extent 1 the block is contiguous, and
    the memory plan makes the result a view of its input (no copy) where
    the offset keeps the plan's alignment.
  }];
  let arguments = (ins MP_CollectiveTensor:$input, I64Attr:$dim,
                       I64Attr:$offset);
  let results = (outs MP_CollectiveTensor:$result);
  let extraClassDeclaration = [{
    /// CostOpInterface: it reads only the block it copies.
    int64_t getKernelBytes();
  }];
  let assemblyFormat = [{
    $input `dim` $dim `offset` $offset attr-dict `:` type($input) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def MP_ConcatOp : MP_Op<"concat", [Pure]> {
  let summary = "joins tensors along one dim";
  let description = [{
    The operands one after the other along `dim`; the other dims match. Like
    `mp.slice` it acts on local tensors, and `--mp-pipeline-tp-sums` joins
    the chunks of a pipelined sum with it.

    ```mlir
    %x = mp.concat %a, %b dim 0 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
    ```

    When the dims before `dim` have extent 1 the memory plan places each
    operand's buffer inside the result's, so the operands are computed in
    place and the concatenation copies nothing (where the pieces keep the
    plan's alignment and are not shared with other values).
  }];
  let arguments = (ins Variadic<MP_CollectiveTensor>:$inputs, I64Attr:$dim);
  let results = (outs MP_CollectiveTensor:$result);
  let assemblyFormat = [{
    $inputs `dim` $dim attr-dict `:` functional-type($inputs, $result)
  }];
  let hasVerifier = 1;
}

#endif // MP_DIALECT_MP_IR_MPCOLLECTIVEOPS_TD
