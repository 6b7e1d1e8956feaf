//===- MPTrainingOps.td - ops the training step is built of -*- tablegen -*-===//
//
// Included by MPOps.td: the pieces of vector-Jacobian products that the
// model ops cannot express, and the fused optimizer updates.
//
//===----------------------------------------------------------------------===//

#ifndef MP_DIALECT_MP_IR_MPTRAININGOPS_TD
#define MP_DIALECT_MP_IR_MPTRAININGOPS_TD

def MP_StepOp : MP_UnaryOp<"step", "elementwise Heaviside step"> {
  let description = !strconcat([{
    1 where the input is positive, 0 elsewhere: the derivative of `relu`.
    Its own gradient is zero.
  }], MP_BFloat16StorageDoc);
}

def MP_ClampMaskOp : MP_ClampBoundsOp<"clamp_mask",
                                       "1 inside [min, max], 0 outside"> {
  let description = !strconcat([{
    1 where `min <= x <= max`, 0 elsewhere (NaN included): the derivative
    of `mp.clamp` with the same bounds. Its own gradient is zero.

    ```mlir
    %m = mp.clamp_mask %q min -8.000000e+00 max 8.000000e+00 : tensor<64xf32>
    ```
  }], MP_BFloat16StorageDoc);
}

def MP_BroadcastOp : MP_Op<"broadcast", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
    DeclareOpInterfaceMethods<MP_AutodiffOpInterface>]> {
  let summary = "repeats a tensor along new dims (the adjoint of sum)";
  let description = [{
    Inserts the dims `dims` of the result, along which the input is
    repeated: the result with `dims` removed is the input. The gradient of
    `mp.sum` over `dims`.

    ```mlir
    %b = mp.broadcast %s dims [0] : tensor<64xf32> -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `dims` $dims attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def MP_GeluGradOp : MP_Op<"gelu_grad", !listconcat(MP_ElementwiseStorage, [
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>])> {
  let summary = "the gradient of gelu: dy · gelu'(x)";
  let description = !strconcat([{
    `grad · gelu'(input)`, with the exact or (`tanh`) approximated GELU.
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$grad, MP_FloatTensor:$input,
                       UnitAttr:$approximate_tanh);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input (`tanh` $approximate_tanh^)? attr-dict `:`
    custom<StorageTypes>(type($grad), type($input), type($result))
  }];
}

def MP_SiluGradOp : MP_Op<"silu_grad", !listconcat(MP_ElementwiseStorage, [
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>])> {
  let summary = "the gradient of silu: dy · silu'(x)";
  let description = !strconcat([{
    `grad · s · (1 + input · (1 - s))` with `s = sigmoid(input)`, PyTorch's
    `silu_backward`: one kernel reading the gradient and silu's input where
    the composition (sigmoid, then three elementwise ops on silu's output
    and a product with the gradient) makes five, each a pass over the
    tensor (SwiGLU's hidden activations, the largest a Llama layer has).
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$grad, MP_FloatTensor:$input);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:`
    custom<StorageTypes>(type($grad), type($input), type($result))
  }];
}

def MP_SwigluGradOp : MP_Op<"swiglu_grad", !listconcat(MP_ElementwiseStorage, [
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>])> {
  let summary = "the gradients of swiglu with respect to gate and up";
  let description = !strconcat([{
    `gate_grad = (grad · up) · silu'(gate)` and `up_grad = grad · silu(gate)`,
    each product rounded as `mp.mul` and `mp.silu_grad` round them in the
    unfused step's backward pass: one kernel reading three tensors and
    writing two, where the unfused gradient is three kernels (and reads
    silu's kept value).
  }], MP_BFloat16StorageDoc);
  let arguments = (ins MP_FloatTensor:$grad, MP_FloatTensor:$gate,
                       MP_FloatTensor:$up);
  let results = (outs MP_FloatTensor:$gate_grad, MP_FloatTensor:$up_grad);
  let assemblyFormat = [{
    $grad `,` $gate `,` $up attr-dict `:`
    custom<StorageTypes>(type($grad), type($gate), type($up), type($gate_grad),
                         type($up_grad))
  }];
}

def MP_CrossEntropyGradOp : MP_Op<"cross_entropy_grad", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradient of cross_entropy with respect to its logits";
  let description = [{
    `grad · scale · (softmax(input) - onehot(target))`, where `grad` is the
    rank-0 gradient of the loss and `scale` is 1 for a sum reduction and
    1/(number of samples of the GLOBAL batch) for a mean, so that the op is
    right on any piece of the batch. Rows whose target equals `ignore_index`
    get a zero gradient.

    ```mlir
    %dx = mp.cross_entropy_grad %logits, %labels, %dl scale 1.250000e-01 : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
    %dy = mp.cross_entropy_grad %logits, %labels, %dl scale 1.000000e+00 ignore_index -100 : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_IndexTensor:$target,
                       MP_FloatTensor:$grad, F64Attr:$scale,
                       OptionalAttr<MP_SignedI64Attr>:$ignore_index);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $target `,` $grad `scale` $scale
    (`ignore_index` $ignore_index^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_EmbeddingGradOp : MP_Op<"embedding_grad", [Pure,
    AllTypesMatch<["table", "result"]>,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradient of embedding with respect to its table";
  let description = [{
    The gradient of `mp.embedding` with respect to its `[vocab, dim]`
    table, for the output gradient `grad` (`[..., dim]`, the shape of the
    ids plus `dim`): row `v` is the sum of the rows of `grad` whose id is
    `v`. Negative ids add nothing. The values of `table` are not read: it
    gives the result its type and, when partitioned, its layout (as a
    destination operand does), so a rank computes only the rows of its
    piece of the vocabulary.

    ```mlir
    %dt = mp.embedding_grad %ids, %g like %table : (tensor<2x16xi64>, tensor<2x16x64xf32>, tensor<1000x64xf32>) -> tensor<1000x64xf32>
    ```
  }];
  let arguments = (ins MP_IndexTensor:$ids, MP_FloatTensor:$grad,
                       MP_FloatTensor:$table);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $grad `like` $table attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_RmsNormGradOp : MP_Op<"rms_norm_grad", [Pure,
    AllShapesMatch<["input", "grad", "result"]>,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradient of rms_norm with respect to its input";
  let description = [{
    For `r = rsqrt(mean(x²) + eps)` per row and `gw = grad ·
    (weight_offset + weight)`: `r · gw - x · r³ · sum(gw · x) / dim`.

    ```mlir
    %dx = mp.rms_norm_grad %x, %w, %g eps 1.000000e-05 : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
    ```

    The input and the gradient may be held in bfloat16 where the result is
    float32 (`mp-fuse-conversions`: a saved input, a gradient that tensor
    parallelism summed in bf16), read widened.
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$weight,
                       MP_FloatTensor:$grad, F64Attr:$eps,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_offset);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $grad `eps` $eps
    (`weight_offset` $weight_offset^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_RmsNormWeightGradOp : MP_Op<"rms_norm_weight_grad", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradient of rms_norm with respect to its weight";
  let description = [{
    `sum(grad · x · rsqrt(mean(x²) + eps))` over every dim but the last: a
    partial sum where the rows are split. The input and the gradient may be
    held in bfloat16 beside float32 or both (`mp-fuse-conversions`), read
    widened; the result is then float32.

    ```mlir
    %dw = mp.rms_norm_weight_grad %x, %g eps 1.000000e-05 : (tensor<2x16x64xf32>, tensor<2x16x64xf32>) -> tensor<64xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$grad,
                       F64Attr:$eps);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $grad `eps` $eps attr-dict `:`
    functional-type(operands, results)
  }];
}

def MP_LayerNormGradOp : MP_Op<"layer_norm_grad", [Pure,
    AllShapesMatch<["input", "grad", "result"]>,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradient of layer_norm with respect to its input";
  let description = [{
    For `r = rsqrt(var(x) + eps)` and `x̂ = (x - mean(x)) · r` per row and
    `gw = grad · weight`: `r · (gw - mean(gw) - x̂ · mean(gw · x̂))`. The
    bias does not enter.

    ```mlir
    %dx = mp.layer_norm_grad %x, %w, %g eps 1.000000e-05 : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
    ```

    As RMSNorm's, the input and the gradient may be held in bfloat16 where
    the result is float32, read widened.
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$weight,
                       MP_FloatTensor:$grad, F64Attr:$eps);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $grad `eps` $eps attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MP_LayerNormWeightGradOp : MP_Op<"layer_norm_weight_grad", [Pure,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradients of layer_norm with respect to weight and bias";
  let description = [{
    Over every dim but the last, `sum(grad · x̂)` (the weight's gradient)
    and `sum(grad)` (the bias's), with `x̂ = (x - mean(x)) · rsqrt(var(x) +
    eps)` per row: both partial sums where the rows are split. The input
    and the gradient may be held in bfloat16 as RMSNorm's are, read
    widened.

    ```mlir
    %dw, %db = mp.layer_norm_weight_grad %x, %g eps 1.000000e-05 : (tensor<2x16x64xf32>, tensor<2x16x64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins MP_FloatTensor:$input, MP_FloatTensor:$grad,
                       F64Attr:$eps);
  let results = (outs MP_FloatTensor:$weight_grad,
                      MP_FloatTensor:$bias_grad);
  let assemblyFormat = [{
    $input `,` $grad `eps` $eps attr-dict `:`
    functional-type(operands, results)
  }];
}

def MP_SoftmaxGradOp : MP_Op<"softmax_grad", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradient of softmax from its result";
  let description = [{
    `y · (grad - sum(grad · y))` over the last dim, where `y` is the
    softmax's result (masked entries of a causal softmax are 0 in `y`, so
    their gradient is 0 too).

    ```mlir
    %ds = mp.softmax_grad %p, %g : tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins MP_FloatTensor:$softmax, MP_FloatTensor:$grad);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = "$softmax `,` $grad attr-dict `:` type($result)";
}

def MP_AttentionGradOp : MP_Op<"attention_grad", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradients of mp.attention";
  let description = [{
    The gradients of `mp.attention` (same `alibi` slopes and `bf16_bias`,
    `scale`,
    `softcap`, `causal`, `window`, `chunk_bytes` and `precision`) with respect to `query`, `key`
    and `value`, from the gradient `grad` of its result, given that
    attention's results `output` and `lse`. As FlashAttention-2's backward
    pass: the probabilities are `p = exp(t - lse)` for the scaled scores
    `t = scale · q·kᵀ` (capped, `c · tanh(t / c)`, under `softcap c`),
    `dp = grad · vᵀ`, and the softmax gradient `ds = p · (dp - D)` with
    `D = Σ grad · output` per query row (which equals `Σ_j p_j · dp_j`),
    under a cap times its slope `1 - (t / c)²`; then `dq = scale · ds · k`,
    `dk = scale · dsᵀ · q` and `dv = pᵀ · grad`. The runtime may compute
    `p` and `D` again from the scores instead (the composition of chunks
    does, as `mp.softmax_grad`): the values agree to rounding. Per chunk of
    query rows (half as many as `mp.attention`'s: it holds two score
    buffers), `dk` and `dv` summed chunk by chunk.

    ```mlir
    %dq, %dk, %dv = mp.attention_grad %q, %k, %v, %o, %lse, %g scale 2.500000e-01 causal : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16xf32>, tensor<2x4x16x8xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>)
    ```

    Only the leading dims (batch, heads) are parallel: the key gradients
    sum over the query rows.

    In bf16 precision `query`, `key`, `value` and `output` may be held in
    bfloat16 beside float32 ones, as `mp.attention`'s; `grad` and the
    gradients are then float32.
  }];
  let arguments = (ins MP_FloatTensor:$query, MP_FloatTensor:$key,
                       MP_FloatTensor:$value, MP_FloatTensor:$output,
                       StaticShapeTensorOf<[F32]>:$lse, MP_FloatTensor:$grad,
                       Optional<StaticShapeTensorOf<[F32]>>:$alibi_slopes,
                       UnitAttr:$alibi_bf16,
                       F64Attr:$scale, OptionalAttr<F64Attr>:$softcap,
                       UnitAttr:$causal, OptionalAttr<I64Attr>:$window,
                       OptionalAttr<I64Attr>:$chunk_bytes,
                       OptionalAttr<MP_PrecisionAttr>:$precision);
  let results = (outs MP_FloatTensor:$query_grad, MP_FloatTensor:$key_grad,
                      MP_FloatTensor:$value_grad);
  let hasVerifier = 1;
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $output `,` $lse `,` $grad
    (`alibi` $alibi_slopes^)? (`bf16_bias` $alibi_bf16^)? `scale` $scale
    (`softcap` $softcap^)? (`causal` $causal^)? (`window` $window^)? (`chunk_bytes` $chunk_bytes^)?
    (`precision` $precision^)? attr-dict `:` functional-type(operands, results)
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

def MP_ScatterLastOp : MP_Op<"scatter_last", [Pure,
    AllTypesMatch<["like", "result"]>,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the gradient of gather_last with respect to its input";
  let description = [{
    Zeros of the type of `like` (`[..., C]`, whose values are not read: it
    gives the result its type and, when partitioned, its layout) with
    `grad[...]` at `[..., index]`. Negative indices write nothing.

    ```mlir
    %d = mp.scatter_last %labels, %g like %logits : (tensor<2x16xi64>, tensor<2x16xf32>, tensor<2x16x1000xf32>) -> tensor<2x16x1000xf32>
    ```
  }];
  let arguments = (ins MP_IndexTensor:$index, MP_FloatTensor:$grad,
                       MP_FloatTensor:$like);
  let results = (outs MP_FloatTensor:$result);
  let assemblyFormat = [{
    $index `,` $grad `like` $like attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

// A float32 rank-0 tensor: a squared norm, a gradient's scale.
def MP_F32Scalar : 0DTensorOf<[F32]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getF32Type())";
}

def MP_SquaredNormOp : MP_Op<"squared_norm", [Pure,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the sum of the squares of a tensor's elements";
  let description = [{
    `Σ x²` over every element, as a float32 rank-0 tensor, the squares
    formed and summed in double: the square of a gradient's 2-norm, which
    gradient clipping adds over the gradients. One pass that reads `x` once
    (`torch.nn.utils.clip_grad_norm_` takes the norms in one
    `_foreach_norm`); no tensor of squares is written. A sharded `x` gives
    a partial sum over its axes.

    ```mlir
    %sq = mp.squared_norm %grad : tensor<128x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs MP_F32Scalar:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def MP_ClipCoefficientOp : MP_Op<"clip_coefficient", [Pure,
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>]> {
  let summary = "the factor of global-norm gradient clipping";
  let description = [{
    From the squared global norm of the gradients, PyTorch's
    `clip_grad_norm_` factor: `min(1, max_norm / (sqrt(squared_norm) +
    1e-6))`.

    ```mlir
    %c = mp.clip_coefficient %sq max_norm 1.000000e+00 : tensor<f32>
    ```
  }];
  let arguments = (ins 0DTensorOf<[F16, BF16, F32, F64]>:$squared_norm,
                       F64Attr:$max_norm);
  let results = (outs 0DTensorOf<[F16, BF16, F32, F64]>:$result);
  let assemblyFormat = [{
    $squared_norm `max_norm` $max_norm attr-dict `:` type($result)
  }];
}


class MP_OptimizerOp<string mnemonic, list<Trait> traits = []>
    : MP_Op<mnemonic, !listconcat([Pure, AllTypesMatch<["param", "grad"]>,
        DeclareOpInterfaceMethods<MP_ShardingRuleOpInterface>,
        DeclareOpInterfaceMethods<MP_OptimizerOpInterface>], traits)>;

def MP_SgdOp : MP_OptimizerOp<"sgd", [AllTypesMatch<["param", "new_param"]>]> {
  let summary = "a plain SGD update";
  let description = [{
    `torch.optim.SGD` without momentum, elementwise on one parameter (or on
    one rank's shard of it): `g = grad + weight_decay · param`,
    `new_param = param - lr · g`. With `grad_scale`, `grad` is first
    multiplied by that scalar, rounded as `mp.mul` rounds.
  }];
  let arguments = (ins MP_FloatTensor:$param, MP_FloatTensor:$grad,
                       F64Attr:$lr, F64Attr:$weight_decay,
                       Optional<MP_F32Scalar>:$grad_scale);
  let results = (outs MP_FloatTensor:$new_param);
  let assemblyFormat = [{
    $param `,` $grad (`grad_scale` $grad_scale^)? attr-dict `:` type($param)
  }];
}

def MP_SgdMomentumOp : MP_OptimizerOp<"sgd_momentum", [
    AllTypesMatch<["param", "momentum_buffer", "new_param",
                   "new_momentum_buffer"]>]> {
  let summary = "an SGD update with momentum";
  let description = [{
    `torch.optim.SGD` with momentum, elementwise: `g = grad + weight_decay ·
    param`, `buf = momentum · buf + (1 - dampening) · g` (a zero buffer on
    the first step gives PyTorch's `buf = g` when dampening is 0), then
    `g = g + momentum · buf` with `nesterov`, else `g = buf`, and
    `new_param = param - lr · g`. With `grad_scale`, `grad` is first
    multiplied by that scalar, rounded as `mp.mul` rounds.
  }];
  let arguments = (ins MP_FloatTensor:$param, MP_FloatTensor:$grad,
                       MP_FloatTensor:$momentum_buffer, F64Attr:$lr,
                       F64Attr:$momentum, F64Attr:$dampening,
                       F64Attr:$weight_decay, UnitAttr:$nesterov,
                       Optional<MP_F32Scalar>:$grad_scale);
  let results = (outs MP_FloatTensor:$new_param,
                      MP_FloatTensor:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad `,` $momentum_buffer (`grad_scale` $grad_scale^)?
    attr-dict `:` type($param)
  }];
}

def MP_AdamWOp : MP_OptimizerOp<"adamw", [
    AllTypesMatch<["param", "exp_avg", "exp_avg_sq", "new_param",
                   "new_exp_avg", "new_exp_avg_sq"]>]> {
  let summary = "a fused AdamW update";
  let description = [{
    `torch.optim.AdamW`, elementwise, at step `step` (a rank-0 tensor holding
    t = 1, 2, ...):

    ```
    param   = param · (1 - lr · weight_decay)
    m       = beta1 · m + (1 - beta1) · grad
    v       = beta2 · v + (1 - beta2) · grad²
    denom   = sqrt(v) / sqrt(1 - beta2^t) + eps
    param   = param - lr / (1 - beta1^t) · m / denom
    ```

    With `grad_scale`, `grad` is first multiplied by that scalar, rounded as
    `mp.mul` rounds: PyTorch's fused AdamW takes `grad_scale` alike.
  }];
  let arguments = (ins MP_FloatTensor:$param, MP_FloatTensor:$grad,
                       MP_FloatTensor:$exp_avg, MP_FloatTensor:$exp_avg_sq,
                       0DTensorOf<[F32, F64]>:$step, F64Attr:$lr,
                       F64Attr:$beta1, F64Attr:$beta2, F64Attr:$eps,
                       F64Attr:$weight_decay,
                       Optional<MP_F32Scalar>:$grad_scale);
  let results = (outs MP_FloatTensor:$new_param, MP_FloatTensor:$new_exp_avg,
                      MP_FloatTensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq `,` $step
    (`grad_scale` $grad_scale^)? attr-dict `:` type($param) `,` type($step)
  }];
}

#endif // MP_DIALECT_MP_IR_MPTRAININGOPS_TD
