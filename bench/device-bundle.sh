#!/usr/bin/env bash
# Builds what bench/device-check.sh runs and packs it, with the Debian
# libraries the GPU machine lacks, into DEST (default .dev; keep it out of
# git with .git/info/exclude). Carry DEST to the GPU machine, then there:
#   source DEST/env.sh && bash DEST/bin/device-check.sh DEST
# With MP_LINK=build/emulated-cuda/bin/mp-link, a rehearsal: the trainers
# link the CUDA backend built on the emulated CUDA platform (run-ffn.sh and
# run-llama.sh take MP_LINK; mp-runtime-test is the one beside it), and
#   source DEST/env.sh && bash DEST/bin/device-check.sh DEST correctness
# runs the script's correctness half here, so that the script and what it
# runs are known to work before a lent GPU's minutes go to them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
dest="${1:-$root/.dev}"
work="$build/device"
rm -rf "$dest" "$work"
mkdir -p "$work"
"$root/scripts/build.sh" > /dev/null
# Open MPI's launcher too: the mpi transport's checks run 4 ranks on the
# one GPU (the launcher starts local ranks itself; orted is for remote ones).
runtime_test="$build/bin/mp-runtime-test"
[[ -n "${MP_LINK:-}" ]] && runtime_test="$(dirname "$MP_LINK")/mp-runtime-test"
files=("$runtime_test" "$root/bench/device-check.sh"
       "$root/bench/pytorch_ffn.py" "$root/bench/lightning_ffn.py"
       "$root/bench/profile-vs-model.py"
       "$root/test/Runtime/Inputs/tensors.py"
       /usr/bin/orterun)
/usr/local/cuda/bin/nvcc -O2 -o "$work/cuda_ceilings" "$root/bench/cuda_ceilings.cu" -lcublas
files+=("$work/cuda_ceilings")
compile() { # NAME DIM HIDDEN BATCH [MESH] [PRECISION] [run-ffn.sh options]
  MP_BUILD_DIR="$build" "$root/scripts/run-ffn.sh" --no-build --no-run --backend cuda \
    --mesh "${5:-1x1}" --precision "${6:-tf32}" --dim "$2" --hidden "$3" \
    --batch "$4" --out "$work/$1" "${@:7}" > "$work/$1.log"
  cp "$work/$1/train" "$work/train-$1"
  files+=("$work/train-$1")
}
compile small 256 512 64
# Batch 8: the weight gradients computed by their AdamW updates
# (mp_adamw_outer_f32), strict fp32 and bf16, against the host.
compile small-b8-fp32 256 512 8 1x1 fp32
compile small-b8-bf16 256 512 8 1x1 bf16
# The 2x2 steps for 4 ranks sharing the GPU over the mpi transport: the
# small one against the host backend, the seed's sizes timed.
compile small-2x2 256 512 64 2x2
# Each precision compiled into the step, against the host's same step.
compile small-2x2-fp32 256 512 64 2x2 fp32
compile small-2x2-bf16 256 512 64 2x2 bf16
# Activations held in bf16: native bf16 GEMMs, and mixed ones converting
# the smaller operand.
compile small-2x2-bf16-held 256 512 64 2x2 bf16 --narrow-gemm-operands
# Gradients summed in bf16 (FSDP2's reduce_dtype).
compile small-2x2-bf16-reduce 256 512 64 2x2 bf16 --reduce-dtype bf16
# Clipping folded into the one AdamW call (grad_scale), strict fp32.
compile small-2x2-clip 256 512 64 2x2 fp32 --max-grad-norm 1.0 --fuse-optimizer
# FSDP's collectives grouped and scheduled: the packing and unpacking copy
# batches (one kernel per side), the unpacking at each group's wait.
compile small-2x2-grouped 256 512 64 2x2 fp32 --fsdp-groups --overlap
compile 2x2-8192x8192x8 8192 8192 8 2x2
# A Llama-shaped step (the transformer ops' CUDA kernels: embedding, RMSNorm,
# rotary, causal softmax, loss-parallel cross entropy) on one GPU.
MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
  --backend cuda --mesh 1x1 --layers 2 --dim 128 --heads 4 --kv-heads 2 \
  --vocab 512 --seq 64 --batch 4 --loss-parallel-blocks 4 \
  --out "$work/llama" > "$work/llama.log"
cp "$work/llama/train" "$work/train-llama"
files+=("$work/train-llama")
# The Llama step on 2x2 (4 ranks sharing the GPU), fp32, plain and with its
# tensor-parallel sums and the work around them in row chunks, scheduled.
for variant in plain chunked; do
  extra=()
  [[ $variant == chunked ]] && extra=(--tp-chunks 2 --overlap)
  MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
    --backend cuda --mesh 2x2 --layers 2 --dim 128 --heads 4 --kv-heads 2 \
    --vocab 512 --seq 64 --batch 4 --precision fp32 "${extra[@]}" \
    --out "$work/llama-2x2-$variant" > "$work/llama-2x2-$variant.log"
  cp "$work/llama-2x2-$variant/train" "$work/train-llama-2x2-$variant"
  files+=("$work/train-llama-2x2-$variant")
done
# The Llama on 2x2 with sequence parallelism in bf16, its activations saved
# in bf16 (saved-dtype: conversion kernels, sequence-sharded bf16 values
# gathered again for the backward GEMMs), recomputed by op with its first
# layer full, the GEMM operands read in bf16, the loss in 4 chunks of the
# sequence (copied slices, joins, accumulating weight-gradient GEMMs).
MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
  --backend cuda --mesh 2x2 --layers 2 --dim 128 --heads 4 --kv-heads 2 \
  --vocab 512 --seq 64 --batch 4 --sequence-parallel --precision bf16 \
  --saved-dtype bf16 --recompute op --recompute-full-layers 1 \
  --narrow-gemm-operands --chunk-loss 4 --out "$work/llama-2x2-saved" \
  > "$work/llama-2x2-saved.log"
cp "$work/llama-2x2-saved/train" "$work/train-llama-2x2-saved"
files+=("$work/train-llama-2x2-saved")
# Attention fused (--fuse-attention: mp.attention in chunks of query rows,
# cuBLAS GEMMs and the softmax kernels per chunk): the small Llama in
# chunks of a few rows, against the host and the unfused step; and a longer
# sequence in bf16, timed fused and unfused.
MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
  --backend cuda --mesh 1x1 --layers 2 --dim 128 --heads 4 --kv-heads 2 \
  --vocab 512 --seq 64 --batch 4 --loss-parallel-blocks 4 \
  --attention-chunk-bytes 16384 \
  --out "$work/llama-fused" > "$work/llama-fused.log"
cp "$work/llama-fused/train" "$work/train-llama-fused"
files+=("$work/train-llama-fused")
# In bf16 the CUDA backend runs attention as on-chip kernels
# (FlashAttention.cu): 3 blocks of query rows and keys, the last one
# partial, checked against the composition (MP_CUDA_ATTENTION=composed)
# and the host, and under racecheck.
MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
  --backend cuda --mesh 1x1 --layers 2 --dim 128 --heads 4 --kv-heads 2 \
  --vocab 512 --seq 160 --batch 4 --loss-parallel-blocks 4 \
  --precision bf16 --fuse-attention \
  --out "$work/llama-fused-bf16" > "$work/llama-fused-bf16.log"
cp "$work/llama-fused-bf16/train" "$work/train-llama-fused-bf16"
files+=("$work/train-llama-fused-bf16")
# tf32 at head dim 128 runs on chip on an H100 or H200 only (its key-gradient
# kernel takes 205 KB of shared memory; an A100 has 163 KB), so a step
# planned for them (--cuda-archs 90) gives it the on-chip scratch: on the
# device its peak is the plan's, composed it is above by the scores.
MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
  --backend cuda --cuda-archs 90 --mesh 1x1 --layers 2 --dim 256 --heads 2 \
  --kv-heads 1 --vocab 512 --seq 160 --batch 4 --loss-parallel-blocks 4 \
  --fuse-attention --out "$work/llama-tf32-h128" > "$work/llama-tf32-h128.log"
cp "$work/llama-tf32-h128/train" "$work/train-llama-tf32-h128"
files+=("$work/train-llama-tf32-h128")
for variant in plain fused; do
  extra=()
  [[ $variant == fused ]] && extra=(--fuse-attention)
  MP_BUILD_DIR="$build" "$root/scripts/run-llama.sh" --no-build --no-run \
    --backend cuda --mesh 1x1 --layers 4 --dim 1024 --heads 16 --kv-heads 8 \
    --ffn-hidden 2816 --vocab 4096 --seq 2048 --batch 4 --precision bf16 \
    "${extra[@]}" --out "$work/llama-long-$variant" \
    > "$work/llama-long-$variant.log"
  cp "$work/llama-long-$variant/train" "$work/train-llama-long-$variant"
  # The cost model's prediction of the step, op by op, for
  # profile-vs-model.py beside the device's MP_PROFILE table.
  "$build/bin/mp-opt" "$work/llama-long-$variant/step.mlir" \
    --mp-simulate="machine=$root/bench/machines/h100-node.json output=$work/sim-llama-long-$variant.json" \
    -o /dev/null
  files+=("$work/train-llama-long-$variant" \
          "$work/sim-llama-long-$variant.json")
done
# The compute-bound step in strict float32 and in bf16, timed beside
# PyTorch's same modes.
# The memory-bound step with every AdamW update in one launch.
compile 8192x8192x8-fused 8192 8192 8 1x1 tf32 --fuse-optimizer
compile 8192x8192x8192-fp32 8192 8192 8192 1x1 fp32
compile 8192x8192x8192-bf16 8192 8192 8192 1x1 bf16
compile 8192x8192x8192-bf16-held 8192 8192 8192 1x1 bf16 --narrow-gemm-operands
for size in 8192x8192x8 8192x8192x8192; do
  IFS=x read -r dim hidden batch <<< "$size"
  compile "$size" "$dim" "$hidden" "$batch"
  # The step's floor per the compiler: GEMM FLOPs and kernel bytes.
  python3 -c '
import json, sys
for f in json.load(open(sys.argv[1]))["functions"]:
    if f["function"] == "ffn_train_step":
        print("floor: gemm_flops %d kernel_bytes %d" % (f["gemm_flops"], f["kernel_bytes"]))
' "$work/$size/memory.json" > "$work/floor-$size.txt"
  files+=("$work/floor-$size.txt")
done
"$root/../shared/device/bundle.sh" "$dest" "${files[@]}"
# The device call carries 64 MiB at most: OpenBLAS (36 MB) and the trainers
# (2.3 MB each, mostly the runtime's CUDA kernels) travel xz-compressed (4
# MB, 0.5 MB each); device-check.sh unpacks them before anything runs.
xz -9 -T2 "$dest/lib/libopenblas.so.0" "$dest"/bin/train-*
bytes=$(du -sb "$dest" | cut -f1)
if ((bytes > 64 * 1024 * 1024)); then
  echo "device-bundle.sh: $dest holds $bytes bytes, more than the 64 MiB the" \
       "device call carries" >&2
  exit 1
fi
echo "$dest: $bytes bytes (the device call carries 64 MiB)"
