//===- MPOps.td - mp dialect operations --------------------*- tablegen -*-===//

#ifndef MP_DIALECT_MP_IR_MPOPS_TD
#define MP_DIALECT_MP_IR_MPOPS_TD

include "mp/Dialect/MP/IR/MPAttrs.td"
include "mp/Dialect/MP/IR/MPInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Model values: statically shaped tensors of the float types the runtime
// computes in. Dynamic shapes are rejected until partitioning supports them.
def MP_FloatTensor : StaticShapeTensorOf<[F16, BF16, F32, F64]>;
def MP_IndexTensor : StaticShapeTensorOf<[I32, I64]>;
// I64Attr reads its value zero-extended; an index that may be negative
// (PyTorch's ignore_index, -100) is read sign-extended.
def MP_SignedI64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
    "64-bit integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

// The traits of an elementwise op over float32 whose tensors may be held in
// bfloat16: one shape, the element types one type or a mix of float32 and
// bfloat16 (the result type is inferred: the operands' type, float32 where
// they mix; a bfloat16 result is compatible with a float32 inferred one).
// Its assembly format prints one type where all agree
// (`custom<StorageTypes>`), else the functional type.
defvar MP_ElementwiseStorage = [Pure, Elementwise, SameOperandsAndResultShape,
                                MP_BFloat16Storage,
                                InferTypeOpAdaptorWithIsCompatible];

//===----------------------------------------------------------------------===//
// Mesh and annotations
//===----------------------------------------------------------------------===//

def MP_MeshOp : MP_Op<"mesh", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "declares a named device mesh";
  let description = [{
    Declares a device mesh as a symbol of the module, so that shardings and
    plans can refer to it by name.

    ```mlir
    mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, MP_MeshAttr:$mesh);
  let assemblyFormat = "$sym_name `=` $mesh attr-dict";
}

def MP_AnnotateOp : MP_Op<"annotate", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "pins the sharding of a value";
  let description = [{
    Returns its operand unchanged and states the sharding the value must
    have at this point of the program. Written by hand, it is an explicit
    annotation, which outranks everything a plan or propagation derives. The
    plan pass writes it too, then with `entry` naming the plan entry it comes
    from (for FSDP, the gathered sharding a parameter is used with); such an
    annotation has the priority of a plan style.

    With `regather`, the collectives it becomes are never merged with an
    earlier identical one: FSDP2's `reshard_after_forward`, where the
    backward pass gathers a parameter again rather than keep the forward's
    gathered copy alive (`--mp-train-step="reshard-after-forward=true"`).

    ```mlir
    %0 = mp.annotate %x <@mesh, [[data_parallel], [tensor_parallel]]> : tensor<8x64xf32>
    %1 = mp.annotate %w1 <@mesh, [[tensor_parallel], []]> entry "fsdp(data_parallel): w1" : tensor<64x32xf32>
    %2 = mp.annotate %w1 <@mesh, [[tensor_parallel], []]> entry "fsdp(data_parallel): w1" regather : tensor<64x32xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, MP_ShardingAttr:$sharding,
                       OptionalAttr<StrAttr>:$entry, UnitAttr:$regather);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input $sharding (`entry` $entry^)? (`regather` $regather^)? attr-dict
    `:` type($result)
  }];
  let extraClassDeclaration = [{
    /// True if the annotation comes from a plan rather than the user.
    bool isFromPlan() { return getEntry().has_value(); }
  }];
}

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

// How a GEMM's accumulator is summed, for both GEMM ops' documentation.
defvar MP_GemmAccumulatorRounding = [{
    A BLAS adds the accumulator into its running float32 sums (OpenBLAS
    per block of the contraction, cuBLAS in its epilogue), so the result
    equals a separate `mp.add` of the product to float32 rounding, not
    necessarily bit for bit.
}];

// A bf16 GEMM's result held in bfloat16.
defvar MP_GemmBFloat16Result = [{

    A `bf16` GEMM that adds into no accumulator may return bfloat16: its
    float32 result rounded to nearest even, written so by the GEMM
    (`mp-fuse-conversions`, for a product the step keeps in bfloat16; the
    host rounds the float32 product, cuBLAS rounds in its epilogue).
}];

def MP_LinearOp : MP_Op<"linear", [Pure,
    InferTypeOpAdaptorWithIsCompatible,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "y = x · Wᵀ with PyTorch's [out, in] weight";
  let description = [{
    `torch.nn.functional.linear` without bias: `x` is `[..., in]` (any number
    of leading batch dims, at least one dim), `weight` is `[out, in]` as
    `nn.Linear` stores it, the result is `[..., out]`.

    ```mlir
    %y = mp.linear %x, %w : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %z = mp.linear %x, %w precision <bf16> : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    ```

    `precision` (`#mp.precision`) is the GEMM's arithmetic; without it,
    `tf32`. The backward pass's GEMMs take their forward GEMM's. A `bf16`
    GEMM multiplies bfloat16 values and sums in float32: its operands may
    be float32 (rounded) or bfloat16 (FSDP's gathered bf16 parameters,
    `mp-narrow-collectives`; activations held in bf16,
    `mp-narrow-gemm-operands`), and its result is float32.

    With `accumulate`, the product is added into the float32 tensor of the
    result's type: `mp.linear %x, %w accumulate %g` is `%g + x · Wᵀ` in one
    GEMM (BLAS's beta = 1), as `mp-fuse-gemm-accumulate` writes it for a
    gradient summed over the uses of a value. The runtime computes it in
    the accumulator's buffer where nothing reads the accumulator later.
    The accumulator is not linear alone: where the product is a partial sum
    over a mesh axis, it must be one over exactly the same axes. }] #
    MP_GemmAccumulatorRounding # MP_GemmBFloat16Result;
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$weight,
                       Optional<MP_FloatTensor>:$accumulator,
                       OptionalAttr<MP_PrecisionAttr>:$precision);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`accumulate` $accumulator^)?
    (`precision` $precision^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let builders = [
    // A product added into nothing.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                   "::mp::PrecisionAttr":$precision), [{
      build($_builder, $_state, input, weight, ::mlir::Value(), precision);
    }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // CostOpInterface: a GEMM.
    int64_t getGemmFlops();
    // `precision`, or tf32 where it is absent.
    ::mp::Precision getEffectivePrecision() {
      return getPrecision().value_or(::mp::Precision::tf32);
    }
  }];
}

def MP_MatmulOp : MP_Op<"matmul", [Pure,
    InferTypeOpAdaptorWithIsCompatible,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "batched matrix product";
  let description = [{
    `torch.matmul` for operands of rank 2 or more: `lhs` is `[..., M, K]`,
    `rhs` is `[..., K, N]` with the same leading batch dims, or `[K, N]`
    (shared by every batch). The result is `[..., M, N]`.

    ```mlir
    %c = mp.matmul %a, %b : (tensor<4x8x16xf32>, tensor<4x16x32xf32>) -> tensor<4x8x32xf32>
    %s = mp.matmul %q, %kt scale 1.250000e-01 precision <bf16> : (tensor<4x8x16xf32>, tensor<4x16x8xf32>) -> tensor<4x8x8xf32>
    ```

    `precision` as for `mp.linear`. `scale` multiplies the product (the
    GEMM's alpha, a float32): each result is the float32 sum of products
    times `scale`, rounded once. `mp-fold-gemm-scales` writes it for an
    `mp.scale` of the product or of an operand (attention's 1/sqrt(d)
    before the softmax and after its gradient), so the step makes no pass
    of its own over the scores.

    `accumulate` adds the (scaled) product into a float32 tensor of the
    result's type, as for `mp.linear`: `scale` multiplies the product only.
    }] # MP_GemmAccumulatorRounding # MP_GemmBFloat16Result;
  let arguments = (ins MP_FloatTensor:$lhs, MP_FloatTensor:$rhs,
                       Optional<MP_FloatTensor>:$accumulator,
                       OptionalAttr<MP_PrecisionAttr>:$precision,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`accumulate` $accumulator^)? (`scale` $scale^)?
    (`precision` $precision^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let builders = [
    // A product added into nothing.
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs,
                   "::mp::PrecisionAttr":$precision,
                   CArg<"::mlir::FloatAttr", "{}">:$scale), [{
      build($_builder, $_state, lhs, rhs, ::mlir::Value(), precision, scale);
    }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // CostOpInterface: a GEMM.
    int64_t getGemmFlops();
    // `precision`, or tf32 where it is absent.
    ::mp::Precision getEffectivePrecision() {
      return getPrecision().value_or(::mp::Precision::tf32);
    }
    // `scale`, or 1 where it is absent.
    double getEffectiveScale() {
      return getScale() ? getScale()->convertToDouble() : 1.0;
    }
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// Where float32 and bfloat16 mix (MP_BFloat16Storage), the functional type.
defvar MP_BFloat16StorageDoc = [{

    Its tensors have one element type, or, computed in float32, some of them
    are held in bfloat16 (`mp-fuse-conversions`: a bfloat16 operand is read
    widened, a bfloat16 result is the float32 result rounded to nearest
    even), and the type is then written functionally:
    `: (tensor<8xbf16>, tensor<8xf32>) -> tensor<8xbf16>`.
}];

class MP_BinaryOp<string mnemonic, string what>
    : MP_Op<mnemonic, !listconcat(MP_ElementwiseStorage,
                       [DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>])> {
  let summary = "elementwise " # what;
  let description = !strconcat([{
    Elementwise }] # what # [{ of two tensors of one shape.
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$lhs, MP_FloatTensor:$rhs);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:`
    custom<StorageTypes>(type($lhs), type($rhs), type($result))
  }];
}

def MP_AddOp : MP_BinaryOp<"add", "sum">;
def MP_SubOp : MP_BinaryOp<"sub", "difference">;
def MP_MulOp : MP_BinaryOp<"mul", "product">;
def MP_DivOp : MP_BinaryOp<"div", "quotient">;

class MP_UnaryOp<string mnemonic, string what, list<Trait> traits = []>
    : MP_Op<mnemonic, !listconcat(MP_ElementwiseStorage,
                                   [DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
                                   DeclareOpInterfaceMethods<MP_AutodiffOpInterface>], traits)> {
  let summary = what;
  let description = MP_BFloat16StorageDoc;
  let arguments = (ins MP_FloatTensor:$input);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input attr-dict `:` custom<StorageTypes>(type($input), type($result))
  }];
}

def MP_NegOp : MP_UnaryOp<"neg", "elementwise negation">;
def MP_ExpOp : MP_UnaryOp<"exp", "elementwise exponential">;
def MP_ReluOp : MP_UnaryOp<"relu", "elementwise max(x, 0)">;
def MP_LogOp : MP_UnaryOp<"log", "elementwise natural logarithm">;
def MP_SigmoidOp : MP_UnaryOp<"sigmoid", "elementwise 1 / (1 + exp(-x))">;
def MP_TanhOp : MP_UnaryOp<"tanh", "elementwise tanh(x)">;
def MP_SiluOp : MP_UnaryOp<"silu", "elementwise x · sigmoid(x)"> {
  let description = !strconcat("`torch.nn.functional.silu`, also called "
                                "swish.", MP_BFloat16StorageDoc);
}

def MP_SwigluOp : MP_Op<"swiglu", !listconcat(MP_ElementwiseStorage, [
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>])> {
  let summary = "SwiGLU's product silu(gate) · up";
  let description = !strconcat([{
    `silu(gate) · up`, a Llama feed-forward's `F.silu(w1(x)) * w3(x)`,
    rounded as `mp.silu` then `mp.mul` round it (silu's value to float
    first), so it is the pair's value bit for bit. `--mp-fuse-swiglu` makes
    it of the pair. One kernel reads both operands and writes the product
    where the pair writes silu's value and reads it back; the training step
    keeps `gate` and `up` for the backward pass (`mp.swiglu_grad` computes
    silu's value again) and not silu's value too, the size of the layer's
    largest activation.

    ```mlir
    %y = mp.swiglu %gate, %up : tensor<8x16x128xf32>
    ```
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$gate, MP_FloatTensor:$up);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $gate `,` $up attr-dict `:`
    custom<StorageTypes>(type($gate), type($up), type($result))
  }];
}

def MP_GeluOp : MP_UnaryOp<"gelu", "elementwise GELU"> {
  let description = !strconcat([{
    `torch.nn.functional.gelu`: `x · Φ(x)` with the exact normal CDF, or with
    `tanh` its tanh approximation (PyTorch's `approximate="tanh"`).

    ```mlir
    %0 = mp.gelu %x : tensor<8x64xf32>
    %1 = mp.gelu %x tanh : tensor<8x64xf32>
    ```
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$input, UnitAttr:$approximate_tanh);
  let assemblyFormat = [{
    $input (`tanh` $approximate_tanh^)? attr-dict `:`
    custom<StorageTypes>(type($input), type($result))
  }];
}

def MP_ScaleOp : MP_UnaryOp<"scale", "multiplication by a constant"> {
  let description = !strconcat([{
    Multiplies every element by the constant `factor`.

    ```mlir
    %0 = mp.scale %x by 0.5 : tensor<8x64xf32>
    ```
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$input, F64Attr:$factor);
  let assemblyFormat = [{
    $input `by` $factor attr-dict `:`
    custom<StorageTypes>(type($input), type($result))
  }];
}

def MP_RsqrtOp : MP_UnaryOp<"rsqrt", "elementwise 1 / sqrt(x + eps)"> {
  let description = !strconcat([{
    The inverse square root of every element plus the constant `eps`, as
    an RMSNorm takes it of its rows' mean squares. `mp-split-norms` writes
    a norm whose normalized dim is split with it, so that only the rows'
    mean squares cross ranks.

    ```mlir
    %r = mp.rsqrt %m eps 1.000000e-05 : tensor<2x16xf32>
    ```
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$input, F64Attr:$eps);
  let assemblyFormat = [{
    $input `eps` $eps attr-dict `:`
    custom<StorageTypes>(type($input), type($result))
  }];
  let hasVerifier = 1;
}

// `mp.clamp` and its gradient's mask: the bounds `min <= max` (numbers;
// infinities open a side) after the input.
class MP_ClampBoundsOp<string mnemonic, string what>
    : MP_UnaryOp<mnemonic, what> {
  let arguments = (ins MP_FloatTensor:$input, F64Attr:$min, F64Attr:$max);
  let assemblyFormat = [{
    $input `min` $min `max` $max attr-dict `:`
    custom<StorageTypes>(type($input), type($result))
  }];
  let hasVerifier = 1;
}

def MP_ClampOp : MP_ClampBoundsOp<"clamp", "elementwise clamp to [min, max]"> {
  let description = !strconcat([{
    `torch.clamp(x, min, max)`: `min(max(x, min), max)`, NaN kept. OLMo's
    attention clamps its query, key and value projections to
    `[-clip_qkv, clip_qkv]` with it. Its gradient passes where
    `min <= x <= max` (`mp.clamp_mask`), as PyTorch's does.

    ```mlir
    %c = mp.clamp %q min -8.000000e+00 max 8.000000e+00 : tensor<2x16x64xf32>
    ```
  }], MP_BFloat16StorageDoc);
}

def MP_ConvertOp : MP_Op<"convert", [Pure, Elementwise,
    SameOperandsAndResultShape,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "elementwise conversion to another float type";
  let description = [{
    Each element in the result's element type, rounded to nearest with ties
    to even (`tensor.to(dtype)`); widening is exact. The runtime converts
    f32 to bf16 and back: `mp-narrow-collectives` writes it around a
    collective that may move bf16 instead of f32 without changing any
    result.

    ```mlir
    %0 = mp.convert %x : tensor<8x64xf32> -> tensor<8x64xbf16>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Reductions and layout
//===----------------------------------------------------------------------===//

class MP_ReductionOp<string mnemonic, string what>
    : MP_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                       DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = what # " over all dims or the given ones";
  let description = [{
    The }] # what # [{ of the elements over `dims` (all dims when absent),
    which are removed from the shape as PyTorch's default `keepdim=False`
    does. Reducing every dim gives a rank-0 tensor; an explicit empty `dims`
    reduces nothing (unlike PyTorch's `dim=[]`, which reduces everything).

    ```mlir
    %all = mp.}] # mnemonic # [{ %x : tensor<8x64xf32> -> tensor<f32>
    %rows = mp.}] # mnemonic # [{ %x dims [1] : tensor<8x64xf32> -> tensor<8xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input,
                       OptionalAttr<DenseI64ArrayAttr>:$dims);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`dims` $dims^)? attr-dict `:` type($input) `->` type($result)
  }];
  let extraClassDeclaration = [{
    /// The reduced dims, sorted; every dim when `dims` is absent.
    ::llvm::SmallVector<int64_t> getReducedDims();
  }];
}

def MP_SumOp : MP_ReductionOp<"sum", "sum">;
def MP_MeanOp : MP_ReductionOp<"mean", "mean">;

def MP_ReshapeOp : MP_Op<"reshape", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "reshape to a static shape with as many elements";
  let description = [{
    `torch.reshape` between static shapes of equal element count and element
    type (row-major order is kept).

    ```mlir
    %0 = mp.reshape %x : tensor<2x4x64xf32> -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def MP_TransposeOp : MP_Op<"transpose", [Pure,
    InferTypeOpAdaptorWithIsCompatible, MP_BFloat16Storage,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "permute the dims";
  let description = [{
    `torch.permute`: result dim `i` is input dim `permutation[i]`.

    ```mlir
    %0 = mp.transpose %x perm [1, 0] : tensor<8x64xf32> -> tensor<64x8xf32>
    ```

    A copy that may hold float32 and bfloat16 mixed (MP_BFloat16Storage,
    `mp-fuse-conversions`): a bfloat16 input is widened, a bfloat16 result
    is the float32 input rounded to nearest even, so the saved attention
    inputs a step holds in bf16 are rounded by the transpose that makes
    them.

    ```mlir
    %q = mp.transpose %x perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xbf16>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `perm` $permutation attr-dict `:` type($input) `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Transformer layers
//===----------------------------------------------------------------------===//

def MP_IotaOp : MP_Op<"iota", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "integers counting along one dim";
  let description = [{
    Each entry is `start` (0 unless given) plus its index along `dim`
    (StableHLO's `iota`, `torch.arange(start, start + n)`): the positions
    `0 .. seq-1` of each sequence for `[batch, seq]` and `dim` 1, the ids
    that look up a learned position table (GPT-2's `wpe`, read by
    `mp.embedding` as `torch.arange(seq)` is in Hugging Face's models;
    OPT's table is read from row 2, `start 2`). `start` is 0 or more, and
    the last entry, `start` plus the dim's extent minus 1, must fit the
    element type.
    It has no operands and no gradient. Partitioning may split its other
    dims; `dim` stays whole on every rank, so each rank counts from
    `start` (a split of the embedding that reads it slices the positions
    it needs).

    ```mlir
    %positions = mp.iota dim 1 : tensor<2x16xi64>
    %opt_positions = mp.iota dim 1 start 2 : tensor<2x16xi64>
    ```
  }];
  let arguments = (ins I64Attr:$dim, DefaultValuedAttr<I64Attr, "0">:$start);
  let results = (outs MP_IndexTensor:$result);
  let assemblyFormat =
      "`dim` $dim (`start` $start^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def MP_EmbeddingOp : MP_Op<"embedding", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "looks up rows of a table by integer ids";
  let description = [{
    `torch.nn.functional.embedding`: `ids` is `[...]` integers, `table` is
    `[vocab, dim]`, the result is `[..., dim]` with row `table[id]` for each
    id. A negative id gives a row of zeros (no PyTorch counterpart: the
    vocab-parallel form marks the ids another rank owns with -1); an id at
    or past `vocab` is an error when the step runs.

    Splitting the vocabulary (a `rowwise` table, as torchtitan's
    `tok_embeddings`) leaves each rank the partial sum of the rows it holds:
    partitioning shifts the ids into the rank's slice (`mp.localize_index`)
    and the result is reduced like any partial sum (all_reduce, or
    reduce_scatter onto the sequence dim under sequence parallelism).

    ```mlir
    %h = mp.embedding %ids, %table : (tensor<2x16xi64>, tensor<1000x64xf32>) -> tensor<2x16x64xf32>
    ```

    With `padding_idx` (`torch.nn.Embedding`'s, a Hugging Face config's
    `pad_token_id`), the row at that id is looked up as any other but gets
    no gradient from this lookup: the gradient rows of the ids equal to it
    are masked (`mp.target_mask`) before they are summed into the table's.
    A table that is also the output projection (tied embeddings) still gets
    that row's gradient from the projection, as in PyTorch. It is a row of
    the table: `0 <= padding_idx < vocab` (PyTorch's negative form counts
    from the end; write it counted from 0).

    ```mlir
    %h = mp.embedding %ids, %table padding_idx 0 : (tensor<2x16xi64>, tensor<1000x64xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins MP_IndexTensor:$ids, MP_FloatTensor:$table,
                       OptionalAttr<MP_SignedI64Attr>:$padding_idx);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $table (`padding_idx` $padding_idx^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_RmsNormOp : MP_Op<"rms_norm", [Pure, InferTypeOpAdaptorWithIsCompatible,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "RMSNorm over the last dim, with its weight";
  let description = [{
    torchtitan's `RMSNorm` (`torch.nn.RMSNorm` with a weight): each row
    `x` of the last dim becomes `x · rsqrt(mean(x²) + eps) · (offset +
    weight)`, with `weight_offset` 0 unless given. Gemma's norms scale by
    `1 + weight` (their weights are stored as the scale minus one, and
    weight decay pulls them towards a scale of 1): `weight_offset 1.0`.
    The normalized dim stays whole on every rank; the others may be split.

    ```mlir
    %y = mp.rms_norm %x, %w eps 1.000000e-05 : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    %z = mp.rms_norm %x, %w eps 1.000000e-06 weight_offset 1.000000e+00 : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    ```

    Computed in float32, its input and result may be held in bfloat16
    where the weight is float32 (`mp-fuse-conversions`): the input read
    widened, the result rounded to nearest even.
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$weight,
                       F64Attr:$eps,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_offset);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `eps` $eps (`weight_offset` $weight_offset^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_LayerNormOp : MP_Op<"layer_norm", [Pure,
    InferTypeOpAdaptorWithIsCompatible,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "LayerNorm over the last dim, with its weight and bias";
  let description = [{
    `torch.nn.functional.layer_norm` over the last dim with a weight and a
    bias (`torch.nn.LayerNorm`): each row `x` of the last dim becomes
    `(x - mean(x)) · rsqrt(var(x) + eps) · weight + bias`, with the biased
    variance `var(x) = mean((x - mean(x))²)`. The normalized dim stays whole
    on every rank; the others may be split.

    ```mlir
    %y = mp.layer_norm %x, %w, %b eps 1.000000e-05 : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    ```

    As RMSNorm, computed in float32, its input and result may be held in
    bfloat16 where the weight and bias are float32 (`mp-fuse-conversions`).
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$weight,
                       MP_FloatTensor:$bias, F64Attr:$eps);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `eps` $eps attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_SoftmaxOp : MP_Op<"softmax", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "softmax over the last dim, optionally causal";
  let description = [{
    `torch.softmax(x, dim=-1)`, computed with the row maximum subtracted.
    With `causal`, the input is `[..., q, k]` attention scores and entry
    `(q, k)` is masked out where `k > q + (K - Q)` (`Q`, `K` the extents of
    the last two dims: PyTorch's `is_causal` for `Q = K`); its probability is
    exactly 0, and a row with every entry masked is all zeros. The last dim
    stays whole on every rank, and with `causal` the one before it too.

    A causal softmax with a `window` `W` is sliding window attention's
    (Mistral's, Hugging Face's `sliding_window`: `kv_idx > q_idx - W`): row
    `q` also masks the keys `k <= q + (K - Q) - W`, so it sees its last `W`
    keys. `mp-fuse-attention` fuses it with its GEMMs into `mp.attention
    ... causal window W`.

    ```mlir
    %p = mp.softmax %scores causal : tensor<2x4x16x16xf32>
    %w = mp.softmax %scores causal window 4 : tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, UnitAttr:$causal,
                       OptionalAttr<I64Attr>:$window);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`causal` $causal^)? (`window` $window^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def MP_AttentionOp : MP_Op<"attention", [Pure,
    InferTypeOpAdaptorWithIsCompatible,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface, ["hasResultGradient",
                                                       "hasOperandGradient"]>]> {
  let summary = "scaled dot-product attention, the scores never whole";
  let description = [{
    `softmax(scale · q · kᵀ) · v` (PyTorch's `scaled_dot_product_attention`)
    for `q` `[..., sq, d]`, `k` `[..., sk, d]` and `v` `[..., sk, dv]` with
    the same leading dims (batch, heads); the result is `[..., sq, dv]`.
    With `causal` the scores are masked as `mp.softmax causal` masks them,
    and with `window` `W` too as `mp.softmax causal window W` (sliding window
    attention: a query sees its last `W` keys; a chunk computes only the
    scores of the keys its rows see, from its first row's window on).
    With `softcap c` each scaled score `t` is capped to `c · tanh(t / c)`
    before the softmax, as Gemma 2's `attn_logit_softcapping` caps them
    (`mp-fuse-attention` fuses the `mp.scale`, `mp.tanh`, `mp.scale` that
    write it); `c` is a positive, finite float32.
    Grouped-query attention (`enable_gqa`): the keys and values may have
    fewer heads (the dim before the sequence), dividing the query's; query
    head `h` reads key and value head `h / (heads / kv_heads)`, as
    torchtitan's `repeat_kv` repeats them, without the repetition. The
    second result, `lse` `[..., sq]` (float32), is each query row's
    log-sum-exp of its scaled (and capped) scores, `log Σ_j exp(scale ·
    q·k_j)` over the keys it sees (`-inf` for a row that sees none), as PyTorch's
    `_scaled_dot_product_flash_attention` returns it: the backward pass
    (`mp.attention_grad`) takes it with the output, so it computes the
    probabilities as `exp(scale · q·kᵀ - lse)` (capped) in one pass. It has no
    gradient of its own (differentiating through it is an error).

    ```mlir
    %o, %lse = mp.attention %q, %k, %v scale 2.500000e-01 causal chunk_bytes 65536 : (tensor<2x4x256x16xf32>, tensor<2x4x256x16xf32>, tensor<2x4x256x16xf32>) -> (tensor<2x4x256x16xf32>, tensor<2x4x256xf32>)
    ```

    It runs a chunk of query rows at a time: per chunk, the scores of those
    rows against the keys they see (under `causal`, none past the chunk's
    last row: about half of the GEMMs' work and of the score bytes), their
    softmax and its product with `v`, through one scratch buffer that the
    memory plan reserves while the op runs (the scores, then the workspace
    in which its GEMMs convert their operands: the runtime's
    `mp_attention_scratch_bytes`). Without a mask one chunk holds
    every row; with `causal`, a chunk is the rows that balance the scores
    computed past the diagonal against the keys and values read again per
    chunk (`sqrt(2 · sk · (d + dv) / passes)` rounded up to 16, passes 4
    forward and 10 backward: 256 rows forward and 176 backward for head
    dim 64 at sequence 1024; under a window `W`, a chunk reads `c + W - 1`
    keys and the balance is `sqrt(2 · W · (d + dv) / passes)`, and its
    scores take `c + W - 1` keys of the scratch at most). `chunk_bytes` caps
    a chunk at the most rows whose float32 scores (over every key, or under
    a window over their `c + W - 1`) fit it on the op's own (local) types,
    one at least. No
    `[..., sq, sk]` tensor is ever whole, and none is kept for the backward
    pass: `mp.attention_grad` computes the scores again, from `lse`.
    `mp-fuse-attention` writes it for the matmul, scale, softmax and matmul
    of a model's attention.

    With `alibi %slopes` (`tensor<Hxf32>`, one per head: the dim before the
    sequence, `H` the query's heads) each scaled score of key `j` gets
    `slopes[h] · j` added, as `mp.alibi` adds it, before the mask and the
    softmax: BLOOM's and MPT's ALiBi, computed per chunk on the keys it sees,
    so the `[..., sq, sk]` bias is never whole either (`lse` is that of the
    biased scores). It takes no soft cap, and the slopes take no gradient
    (`mp.alibi_slopes`'s; `mp-fuse-attention` fuses only those, and the
    differentiation fails with a located error on slopes that need one).
    CUDA's on-chip kernels add it per tile of scores too. With `bf16_bias`
    beside the slopes the bias is Falcon-RW's (`mp.alibi ... bf16_bias`'s,
    computed in bfloat16) and goes on the scores before the scale:
    `scale · (q · kᵀ + bias)`, as Falcon adds it before its scaling.
    `precision` is both GEMMs' (`mp.matmul`'s); under bf16 the
    probabilities are rounded to bfloat16 for the second, as `mp.matmul`'s
    operands are.

    The rows are parallel (heads, batch and, without `causal`, the query
    rows); the keys, head dims and value dims stay whole. Fewer key heads
    split as the query heads do, in whole groups (evenly), and ALiBi's slopes
    as the heads.

    In bf16 precision `q`, `k`, `v` and the result may be held in bfloat16
    beside float32 ones (read widened, the result rounded to nearest even,
    as `mp.convert` rounds): its GEMMs round `q`, `k` and `v` to bfloat16
    anyway, so holding them in bfloat16 changes no value. Mixed, the result
    is inferred float32 and may be bfloat16; `mp-fuse-conversions` folds
    the conversions of a step that saves them in bf16 into the op.

    ```mlir
    %o, %lse = mp.attention %q, %k, %v scale 2.500000e-01 causal precision <bf16> : (tensor<2x4x256x16xbf16>, tensor<2x4x256x16xbf16>, tensor<2x4x256x16xf32>) -> (tensor<2x4x256x16xbf16>, tensor<2x4x256xf32>)
    ```
  }];
  let arguments = (ins MP_FloatTensor:$query, MP_FloatTensor:$key,
                       MP_FloatTensor:$value,
                       Optional<StaticShapeTensorOf<[F32]>>:$alibi_slopes,
                       UnitAttr:$alibi_bf16,
                       F64Attr:$scale, OptionalAttr<F64Attr>:$softcap,
                       UnitAttr:$causal, OptionalAttr<I64Attr>:$window,
                       OptionalAttr<I64Attr>:$chunk_bytes,
                       OptionalAttr<MP_PrecisionAttr>:$precision);
  let results = (outs MP_FloatTensor:$result,
                      StaticShapeTensorOf<[F32]>:$lse);
  let hasVerifier = 1;
  let assemblyFormat = [{
    $query `,` $key `,` $value (`alibi` $alibi_slopes^)?
    (`bf16_bias` $alibi_bf16^)? `scale` $scale
    (`softcap` $softcap^)? (`causal` $causal^)?
    (`window` $window^)? (`chunk_bytes` $chunk_bytes^)?
    (`precision` $precision^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    // CostOpInterface: its GEMMs, chunk by chunk, the bytes of their
    // operands, of the result and of the scores in the scratch buffer, and
    // the kernels of its chunks.
    int64_t getGemmFlops();
    int64_t getKernelBytes();
    int64_t getKernelLaunches();
    ::mp::Precision getEffectivePrecision() {
      return getPrecision().value_or(::mp::Precision::tf32);
    }
  }];
}

def MP_RopeOp : MP_Op<"rope", [Pure, SameOperandsAndResultShape,
    MP_BFloat16Storage, InferTypeOpAdaptorWithIsCompatible,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "rotary position embedding, as torchtitan's Llama";
  let description = [{
    `apply_rotary_emb` of torchtitan's Llama on `[..., seq, heads,
    head_dim]` queries or keys: entries `2i` and `2i + 1` of `head_dim` are a
    complex number rotated by the angle `p · f_i` at sequence position `p`,
    with the frequency `f_i = theta^(-2i / head_dim)`. With `inverse` the rotation is by the opposite
    angle (its gradient). The sequence and head_dim dims stay whole on
    every rank; heads and leading dims may be split.

    `llama3_scaling [factor, low_freq_factor, high_freq_factor,
    original_context]` scales the frequencies as Llama 3.1 and later do
    (Meta's `apply_scaling`, Hugging Face's `rope_type` "llama3"): with the
    wavelength `w = 2π / f_i`, a pair whose `w` is below `original_context
    / high_freq_factor` keeps `f_i`, one above `original_context /
    low_freq_factor` turns at `f_i / factor`, and in between at `(1 - s) ·
    f_i / factor + s · f_i`, `s = (original_context / w - low_freq_factor)
    / (high_freq_factor - low_freq_factor)`. A factor of 1 scales nothing.

    `linear_scaling F` then divides every frequency by `F` (position
    interpolation: Hugging Face's `rope_type` "linear", as Gemma 3's 4B and
    larger models rotate their global layers with `F` 8); 1, the default,
    scales nothing.

    `rotary_dims R` rotates the first `R` entries of each head only, with
    `R` in place of `head_dim` in the frequencies (`f_i = theta^(-2i /
    R)`), and leaves the others as they are: Hugging Face's
    `partial_rotary_factor` (Phi-4-mini rotates 96 of its 128). Without it
    every entry rotates. `longrope_factors [d_0, ..., d_(R/2-1)]` then
    divides each pair's frequency by its own factor, and `attention_factor
    A` multiplies the cosine and sine (so the rotated entries by `A`): Phi-3's
    `rope_type` "longrope", whose short or long factors and attention factor
    the importer picks for the compiled sequence length. Each factor, as
    `A` (1, the default, scales nothing), is positive and finite; at most
    256 pairs take factors (the runtime's MP_ROPE_MAX_LONGROPE_FACTORS).
    With `inverse` the rotation is by the opposite angle with the same
    `A`: the transpose, still the gradient.

    ```mlir
    %q = mp.rope %x theta 1.000000e+04 : tensor<2x16x4x8xf32>
    %k = mp.rope %x theta 5.000000e+05
             llama3_scaling [8.0, 1.0, 4.0, 8192.0] : tensor<2x16x4x8xf32>
    %g = mp.rope %x theta 1.000000e+06 linear_scaling 8.000000e+00 : tensor<2x16x4x8xf32>
    %p = mp.rope %x theta 1.000000e+04 rotary_dims 6
             longrope_factors [1.0, 1.5, 3.0] attention_factor 1.19
             : tensor<2x16x4x8xf32>
    ```

    Computed in float32, its input and result may be held in bfloat16
    (`mp-fuse-conversions`: a query or key projection's bf16 GEMM writes
    what it rotates, and bf16 attention reads what it writes): the input
    read widened, the result rounded to nearest even, the type written
    functionally where they differ: `: (tensor<2x16x4x8xbf16>) ->
    tensor<2x16x4x8xf32>`.
  }];
  let arguments = (ins MP_FloatTensor:$input, F64Attr:$theta,
                       OptionalAttr<DenseF64ArrayAttr>:$llama3_scaling,
                       DefaultValuedAttr<F64Attr, "1.0">:$linear_scaling,
                       OptionalAttr<I64Attr>:$rotary_dims,
                       OptionalAttr<DenseF64ArrayAttr>:$longrope_factors,
                       DefaultValuedAttr<F64Attr, "1.0">:$attention_factor,
                       UnitAttr:$inverse);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `theta` $theta
    (`llama3_scaling` custom<ExactF64Array>($llama3_scaling)^)?
    (`linear_scaling` $linear_scaling^)? (`rotary_dims` $rotary_dims^)?
    (`longrope_factors` custom<ExactF64Array>($longrope_factors)^)?
    (`attention_factor` $attention_factor^)? (`inverse` $inverse^)? attr-dict
    `:` custom<StorageTypes>(type($input), type($result))
  }];
  let extraClassDeclaration = [{
    /// The entries of each head that rotate: rotary_dims, else head_dim.
    int64_t getEffectiveRotaryDims() {
      return getRotaryDims().value_or(
          getInput().getType().getShape().back());
    }
  }];
  let hasVerifier = 1;
}

def MP_MaskBiasOp : MP_Op<"mask_bias", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "the additive bias of an integer attention mask";
  let description = [{
    `torch.where(mask != 0, 0.0, fill)`: 0 where the mask keeps an entry
    (non-zero), `fill` where it drops one (0). Added to attention scores
    before a softmax, a `fill` of `-inf` is `scores.masked_fill(mask == 0,
    -inf)`, the spelling of an attention mask given as an input (HF's,
    gpt-fast's): a dropped entry gets probability exactly 0, and a row
    with every entry dropped is NaN, as in PyTorch. The mask is an input,
    so the bias has no gradient. Elementwise: the result has the mask's
    shape and is split as the mask is.

    ```mlir
    %b = mp.mask_bias %mask fill 0xFFF0000000000000 : tensor<16x16xi64> -> tensor<16x16xf32>
    ```
  }];
  let arguments = (ins MP_IndexTensor:$mask, F64Attr:$fill);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $mask `fill` $fill attr-dict `:` type($mask) `->` type($result)
  }];
  let hasVerifier = 1;
}

def MP_AlibiSlopesOp : MP_Op<"alibi_slopes", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "ALiBi's slope of each attention head";
  let description = [{
    The slopes of ALiBi (Press et al., attention with linear biases) for
    the `H` heads of the result `[H]`, as BLOOM's `build_alibi_tensor` and
    MPT's `gen_slopes` compute them: with `p` the largest power of two not
    above `H`, head `h < p` has slope `2^(-max_bias · (h + 1) / p)` and
    head `h >= p` the slope between two of those, `2^(-max_bias · (2(h - p)
    + 1) / (2p))`. `max_bias` is BLOOM's 8 (the default) or MPT's
    `alibi_bias_max`, positive and finite.
    It has no operands and no gradient. The heads stay whole on every rank;
    an `mp.alibi` whose heads are split reads its rank's slopes from them.

    ```mlir
    %slopes = mp.alibi_slopes : tensor<12xf32>
    %mpt = mp.alibi_slopes max_bias 1.600000e+01 : tensor<12xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<F64Attr, "8.0">:$max_bias);
  let results = (outs StaticShapeTensorOf<[F32]>:$result);
  let assemblyFormat =
      "(`max_bias` $max_bias^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def MP_AlibiOp : MP_Op<"alibi", [Pure, AllTypesMatch<["scores", "result"]>,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface, ["hasOperandGradient"]>]> {
  let summary = "adds ALiBi's per-head linear bias to attention scores";
  let description = [{
    `scores[..., h, q, k] + slopes[h] · k` for scores `[..., heads, q, k]`
    and slopes `[heads]` (`mp.alibi_slopes`): BLOOM's `alibi`, `slopes ·
    arange(keys)`, added to its scaled scores before the causal softmax.
    Within a row the bias falls by one slope per key back from the last, so
    the softmax sees `-slope · distance` (MPT's `(1 - seq) + arange(seq)`
    bias differs from it by a constant per row: the same probabilities).
    The product is rounded to the scores' type, then the sum.

    With `bf16_bias` the bias is Falcon-RW's: Falcon's `build_alibi_tensor`
    computes `slopes.bfloat16() * arange(keys)` in bfloat16, so the slope
    and the key are each rounded to bfloat16 (to nearest, ties to even:
    keys past 256 round), then their product; the sum with the score is
    float32. (Falcon adds it before the scaling: an `mp.alibi` before the
    `mp.scale`.)

    Its gradient is the scores' gradient, and slope `h`'s is `Σ grad · k`
    over its head (learned slopes train; `mp.alibi_slopes`'s need none).
    A `bf16_bias`'s rounding has no gradient: its slopes may not be
    learned (the differentiation fails with a located error). The keys stay
    whole on every rank; heads and the other dims may be split, and the
    slopes are split as the heads. `mp-fuse-attention` fuses the bias of
    `mp.alibi_slopes` between an attention's scale and its softmax (or
    Falcon's between the scores' GEMM and the scale) into `mp.attention`
    (`alibi`, `bf16_bias`).

    ```mlir
    %biased = mp.alibi %scores, %slopes : tensor<2x4x16x16xf32>, tensor<4xf32>
    %falcon = mp.alibi %scores, %slopes bf16_bias : tensor<2x4x16x16xf32>, tensor<4xf32>
    ```
  }];
  let arguments = (ins StaticShapeTensorOf<[F32]>:$scores,
                       StaticShapeTensorOf<[F32]>:$slopes,
                       UnitAttr:$bf16_bias);
  let results = (outs StaticShapeTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $scores `,` $slopes (`bf16_bias` $bf16_bias^)? attr-dict `:` type($scores)
    `,` type($slopes)
  }];
  let hasVerifier = 1;
}

def MP_BlockMaxOp : MP_Op<"block_max", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "the maximum of each block of the last dim, as a constant";
  let description = [{
    Cuts the last dim of `input` (`[..., C]`) into as many equal contiguous
    blocks as the result's last dim (`[..., K]`, K dividing C) and returns
    each block's maximum. It is the stabilizing shift of a log-sum-exp,
    whose value does not depend on the shift: autodiff treats it as a
    constant (PyTorch detaches the maximum in `logsumexp` likewise).

    Blocks are what makes the shift cheap to agree on when the last dim is
    split: with K the number of pieces, each rank's piece is one block, the
    ranks exchange K maxima per row (not the row) and take their maximum
    with a second `block_max` to `[..., 1]`.

    ```mlir
    %b = mp.block_max %logits : tensor<2x16x1000xf32> -> tensor<2x16x4xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def MP_GatherLastOp : MP_Op<"gather_last", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "picks one entry of the last dim per row by index";
  let description = [{
    `torch.gather(input, -1, index[..., None])[..., 0]`: for `input`
    `[..., C]` and integer `index` `[...]`, the entry `input[..., index]`. A
    negative index gives 0 (the vocab-parallel form marks indices another
    rank holds with -1); an index at or past C is an error when the step
    runs. Splitting the last dim leaves partial sums (each rank picks what
    it holds): the target logits of a vocab-parallel cross entropy.

    ```mlir
    %t = mp.gather_last %logits, %labels : (tensor<2x16x1000xf32>, tensor<2x16xi64>) -> tensor<2x16xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_IndexTensor:$index);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $index attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def MP_MseLossOp : MP_Op<"mse_loss", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "mean squared error";
  let description = [{
    `torch.nn.functional.mse_loss`: the mean (default) or sum over all
    elements of `(input - target)²`, as a rank-0 tensor.

    ```mlir
    %l = mp.mse_loss %pred, %y : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
    %s = mp.mse_loss %pred, %y reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$target,
      DefaultValuedAttr<MP_Reduction, "::mp::Reduction::mean">:$reduction);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target (`reduction` $reduction^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def MP_CrossEntropyOp : MP_Op<"cross_entropy", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "softmax cross entropy with integer class targets";
  let description = [{
    `torch.nn.functional.cross_entropy` with class-index targets: `input` is
    `[..., C]` logits, `target` is `[...]` integer classes in `[0, C)`. The
    per-sample losses `logsumexp(input) - input[target]` are reduced by mean
    (default) or sum into a rank-0 tensor.

    With `ignore_index`, a sample whose target equals it adds nothing to the
    loss nor to the gradient (padding, or the prompt of a fine-tuning
    sample: PyTorch's and Hugging Face's -100). It takes the sum
    reduction: PyTorch's mean is then over the samples kept, a count that
    is data, so it is spelled as the sum divided by the sum of
    `mp.target_mask` (below). Written that way, a split batch needs the
    global count, one more partial sum, and the step is the global step's
    whatever the split (a per-rank mean of kept samples would weigh ranks
    with more padding up).

    ```mlir
    %l = mp.cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
    %s = mp.cross_entropy %logits, %labels reduction sum ignore_index -100 : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
    %kept = mp.target_mask %labels ignore_index -100 : tensor<8xi64> -> tensor<8xf32>
    %n = mp.sum %kept : tensor<8xf32> -> tensor<f32>
    %mean = mp.div %s, %n : tensor<f32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_IndexTensor:$target,
      DefaultValuedAttr<MP_Reduction, "::mp::Reduction::mean">:$reduction,
      OptionalAttr<MP_SignedI64Attr>:$ignore_index);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target (`reduction` $reduction^)?
    (`ignore_index` $ignore_index^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_TargetMaskOp : MP_Op<"target_mask", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "1 where a target is kept, 0 where it equals ignore_index";
  let description = [{
    `(target != ignore_index).float()`: the samples a cross entropy with
    this `ignore_index` keeps. Its sum is the count PyTorch's mean divides
    by; it weighs per-sample losses where the loss is written out of its
    ops (`--mp-loss-parallel`), and the gradient rows of an embedding's
    lookups of its `padding_idx` (autodiff). Targets and ids are data, so it
    has no gradient.
    Elementwise: the result has the target's shape and is split as the
    target is.

    ```mlir
    %kept = mp.target_mask %labels ignore_index -100 : tensor<2x16xi64> -> tensor<2x16xf32>
    ```
  }];
  let arguments = (ins MP_IndexTensor:$target, MP_SignedI64Attr:$ignore_index);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $target `ignore_index` $ignore_index attr-dict `:` type($target) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

include "mp/Dialect/MP/IR/MPCollectiveOps.td"
include "mp/Dialect/MP/IR/MPTrainingOps.td"

#endif // MP_DIALECT_MP_IR_MPOPS_TD
