# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MP"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mp_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%mp_src_root", config.mp_src_root))
config.substitutions.append(("%mp_obj_root", config.mp_obj_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.mp_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["mp-opt", "mp-run", "mp-translate", "mp-link", "mp-ffn-reference",
     "mp-ckpt", "llvm-nm"],
    tool_dirs)

# Multi-rank tests run under Open MPI, as root in CI containers, where
# cross-memory attach between ranks may be forbidden; each job with a
# session directory of its own (Inputs/mpirun.sh: lit's workers' jobs
# raced on a shared one).
mpirun = (os.path.join(config.test_source_root, "Inputs", "mpirun.sh") +
          " --allow-run-as-root --oversubscribe"
          " --mca btl_vader_single_copy_mechanism none")

# The emulated CUDA kernels built under ThreadSanitizer
# (runtime/CMakeLists.txt: not beside ASan).
if config.mp_have_tsan:
    config.available_features.add("tsan")

# A build with MP_ENABLE_SANITIZERS: any report fails its test, with a
# symbolized stack, in every rank too.
if config.mp_sanitized:
    config.available_features.add("sanitized")
    # allow_user_poisoning=0: LLVM's headers poison and unpoison memory
    # (BumpPtrAllocator, JSON values) in inline functions when the includer
    # is built with ASan. mp's objects and Debian's uninstrumented LLVM/MLIR
    # libraries each carry a copy and the linker keeps one, so slabs poisoned
    # by one copy are handed out by the other: use-after-poison in MLIR's own
    # code, from the first MLIRContext on. mp poisons nothing itself.
    asan_options = "halt_on_error=1:allow_user_poisoning=0"
    config.environment["ASAN_OPTIONS"] = asan_options + ":detect_leaks=1"
    config.environment["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    # Under mpirun, no leak detection: Open MPI (ompi_op_base_op_select,
    # opal_argv_append_nosize, its plugins) and NCCL, which the CUDA backend
    # links in, leave allocations unfreed at exit, with stacks too short
    # (uninstrumented, no frame pointers) to suppress them by caller.
    # verify_asan_link_order=0: Runtime/save-targets.test preloads a shim
    # around rename(), which ASan does not intercept, ahead of ASan's runtime.
    mpirun += (" -x ASAN_OPTIONS=" + asan_options +
               ":detect_leaks=0:verify_asan_link_order=0")
    mpirun += " -x UBSAN_OPTIONS"
config.substitutions.append(("%mpirun", mpirun))
# scripts/run-ffn.sh's launcher (run-llama.sh's runs) the same.
config.environment["MP_MPIRUN"] = mpirun

# PyTorch (Debian's python3-torch) as an independent reference, where the
# system Python has it.
import subprocess
if subprocess.run(["/usr/bin/python3", "-c", "import torch"],
                  stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("torch")
if subprocess.run(["/usr/bin/python3", "-c", "import numpy"],
                  stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("numpy")
# matplotlib (Debian's python3-matplotlib) for scripts/plot-metrics.py.
if subprocess.run(["/usr/bin/python3", "-c", "import matplotlib"],
                  stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("matplotlib")
config.substitutions.append(("%python", "/usr/bin/python3"))

# The runtime's CUDA backend: built in (cuda-runtime), and a GPU to run it on
# (cuda-gpu). Without a GPU, the backend built on the emulated CUDA platform
# (runtime/test/emulated-cuda: kernels on CPU fibers, cuBLAS on the host's
# BLAS, NCCL over MPI) runs the same tests (cuda-emulated), as in CI.
# Either way they are `cuda-backend` tests, and %cuda_bin holds the
# mp-runtime-test and mp-link to run them with.
if config.mp_runtime_has_cuda:
    config.available_features.add("cuda-runtime")
try:
    gpus = subprocess.run(["nvidia-smi", "-L"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, timeout=60)
    if gpus.returncode == 0 and "GPU" in gpus.stdout:
        config.available_features.add("cuda-gpu")
except (OSError, subprocess.TimeoutExpired):
    pass
cuda_bin = None
if "cuda-gpu" in config.available_features and config.mp_runtime_has_cuda:
    cuda_bin = config.mp_tools_dir
elif config.mp_emulated_cuda:
    config.available_features.add("cuda-emulated")
    cuda_bin = os.path.join(config.mp_obj_root, "emulated-cuda", "bin")
if cuda_bin:
    config.available_features.add("cuda-backend")
    config.substitutions.append(("%cuda_bin", cuda_bin))
# The emulated platform built under AddressSanitizer and UBSan, GPU or not:
# %cuda_asan_bin holds its mp-runtime-test and mp-link.
if config.mp_emulated_cuda_asan:
    config.available_features.add("cuda-emulated-asan")
    config.substitutions.append(
        ("%cuda_asan_bin",
         os.path.join(config.mp_obj_root, "emulated-cuda-asan", "bin")))
