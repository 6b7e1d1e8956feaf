//===- Passes.td - every mp pass ---------------------------*- tablegen -*-===//

#ifndef MP_TRANSFORMS_PASSES_TD
#define MP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ApplyPlan : Pass<"mp-apply-plan", "::mlir::ModuleOp"> {
  let summary = "Lays a parallelization plan onto the model's arguments";
  let description = [{
    Reads the plan from the module attribute `mp.plan` (written in IR), or
    from a JSON plan file (`plan-file`, which `mp-opt --mp-apply-plan=FILE`
    abbreviates) that it then writes into the module as an `mp.mesh` and the
    `mp.plan` attribute. It then resolves the plan against every function
    with named arguments (`mp.param`, `mp.input`, `mp.target`, and named
    results `mp.output`) and writes:

    * on each named argument and styled named result, its STORAGE sharding
      `mp.sharding` and the plan key that styled it `mp.plan_entry`:
      - `colwise` splits a `[out, in]` weight's dim 0 over the
        tensor-parallel axis, `rowwise` its dim 1; a bias (rank 1) is split
        on dim 0 under `colwise` and replicated under `rowwise`;
      - `sequence_parallel` splits an activation's sequence dim over it;
      - FSDP (`fsdp_axis`) then splits every parameter's dim 0 over the
        FSDP axis, minor to any tensor-parallel split of dim 0 (FSDP2 shards
        the tensor-parallel shard further);
      - inputs and targets get their dim 0 split over the batch axis;
    * for each FSDP parameter, an `mp.annotate` at the top of the function
      that pins the sharding it is USED with (the storage sharding without
      the FSDP axis); the difference is FSDP2's all_gather before use.

    The JSON plan file mirrors a PyTorch plan:

    ```json
    {
      "mesh": {"shape": [2, 2], "names": ["data_parallel", "tensor_parallel"]},
      "tensor_parallel": "tensor_parallel",
      "fsdp": "data_parallel",
      "batch": "data_parallel",
      "plan": {"w1": "colwise", "w2": "rowwise", "w3": "colwise",
               "x": {"style": "sequence_parallel", "dim": 0}}
    }
    ```

    A key names a value, or a module as `parallelize_module`'s keys do: the
    key `w1` styles the parameters `w1.weight` and `w1.bias` (PyTorch's
    state_dict names, as `--mp-import` gives them). Keys may be globs, one
    `*` per dotted component. For each value the most specific key wins: a
    key equal to its name, a key equal to its module, globs matching its
    name, globs matching its module. Optimizer state follows its parameter.
    A norm without parameters is named by its `mp.module` (OLMo's
    `layers.0.attention_norm`), which only `sequence_parallel` may style; a
    norm that carries one is placed by that name only (its weight's key
    still places the weight). `mp-auto-plan` styles such norms by that name
    too.

    Errors (each located at the plan, a JSON key or the argument concerned):
    keys that match no value or module (listing the close names), a style on
    an argument of the wrong role or rank, glob entries that disagree, a
    mesh with repeated or non-positive axes, axes the mesh lacks, and splits
    the axis sizes do not divide.
  }];
  let options = [
    Option<"planFile", "plan-file", "std::string", /*default=*/"\"\"",
           "JSON plan file to read instead of the module's mp.plan">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def LossParallel : Pass<"mp-loss-parallel", "::mlir::ModuleOp"> {
  let summary = "Rewrites cross entropy so vocab-split logits stay split";
  let description = [{
    PyTorch's `loss_parallel()`: each `mp.cross_entropy` over `[..., V]`
    logits becomes the log-sum-exp and target pick it is made of, in ops
    whose sharding rules keep the vocabulary split, so that logits split
    over the tensor-parallel axis (a `colwise` output layer) are never
    gathered:

    ```
    shift = block_max(block_max(logits) : [..., K]) : [..., 1]  (a constant)
    lse   = shift + log(sum(exp(logits - shift)))               (partial sums)
    loss  = mean(lse - gather_last(logits, labels))             (partial sums)
    ```

    Per row, the ranks exchange K maxima (an all_gather), the sum of
    exponentials and the target logit (all_reduces): O(tokens) bytes, not
    O(tokens · vocab). K is the size of the plan's tensor-parallel axis
    (the module's `mp.plan`), or `blocks`. Its gradient follows from the
    ops' rules: `softmax - onehot`, split like the logits. A cross entropy
    whose vocabulary K does not divide is left as it is (its logits are
    gathered), and with K = 1 every one is. With `ignore_index`, each row's
    `lse - gather_last(...)` is multiplied by the row's `mp.target_mask`
    (one whose ignore_index is past the vocabulary is left as it is). Run
    it after `--mp-apply-plan` and before `--mp-train-step`.
  }];
  let options = [
    Option<"blocks", "blocks", "int64_t", /*default=*/"0",
           "Ranks the vocabulary is split over (default: the plan's "
           "tensor-parallel axis size)">,
  ];
}

def SplitNorms : Pass<"mp-split-norms", "::mlir::ModuleOp"> {
  let summary = "Rewrites RMSNorms over a split dim so the dim stays split";
  let description = [{
    An `mp.rms_norm` whose normalized dim the plan splits (OLMo 2's
    `q_norm` and `k_norm` over the whole query and key projections, which a
    `colwise` wq and wk split by heads) becomes the ops it is made of, in
    ops whose sharding rules keep that dim split:

    ```
    r = rsqrt(mean(x · x) + eps)                 (a partial mean: one all_reduce)
    y = x · broadcast(r) · broadcast(weight)     (split as x is)
    ```

    Per row the ranks exchange one float forward (the mean square) and one
    backward (its gradient), where the fused norm would have its input
    gathered (`tokens · dim` floats each way). The norm weight's gradient
    is computed on each rank's slice of the dim.

    A norm is rewritten where its input is annotated split on its last dim
    over more than one rank, or is the result of an `mp.linear` whose
    weight is annotated split by rows (a `colwise` entry). Norms with a
    `weight_offset` (Gemma's) or mixed element types are left as they are
    (their inputs are gathered). Run it after `--mp-apply-plan` and before
    `--mp-train-step`; `--mp-auto-plan` runs it on every candidate plan.
  }];
}

def FuseAttention : Pass<"mp-fuse-attention", "::mlir::ModuleOp"> {
  let summary = "Fuses attention's matmul, scale, softmax and matmul";
  let description = [{
    `matmul(softmax(scale · matmul(q, kᵀ)), v)`, as a model writes attention
    without PyTorch's `scaled_dot_product_attention` (the scale optional,
    the softmax causal or not), becomes one `mp.attention %q, %k, %v` when
    nothing else reads the scores or the probabilities and both GEMMs have
    one precision. The key comes from the transpose that made `kᵀ`
    (composed into one transpose, or none); keys and values repeated per
    query head (torchtitan's `repeat_kv`: a broadcast, then a reshape
    merging the repeats into the heads) are read unrepeated, once per
    group of query heads. Gemma 2's soft cap between the scale and the
    softmax, `mp.scale` by `1 / c`, `mp.tanh` and `mp.scale` by `c` (the
    factors reciprocal), becomes the op's `softcap c`. ALiBi's bias there
    (`mp.alibi` of the scaled scores with the slopes of an
    `mp.alibi_slopes`: BLOOM's and MPT's) becomes the op's `alibi` slopes,
    and so does Falcon's bfloat16 bias (`mp.alibi ... bf16_bias`) between
    the scores' GEMM and the scale, with `bf16_bias`; learned slopes (any
    other) stay unfused, since `mp.attention` gives them no gradient.

    ```mlir
    %s = mp.matmul %q, %kt : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
    %t = mp.scale %s by 3.535534e-01 : tensor<2x4x16x16xf32>
    %p = mp.softmax %t causal : tensor<2x4x16x16xf32>
    %o = mp.matmul %p, %v : (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
    // becomes
    %o, %lse = mp.attention %q, %k, %v scale 3.535534e-01 causal : (...) -> (tensor<2x4x16x8xf32>, tensor<2x4x16xf32>)
    ```

    Unfused, a layer's training step makes 15 passes over the
    `[batch, heads, sq, sk]` scores (11 after `mp-fold-gemm-scales`) and
    keeps the probabilities from the forward pass to the backward pass;
    fused, no score tensor is whole: each chunk of query rows uses one
    scratch buffer, and under `causal` computes no score past its last row
    (the op picks the rows; `chunk-bytes`, the op's `chunk_bytes`, bounds
    the scratch per rank). The backward pass (`mp.attention_grad`)
    computes the scores again, from the rows' log-sum-exp that the forward
    pass keeps (a float per row): GEMMs more per layer, paid back by the
    causal rows skipped and by the memory no longer held. Run it on the
    model, before `--mp-train-step`.
  }];
  let options = [
    Option<"chunkBytes", "chunk-bytes", "int64_t",
           /*default=*/"0",
           "Bytes per rank the scratch scores of a chunk may take (0: no "
           "bound)">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def FuseSwiglu : Pass<"mp-fuse-swiglu", "::mlir::ModuleOp"> {
  let summary = "Fuses silu(gate) · up into mp.swiglu";
  let description = [{
    A Llama feed-forward's `F.silu(w1(x)) * w3(x)` (`mp.mul` of an
    `mp.silu` that nothing else reads, float32, either operand order)
    becomes `mp.swiglu %gate, %up`, whose value and gradients are the
    pair's bit for bit. Unfused, a layer's training step writes silu's
    value, reads it back for the product and keeps it for the backward
    pass, whose gradient is three kernels (two products and
    `mp.silu_grad`); fused, the forward pass is one kernel, the backward
    pass one (`mp.swiglu_grad`, computing silu's value again), and nothing
    the size of the hidden activation is kept beyond the two GEMMs'
    outputs. Run it on the model, before `--mp-train-step`.

    ```mlir
    %s = mp.silu %gate : tensor<8x16x128xf32>
    %y = mp.mul %s, %up : tensor<8x16x128xf32>
    // becomes
    %y = mp.swiglu %gate, %up : tensor<8x16x128xf32>
    ```
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def FuseGemmAccumulate : Pass<"mp-fuse-gemm-accumulate",
                                "::mlir::ModuleOp"> {
  let summary = "Adds GEMM products into the sums they feed (BLAS beta = 1)";
  let description = [{
    The backward pass sums a value's gradient over its uses: the normed
    input of a transformer layer gets `dq·Wq + dk·Wk + dv·Wv`, that of its
    feed-forward `dgate·W1 + dup·W3`, each a GEMM and then an `mp.add`
    that reads the product and the running sum and writes a third tensor.
    This pass rewrites `mp.add %p, %g` where `%p` is an `mp.linear` or
    `mp.matmul` product that only the add reads, and `%g` a float32 tensor
    that only the add reads, into the GEMM with `accumulate %g`: the memory
    plan gives the sum `%g`'s buffer and the GEMM adds its product there
    (cuBLAS's and OpenBLAS's beta = 1), so the step writes no product to
    read back, and holds one tensor fewer. The fused GEMM is placed where
    the product was computed when `%g` exists by then, else at the add.

    ```mlir
    %p = mp.linear %dk, %wk : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
    %s = mp.add %g, %p : tensor<64x256xf32>
    // becomes
    %s = mp.linear %dk, %wk accumulate %g : (tensor<64x256xf32>, tensor<256x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    ```

    Run it on the partitioned step (after `--mp-spmd` and the passes that
    follow it, before `--mp-verify-gradient-sync`): an accumulator must be a
    partial sum over exactly the mesh axes its product is, which the add
    already required of its operands there, and sharding propagation does
    not take such GEMMs. A BLAS sums the accumulator in with its running
    sums, so the step equals the unfused one to float32 rounding, not bit
    for bit.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def Summary : Pass<"mp-summary", "::mlir::ModuleOp"> {
  let summary = "Prints a model summary with per-rank placement";
  let description = [{
    Prints, for every function with named parameters, a table in the spirit
    of Lightning's `ModelSummary`: one row per parameter with its name, the
    op that consumes it, its global shape and parameter count, and the
    columns a compiler can give: its placement on each mesh axis (`S(d)`:
    split on dim d, `R`: replicated, `P`: partial) and its parameter count
    on one rank. Totals follow: parameters, parameters per rank, and the
    estimated size in MB, global and per rank (element size × count, as
    Lightning estimates it). The IR is left unchanged.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to print the summary to ('-' is standard output)">,
  ];
}

def TrainStep : Pass<"mp-train-step", "::mlir::ModuleOp"> {
  let summary = "Builds the training step of a model";
  let description = [{
    For each model function (one with `mp.param` arguments whose first
    result is the scalar loss), adds `@<name>_train_step`:

    ```
    (params..., state..., [step], batch...) -> (new params..., new state..., [step], loss)
    ```

    with GLOBAL shapes: the forward pass, the backward pass by reverse-mode
    automatic differentiation (every op's vector-Jacobian rule, from
    `AutodiffOpInterface`), optional global-norm gradient clipping, and the
    optimizer update, with PyTorch's semantics:

    * `sgd`: `torch.optim.SGD` (lr, momentum, dampening, weight decay,
      nesterov); a `momentum_buffer` per parameter when momentum is not 0;
    * `adamw`: `torch.optim.AdamW` (lr, betas, eps, decoupled weight decay,
      bias correction); `exp_avg` and `exp_avg_sq` per parameter and a
      `step` count.

    State arguments are named `<param>.<state>` (`mp.state`) and take their
    parameter's storage sharding, so under FSDP every rank updates only its
    shard (ZeRO-3). New parameters and state are returned in the same
    sharding, which is where the gradient synchronisation comes from: a
    gradient is partial over the batch axis and over axes its parameter is
    replicated on, and resharding it to storage is an all_reduce (DDP) or a
    reduce_scatter (FSDP).

    Loss convention: the step computes the gradient of the GLOBAL loss, the
    loss of the unpartitioned model on the whole batch, so partitioning
    never changes it. With a mean loss this is what PyTorch DDP/FSDP
    compute (each rank's mean, averaged). With a sum loss (the seed's
    `output.sum()`), PyTorch's averaging divides the gradient by the
    data-parallel size; `pytorch-dp-average` reproduces that.

    `max-grad-norm` clips by the global norm as `clip_grad_norm_` does; the
    squared norm is a sum over every parameter's gradient, so in the
    partitioned step each shard is counted once, over every axis.

    `reshard-after-forward` is FSDP2's option of that name: each FSDP
    parameter's gathered copy serves the forward pass only, and the
    backward pass gathers it again (an `mp.annotate ... regather` before
    its first backward use), trading an all_gather per parameter for the
    memory of the gathered weights between forward and backward.

    `precision` is the arithmetic of the step's GEMMs (`#mp.precision`):
    `fp32` (strict), `tf32` (the default: what a GEMM without the attribute
    runs in) or `bf16` (operands rounded to bfloat16, float32 accumulation,
    as autocast and FSDP2's `MixedPrecisionPolicy(param_dtype=bfloat16)`).
    It is set on every forward and backward GEMM that has no precision of
    its own, so a model can keep one GEMM (say the output head) in `fp32`;
    parameters, gradients, optimizer state and every other op stay float32
    (master weights).

    `reduce-dtype` is the type the gradients are summed in across ranks:
    `f32` (the default) or `bf16` (FSDP2's
    `MixedPrecisionPolicy(reduce_dtype=bfloat16)`: half the bytes, each sum
    rounded to bfloat16). It is recorded on the step (`mp.reduce_dtype`);
    after partitioning, mp-narrow-collectives converts the inputs of the
    collectives that sum gradients to bf16 and their results back to f32,
    so the optimizer and the clipping norm read float32 gradients.

    `tp-reduce-dtype` is the type tensor parallelism's partial results are
    summed in across ranks: the sums of bf16 GEMMs' results that are not
    gradients (a rowwise linear's output, a colwise linear's input
    gradient; sequence parallelism's reduce_scatters and the all_reduces
    without it). `f32` (the default) sums the float32 products; `bf16`
    rounds each rank's product to bfloat16 and sums it in bfloat16, as
    torchtitan and Megatron-LM do where a bf16 forward pass computes its
    activations in bfloat16: half the bytes of the collectives that
    tensor parallelism cannot avoid, each sum rounded. It is recorded on
    the step (`mp.tp_reduce_dtype`) for mp-narrow-collectives; sums that
    reach a parameter's update follow `reduce-dtype`, and every other sum
    (loss parallelism's, an embedding's) stays float32.

    `recompute=selective` recomputes the cheap part of what torchtitan's
    selective activation checkpointing by op does (`recompute=op` below is
    that policy): GEMM and attention outputs are saved for the backward
    pass, and
    a value it reads that an elementwise op, a norm, a rotary embedding, a
    reshape or a layout annotation computes from what the backward pass
    holds anyway (a norm from its input, which the norm's gradient reads;
    SwiGLU's product from its gate and up projections, which its gradient
    reads) is computed again just before its first backward use instead of
    being held between the passes. A transformer layer's two normed inputs
    and its feed-forward's product are no longer held: less memory between
    the passes for one more pass of those kernels, and the same floats (the
    ops read the same values again).

    `recompute=full` is torchtitan's `ac_mode = "full"` (a checkpoint around
    each transformer block): each layer (the forward ops from the first
    reader of a numbered layer's parameters, `layers.<n>.`, or of one of the
    plan's FSDP groups, to the first reader of another's, with the layout
    annotations that lead into it) is run again in the backward pass, GEMMs
    and attention included, just before its backward needs it. Between the
    passes a layer holds only what another reads: its output, the residual
    stream. The layer's collectives run again too (under tensor parallelism
    its all_reduce or reduce_scatter; under sequence parallelism the
    all_gathers of its normed inputs), and with `reshard-after-forward` the
    regathered weights serve the recomputation and the backward pass both.
    The ops outside the layers (embedding, final norm, output head, loss)
    keep their values. A model with no layer gets a warning and keeps all.

    `recompute=op` is torchtitan's selective policy by op (`ac_mode =
    "selective"`, `selective_ac_option = "op"`): each layer is run again as
    with `full`, except that attention's outputs (`mp.attention`, or the
    `mp.matmul`s of an unfused one, standing for PyTorch's SDPA) and every
    other linear's (each layer's first, third, ...: torchtitan saves every
    other `mm`) are held. More memory than `full`, less than `selective`,
    which recomputes only cheap ops and holds every GEMM's output.

    Without the option, the plan's `recompute` (`#mp.plan`) is the policy.

    `recompute-full-layers=N` recomputes the first N layers (in forward
    order) fully whatever the policy says of them, the others by the
    policy (Megatron-LM's `--recompute-method block --recompute-num-layers
    N`, with `recompute=none`): memory between the policy's and full
    recomputation's, a layer at a time, which is how `--mp-auto-plan` meets
    a budget that recomputing every layer by op does not. Without it, the
    plan's `recompute_full_layers`, else 0.

    `saved-dtype=bf16` (with `precision=bf16`) holds the activations saved
    for the backward pass in bfloat16, as a forward pass run in bf16 holds
    them (FSDP2's `MixedPrecisionPolicy(param_dtype=bfloat16)`, torchtitan's
    `mixed_precision_param = "bfloat16"`): each float32 value that the
    forward pass computes on its way to a GEMM and that the backward pass
    reads, or another layer (what full recomputation runs a layer again
    from), is rounded to bf16 where it is made (`mp.convert`): a layer's
    input (the residual stream), a norm's, SwiGLU's or attention's output, a
    projection's. Every reader reads the rounded value: the forward pass's
    readers through one float32 copy made there, which dies with the last
    of them, the backward pass's through another, made just before the
    first of them; a layout annotation of it (sequence parallelism's) lays
    out the bf16 value. Between the passes only the bf16 value is held.
    The loss's computation (the output head's logits and what follows) and
    attention's log-sum-exp stay float32, as PyTorch's loss and
    FlashAttention keep them. This changes results (the rounded values are
    the step's values, in the global step as in the partitioned one; the
    forward pass's readers read them too, so the gradients are those of the
    rounded forward pass) and is the user's choice, as the precision is.
    The rounding comes before recomputation, so every `recompute` policy
    trains bit for bit as `none` does; run `--mp-narrow-gemm-operands`
    after `--mp-spmd` and the bf16 GEMMs read the held values without a
    float32 copy. Each conversion is a kernel (6 bytes per element) until
    producers write bf16 themselves (docs/mixed-precision.md has the
    trade).

    Where `precision`, `reduce-dtype`, `tp-reduce-dtype` or `saved-dtype`
    is not given, the plan's value of that name is the step's (a plan file
    keeps them beside the parallelism, as torchtitan's config does), else
    the default; the pairs above are checked as resolved, and an error
    names the half that came from the plan.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "The model function (default: every model in the module)">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "adamw or sgd">,
    Option<"lr", "lr", "double", /*default=*/"1e-3", "Learning rate">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "AdamW beta2">,
    Option<"eps", "eps", "double", /*default=*/"1e-8", "AdamW epsilon">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"-1",
           "Weight decay (decoupled for AdamW); default: PyTorch's, 0.01 "
           "for AdamW and 0 for SGD">,
    Option<"momentum", "momentum", "double", /*default=*/"0",
           "SGD momentum">,
    Option<"dampening", "dampening", "double", /*default=*/"0",
           "SGD dampening">,
    Option<"nesterov", "nesterov", "bool", /*default=*/"false",
           "SGD Nesterov momentum">,
    Option<"maxGradNorm", "max-grad-norm", "double", /*default=*/"0",
           "Clip gradients to this global norm (0: no clipping)">,
    Option<"pytorchDpAverage", "pytorch-dp-average", "bool",
           /*default=*/"false",
           "Divide gradients by the data-parallel size, as PyTorch's "
           "DDP/FSDP averaging of per-rank gradients does">,
    Option<"reshardAfterForward", "reshard-after-forward", "bool",
           /*default=*/"false",
           "FSDP2's reshard_after_forward: the backward pass gathers each "
           "FSDP parameter of a layer again instead of keeping the "
           "forward's copy (the root module's are kept, as FSDP2 does)">,
    Option<"precision", "precision", "std::string", /*default=*/"\"tf32\"",
           "The GEMMs' arithmetic: fp32, tf32 or bf16; default: the plan's "
           "precision, else tf32">,
    Option<"reduceDtype", "reduce-dtype", "std::string",
           /*default=*/"\"f32\"",
           "The type gradients are summed in across ranks: f32 or bf16; "
           "default: the plan's reduce_dtype, else f32">,
    Option<"tpReduceDtype", "tp-reduce-dtype", "std::string",
           /*default=*/"\"f32\"",
           "The type tensor parallelism's partial results (bf16 GEMMs' "
           "outputs and input gradients) are summed in across ranks: f32 "
           "or bf16; default: the plan's tp_reduce_dtype, else f32">,
    Option<"recompute", "recompute", "std::string", /*default=*/"\"none\"",
           "Activation recomputation: none, selective (elementwise ops, "
           "norms and rotary embeddings computed again in the backward pass "
           "instead of kept), op (torchtitan's selective policy: each layer "
           "run again but for attention and every other linear) or full "
           "(each layer run again from its input); default: the plan's "
           "recompute, else none">,
    Option<"recomputeFullLayers", "recompute-full-layers", "int64_t",
           /*default=*/"0",
           "Recompute the first N layers fully, whatever the policy says of "
           "them; default: the plan's recompute_full_layers, else 0">,
    Option<"savedDtype", "saved-dtype", "std::string", /*default=*/"\"f32\"",
           "The type activations are held in between the forward and "
           "backward passes: f32, or bf16 (with precision=bf16: rounded "
           "where computed, as a bf16 forward pass holds them); default: "
           "the plan's saved_dtype, else f32">,
  ];
  let dependentDialects = ["::mp::MPDialect", "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def PropagateSharding : Pass<"mp-propagate-sharding", "::mlir::ModuleOp"> {
  let summary = "Gives every value a sharding and inserts the reshards";
  let description = [{
    Starting from the shardings the plan (or the user) gave the arguments,
    the `mp.annotate` ops and the results, gives every op result an
    `mp.sharding` attribute, and inserts an `mp.reshard` wherever an operand
    is not laid out as its consumer needs it. Everything derives from the
    ops' sharding rules (`ShardingRuleOpInterface`), as factors:

    * an axis on a factor flows to every dim that carries the factor,
      forward and backward, to a fixed point (axes are only ever added, so
      it terminates);
    * conflicts are resolved by priority, explicit annotation > plan >
      propagated, then by size (the larger tensor keeps its layout and the
      smaller one moves: fewer bytes), then by operand order, so the same
      input always gives the same output;
    * a reduction factor split over an axis makes the result a PARTIAL sum
      over it, with no collective yet; partial sums pass through ops that
      are linear in them (add of two partials, mul by a non-partial,
      another contraction, a sum) and are reduced only where a consumer
      needs the value whole, or split (later a reduce_scatter);
    * function results are never partial: a partial result is reduced
      before `return`, to the result's `mp.sharding` if it has one.

    Every `mp.reshard` says in `origin` which parameter, input or plan entry
    the moving axes come from and which op needed them.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def Partition : Pass<"mp-partition", "::mlir::ModuleOp"> {
  let summary = "Rewrites a sharded program into its per-rank (SPMD) form";
  let description = [{
    On a program where every value has a sharding (after
    `--mp-propagate-sharding`), rewrites every type to its LOCAL shape (the
    global extent of each dim divided by the sizes of the axes that split
    it), keeps each op as its local piece (a GEMM on its shards), and turns
    each `mp.annotate` and `mp.reshard` into collectives on named mesh axes,
    one table per axis:

    | from \ to     | replicated  | split on d          | partial |
    |---------------|-------------|---------------------|---------|
    | partial       | all_reduce  | reduce_scatter on d | -       |
    | split on d    | all_gather  | all_to_all (d to e) | error   |
    | replicated    | -           | shard_slice (free)  | error   |

    (the fused entries come from `--mp-simplify-collectives`). Every
    collective carries in `origin` the provenance of the reshard it comes
    from. Ops that average (`mean`, mean losses) over a split dim are scaled
    by local/global extent so that their partial sums add up to the global
    mean. The function is marked `mp.partitioned`; its argument and result
    `mp.sharding` attributes then say how each local value sits in the
    global one. Two ops keep their result's `mp.sharding`, because local
    shapes cannot show it: a reshape (whose dims regroup differently on
    local shapes) and a broadcast split along a dim its input lacks. Axes of
    size 1 get no collectives.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def SimplifyCollectives : Pass<"mp-simplify-collectives", "::mlir::ModuleOp"> {
  let summary = "Fuses and cancels collectives";
  let description = [{
    Folds what a naive resharding emits into the cheapest collectives:

    * `shard_slice(all_reduce(x))` over the same axes is a
      `reduce_scatter` (FSDP's gradient reduction, sequence parallelism's
      exit from a rowwise GEMM), and `reduce_scatter(all_reduce(x, A),
      B)` over other axes scatters first and reduces the rest on the
      smaller shard;
    * `shard_slice(all_gather(x))` of the same axes and dim is `x`, and of
      another dim an `all_to_all`;
    * back-to-back `all_reduce`s are one over the union of their axes;
    * back-to-back `mp.reshard`s are one, and a reshard to the sharding its
      operand already has is nothing.

    And it leaves one collective per value where partitioning, which
    reshards per use, made several:

    * the same collective of the same value, for two consumers, is one
      (its `origin` names both);
    * `all_reduce(f(x))`, for `f` a chain of linear ops (products with
      values known whole, negation, scaling, transposes, broadcasts, sums),
      is `f(all_reduce(x))` when `x` is reduced for another consumer too: a
      partial gradient that feeds an input gradient, a transposed weight
      gradient and a norm's weight gradient is reduced once. Applied only
      where `x` is provably partial (its own reduction, or a chain that
      keeps partial sums in place), and never so that more bytes move;
    * `reduce(a) ± reduce(b)` is `reduce(a ± b)` for `all_reduce` and
      `reduce_scatter` over one group, and `(y + reduce(a)) + reduce(b)`
      is `y + reduce(a + b)`: q, k and v gradients added into the residual
      are reduced once;
    * `f(all_reduce(x))` is `all_reduce(f(x))` for `f` a norm's input
      gradient (linear in its output gradient; propagation reduces before
      it) where the reduction then meets another in such a sum: a
      parallel block's two norms (GPT-NeoX, Falcon-40B) read one input,
      and their gradients' partial sums are reduced once. The norms'
      weight gradients that read the reduction reduce their results
      instead, when those are smaller;
    * `all_gather(transpose(x))` is the transpose of a gather of `x` that
      happens anyway.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def NarrowCollectives : Pass<"mp-narrow-collectives", "::mlir::ModuleOp"> {
  let summary = "Moves bf16 where every reader rounds to bf16 anyway";
  let description = [{
    On a partitioned step, a collective that only moves values
    (`all_gather`, `all_to_all`) whose every reader is an operand of a
    `precision <bf16>` GEMM, directly or through transposes and reshapes,
    moves them as bf16: `mp.convert` to bf16 before it (one per value, where
    the value is defined). Where the GEMMs read the result through reshapes
    and transposed views only (transposes of the last two dims that the
    GEMM's transpose flag does; none computed), they read the bf16 values
    as they are (a bf16 GEMM takes bfloat16 operands beside float32 ones)
    and the gathered value is held in bf16 until its last reader: half the
    bytes FSDP keeps from a layer's forward to its backward. Otherwise it is
    converted back to f32 after the collective. A bf16 GEMM rounds its
    operands to bf16 and rounding commutes with moving, so every GEMM reads
    the values it read before and no result changes; the bytes moved halve.
    Under `--mp-train-step="precision=bf16"` this is FSDP2's bf16 parameter
    all_gather (`MixedPrecisionPolicy(param_dtype=torch.bfloat16)`) and
    sequence parallelism's bf16 activation gather, proved per collective: a
    value that another op reads too keeps moving in f32. Sums (`all_reduce`,
    `reduce_scatter`) stay f32, unless the step asks otherwise: a step with
    `mp.reduce_dtype = bf16` sums its gradients in bf16, one with
    `mp.tp_reduce_dtype = bf16` the sums of bf16 GEMMs' results that are
    not gradients (tensor parallelism's partial products), each input
    rounded where it is made and the result widened back to f32 (these
    change results: each sum is rounded). Part of `--mp-spmd`.

    ```mlir
    %g = mp.all_gather %w on @mesh axes ["dp"] dim 0 : tensor<8x16xf32> -> tensor<16x16xf32>
    %y = mp.linear %x, %g precision <bf16> : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
    // becomes
    %n = mp.convert %w : tensor<8x16xf32> -> tensor<8x16xbf16>
    %g = mp.all_gather %n on @mesh axes ["dp"] dim 0 : tensor<8x16xbf16> -> tensor<16x16xbf16>
    %y = mp.linear %x, %g precision <bf16> : (tensor<4x16xf32>, tensor<16x16xbf16>) -> tensor<4x16xf32>
    ```
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def FoldGemmScales : Pass<"mp-fold-gemm-scales", "::mlir::ModuleOp"> {
  let summary = "Folds constant scales into the batched GEMMs next to them";
  let description = [{
    An `mp.scale` of a batched GEMM's product that nothing else reads, and
    an `mp.scale` whose every reader is an operand of batched GEMMs, become
    the GEMMs' `scale` (their alpha): attention's 1/sqrt(head_dim) on the
    scores before the softmax and on the scores' gradient after it (read by
    the query and key gradient GEMMs). Each was a kernel that read and
    wrote a [batch, heads, seq, seq] tensor, 4 of the 15 passes over it
    that a layer's step makes; the GEMMs compute the same values.

    A factor that is a power of two multiplies exactly, so the GEMM gives
    the same bits (except where a scaled value would be subnormal or
    overflow); those are folded by default, and `--mp-spmd` runs this pass
    last. With `inexact`, every other finite factor is folded too: the
    product is then rounded once, after the multiplication in float32,
    where it was rounded twice (Llama's head dim 128 gives 2^-3.5).

    ```mlir
    %s = mp.matmul %q, %kt : (tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<2x8x8xf32>
    %t = mp.scale %s by 5.000000e-01 : tensor<2x8x8xf32>
    // becomes
    %t = mp.matmul %q, %kt scale 5.000000e-01 : (tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<2x8x8xf32>
    ```
  }];
  let options = [
    Option<"inexact", "inexact", "bool", /*default=*/"false",
           "Also fold factors that are not powers of two (one rounding "
           "less: results change in the last bit)">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def NarrowGemmOperands : Pass<"mp-narrow-gemm-operands", "::mlir::ModuleOp"> {
  let summary = "Holds in bf16 the values that only bf16 GEMMs read";
  let description = [{
    A computed float32 value whose every reader is an operand of a
    `precision <bf16>` GEMM, through reshapes and transposed views only (a
    linear's input, read by its forward GEMM and by its weight-gradient
    GEMM in the backward pass; an input gradient read by the two backward
    GEMMs), is rounded to bf16 right where it is computed (`mp.convert`)
    and held, and read, as bf16: the float32 value dies at the conversion,
    so an activation kept from the forward to the backward pass takes half
    the bytes, as under FSDP2's `param_dtype=torch.bfloat16`. Every GEMM
    rounds its operands to bf16 anyway, so every GEMM reads exactly the
    values it read before and no result changes (bit for bit in the
    interpreter and on the host; on CUDA a GEMM whose operands are both
    bf16 runs as a native bf16 GEMM and, with one, converts the smaller
    operand first, where cuBLAS's FAST_16BF may round otherwise). Every
    function is rewritten (values do not change, partitioned or not). Function arguments, constants and values
    that any other op reads stay float32; a bf16 value widened for such
    GEMMs only is read as it is.

    Memory for time: each held value costs a conversion kernel (6 bytes
    per element) where a compute-bound GEMM saves nothing by reading fewer
    bytes, so it is not part of `--mp-spmd`; run it after it, before
    `--mp-group-fsdp` and `--mp-schedule-collectives`. `--mp-auto-plan="... schedules=true"` tries it with every
    schedule and keeps it where it is predicted faster or fits a budget
    that nothing else fits (docs/mixed-precision.md has measurements).

    ```mlir
    %h = mp.silu %u : tensor<4x16xf32>
    %y = mp.linear %h, %w precision <bf16> : (tensor<4x16xf32>, tensor<16x16xbf16>) -> tensor<4x16xf32>
    // becomes
    %h = mp.silu %u : tensor<4x16xf32>
    %n = mp.convert %h : tensor<4x16xf32> -> tensor<4x16xbf16>
    %y = mp.linear %n, %w precision <bf16> : (tensor<4x16xbf16>, tensor<16x16xbf16>) -> tensor<4x16xf32>
    ```
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def FuseConversions : Pass<"mp-fuse-conversions", "::mlir::ModuleOp"> {
  let summary = "Fuses bf16 conversions into the kernels that make and read the values";
  let description = [{
    A step that saves its activations in bf16
    (`--mp-train-step="precision=bf16 saved-dtype=bf16"`) or holds GEMM
    operands in bf16 (`--mp-narrow-gemm-operands`) rounds float32 values
    to bf16 where they are made and widens them back where they are read:
    an `mp.convert` each way, a kernel of 6 bytes per element (torchtitan's
    8B by op spent 11% of its simulated step in them). Elementwise ops
    compute in float32 and may hold their operands and results in bf16
    (MP_BFloat16Storage), a transpose copies between the two, RMSNorm and
    LayerNorm hold their input and result (their gradients their input
    and gradient), a bf16 GEMM
    may write bf16, and bf16 attention holds q, k, v and its output (its
    gradient q, k, v and the output) (`mayReadBFloat16`,
    `mayWriteBFloat16`), so this pass folds

    * a widening into each reader that takes bf16: an elementwise op, a
      transpose or a norm (it reads the bf16 value widened), a bf16
      GEMM's factor or bf16 attention's q, k, v or output (they round to
      bf16 anyway), a rounding (back to the bf16 value itself); a reshape
      or slice of a widening moves the bf16 value and widens after it;
    * a rounding into the op that made its only input, when that is an
      elementwise op, a transpose, a norm, a bf16 GEMM without an
      accumulator or bf16 attention (its output): it writes the bf16
      result itself (a transpose that rounds is computed, never a view its
      GEMMs read through);
    * a transpose that widens a bf16 value, where its readers all take bf16
      or round it back (through reshapes too: attention's output laid back
      out for the output projection, saved for its weight gradient), into a
      bf16 copy: no widening and no rounding left.
    * a concatenation of widenings, where its readers all take bf16, into
      the concatenation of the bf16 values: `--mp-pipeline-tp-sums`' row
      chunks each widen their piece of a saved bf16 value, and the pieces
      are joined (in place) and sliced again between regions.

    Widening is exact and a fused rounding is the same rounding (to nearest
    even) of the same float32 value, so no value changes: bit for bit in
    the interpreter and on the host, which runs the float32 kernel between
    the conversions on blocks that stay in cache; on CUDA the kernels read
    and write bf16 and a GEMM that writes bf16 runs natively (cuBLAS
    rounds in its epilogue, as its float32 sums may differ in order from a
    float32-output GEMM's). The kernels then move 2 bytes per bf16 element
    where they moved 4, so a step saving bf16 moves fewer bytes than one
    saving float32, not more (docs/mixed-precision.md).

    Run it last, after the passes that rewrite the partitioned step
    (`--mp-chunk-loss`, `--mp-narrow-gemm-operands`, the schedules,
    `--mp-fuse-gemm-accumulate`, `--mp-fuse-optimizer`), before
    `--mp-lower-to-runtime`; `scripts/run-ffn.sh` does, and
    `--mp-auto-plan`'s schedules of bf16 steps end with it.

    ```mlir
    %h = mp.linear %x, %w precision <bf16> : (tensor<4x16xbf16>, tensor<16x16xbf16>) -> tensor<4x16xf32>
    %r = mp.convert %h : tensor<4x16xf32> -> tensor<4x16xbf16>
    %f = mp.convert %r : tensor<4x16xbf16> -> tensor<4x16xf32>
    %y = mp.silu %f : tensor<4x16xf32>
    // becomes
    %h = mp.linear %x, %w precision <bf16> : (tensor<4x16xbf16>, tensor<16x16xbf16>) -> tensor<4x16xbf16>
    %y = mp.silu %h : (tensor<4x16xbf16>) -> tensor<4x16xf32>
    ```
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def ScheduleCollectives : Pass<"mp-schedule-collectives", "::mlir::ModuleOp"> {
  let summary = "Overlaps collectives with compute, as FSDP2 prefetches";
  let description = [{
    On a partitioned step, makes collectives asynchronous (`{mp.async =
    slot}`, then `mp.wait` before their first reader) and places them:

    * each FSDP unit's parameter gathers (a parameter group, as
      `fsdp_groups` or the numbered layers define them; forward gathers and
      backward regathers are separate units) are issued when the unit
      `prefetch` units before it starts computing, FSDP2's prefetch, instead
      of all at the top of the step; so a gathered weight lives from one
      layer before its use, not from the start;
    * a `reduce_scatter` or `all_reduce` whose first reader is not the next
      op runs beside the ops up to that reader (a gradient's reduction
      beside the backward pass of the layers below), and so does an
      `all_gather` of activations (sequence parallelism's), one of each in
      flight;
    * a run of FSDP-grouped collectives (`--mp-group-fsdp`, one runtime
      call) is placed, issued and waited for as one: one slot, an
      `mp.wait` per member before the first reader of any (the call
      unpacks its packed buffer there), a run of reduce_scatters moved up
      to right after the last gradient it sums;
    * with `tp-overlap`, a sum whose result the very next op reads (the
      tensor-parallel all_reduce of an input gradient) first gets the
      compute it does not depend on, since the previous such sum, moved
      after it (each op once; gradient reductions move with their GEMMs):
      Megatron-LM's overlap of that all_reduce with the weight-gradient
      GEMMs. It delays those GEMMs' gradient reductions, so it pays where
      compute dominates and costs where communication does: off by
      default.

    At most `max-in-flight` are outstanding: issuing one more waits for the
    oldest first. The wait keeps the collective's input alive, so the
    memory plan (`--mp-memory-report`) counts what the schedule holds. On
    the CUDA backend over NCCL the collective runs on the communication
    stream and only the wait makes compute wait; the host backend runs it
    at its call. docs/overlap.md.
  }];
  let options = [
    Option<"prefetch", "prefetch", "int64_t", /*default=*/"1",
           "FSDP units gathered ahead of the one computing">,
    Option<"maxInFlight", "max-in-flight", "int64_t", /*default=*/"32",
           "Asynchronous collectives outstanding at most">,
    Option<"tpOverlap", "tp-overlap", "bool", /*default=*/"false",
           "Move compute a synchronous sum does not depend on after it "
           "(Megatron-LM's input-gradient all_reduce beside the "
           "weight-gradient GEMMs)">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def ChunkLoss : Pass<"mp-chunk-loss", "::mlir::ModuleOp"> {
  let summary = "Runs the output GEMM, the loss and their gradients in "
                "chunks of tokens, forward and backward together";
  let description = [{
    On a partitioned step (after `--mp-spmd`, before
    `--mp-pipeline-tp-sums` and `--mp-schedule-collectives`), cuts the
    language-model loss into `chunks` blocks of tokens and runs each
    block's output GEMM, loss, loss gradient, hidden-state gradient GEMM
    and weight gradient GEMM before the next block's, so that only one
    block's vocabulary-sized tensors (logits, exponentials, the logits'
    gradient: `[tokens, vocab / tp]` each) are ever live, as Liger-Kernel's
    fused linear cross entropy and torchtune's chunked output loss do.

    The blocks are of the logits' outermost token dim with at least
    `chunks` entries (the batch; else the longest: the sequence, as
    torchtune chunks it), as even as it allows (the first get one more).
    The region is the output GEMM (the `mp.linear` whose result, gathered
    over the vocabulary or not, and through elementwise ops of it alone,
    such as Gemma 2's soft cap of the logits, an `mp.cross_entropy`,
    `mp.gather_last` or `mp.cross_entropy_grad` reads) and, in program
    order, every op that
    reads the region's values in the blocks they are made in: elementwise
    ops, reductions and collectives over other dims, the cross entropy's
    per-row ops (`--mp-loss-parallel`'s form) and its gradient, reshapes
    and transposes; up to the GEMMs after it. Their results are the
    region's outputs: the hidden states' gradient is joined with
    `mp.concat` (each block computed in place where the blocks are
    contiguous), the weight's gradient, whose GEMM contracts over the
    tokens, adds each block's product to the blocks' before (`accumulate`),
    and an `mp.cross_entropy` sums each block's losses (then scales a mean
    by one over the tokens).

    ```mlir
    // block 0
    %h0 = mp.slice %h dim 0 offset 0 : tensor<4x16x32xf32> -> tensor<2x16x32xf32>
    %logits0 = mp.linear %h0, %w : (tensor<2x16x32xf32>, tensor<40x32xf32>) -> tensor<2x16x40xf32>
    ...
    %dw0 = mp.matmul %dlogits0_t, %h0_rows : (tensor<40x32xf32>, tensor<32x32xf32>) -> tensor<40x32xf32>
    // block 1
    ...
    %dw = mp.matmul %dlogits1_t, %h1_rows accumulate %dw0 : (tensor<40x32xf32>, tensor<32x32xf32>, tensor<40x32xf32>) -> tensor<40x32xf32>
    %losses = mp.concat %losses0, %losses1 dim 0 : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<4x16xf32>
    %dh = mp.concat %dh0, %dh1 dim 0 : (tensor<2x16x32xf32>, tensor<2x16x32xf32>) -> tensor<4x16x32xf32>
    ```

    Where the blocks are of the sequence, the weight gradient's token rows
    (`[batch · seq, dim]`) are no block of the whole: each block reshapes
    its own. The ops between the region's that read its values (the loss's
    mean) move after it. A loss whose gradient reads them (the step's loss
    gradient is a constant), whose logits an op outside the region reads
    whole (a reshard of them over the tokens), or whose logits no
    `mp.linear` computes, is left whole with a warning that says why, as is
    every loss of a step already scheduled (asynchronous collectives: moving
    ops would break the schedule's slots).
    Each token's loss (in per-row ops)
    and hidden-state gradient is computed from the same floats as
    unchunked; the weight's gradient, and an `mp.cross_entropy`'s sum, add
    the tokens in another order (equal to float32 rounding). The price:
    `chunks` times the loss's few per-row collectives, and the output
    weight read `chunks` times by each of the three GEMMs.
    docs/transformers.md.
  }];
  let options = [
    Option<"chunks", "chunks", "int64_t", /*default=*/"8",
           "Chunks of tokens, at least 2 (fewer where there are fewer "
           "tokens in the chunked dim)">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def PipelineTpSums : Pass<"mp-pipeline-tp-sums", "::mlir::ModuleOp"> {
  let summary = "Runs tensor-parallel sums and the work around them in row "
                "chunks, so each chunk's collective runs beside another "
                "chunk's GEMMs";
  let description = [{
    On a partitioned step (after `--mp-spmd`, before
    `--mp-schedule-collectives`), cuts each `all_reduce`, and each
    `reduce_scatter` over a dim other than 0, into `chunks` blocks of rows
    of dim 0 (the batch), with the work around it (its region):

    * before the sum, the ops computing its input row by row whose results
      only the region reads, as rows: the rowwise layer's `mp.linear` and
      the residual add before its forward all_reduce, the colwise layers'
      input-gradient GEMMs before the backward one;
    * after it, in program order, every op that reads the region's values
      as rows only and computes row by row, or gathers over another dim
      (sequence parallelism's `all_gather`) (`mp.linear`, whose rows are its
      input's; `mp.rms_norm`, `mp.layer_norm` and their input gradients;
      where dim 0 is a batch dim, attention's batched `mp.matmul`,
      `mp.softmax` and its gradient, `mp.rope`, and the reshapes,
      transposes and broadcasts that keep dim 0; elementwise ops; further
      such sums), up to the first op that reads them otherwise: a Llama
      step's forward is one region from the embedding's sum to the output
      GEMM; in its backward a region ends at the first weight gradient (a
      sum over the rows).

    Each chunk runs the region on `mp.slice`s of the values it reads from
    outside (weights are read whole), each sum chunk by chunk, and
    `mp.concat` joins the values read after the region:

    ```mlir
    %x0 = mp.slice %x dim 0 offset 0 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
    %y0 = mp.linear %x0, %w : (tensor<2x8x16xf32>, tensor<32x16xf32>) -> tensor<2x8x32xf32>
    %s0 = mp.all_reduce %y0 on @mesh axes ["tp"] : tensor<2x8x32xf32>
    %x1 = mp.slice %x dim 0 offset 2 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
    %y1 = mp.linear %x1, %w : (tensor<2x8x16xf32>, tensor<32x16xf32>) -> tensor<2x8x32xf32>
    %s1 = mp.all_reduce %y1 on @mesh axes ["tp"] : tensor<2x8x32xf32>
    %n0 = mp.rms_norm %s0, %g eps 1.0e-05 : (tensor<2x8x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
    %n1 = mp.rms_norm %s1, %g eps 1.0e-05 : (tensor<2x8x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
    %n = mp.concat %n0, %n1 dim 0 : (tensor<2x8x32xf32>, tensor<2x8x32xf32>) -> tensor<4x8x32xf32>
    ```

    The chunks are software-pipelined: a member's stage is the number of
    collectives on its longest path from the region's inputs, and step t
    runs stage s of chunk t - s for s = 0, 1, ..., so once
    `--mp-schedule-collectives` makes the collectives asynchronous (one
    sum in flight), each chunk's sum runs beside the next chunk's work
    before its sum and the previous chunk's work after its own: the
    collective matmul of Megatron-LM's and torchtitan's tensor-parallel
    communication overlap, carried through the layer as DeepSpeed's Domino
    does. The memory plan makes the slices views and computes the chunks
    in place in the joined buffers where the rows are contiguous and
    aligned, so nothing is copied; each row sees the same arithmetic (bit
    for bit on the host; cuBLAS may pick another kernel for fewer rows).
    Chunks are as even as the rows allow (the first get one more). A
    region needs an `mp.linear` (compute to run beside); collectives of
    FSDP groups and asynchronous ones stay as they are. docs/overlap.md.
  }];
  let options = [
    Option<"chunks", "chunks", "int64_t", /*default=*/"2",
           "Row chunks per region, at least 2 (fewer where it has fewer "
           "rows)">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def FuseOptimizer : Pass<"mp-fuse-optimizer", "::mlir::ModuleOp"> {
  let summary = "Updates every parameter in one optimizer call, as fused AdamW";
  let description = [{
    Moves every optimizer update (`mp.adamw`, `mp.sgd`, `mp.sgd_momentum`)
    whose results only the function returns to the end of the function, in
    program order. The lowering runs each run of adjacent updates of one
    kind with the same hyperparameters (and step count) as one
    `mp_adamw_multi_f32` or `mp_sgd_multi_f32` call: on CUDA, one kernel
    launch per 16 tensors instead of one per parameter (PyTorch's
    `AdamW(fused=True)` over its tensor list); on the host, the same loops.
    The results are bit for bit those of the separate updates; the
    gradients live until the end of the step, which the memory plan counts.

    First, an update whose gradient is a product by one float32 scalar that
    nothing else reads (`mp.mul` of the gradient and an `mp.broadcast` of a
    rank-0 tensor, as gradient clipping scales every gradient, or a splat
    constant) takes the unscaled gradient and the scalar as its
    `grad_scale`, as PyTorch's fused AdamW takes `grad_scale`: the update
    kernel multiplies as `mp.mul` does (bit for bit the same), and the
    scaled copy of the gradient is neither written nor read back: with
    clipping, AdamW's pass over a gradient touches 7 values per element
    instead of 9, SGD's 3 instead of 5.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def GroupFsdp : Pass<"mp-group-fsdp", "::mlir::ModuleOp"> {
  let summary = "Runs FSDP's collectives once per parameter group, as FSDP2";
  let description = [{
    On a partitioned step, puts the all_gathers of the FSDP parameters of
    one group side by side (the forward's, and apart from them the
    backward's regathers), and the reduce_scatters of their gradients, and
    tags them `mp.fsdp_group`. A group is what FSDP2 users wrap with
    `fully_shard`: each numbered layer (`layers.3` for
    `layers.3.attention.wq.weight`) and the root module (every other
    parameter). The lowering runs each run of tagged collectives as one
    runtime call on a packed buffer (`mp_all_gather_group`,
    `mp_reduce_scatter_group`), the memory plan reserves that buffer, and
    the communication report counts the call once. Values and shardings do
    not change, so `--mp-verify-gradient-sync` and the interpreter see the
    same program. `--mp-schedule-collectives` after it overlaps each run
    with compute as one collective.

    Collectives move only where that is sound: gathers of arguments to the
    group's first gather; reduce_scatters to the first when every gradient
    of the group is ready there, else to the last when no update reads one
    before it; otherwise the group is left as it is.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def CoalesceReductions
    : Pass<"mp-coalesce-reductions", "::mlir::ModuleOp"> {
  let summary = "Runs nearby small all_reduces as one call";
  let description = [{
    On a partitioned step, puts small all_reduces over the same mesh axes
    and element type side by side and tags them `mp.coalesced`: the
    lowering runs each run of them as one runtime call on a packed buffer
    (`mp_all_reduce_group`, as `torch.distributed`'s
    `all_reduce_coalesced`), the memory plan reserves that buffer, and the
    communication report counts the call once. A small all_reduce's time is
    its call's latency, not its bytes: the rows' mean squares of OLMo 2's
    split q/k norms (`--mp-split-norms`, two per layer each way) become
    one call each way, and a GPT-NeoX step's norm weight and bias
    gradients a few calls.

    An all_reduce of at most `max-bytes` joins the run of the last one
    before it (same mesh, axes, element type, no `mp.async`) when it does
    not sum a member's result and the ops that compute its operand after
    that run are pure, are neither collectives, waits nor GEMMs, read no
    member of the run and number at most 32: they move before the run and
    the all_reduce right after it. The run's earlier members then wait for
    those few ops (a norm weight's gradient, a row's mean square), and
    their results live a little longer; a GEMM is never moved (the chunks
    of `--mp-pipeline-tp-sums` keep their overlap). Values and shardings
    do not change, so `--mp-verify-gradient-sync` and the interpreter see
    the same program; `--mp-schedule-collectives` after it overlaps each
    run as one collective.
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"1048576",
           "The largest all_reduce (bytes per rank) that joins a run">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def VerifyGradientSync : Pass<"mp-verify-gradient-sync", "::mlir::ModuleOp"> {
  let summary = "Proves that every gradient of a partitioned step is synced";
  let description = [{
    On every partitioned function, re-derives from the arguments' shardings
    alone how each local value sits in its global value (the mesh axes
    splitting each dim, the axes over which it is a pending partial sum):
    collectives change that state by their definition, other ops by their
    sharding rules. It then proves that every optimizer update receives its
    gradient reduced over exactly the axes it is partial on (the axes the
    parameter is replicated on, and the batch axis) and split exactly as the
    parameter, and that no result is returned partial. It fails with a
    located error naming the parameter otherwise, and also where a
    non-linear op is applied to a partial sum or a collective sums a value
    that is not partial. torchtitan and Megatron-LM have shipped steps where
    a gradient was never reduced across tensor-parallel ranks; this is the
    check that catches it before anything runs.
  }];
}

def CommReport : Pass<"mp-comm-report", "::mlir::ModuleOp"> {
  let summary = "Writes what each rank sends, per collective, as JSON";
  let description = [{
    For every partitioned function, lists each collective with its kind,
    mesh axes, group size, element type, local shape and bytes, the bytes
    each rank sends under a ring algorithm over a group of n ranks
    (all_reduce: 2(n-1)/n of its buffer; all_gather: (n-1)/n of its result;
    reduce_scatter and all_to_all: (n-1)/n of their input; shard_slice:
    nothing), the same summed over all ranks of the mesh (`bytes_global`),
    and its provenance (`origin`). Totals follow per group of mesh axes and
    for the whole function (one training step). `mp-opt
    --mp-comm-report=FILE.json` abbreviates the `output` option.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to write the report to ('-' is standard output)">,
  ];
}

def Simulate : Pass<"mp-simulate", "::mlir::ModuleOp"> {
  let summary = "Writes the predicted time of each partitioned step, as JSON";
  let description = [{
    Predicts one rank's time for each partitioned function (or, in a module
    with none, each function: one device) on the machine that `machine`
    describes (a JSON file: per rank `gemm_flops_per_second`,
    `memory_bytes_per_second` and `op_seconds`; per mesh axis a link with
    `bytes_per_second` and `latency_seconds`, `links.default` for the
    others; and `overlap`). Each op costs the slower of its GEMM FLOPs at
    the GEMM rate and its kernel bytes at the memory bandwidth (the
    CostOpInterface counts the memory report sums), plus `op_seconds` (a
    reshape that took over its operand's buffer runs nothing);
    each collective the bytes a rank sends (the communication report's ring
    count) over the slowest link of its axes, plus the link's latency per
    ring step (2(n-1) for an all_reduce, n-1 for the others) and
    `op_seconds`. The step is compute plus communication, or the longer of
    the two with `overlap`. The report also gives the compute seconds by op
    name (`compute_seconds_per_op`, largest first). The mesh may be far
    larger than the machine the compiler runs on: the prediction reads only
    local types.
    `bench/machines/` holds calibrated machine files.
  }];
  let options = [
    Option<"machineFile", "machine", "std::string", /*default=*/"\"\"",
           "The machine file (JSON) to predict on">,
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to write the report to ('-' is standard output)">,
  ];
}

def AutoPlan : Pass<"mp-auto-plan", "::mlir::ModuleOp"> {
  let summary = "Chooses the plan whose training step is predicted fastest";
  let description = [{
    For a model without a plan and a device count (`ranks`), enumerates
    plans on a `data_parallel x tensor_parallel` mesh: every factorization
    of the ranks; over `tensor_parallel` > 1, Megatron-LM's layout (a linear
    fed by a colwise linear's split output, through ops that keep the split,
    is rowwise, every other linear colwise, embedding tables rowwise), with
    and without sequence parallelism on the norms; FSDP over
    `data_parallel` off, on, and on with `reshard_after_forward`. Each is
    compiled as a user's plan would be (`--mp-apply-plan`,
    `--mp-split-norms`, `--mp-train-step` with the `train-step` options,
    `--mp-spmd`); a candidate that fails to
    compile (a dim the mesh does not divide where it must) is reported with
    its first error. The others are planned for memory (`MemoryPlan`: the
    peak per rank), dropped when over the `memory` budget, and ranked by the
    step time predicted on the `machine` file (as `--mp-simulate`). A
    candidate over the budget whose model has a cross entropy is compiled
    again with its loss in chunks of tokens (`--mp-chunk-loss` after
    `--mp-spmd`: nearly free; its `passes` start with it, its name ends in
    `_chunked_loss`), then with that and selective, then op, then full
    activation recomputation, and keeps the first that fits (the least
    recomputation, the fastest; its plan's `recompute` says which), else the
    attempt with the smallest peak; where full fits and op does not, the
    fewest layers recomputed fully on top of op that fit (the plan's
    `recompute_full_layers`, found by bisection: memory falls, about, with
    each layer); unless the `train-step` options set `recompute` or
    `recompute-full-layers` themselves.

    The fastest is written as a plan file (`plan`) and left on the module
    (the mesh `@mesh` and the `mp.plan` attribute), so the passes after this
    one (`--mp-apply-plan --mp-split-norms --mp-train-step ...`) compile it
    as a hand-written
    plan. `report` lists every candidate: its plan (a plan file), status,
    predicted step, compute and communication seconds, peak bytes and bytes
    sent per rank, its rank and how much slower than the chosen one it is
    predicted; and how long the search took. When nothing fits, an error
    lists each candidate's status and peak.

    With `schedules`, each compiled candidate is also scheduled as the
    passes after `--mp-spmd` would schedule it: its collectives beside
    compute (`--mp-schedule-collectives`, with tensor parallelism also with
    `tp-overlap=true` and after `--mp-pipeline-tp-sums`: its sums and
    the work around them in two row chunks), and with FSDP grouped per
    parameter group
    (`--mp-group-fsdp`), alone and before each schedule, and with bf16
    GEMMs each of those after `--mp-narrow-gemm-operands` (activations
    held in bf16: less memory, a conversion each), and each of these (and
    the unscheduled step) with `--mp-fuse-gemm-accumulate` last (GEMM
    products added into the sums they feed: equal to float32 rounding,
    not bit for bit); it is ranked by the
    fastest of these that fits the budget (the smallest when none fits).
    That one is tried once more with its small all_reduces coalesced
    (`--mp-coalesce-reductions` after the passes that make collectives,
    before those that schedule or fuse them: fewer calls, each paying the
    link's latency once, for a copy of their bytes), which replaces it
    where that is faster and fits. The report gives the passes ranked
    (`passes`, beside every schedule tried). The plan file is the same;
    the passes are the compiler's to run.
  }];
  let options = [
    Option<"ranks", "ranks", "int64_t", /*default=*/"0",
           "The number of devices (ranks) to plan for">,
    Option<"machineFile", "machine", "std::string", /*default=*/"\"\"",
           "The machine file (JSON) to predict step times on">,
    Option<"memory", "memory", "std::string", /*default=*/"\"0\"",
           "The memory budget per rank, in bytes (KB, MB, GB, KiB, MiB, "
           "GiB suffixes); 0: none">,
    Option<"planFile", "plan", "std::string", /*default=*/"\"\"",
           "Write the chosen plan to this plan file">,
    Option<"reportFile", "report", "std::string", /*default=*/"\"\"",
           "Write every candidate to this JSON report">,
    Option<"trainStepOptions", "train-step", "std::string",
           /*default=*/"\"\"",
           "The options of --mp-train-step the step is built with">,
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "The model function (default: the module's only one)">,
    Option<"schedules", "schedules", "bool", /*default=*/"false",
           "Also rank each plan scheduled (--mp-schedule-collectives), with "
           "FSDP grouped (--mp-group-fsdp), with bf16 GEMMs their operands "
           "held in bf16 (--mp-narrow-gemm-operands), by the fastest that "
           "fits, its small all_reduces coalesced where that is faster "
           "(--mp-coalesce-reductions)">,
  ];
}

def MemoryReport : Pass<"mp-memory-report", "::mlir::ModuleOp"> {
  let summary = "Writes the planned per-rank memory of each function, as JSON";
  let description = [{
    Plans each function's memory as the runtime will allocate it (see
    `MemoryPlan`): the arguments (parameters, optimizer state, the batch)
    are persistent; every value an op produces gets an offset in one arena,
    clear of every value live beside it, so that dead values' buffers are
    reused (64-byte aligned; the smallest arena of first fit in program
    order and of greedy placements by size, largest first); a
    value computed elementwise from, reshaped from or all-reduced from an
    operand that nothing reads later takes over the operand's buffer.
    Reports per function the
    persistent bytes, the arena's size, what the temporaries would take
    without reuse, the peak (persistent + arena), and the updates written in
    place into their argument (`in_place_updates`: new parameters and
    optimizer state that take no arena space). On a partitioned step these
    are the bytes of ONE rank: the memory budget known before anything
    runs. With them, the floor a step's time is measured against
    (`bench/`): `gemm_flops`, the FLOPs of the rank's GEMMs (2 per output
    element and contracted element), and `kernel_bytes`, the bytes its
    kernels must touch (every operand read once, every result written
    once; collectives are in `--mp-comm-report`; transposes of the last two
    dims that only GEMMs read are not computed: the GEMMs read through
    them). Grouped FSDP calls' packed buffers (`--mp-group-fsdp`) are in
    the arena: `collective_scratch_bytes`, the one buffer at its top that
    the synchronous groups share, and `async_collective_scratch_bytes`,
    the asynchronous groups' own buffers summed (each pooled while its call
    is in flight); so are the score chunks of `mp.attention` and its
    gradient (`--mp-fuse-attention`), with the workspace of their GEMMs
    (`mp_attention_scratch_bytes`), or where the backend runs them as
    on-chip kernels (CUDA, where the head dims fit the shared memory of
    every architecture in `cuda-archs`: on an A100 bf16 up to 128 and tf32
    up to 80, on an H100 or H200 both up to 128) the gradient's float per
    query row: `attention_scratch_bytes`, the largest
    op's (each pooled while its op runs); the norm gradients' per-row
    statistics and (host) widened bfloat16 inputs
    (`mp_norm_grad_scratch_bytes`): `norm_grad_scratch_bytes`, the largest;
    and the staging of a collective
    along a dim that rows precede (`mp_collective_scratch_bytes`, pooled
    until its wait): `collective_staging_bytes`, the largest. What holds the peak:
    `peak_live`, the buffers live at a program position where the arena is
    at its top (the one with the most bytes live), grouped by what made them (the op's name and the
    element type, `mp.convert bf16` for activations saved in bf16; an op's
    or a collective group's scratch), largest first, with their bytes and
    count; `peak_gap_bytes`, the rest of the arena there (the placement's
    gaps; the synchronous collectives' scratch is apart); `max_live_bytes`,
    the most bytes live at one program position (with that scratch), below
    which no placement's arena goes. A GEMM that converts or lays out its
    operands first (bf16 GEMMs' rounded copies on the host; on CUDA mixed
    dtypes' converted operand and the transposed A of a FLOP-bound NT GEMM)
    does so in a workspace pooled while it runs, sized by the runtime's
    `mp_gemm_workspace_bytes` for `backend` (`host`, `cuda`, or `any`: the
    larger): `gemm_workspace_bytes`, the largest. Beside the functions,
    `backend_reserved_bytes`: what the runtime's context holds for its
    whole life on that backend (`mp_backend_reserved_bytes`: on CUDA
    cuBLAS's workspace, set with `cublasSetWorkspace` so that cuBLAS
    allocates none of its own, and the reductions' partial sums; none on
    the host), so that a rank's device budget is a step's `peak_bytes`
    plus these (the trainer prints its peak against both). `mp-opt
    --mp-memory-report=FILE.json` abbreviates the `output` option.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to write the report to ('-' is standard output)">,
    Option<"backend", "backend", "std::string", /*default=*/"\"any\"",
           "The runtime backend workspaces and staging are planned for: "
           "host, cuda or any (the larger of the two)">,
    ListOption<"cudaArchs", "cuda-archs", "int64_t",
               "The CUDA architectures the step is planned for (compute "
               "capability times ten, as CMAKE_CUDA_ARCHITECTURES: 80 an "
               "A100, 90 an H100 or H200; default 80,90, the runtime's "
               "build): attention is planned on chip where it runs so on "
               "every one">,
  ];
}

#endif // MP_TRANSFORMS_PASSES_TD
