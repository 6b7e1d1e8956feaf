//===- Passes.td - conversions into and out of mp ----------*- tablegen -*-===//

#ifndef MP_CONVERSION_PASSES_TD
#define MP_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def Import : Pass<"mp-import", "::mlir::ModuleOp"> {
  let summary = "Raises linalg-on-tensors (torch-mlir's output) into mp ops";
  let description = [{
    Turns every function with a body, written in `func` + `linalg` +
    `tensor` + `arith` + `math` (+ `ml_program` globals) on static f32
    tensors, as torch-mlir's `linalg-on-tensors` output and upstream's TOSA
    lowerings produce it, into a model function of the mp dialect:

    * `linalg.matmul` → `mp.matmul`, and `mp.linear` with PyTorch's
      `[out, in]` weight when the right operand is a transposed matrix (a
      transpose `linalg.generic` or `linalg.transpose`, as `nn.Linear`
      exports, or indexing maps that read it transposed); a left operand
      read transposed becomes `mp.transpose`; `linalg.batch_matmul` →
      `mp.matmul` (a right operand
      broadcast over the batch becomes the shared `[K, N]` operand). The
      accumulator must be a `linalg.fill` of zero (no add) or a tensor the
      product is then added to.
    * `linalg.generic` is classified by what its body computes, not by its
      position: each operand is first aligned to the iteration space
      (`mp.transpose`, `mp.reshape` for size-1 dims indexed by `0`,
      `mp.broadcast` for missing dims, so a bias add becomes
      `mp.add(y, mp.broadcast(b))`); then every sub-expression of the body
      that depends on one operand is compared, at a fixed set of probe
      points (0, ±1e-3 … ±100, and each constant of the body and its
      neighbours, within the f32 range), with the
      functions mp has: identity, `neg`, `exp`, `relu` (`cmpf` + `select`,
      `maximumf` with 0, a TOSA clamp), `sigmoid`, `tanh`, `silu`, `gelu` (erf
      form) and `gelu tanh` (tanh form; torch-mlir's constant 0.79772 for
      √(2/π) is accepted and imported as PyTorch's exact one), and
      multiplication by a constant (`mp.scale`). Other expressions are
      split at `addf`/`subf`/`mulf`/`divf`/`negf`/`exp` into the matching
      elementwise mp ops. Reduction iterators with an `addf` accumulator
      into a zero `linalg.fill` become `mp.sum` (followed by `mp.reshape`
      for `keepdim`); a sum scaled by one over its element count becomes
      `mp.mean`. A body that only yields an operand is that alignment
      alone: data movement (a transpose, broadcast or copy). A body that
      matches nothing is an error that prints it; one whose value depends
      on no tensor operand is an error naming the constant it reads.
    * `linalg.transpose` → `mp.transpose`, `linalg.broadcast` →
      `mp.broadcast`, `linalg.copy` → its input, `linalg.reduce` (addf) →
      `mp.sum`, the named
      elementwise `linalg.add`/`sub`/`mul`/`div`/`exp`/`negf` → mp ops.
    * `tensor.collapse_shape`/`expand_shape`/`reshape` → `mp.reshape`; a
      linear of a reshape that keeps the last dim (merges or adds leading
      dims, as TOSA's rank-3 matmul) becomes the `mp.linear` of the
      reshape's input, and a batched matmul of two reshapes that merge
      equal batch dims (per-head attention) the `mp.matmul` of their
      inputs, each reshaped after; reshapes that meet fold into one.

    A bf16 or f16 model (`model.bfloat16()`, `.half()`) first becomes the
    f32 model it rounds (`mp-widen-to-f32`): its weights are then f32
    master weights, and `--mp-train-step="precision=bf16"` runs its GEMMs
    in bf16.

    Parameters. Function arguments become named model values (`mp.param`
    or `mp.input`): arguments already named keep their role and name; an
    argument with a name (a name location `loc("...")`, as torch.export's
    placeholder names) that starts with `p_` is a parameter named as
    torch.export lifted it, `p_layers_0_w1_weight` → `layers.0.w1.weight`;
    an argument used as the weight of a linear is a parameter; the others
    are inputs. Weights that the IR holds as values (`ml_program.global`
    loaded by `ml_program.global_load`; tensor `arith.constant`s:
    torch-mlir's `dense_resource` literals, dense ones, and float splats of
    more than one element that an op reads as a tensor, as exports that
    inline their parameters spell them) become new parameter arguments
    after the existing ones, named after the global's symbol or the
    constant's name location, else `param<N>` by order of appearance. A
    splat read by several ops (canonicalization merges equal splats of
    different layers) is one parameter per reader, in program order; other
    splats (0-d or one-element, of integers, or only accumulators) stay
    scalars of the computation. The training step takes parameters as arguments, so their
    values leave the IR: `weights=FILE.safetensors` writes them there, as
    f32 global tensors under the parameter names, for `mp-train --init`
    (a weight whose values the IR does not hold, such as an elided
    `dense_resource` or an `ml_program.global` without a value, is then an
    error naming it); without it the trainer initialises them (`--init`
    file or seed). Unnamed inputs are `input<N>`.

    Loss (`loss`): `none` keeps the forward function as it is; `sum` and
    `mean` reduce its (single) result to a scalar; `mse` adds a target
    input `target` of the result's type and returns `mp.mse_loss`;
    `cross_entropy` adds an i64 target `target` of the result's shape
    without its last (class) dim and returns `mp.cross_entropy`; with
    `ignore-index=N` (PyTorch's `ignore_index`, -100 in Hugging Face's
    data) the targets equal to N add nothing and the loss is the mean over
    the others: the cross entropy's sum over the sum of `mp.target_mask`.
    The loss is then the function's only result, so `--mp-train-step`
    applies.

    TOSA v1.0 input goes through `mp-widen-to-f32`,
    `mp-raise-tosa-composites` (RMSNorm,
    softmax and the rotary embedding) and upstream's `tosa-to-linalg-named`,
    `tosa-to-linalg`, `tosa-to-tensor` and `tosa-to-arith` first: the
    pipeline `--mp-import-tosa` (with the same `loss` option) runs them and
    then this pass.

    Errors (located at the op or argument): ops outside the list above
    (e.g. torch-mlir's `tm_tensor.*`, convolutions, TOSA ops left by a
    missing lowering), listing what is supported; dynamic shapes;
    element types other than f32, bf16 and f16; a bitcast of bf16 or f16
    values;
    accumulators and reductions mp has no op
    for (max reductions, non-zero fills); a generic body that matches
    nothing, printed.
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"none\"",
           "The loss appended to each function: none, sum, mean, mse or "
           "cross_entropy">,
    Option<"weights", "weights", "std::string", /*default=*/"\"\"",
           "Write the values of the weights lifted to parameters to this "
           "safetensors file (for mp-train --init)">,
    Option<"ignoreIndex", "ignore-index", "std::string", /*default=*/"\"\"",
           "With loss=cross_entropy: the target value the loss skips "
           "(PyTorch's ignore_index, e.g. -100); empty: none">,
  ];
  let dependentDialects = ["::mp::MPDialect"];
}

def WidenToF32 : Pass<"mp-widen-to-f32", "::mlir::ModuleOp"> {
  let summary = "Reads a model exported in bf16 or f16 as the f32 model it "
                "rounds";
  let description = [{
    A model exported after `model.bfloat16()` or `.half()` (the dtypes
    large models' checkpoints are published in) computes in 16-bit floats,
    with f32 where its code asks (`x.float()` in RMSNorm, softmax and the
    rotary embedding; torch-mlir's products accumulate in f32). mp trains
    such a model with f32 master weights and its GEMMs in bf16
    (`--mp-train-step`'s `precision=bf16`), as FSDP2's
    `MixedPrecisionPolicy` and torchtitan do, so the importers read it as
    the f32 model it rounds:

    * every bf16 and f16 type (of tensors, scalars, arguments, results,
      globals) becomes f32;
    * literals widen exactly (every bf16 and f16 number is an f32): dense
      and splat constants, `dense_resource` blobs (an elided blob stays
      elided), globals' initial values; a clamp bound at the type's largest
      finite value (`tosa.clamp`'s, or a scalar constant only minima and
      maxima read), the end of its range, becomes the largest finite f32,
      so the clamp (TOSA's ReLU) still bounds nothing;
    * `arith.extf`/`arith.truncf` and `tosa.cast` between those types and
      f32, now from f32 to f32, are dropped.

    `mp-import` runs it first, and `--mp-import-tosa` before anything else,
    so the composites are found through the casts a bf16 export has around
    them. Models without 16-bit floats are unchanged. A bitcast of 16-bit
    floats has no f32 reading, and a `dense_resource` blob whose size is
    not its type's holds no such numbers: errors, before anything changes.
  }];
}

def RaiseTosaComposites
    : Pass<"mp-raise-tosa-composites", "::mlir::func::FuncOp"> {
  let summary = "Raises the composites TOSA spells in primitives into mp ops";
  let description = [{
    TOSA has no op for RMSNorm, softmax or the rotary embedding; exporters
    spell them in primitives mp has no op for (`rsqrt`, `reduce_max`,
    `reciprocal`, `slice`, `concat`). This pass, the first of
    `--mp-import-tosa` after `mp-widen-to-f32`, finds each as a whole on
    the TOSA ops and replaces it by the mp op (the rest is left for
    upstream's lowerings and `mp-import`):

    * `mp.rms_norm`: `x · rsqrt(mean(x²) + eps) · weight` over the last
      axis, as torch-mlir spells torchtitan's RMSNorm: `tosa.pow` by 2 (or
      `tosa.mul` of x by itself), `tosa.reduce_sum` over the last axis,
      `tosa.mul` by 1/D, `tosa.add` of a constant eps, `tosa.rsqrt`, then
      `tosa.mul` by x and by the weight (rank-1, or reshaped to
      `[1, ..., D]`); either operand order of each product and sum.
    * `mp.softmax`: `exp(x - reduce_max(x)) · reciprocal(reduce_sum(...))`
      over the last axis (aten._softmax); `causal` when x is masked by a
      constant causal mask: `tosa.select` of a constant i1 tril (keep on
      and below the diagonal, `-inf` elsewhere: `masked_fill` with a
      registered bool buffer) or `tosa.add` of a constant 0/`-inf` bias,
      on the last two dims (the others of size 1).
    * `mp.rope`: torchtitan's rotary embedding in real arithmetic (gpt-
      fast's `apply_rotary_emb`): x `[..., seq, heads, head_dim]` reshaped
      to pairs `[..., head_dim / 2, 2]`, each pair (a, b) sliced out,
      `(a·cos − b·sin, b·cos + a·sin)` with constant caches `cos`, `sin` of
      shape `[..., seq, 1, head_dim / 2, 1]`, concatenated on the last axis
      and reshaped back. The caches must be `cos/sin(p · θ^(-2i/head_dim))`
      for one θ, which is read from them (within f32 rounding) and becomes
      the op's `theta`.

    * `mp.embedding`: `nn.Embedding` as torch-mlir spells it, a
      `tosa.gather` of the `[V, D]` table reshaped to `[1, V, D]` by the
      ids reshaped to `[1, N]` (and cast to i32): the embedding of the ids
      as the model holds them (an i32 or i64 argument), reshaped.

    A `tosa.rsqrt`, `tosa.pow`, `tosa.reduce_max`, `tosa.reciprocal`,
    `tosa.select`, `tosa.slice`, `tosa.concat` or `tosa.gather` outside
    those patterns is
    an error at the op naming the composites mp reads it in.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def ExpandUnevenCollectives
    : Pass<"mp-expand-uneven-collectives", "::mlir::ModuleOp"> {
  let summary = "Rewrites collectives over uneven splits into even ones";
  let description = [{
    A collective over a dim split unevenly (`#mp.sharding`) moves padded
    pieces, which the runtime's collectives take only in equal sizes. This
    pass makes every collective even: an all_gather or all_to_all gathers
    the padded pieces and `mp.resize` truncates the concatenation to the
    whole extent; a reduce_scatter, shard_slice or all_to_all first extends
    its input with zeros (`mp.resize`) to a whole number of pieces.

    ```mlir
    %g = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<9x8xf32> -> tensor<17x8xf32>
    // becomes
    %p = mp.all_gather %x on @mesh axes ["tp"] dim 0 : tensor<9x8xf32> -> tensor<18x8xf32>
    %g = mp.resize %p dim 0 : tensor<18x8xf32> -> tensor<17x8xf32>
    ```

    `--mp-lower-to-runtime` runs it first; on its own it shows what the
    runtime will be asked to do.
  }];
  let dependentDialects = ["::mp::MPDialect"];
}

def LowerToRuntime : Pass<"mp-lower-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Rewrites each function into calls of the runtime's C ABI";
  let description = [{
    The last pass before code generation. Each function of `mp` ops
    (usually the partitioned training step) becomes
    `func.func @F(%ctx: !llvm.ptr, %args: !llvm.ptr, %outputs: !llvm.ptr)
    -> i32`, straight-line code that calls `mp_runtime.h`: one
    `mp_alloc` of the arena that `MemoryPlan` sized, every value at its
    planned offset in it, and per op a `mp_context_set_op` (so a runtime
    error names the op and its source location) and the kernel or
    collective (`mp_gemm_f32`, `mp_all_gather`, `mp_adamw_f32`, ...) with
    shapes and mesh axis indices as constant globals. `args[i]` holds
    argument i's local shard; a result named like a parameter or an
    optimizer state (`mp.output = "w1"`) is written back into that
    argument's buffer, by the optimizer op itself where nothing reads the
    argument later (in place, no arena space), else by a copy at the end.
    The other results (the loss) are copied to `outputs`, in order. The
    runtime's errors are sticky, so the function simply returns
    `mp_context_status`.

    The function keeps an `mp.manifest` attribute: the text, compiled into
    the object by `mp-translate`, from which the trainer learns the mesh,
    the arena size, and each argument's role, name, global and local shape
    and split (see docs/runtime-abi.md). The `mp.mesh` symbols and the plan
    are dropped. The result is readable IR ("what will run") and converts
    to LLVM with upstream passes (`mp-translate` runs them).

    Collectives over uneven splits are first made even
    (`--mp-expand-uneven-collectives`); `mp.zero_padding` and `mp.resize`
    call `mp_zero_padding` and `mp_resize_dim`.

    A GEMM that converts or lays out its operands first gets a workspace
    in the arena while it runs (`MemoryPlan`), passed to `mp_gemm_f32`,
    sized by `mp_gemm_workspace_bytes` for `backend`: `host`, `cuda`, or
    `any` (the default: the larger of the two, so the object runs on
    either without scratch of the runtime's own). So do fused attention's
    GEMMs, after its score chunks (`mp_attention_scratch_bytes`; on `cuda`
    where the head dims fit the shared memory of every architecture in
    `cuda-archs`, the GPUs the object will run on (default 80,90, those the
    runtime is built for: bf16 up to head dim 128 and tf32 up to 80;
    `cuda-archs=90`, H100 and H200 only: both up to 128;
    `mp_cuda_on_chip_attention_max_head_dim`), the on-chip kernels'
    `mp_attention_on_chip_scratch_bytes` instead; on a GPU with less shared
    memory the calls allocate the chunks' scratch themselves, counted), the
    norm gradients' per-row statistics (`mp_norm_grad_scratch_bytes`), and
    a collective that stages a dim that rows precede
    (`mp_collective_scratch_bytes`, until its wait).

    Only static f32 tensors (and i64 class targets) lower; other element
    types, non-splat constants and ops that partitioning should have removed
    are located errors.
  }];
  let options = [
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
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // MP_CONVERSION_PASSES_TD
