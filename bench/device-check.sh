#!/usr/bin/env bash
# One prepared run on a lent GPU machine (one GPU, no MLIR, no Debian MPI),
# from a bundle made on the build machine:
#
#   bench/device-bundle.sh .dev         # here: builds and packs into .dev
#   source .dev/env.sh && bash .dev/bin/device-check.sh .dev   # there
#
# `device-check.sh DEV correctness` stops after the correctness half (a
# rehearsal on the emulated CUDA platform: bench/device-bundle.sh says how).
#
# In order, so that a run cut short still says the most important thing:
# correctness (the runtime's checks on the CUDA backend; the compiled FFN
# and Llama steps on CUDA against the host backend, same seed, the Llama
# with fused attention against both too, and in bf16 its on-chip kernels
# against the composition and the host; the steps
# captured once as a CUDA graph and replayed (--cuda-graph) against eager
# launches; the 2x2 FFN step on 4 ranks sharing the GPU over the mpi
# transport against the host backend, in tf32, strict fp32 and bf16), then
# timings of the seed's FFN step beside PyTorch's modes in the same run,
# with the ceilings (eager and graph-replayed; batch 8 with one fused AdamW
# launch; batch 8192 in fp32 and bf16 beside PyTorch in the same mode; a
# seq-2048 Llama with attention unfused and fused),
# then the seed's 2x2 step on the one GPU over the mpi transport (a test
# path, not a fast one), then per-op profiles, then compute-sanitizer on
# the runtime's checks.
set -uo pipefail
dev="$1"
only="${2:-all}"
bin="$dev/bin"
py=python3
section() { echo; echo "=== $* ($(date +%T))"; }

# OpenBLAS and the trainers travel compressed (bench/device-bundle.sh):
# unpack them first.
for packed in "$dev/lib/libopenblas.so.0.xz" "$bin"/train-*.xz; do
  [[ -e "$packed" && ! -e "${packed%.xz}" ]] || continue
  "$py" -c 'import lzma, shutil, sys
with lzma.open(sys.argv[1]) as packed, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(packed, out)' "$packed" "${packed%.xz}"
  chmod +x "${packed%.xz}"
done

section "device"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader ||
  echo "no nvidia-smi: an emulated CUDA platform, if this is a rehearsal"

# 4 ranks on this one GPU (CUDA_VISIBLE_DEVICES=0 whatever the machine has).
mpirun=("$bin/orterun" --allow-run-as-root --oversubscribe
        --mca btl_vader_single_copy_mechanism none -x CUDA_VISIBLE_DEVICES=0 -n 4)

section "runtime checks, CUDA backend (collectives over nccl and mpi)"
"$bin/mp-runtime-test" --backend cuda replica=1

section "runtime checks, CUDA backend, 4 ranks sharing the GPU over mpi (2x2, 1x4)"
"${mpirun[@]}" "$bin/mp-runtime-test" --backend cuda --transports mpi dp=2 tp=2
"${mpirun[@]}" "$bin/mp-runtime-test" --backend cuda --transports mpi dp=1 tp=4

section "compiled step, CUDA against host backend (dim 256 hidden 512 batch 64, same seed)"
for backend in cuda host; do
  "$bin/train-small" --backend "$backend" --steps 4 --seed 5 > "$dev/small-$backend.log" || echo "train-small --backend $backend failed"
  cat "$dev/small-$backend.log"
done
# TF32 GEMMs on CUDA, float32 on the host.
"$py" "$bin/tensors.py" losses --rtol 2e-3 --atol 1e-3 "$dev/small-cuda.log" "$dev/small-host.log"

section "batch 8: the weight gradients computed by their AdamW updates (mp_adamw_outer_f32), CUDA against host backend, strict fp32 and bf16"
for precision in fp32 bf16; do
  for backend in cuda host; do
    "$bin/train-small-b8-$precision" --backend "$backend" --steps 4 --seed 5 --save "$dev/small-b8-$precision-$backend.safetensors" > "$dev/small-b8-$precision-$backend.log" || echo "train-small-b8-$precision --backend $backend failed"
  done
  "$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-4 "$dev/small-b8-$precision-cuda.log" "$dev/small-b8-$precision-host.log"
  "$py" "$bin/tensors.py" compare --rtol 1e-4 --atol 1e-4 "$dev/small-b8-$precision-cuda.safetensors" "$dev/small-b8-$precision-host.safetensors"
done

section "Llama step (2 layers, dim 128, GQA, vocab 512), CUDA against host backend"
for backend in cuda host; do
  "$bin/train-llama" --backend "$backend" --steps 4 --seed 5 > "$dev/llama-$backend.log" || echo "train-llama --backend $backend failed"
  cat "$dev/llama-$backend.log"
done
"$py" "$bin/tensors.py" losses --rtol 2e-3 --atol 1e-3 "$dev/llama-cuda.log" "$dev/llama-host.log"

section "Llama step with fused attention (tf32; on CUDA on chip, and composed in chunks of a few query rows), CUDA against host backend and against the unfused step"
for backend in cuda host; do
  "$bin/train-llama-fused" --backend "$backend" --steps 4 --seed 5 > "$dev/llama-fused-$backend.log" || echo "train-llama-fused --backend $backend failed"
  cat "$dev/llama-fused-$backend.log"
done
MP_CUDA_ATTENTION=composed "$bin/train-llama-fused" --backend cuda --steps 4 --seed 5 > "$dev/llama-fused-composed.log" || echo "train-llama-fused (composed) failed"
for log in llama-fused-cuda llama-fused-composed; do
  "$py" "$bin/tensors.py" losses --rtol 2e-3 --atol 1e-3 "$dev/$log.log" "$dev/llama-fused-host.log"
  "$py" "$bin/tensors.py" losses --rtol 2e-3 --atol 1e-3 "$dev/$log.log" "$dev/llama-cuda.log"
done
"$bin/train-llama-fused" --backend cuda --cuda-graph --steps 4 --seed 5 > "$dev/llama-fused-graph.log" || echo "train-llama-fused --cuda-graph failed"
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/llama-fused-graph.log" "$dev/llama-fused-cuda.log"

# Trains $bin/train-NAME for 4 steps on CUDA with attention on chip and
# composed (MP_CUDA_ATTENTION) and on the host, and compares the losses of
# both CUDA runs with the host's and each other within RTOL and ATOL:
# $dev/NAME-{on-chip-cuda,composed-cuda,host}.log.
train_attention_modes() { # NAME RTOL ATOL
  for mode in on-chip composed; do
    MP_CUDA_ATTENTION=$mode "$bin/train-$1" --backend cuda --steps 4 --seed 5 > "$dev/$1-$mode-cuda.log" || echo "train-$1 ($mode) failed"
    cat "$dev/$1-$mode-cuda.log"
  done
  "$bin/train-$1" --backend host --steps 4 --seed 5 > "$dev/$1-host.log" || echo "train-$1 --backend host failed"
  "$py" "$bin/tensors.py" losses --rtol "$2" --atol "$3" "$dev/$1-on-chip-cuda.log" "$dev/$1-composed-cuda.log"
  "$py" "$bin/tensors.py" losses --rtol "$2" --atol "$3" "$dev/$1-on-chip-cuda.log" "$dev/$1-host.log"
  "$py" "$bin/tensors.py" losses --rtol "$2" --atol "$3" "$dev/$1-composed-cuda.log" "$dev/$1-host.log"
}

section "Llama step, bf16, fused attention: the on-chip kernels against the composition (MP_CUDA_ATTENTION=composed) and the host backend"
# bf16 roundings apart (the on-chip forward pass rounds unnormalized
# probabilities); the host test bounds them at 6e-2 of the largest entry.
train_attention_modes llama-fused-bf16 2e-2 1e-2
"$bin/train-llama-fused-bf16" --backend cuda --cuda-graph --steps 4 --seed 5 > "$dev/llama-bf16-graph.log" || echo "train-llama-fused-bf16 --cuda-graph failed"
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/llama-bf16-graph.log" "$dev/llama-fused-bf16-on-chip-cuda.log"

section "Llama step, tf32, head dim 128, fused attention planned for H100/H200 (--cuda-archs 90): the on-chip kernels against the composition and the host backend"
train_attention_modes llama-tf32-h128 2e-3 1e-3

section "CUDA graph (--cuda-graph): the compiled steps captured once and replayed, against eager launches (1 rank, nccl)"
# The FFN: the same kernels and GEMMs on the same buffers, so bit for bit
# expected (compared to 1e-6; the largest difference is printed).
"$bin/train-small" --backend cuda --steps 6 --seed 5 --save "$dev/small-eager.safetensors" > "$dev/small-eager.log" || echo "train-small eager failed"
"$bin/train-small" --backend cuda --cuda-graph --steps 6 --seed 5 --save "$dev/small-graph.safetensors" > "$dev/small-graph.log" || echo "train-small --cuda-graph failed"
cat "$dev/small-graph.log"
"$py" "$bin/tensors.py" losses --rtol 1e-6 --atol 1e-6 "$dev/small-graph.log" "$dev/small-eager.log"
"$py" "$bin/tensors.py" compare --rtol 1e-6 --atol 1e-6 "$dev/small-graph.safetensors" "$dev/small-eager.safetensors"
# The Llama step: its embedding gradient adds with atomicAdd in no fixed
# order, so against the eager run (llama-cuda.log, above) to a tolerance.
"$bin/train-llama" --backend cuda --cuda-graph --steps 4 --seed 5 > "$dev/llama-graph.log" || echo "train-llama --cuda-graph failed"
cat "$dev/llama-graph.log"
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/llama-graph.log" "$dev/llama-cuda.log"
# Refused before the first step: the mpi transport, MP_PROFILE=1.
"$bin/train-small" --backend cuda --cuda-transport mpi --cuda-graph --steps 2 2>&1 | tail -1
MP_PROFILE=1 "$bin/train-small" --backend cuda --cuda-graph --steps 2 2>&1 | tail -1

section "2x2 step on one GPU, 4 ranks over mpi, against the host backend (dim 256 hidden 512 batch 64, same seed, TF32 off)"
"${mpirun[@]}" -x NVIDIA_TF32_OVERRIDE=0 "$bin/train-small-2x2" --backend cuda --cuda-transport mpi \
  --steps 4 --seed 5 --save "$dev/small-2x2-cuda.safetensors" > "$dev/small-2x2-cuda.log" || echo "train-small-2x2 on cuda failed"
"${mpirun[@]}" "$bin/train-small-2x2" --steps 4 --seed 5 --save "$dev/small-2x2-host.safetensors" > "$dev/small-2x2-host.log" || echo "train-small-2x2 on host failed"
cat "$dev/small-2x2-cuda.log" "$dev/small-2x2-host.log"
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/small-2x2-cuda.log" "$dev/small-2x2-host.log"
"$py" "$bin/tensors.py" compare --rtol 1e-4 --atol 1e-5 "$dev/small-2x2-cuda.safetensors" "$dev/small-2x2-host.safetensors"

section "each precision (bf16 also with activations held in bf16; fp32 clipped, one AdamW call; fp32 grouped and scheduled): the 2x2 step on 4 ranks sharing the GPU against the host"
# Trains $bin/train-NAME for 4 steps on 4 ranks sharing the GPU (mpi
# transport) and on the host: $dev/NAME-{cuda,host}.{log,safetensors}.
train_cuda_and_host() {
  "${mpirun[@]}" "$bin/train-$1" --backend cuda --cuda-transport mpi \
    --steps 4 --seed 5 --save "$dev/$1-cuda.safetensors" > "$dev/$1-cuda.log" || echo "train-$1 on cuda failed"
  "${mpirun[@]}" "$bin/train-$1" --steps 4 --seed 5 \
    --save "$dev/$1-host.safetensors" > "$dev/$1-host.log" || echo "train-$1 on host failed"
}
for precision in fp32 bf16 bf16-held bf16-reduce clip grouped; do
  train_cuda_and_host "small-2x2-$precision"
done
# fp32 is strict float32 on both (no TF32 whatever the environment).
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/small-2x2-fp32-cuda.log" "$dev/small-2x2-fp32-host.log"
"$py" "$bin/tensors.py" compare --rtol 1e-4 --atol 1e-5 "$dev/small-2x2-fp32-cuda.safetensors" "$dev/small-2x2-fp32-host.safetensors"
# Clipped (mp.squared_norm, grad_scale in the multi-tensor AdamW), fp32.
# Clipping scales small gradients down to AdamW's eps (1e-8), where the
# update follows their rounding: in the emulated platform's rehearsal,
# w3[381, 126]'s first update is -5.3e-4 on the host and -4.4e-4 on CUDA
# (a whole first step is lr = 3e-3: its clipped gradient is about 2e-9),
# and 9 of 393216 parameters end more than 1e-5 apart (8.7e-5 at most;
# unclipped, 8e-6), so the parameters to 1e-4.
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/small-2x2-clip-cuda.log" "$dev/small-2x2-clip-host.log"
"$py" "$bin/tensors.py" compare --rtol 1e-4 --atol 1e-4 "$dev/small-2x2-clip-cuda.safetensors" "$dev/small-2x2-clip-host.safetensors"
# FSDP groups scheduled (copy-batch kernels, unpacking at the wait), fp32.
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/small-2x2-grouped-cuda.log" "$dev/small-2x2-grouped-host.log"
"$py" "$bin/tensors.py" compare --rtol 1e-4 --atol 1e-5 "$dev/small-2x2-grouped-cuda.safetensors" "$dev/small-2x2-grouped-host.safetensors"
# bf16: cuBLAS's conversion against the host's round-to-nearest-even.
"$py" "$bin/tensors.py" losses --rtol 5e-2 --atol 5e-2 "$dev/small-2x2-bf16-cuda.log" "$dev/small-2x2-bf16-host.log"
"$py" "$bin/tensors.py" losses --rtol 1e-3 --atol 1e-3 "$dev/small-2x2-bf16-cuda.log" "$dev/small-2x2-bf16-host.log" || echo "(bf16: cuda and host differ by more than 1e-3)"
# Activations held in bf16 (native bf16 GEMMs on CUDA): against the host,
# where holding changes no bit, and against CUDA's bf16 step.
"$py" "$bin/tensors.py" losses --rtol 5e-2 --atol 5e-2 "$dev/small-2x2-bf16-held-cuda.log" "$dev/small-2x2-bf16-held-host.log"
"$py" "$bin/tensors.py" losses --rtol 0 --atol 0 "$dev/small-2x2-bf16-held-host.log" "$dev/small-2x2-bf16-host.log"
"$py" "$bin/tensors.py" losses --rtol 1e-3 --atol 1e-3 "$dev/small-2x2-bf16-held-cuda.log" "$dev/small-2x2-bf16-cuda.log" || echo "(bf16 held: native and FAST_16BF GEMMs differ by more than 1e-3)"
# bf16 gradient sums: MPI's pairwise bf16 additions on both (the mpi
# transport), in the same order, after bf16 GEMMs.
"$py" "$bin/tensors.py" losses --rtol 5e-2 --atol 5e-2 "$dev/small-2x2-bf16-reduce-cuda.log" "$dev/small-2x2-bf16-reduce-host.log"

section "Llama 2x2, fp32, plain and in row chunks (--mp-pipeline-tp-sums, scheduled) on 4 ranks sharing the GPU, against the host"
# (Compiled fp32: strict float32 whatever the environment.)
for variant in plain chunked; do
  train_cuda_and_host "llama-2x2-$variant"
done
# Chunked on cuda against the host (fewer rows per GEMM: cuBLAS may round
# otherwise) and against cuda unchunked; on the host bit for bit.
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/llama-2x2-chunked-cuda.log" "$dev/llama-2x2-chunked-host.log"
"$py" "$bin/tensors.py" compare --rtol 1e-4 --atol 1e-5 "$dev/llama-2x2-chunked-cuda.safetensors" "$dev/llama-2x2-chunked-host.safetensors"
"$py" "$bin/tensors.py" losses --rtol 1e-4 --atol 1e-5 "$dev/llama-2x2-chunked-cuda.log" "$dev/llama-2x2-plain-cuda.log"
"$py" "$bin/tensors.py" losses --rtol 0 --atol 0 "$dev/llama-2x2-chunked-host.log" "$dev/llama-2x2-plain-host.log"

section "Llama 2x2, sequence parallel, bf16 with activations saved in bf16, op + first layer full, the loss in 4 chunks, on 4 ranks sharing the GPU, against the host"
train_cuda_and_host llama-2x2-saved
# bf16: cuBLAS's conversions and sums against the host's, each rounding of
# a saved value possibly a bf16 step apart.
"$py" "$bin/tensors.py" losses --rtol 5e-2 --atol 5e-2 "$dev/llama-2x2-saved-cuda.log" "$dev/llama-2x2-saved-host.log"
"$py" "$bin/tensors.py" losses --rtol 1e-3 --atol 1e-3 "$dev/llama-2x2-saved-cuda.log" "$dev/llama-2x2-saved-host.log" || echo "(saved bf16: cuda and host differ by more than 1e-3)"

section "peak memory against the plan (every CUDA run above; GEMM workspaces planned for CUDA, the backend's own scratch counted)"
# A step compiled for CUDA (device-bundle.sh) plans its GEMMs' workspaces,
# the norm gradients' statistics and attention's scratch as the on-chip
# kernels take it (ABI 16), and the trainer's plan adds the context's
# reserved block (cuBLAS's workspace, given with cublasSetWorkspace, and
# the partial sums: mp_backend_reserved_bytes); a peak above the plan is
# scratch the CUDA
# backend allocated for itself (staged collectives of split dims, the
# scores of attention composed under MP_CUDA_ATTENTION=composed).
"$py" - "$dev"/*cuda*.log "$dev"/*graph*.log <<'PEAKS'
import os, re, sys
for path in sorted(set(sys.argv[1:])):
    if not os.path.isfile(path):
        continue
    peaks = re.findall(r"\((\d+) bytes; planned (\d+)\)", open(path).read())
    beyond = [int(p) - int(q) for p, q in peaks if p != q]
    if peaks:
        print(f"{os.path.basename(path)}: {len(peaks) - len(beyond)} of {len(peaks)} ranks at the planned peak"
              + (f", others {sorted(set(beyond))} bytes beyond it" if beyond else ""))
PEAKS

if [[ "$only" == correctness ]]; then
  section "done (correctness only)"
  exit 0
fi

section "ceilings"
"$bin/cuda_ceilings"

for size in 8192x8192x8 8192x8192x8192; do
  IFS=x read -r dim hidden batch <<< "$size"
  section "FFN $size, mp (median of 20 steps after 3)"
  "$bin/train-$size" --backend cuda --steps 23 --warmup 3 --time | grep -v "^step [0-9]"
  echo "with --cuda-graph (captured after step 0, replayed):"
  "$bin/train-$size" --backend cuda --cuda-graph --steps 23 --warmup 3 --time | grep -v "^step [0-9]"
  if [[ "$batch" == 8192 ]]; then
    echo "with MP_CUDA_NT_GEMM=direct (the weight gradients in cuBLAS's NT layout, not transposed first):"
    MP_CUDA_NT_GEMM=direct "$bin/train-$size" --backend cuda --steps 23 --warmup 3 --time | grep -v "^step [0-9]"
  fi
  cat "$bin/floor-$size.txt"
  section "FFN $size, PyTorch eager / fused AdamW / compile + fused"
  "$py" "$bin/pytorch_ffn.py" --device cuda --dim "$dim" --hidden "$hidden" --batch "$batch" --steps 20 --warmup 3
  "$py" "$bin/pytorch_ffn.py" --device cuda --dim "$dim" --hidden "$hidden" --batch "$batch" --steps 20 --warmup 3 --fused
  "$py" "$bin/pytorch_ffn.py" --device cuda --dim "$dim" --hidden "$hidden" --batch "$batch" --steps 20 --warmup 5 --fused --compile 2>&1 | tail -2
  if [[ "$batch" == 8 ]]; then
    echo "Lightning ModelParallelStrategy 1x1 (the seed's Fabric example):"
    "$py" "$bin/lightning_ffn.py" --dim "$dim" --hidden "$hidden" --batch "$batch" --steps 20 --warmup 3 2>&1 | tail -2
  fi
done

section "Llama 4 layers, dim 1024, seq 2048, batch 4, bf16, 1x1: attention unfused, fused on chip, fused composed (median of 8 steps after 3, with --cuda-graph)"
for variant in plain fused; do
  "$bin/train-llama-long-$variant" --backend cuda --cuda-graph --steps 11 --warmup 3 --time | grep -v "^step [0-9]"
done
MP_CUDA_ATTENTION=composed "$bin/train-llama-long-fused" --backend cuda --cuda-graph --steps 11 --warmup 3 --time | grep -v "^step [0-9]"
MP_PROFILE=1 "$bin/train-llama-long-fused" --backend cuda --steps 5 --warmup 2 2> "$dev/profile-llama-long-fused.txt" > /dev/null
grep -v "^step [0-9]" "$dev/profile-llama-long-fused.txt" | head -25
MP_PROFILE=1 "$bin/train-llama-long-plain" --backend cuda --steps 5 --warmup 2 2> "$dev/profile-llama-long-plain.txt" > /dev/null
for variant in plain fused; do
  echo "measured against the cost model (h100-node.json), $variant:"
  "$py" "$bin/profile-vs-model.py" "$dev/profile-llama-long-$variant.txt" "$bin/sim-llama-long-$variant.json" || echo "profile-vs-model.py ($variant) failed"
done
echo "the attention ops composed (MP_CUDA_ATTENTION=composed), beside the on-chip ones above:"
MP_CUDA_ATTENTION=composed MP_PROFILE=1 "$bin/train-llama-long-fused" --backend cuda --steps 5 --warmup 2 2>&1 | grep -E "profile|mp.attention"

section "FFN 8192x8192x8 with --fuse-optimizer, mp (at batch 8 each update computes its weight gradient, mp_adamw_outer_f32, and runs alone, as above)"
"$bin/train-8192x8192x8-fused" --backend cuda --steps 23 --warmup 3 --time | grep -v "^step [0-9]"

for precision in fp32 bf16; do
  section "FFN 8192x8192x8192 in $precision, mp, then PyTorch eager / fused AdamW"
  "$bin/train-8192x8192x8192-$precision" --backend cuda --steps 13 --warmup 3 --time | grep -v "^step [0-9]"
  if [[ "$precision" == bf16 ]]; then
    echo "with MP_CUDA_NT_GEMM=direct (strict fp32 runs no tensor cores, so every layout as it is):"
    MP_CUDA_NT_GEMM=direct "$bin/train-8192x8192x8192-$precision" --backend cuda --steps 13 --warmup 3 --time | grep -v "^step [0-9]"
    echo "activations held in bf16 (--narrow-gemm-operands: native bf16 GEMMs):"
    "$bin/train-8192x8192x8192-bf16-held" --backend cuda --steps 13 --warmup 3 --time | grep -v "^step [0-9]"
  fi
  "$py" "$bin/pytorch_ffn.py" --device cuda --dim 8192 --hidden 8192 --batch 8192 --steps 10 --warmup 3 --precision "$precision"
  "$py" "$bin/pytorch_ffn.py" --device cuda --dim 8192 --hidden 8192 --batch 8192 --steps 10 --warmup 3 --precision "$precision" --fused
done

section "FFN 8192x8192x8, mesh 2x2 on one GPU: 4 ranks over mpi, a test path (median of 5 steps after 2)"
"${mpirun[@]}" "$bin/train-2x2-8192x8192x8" --backend cuda --cuda-transport mpi --steps 7 --warmup 2 --time | grep -v "^step [0-9]"

for size in 8192x8192x8 8192x8192x8192; do
  section "FFN $size, MP_PROFILE=1 (5 steps after 3)"
  MP_PROFILE=1 "$bin/train-$size" --backend cuda --steps 8 --warmup 3 2>&1 | grep -v "^step [0-9]" | head -40
done

section "compute-sanitizer memcheck, runtime checks"
compute-sanitizer --tool memcheck "$bin/mp-runtime-test" --backend cuda replica=1 2>&1 | tail -15
section "compute-sanitizer memcheck, Llama step"
compute-sanitizer --tool memcheck "$bin/train-llama" --backend cuda --steps 2 2>&1 | tail -8
section "compute-sanitizer memcheck, Llama step with fused attention"
compute-sanitizer --tool memcheck "$bin/train-llama-fused" --backend cuda --steps 2 2>&1 | tail -8
section "compute-sanitizer memcheck and racecheck, bf16 Llama step with on-chip attention"
compute-sanitizer --tool memcheck "$bin/train-llama-fused-bf16" --backend cuda --steps 2 2>&1 | tail -8
compute-sanitizer --tool racecheck "$bin/train-llama-fused-bf16" --backend cuda --steps 1 2>&1 | tail -8
section "done"
