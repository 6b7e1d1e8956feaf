//===- Trainer.cpp - mp-train: the stock training loop around a step ------===//
//
// The seed's training script as a command. Linked with an object that
// mp-translate wrote (`mp-link step.o -o train`), it runs the step that
// `mp_default_step` points at, one process per rank under mpirun/srun:
// parameters from --init (global tensors, scattered to each rank's shard)
// or a seeded Kaiming-uniform init as nn.Linear's; batches from --data or a
// seeded normal dataset like Lightning's RandomDataset; `step <i> loss <v>`
// on rank 0; each rank's peak memory beside the compiler's plan; --save
// gathers the parameters into one safetensors file of global tensors;
// --checkpoint writes each rank's shards of the parameters and optimizer
// state every N steps (atomically, keeping the newest K) and --resume
// continues from the newest: bit-identically on the same mesh, on another
// mesh or plan with each rank assembling its pieces from the slices that
// overlap them; --metrics writes a CSV row per step. SIGTERM or SIGINT
// stops every rank after a step they agree on, with a checkpoint, and exit
// status 3.
// Buffers are the backend's (device memory on CUDA): data goes in and out
// through mp_copy_to_backend and mp_copy_to_host, staged in host memory.
//
//===----------------------------------------------------------------------===//

#include "AtomicFile.h"
#include "Checkpoint.h"
#include "Pieces.h"
#include "SafeTensors.h"
#include "StepManifest.h"

#include "mp_runtime.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

extern "C" const mp_step *const mp_default_step;

namespace {

using mp::train::DimPiece;
using mp::train::getPiece;
using mp::train::ManifestTensor;
using mp::train::safetensorsDtype;
using mp::train::shapeText;
using mp::train::StepManifest;
using mp::train::Tensor;

struct Options {
  std::string init, data, save;
  int64_t steps = 5;
  /// Steps run before timing (--time) and profiling (MP_PROFILE) start.
  int64_t warmup = 0;
  bool time = false;
  uint64_t seed = 0;
  mp_backend backend = MP_BACKEND_HOST;
  /// The CUDA backend's collective transport (nccl or mpi), set in the
  /// runtime's environment (MP_CUDA_TRANSPORT); empty leaves it as it is.
  std::string cudaTransport;
  /// Whole-step capture: the first step eagerly, then the step captured
  /// as a CUDA graph once and replayed (--cuda-graph or MP_CUDA_GRAPH=1,
  /// which `cudaGraphBy` names in messages).
  bool cudaGraph = false;
  std::string cudaGraphBy;
  /// Sharded checkpoints into `checkpoint` every `checkpointEvery` steps
  /// (0: only at the end), the newest `keep` kept.
  std::string checkpoint, resume, metrics;
  int64_t checkpointEvery = 0, keep = 2;
  /// Rank 0's progress line on stderr even when it is not a terminal (as
  /// under mpirun, which hands ranks a pipe).
  bool progress = false;
  /// Non-finite values in --init, --data or a checkpoint, and a non-finite
  /// loss, are warnings rather than errors.
  bool allowNonFinite = false;
  /// Every step trains on step 0's batch: the check that a model can fit
  /// one batch (a new random batch per step hides whether the loss falls).
  bool fixedBatch = false;
  bool help = false;

  /// The batches the run reads: one per step, or one in all.
  int64_t batchesRead() const {
    return fixedBatch ? std::min<int64_t>(steps, 1) : steps;
  }
  /// The batch step `step` trains on.
  int64_t batchOf(int64_t step) const { return fixedBatch ? 0 : step; }
};

const char *const kUsage =
    "usage: mp-train [--steps N] [--init FILE.safetensors] [--data "
    "FILE.safetensors]\n"
    "                [--seed N] [--save FILE.safetensors] [--backend "
    "host|cuda]\n"
    "                [--cuda-transport nccl|mpi] [--cuda-graph]\n"
    "                [--time] [--warmup N]\n"
    "                [--checkpoint DIR [--checkpoint-every N] [--keep K]]\n"
    "                [--resume DIR] [--metrics FILE.csv] "
    "[--allow-non-finite]\n"
    "                [--progress] [--fixed-batch]\n"
    "  --steps, --warmup, --checkpoint-every, --keep take integers from 0 to "
    "2^63-1,\n"
    "  --seed from 0 to 2^64-1 (digits only)\n"
    "  --init FILE           the parameters, global tensors under their "
    "names (each a\n"
    "                        parameter of the step); BF16 and\n"
    "                        F16 ones (a checkpoint published in those "
    "dtypes) widen\n"
    "                        to float32 master parameters\n"
    "  --save FILE           the final parameters, one file of global "
    "tensors, written\n"
    "                        atomically; only a regular file, or one a "
    "symbolic link\n"
    "                        names, is replaced (checked before step 0, as "
    "are\n"
    "                        --metrics and --checkpoint)\n"
    "  --cuda-transport T    the CUDA backend's collectives: nccl (the "
    "default, a GPU\n"
    "                        per rank) or mpi (staged through host memory, "
    "so that\n"
    "                        ranks may share a GPU: a test path); sets "
    "MP_CUDA_TRANSPORT\n"
    "  --cuda-graph          the CUDA backend runs the first step eagerly, "
    "then captures\n"
    "                        the step once as a CUDA graph and replays it "
    "(nccl only;\n"
    "                        not with MP_PROFILE); MP_CUDA_GRAPH=1 does "
    "the same\n"
    "  --checkpoint DIR      write each rank's shards of the parameters and "
    "optimizer\n"
    "                        state to DIR/step-<k> (atomically, DIR/latest "
    "names the\n"
    "                        newest) after every N steps and at the end\n"
    "  --checkpoint-every N  steps between checkpoints (default 0: only at "
    "the end)\n"
    "  --keep K              complete checkpoints kept (default 2)\n"
    "  --resume DIR          continue from DIR's newest checkpoint, "
    "written on this\n"
    "                        mesh and plan or another (each rank reads the "
    "slices it\n"
    "                        needs); --steps stays the run's total\n"
    "  --metrics FILE.csv    rank 0 writes step,loss,step_time_s,"
    "tokens_or_samples_per_s,\n"
    "                        peak_memory_bytes per step\n"
    "  --progress            rank 0's progress line (step/total, loss, step "
    "time,\n"
    "                        samples/s or tokens/s, ETA, peak memory) on "
    "stderr, which\n"
    "                        it otherwise shows only on a terminal (under "
    "mpirun,\n"
    "                        stderr is a pipe); stdout is unchanged\n"
    "  --fixed-batch         every step trains on step 0's batch (seeded or "
    "--data's\n"
    "                        first): a loss that must fall, to see that the "
    "model\n"
    "                        learns\n"
    "  --allow-non-finite    NaN or infinity in --init, --data or a "
    "checkpoint, and a\n"
    "                        non-finite loss, are warnings (once per tensor) "
    "instead\n"
    "                        of errors\n"
    "SIGTERM or SIGINT (as a scheduler sends before it kills a job) stops "
    "every rank\n"
    "after the step it is running: with --checkpoint a checkpoint is "
    "written, --save\n"
    "is not, and every rank exits with status 3 (resume with --resume DIR). "
    "A second\n"
    "signal ends the process at once (a file being written is removed, "
    "never left\n"
    "partial). A rank that dies makes mpirun end the job.\n"
    "The optimizer and its hyperparameters are compiled into the step "
    "(mp-opt --mp-train-step=\"optimizer=... lr=...\").\n";

/// The exit status of every rank of a run that SIGTERM or SIGINT stopped
/// before its last step.
constexpr int kExitPreempted = 3;

/// The first SIGTERM or SIGINT this rank received (its number), or 0: the
/// step boundary asks every rank whether one did.
volatile sig_atomic_t stopSignal = 0;

/// The step running, or -1 outside the training loop: a failed MPI call
/// names it.
int64_t runningStep = -1;

/// An error of one rank (a failed step, a failed write): it says so and
/// stops every rank.
[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "mp-train: %s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::exit(1);
}

/// An error every rank meets alike (options, files, a mesh that does not
/// match the launch): rank 0 says it once and all ranks leave together.
[[noreturn]] void dieTogether(const std::string &message) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    std::fprintf(stderr, "mp-train: %s\n", message.c_str());
    std::fflush(stderr);
  }
  MPI_Finalize();
  std::exit(1);
}

/// The trainer's own MPI calls: a failure (a rank that died, a network that
/// failed) is said with the call and the step, and ends the job, since the
/// other ranks cannot be reached to agree on leaving.
void checkMpi(int code, const char *call) {
  if (code == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  die((runningStep < 0 ? "" : "step " + std::to_string(runningStep) + ": ") +
      call + " failed: " + std::string(text, size_t(length)));
}

/// An error some ranks may meet and others not (a checkpoint file of one
/// rank): every rank says whether it failed; the message of the lowest
/// failing rank goes to rank 0, which says it once, and all ranks leave
/// together, as dieTogether. Otherwise returns whether `stop` is set on
/// any rank: the same reduction is the step boundary's agreement on a
/// signal that reached some ranks and not (yet) others.
bool dieTogetherIfAny(const std::string &error, bool stop = false) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int mine[2] = {error.empty() ? size : rank, stop ? 0 : 1}, all[2] = {};
  checkMpi(MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD),
           "MPI_Allreduce");
  int first = all[0];
  if (first == size)
    return all[1] == 0;
  std::string message = error;
  if (first != 0 && rank == first) {
    int length = static_cast<int>(error.size());
    MPI_Send(&length, 1, MPI_INT, 0, 0, MPI_COMM_WORLD);
    MPI_Send(error.data(), length, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
  } else if (first != 0 && rank == 0) {
    int length = 0;
    MPI_Recv(&length, 1, MPI_INT, first, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    message.assign(size_t(length), '\0');
    MPI_Recv(message.data(), length, MPI_CHAR, first, 1, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
  }
  dieTogether(message);
}

bool parseOptions(int argc, char **argv, Options &options, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) {
        error = arg + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    // Digits only: strtoull alone would take a sign, spaces, nothing at
    // all, and saturate what does not fit.
    auto unsignedNumber = [&](uint64_t max, uint64_t &out) {
      const char *text = value();
      if (!text)
        return false;
      if (!*text || std::strspn(text, "0123456789") != std::strlen(text)) {
        error = arg + " wants a non-negative integer, not '" + text + "'";
        return false;
      }
      static_assert(sizeof(unsigned long long) == sizeof(uint64_t));
      errno = 0;
      unsigned long long parsed = std::strtoull(text, nullptr, 10);
      if (errno == ERANGE || parsed > max) {
        error = arg + " wants at most " + std::to_string(max) + ", not '" +
                text + "'";
        return false;
      }
      out = parsed;
      return true;
    };
    auto number = [&](int64_t &out) {
      uint64_t parsed = 0;
      if (!unsignedNumber(std::numeric_limits<int64_t>::max(), parsed))
        return false;
      out = static_cast<int64_t>(parsed);
      return true;
    };
    if (arg == "--init" || arg == "--data" || arg == "--save" ||
        arg == "--checkpoint" || arg == "--resume" || arg == "--metrics") {
      const char *text = value();
      if (!text)
        return false;
      if (!*text) {
        error = arg + " needs a non-empty value";
        return false;
      }
      (arg == "--init"         ? options.init
       : arg == "--data"       ? options.data
       : arg == "--save"       ? options.save
       : arg == "--checkpoint" ? options.checkpoint
       : arg == "--resume"     ? options.resume
                               : options.metrics) = text;
    } else if (arg == "--checkpoint-every") {
      if (!number(options.checkpointEvery))
        return false;
    } else if (arg == "--keep") {
      if (!number(options.keep))
        return false;
      if (options.keep < 1) {
        error = "--keep wants at least 1 checkpoint";
        return false;
      }
    } else if (arg == "--steps") {
      if (!number(options.steps))
        return false;
    } else if (arg == "--warmup") {
      if (!number(options.warmup))
        return false;
    } else if (arg == "--time") {
      options.time = true;
    } else if (arg == "--fixed-batch") {
      options.fixedBatch = true;
    } else if (arg == "--seed") {
      if (!unsignedNumber(std::numeric_limits<uint64_t>::max(), options.seed))
        return false;
    } else if (arg == "--allow-non-finite") {
      options.allowNonFinite = true;
    } else if (arg == "--progress") {
      options.progress = true;
    } else if (arg == "--backend") {
      const char *text = value();
      if (!text)
        return false;
      if (std::strcmp(text, "host") && std::strcmp(text, "cuda")) {
        error = std::string("--backend is host or cuda, not '") + text + "'";
        return false;
      }
      options.backend =
          std::strcmp(text, "cuda") ? MP_BACKEND_HOST : MP_BACKEND_CUDA;
    } else if (arg == "--cuda-transport") {
      const char *text = value();
      if (!text)
        return false;
      if (std::strcmp(text, "nccl") && std::strcmp(text, "mpi")) {
        error =
            std::string("--cuda-transport is nccl or mpi, not '") + text + "'";
        return false;
      }
      options.cudaTransport = text;
    } else if (arg == "--cuda-graph") {
      options.cudaGraph = true;
      options.cudaGraphBy = arg;
    } else if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--optimizer" || arg == "--lr") {
      error = arg + " is compiled into the step: pass it to mp-opt "
                    "--mp-train-step (scripts/run-ffn.sh does)";
      return false;
    } else {
      error = "unknown option '" + arg + "'\n" + kUsage;
      return false;
    }
  }
  if (!options.cudaTransport.empty() && options.backend != MP_BACKEND_CUDA) {
    error = "--cuda-transport needs --backend cuda";
    return false;
  }
  // MP_CUDA_GRAPH=1 asks for what --cuda-graph does (which wins over 0).
  if (const char *graph = std::getenv("MP_CUDA_GRAPH");
      graph && *graph && !options.cudaGraph) {
    if (std::strcmp(graph, "0") && std::strcmp(graph, "1")) {
      error = std::string("MP_CUDA_GRAPH is 0 or 1, not '") + graph + "'";
      return false;
    }
    options.cudaGraph = *graph == '1';
    options.cudaGraphBy = "MP_CUDA_GRAPH=1";
  }
  if (options.cudaGraph && options.backend != MP_BACKEND_CUDA) {
    error = options.cudaGraphBy +
            " needs --backend cuda (CUDA graphs need the cuda backend)";
    return false;
  }
  if (options.checkpointEvery > 0 && options.checkpoint.empty()) {
    error = "--checkpoint-every needs --checkpoint DIR";
    return false;
  }
  if (options.warmup > 0 && options.warmup >= options.steps) {
    error = "--warmup needs more --steps (" + std::to_string(options.steps) +
            ") than warm-up steps (" + std::to_string(options.warmup) + ")";
    return false;
  }
  return true;
}

/// Counter-based random numbers (splitmix64's mix of key + counter): the
/// value of any element of a global tensor is computed on its own, so each
/// rank generates only its piece, and every mesh sees the same tensor.
struct RandomStream {
  uint64_t key;
  uint64_t bits(uint64_t counter) const {
    uint64_t z = key + (counter + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Element `index` uniform in [0, 1).
  double uniform(uint64_t index) const {
    return double(bits(index) >> 11) * 0x1.0p-53;
  }
  /// Element `index` standard normal (Box-Muller on two counters).
  double normal(uint64_t index) const {
    double u = double(bits(2 * index) >> 11) * 0x1.0p-53;
    double v = double(bits(2 * index + 1) >> 11) * 0x1.0p-53;
    return std::sqrt(-2 * std::log1p(-u)) * std::cos(2 * M_PI * v);
  }
};

uint64_t hashName(const std::string &name, uint64_t seed, uint64_t salt) {
  uint64_t hash = 1469598103934665603ull ^ seed;
  for (unsigned char c : name)
    hash = (hash ^ c) * 1099511628211ull;
  return hash ^ (salt * 0x9e3779b97f4a7c15ull);
}

/// Copies the valid box of a piece (shaped by the pieces' padded extents)
/// between it and the global tensor, in the direction `toPiece` says; the
/// piece's padding is left as it is.
void copyPiece(char *global, const std::vector<int64_t> &globalShape,
               char *local, const std::vector<DimPiece> &piece,
               size_t elementBytes, bool toPiece) {
  std::vector<int64_t> extents, origins, valid;
  for (const DimPiece &dim : piece) {
    extents.push_back(dim.extent);
    origins.push_back(dim.origin);
    valid.push_back(dim.valid);
  }
  std::vector<int64_t> start(piece.size(), 0);
  if (toPiece)
    mp::train::copyBox(global, globalShape, origins, local, extents, start,
                       valid, elementBytes);
  else
    mp::train::copyBox(local, extents, start, global, globalShape, origins,
                       valid, elementBytes);
}

/// Fills `local` (row-major) with `value(i)` of each of its valid elements,
/// i being the element's index in the global tensor, and 0 in its padding.
template <typename T, typename Value>
void generatePiece(const ManifestTensor &tensor,
                   const std::vector<DimPiece> &piece, T *local, Value value) {
  size_t rank = piece.size();
  std::vector<int64_t> index(rank, 0);
  for (int64_t done = 0, count = tensor.localElements(); done < count; ++done) {
    int64_t global = 0;
    bool valid = true;
    for (size_t dim = 0; dim < rank; ++dim) {
      global =
          global * tensor.globalShape[dim] + piece[dim].origin + index[dim];
      valid = valid && index[dim] < piece[dim].valid;
    }
    local[done] =
        valid ? static_cast<T>(value(static_cast<uint64_t>(global))) : T(0);
    for (int64_t dim = static_cast<int64_t>(rank) - 1; dim >= 0; --dim) {
      if (++index[dim] < tensor.localShape[dim])
        break;
      index[dim] = 0;
    }
  }
}

/// A NaN or an infinity as the message says it.
const char *nonFiniteText(double value) {
  return std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf";
}

/// How many of the first `elements` values of `tensor` (read as Element)
/// `matches` accepts; `first` and `firstIndex` get the first of them.
template <typename Element, typename Matches>
int64_t countMatches(const Tensor &tensor, int64_t elements, Matches matches,
                     Element &first, std::vector<int64_t> &firstIndex) {
  int64_t count = 0, at = 0;
  for (int64_t i = 0; i < elements; ++i) {
    Element value;
    std::memcpy(&value, tensor.bytes.data() + i * sizeof(Element),
                sizeof(Element));
    if (matches(value) && count++ == 0) {
      first = value;
      at = i;
    }
  }
  firstIndex.assign(tensor.shape.size(), 0);
  for (size_t dim = firstIndex.size(); dim-- > 0; at /= tensor.shape[dim])
    firstIndex[dim] = at % tensor.shape[dim];
  return count;
}

/// The first of `arg`'s integers in `tensor` (its first `elements`) that
/// index nothing: outside [0, bound) and not the ignored value, empty when
/// there is none. A step given one would train on (a vocab-parallel loss
/// or embedding takes an index no rank holds as 0); token ids and
/// attention masks (bound 2: 0 or 1) are checked as labels are.
std::string findOutOfRange(const std::string &file, const ManifestTensor &arg,
                           const Tensor &tensor, int64_t elements) {
  if (arg.bound < 0)
    return "";
  auto indexesNothing = [&](auto value) {
    return (value < 0 || value >= arg.bound) && value != arg.ignored;
  };
  int64_t count = 0, firstValue = 0;
  std::vector<int64_t> index;
  if (tensor.dtype == "I64") {
    count = countMatches(tensor, elements, indexesNothing, firstValue, index);
  } else if (tensor.dtype == "I32") {
    int32_t first = 0;
    count = countMatches(tensor, elements, indexesNothing, first, index);
    firstValue = first;
  }
  if (count == 0)
    return "";
  return file + ": tensor '" + arg.name + "' holds " +
         std::to_string(firstValue) + " at " + shapeText(index) +
         (count > 1 ? ", the first of " + std::to_string(count) + " values"
                    : "") +
         " outside [0, " + std::to_string(arg.bound) + ")" +
         (arg.ignored ? " and not the ignored " + std::to_string(*arg.ignored)
                      : " (a loss skips a value only if the step was "
                        "compiled with its ignore_index)");
}

/// Where the first NaN or infinity among the first `elements` elements of
/// `tensor` (tensor `name` of `file`) lies, and how many there are; empty
/// when there is none. F32 and F64 are the step's float dtypes.
std::string findNonFinite(const std::string &file, const std::string &name,
                          const Tensor &tensor, int64_t elements) {
  auto nonFinite = [](auto value) { return !std::isfinite(value); };
  int64_t count = 0;
  double firstValue = 0;
  std::vector<int64_t> index;
  if (tensor.dtype == "F32") {
    float first = 0;
    count = countMatches(tensor, elements, nonFinite, first, index);
    firstValue = first;
  } else if (tensor.dtype == "F64") {
    count = countMatches(tensor, elements, nonFinite, firstValue, index);
  }
  if (count == 0)
    return "";
  return file + ": tensor '" + name + "' holds " + nonFiniteText(firstValue) +
         " at " + shapeText(index) +
         (count > 1
              ? ", the first of " + std::to_string(count) + " non-finite values"
              : "");
}

/// `seconds` as H:MM:SS.
std::string durationText(double seconds) {
  long long whole =
      static_cast<long long>(std::llround(std::max(seconds, 0.0)));
  char text[48];
  std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld", whole / 3600,
                whole / 60 % 60, whole % 60);
  return text;
}

/// `bytes` in B, KB, MB or GB (powers of 1000, as the peak memory lines).
std::string bytesText(unsigned long long bytes) {
  const char *units[] = {"B", "KB", "MB", "GB"};
  double value = double(bytes);
  int unit = 0;
  for (; unit < 3 && value >= 1000; ++unit)
    value /= 1000;
  char text[32];
  std::snprintf(text, sizeof(text), unit ? "%.1f %s" : "%.0f %s", value,
                units[unit]);
  return text;
}

class Trainer {
public:
  Trainer(const mp_step &step, StepManifest manifest, Options options)
      : step(step), manifest(std::move(manifest)), options(std::move(options)) {
  }

  /// Trains; the process's exit status: 0, or kExitPreempted.
  int run();

private:
  void createContext();
  /// Checks the targets of --save, --metrics and --checkpoint before any
  /// step runs, so that a target that cannot be written does not lose the
  /// run: rank 0 looks, and every rank leaves with its message.
  void checkOutputs();
  /// What rank 0 finds wrong with those targets, or empty.
  std::string findOutputError() const;
  void initArguments();
  void loadBatch(int64_t step);
  /// Issues one step: eagerly, or with --cuda-graph and `warm`, by
  /// replaying the graph, captured at the first such call.
  mp_status runStep(bool warm);
  void save();
  /// Whether argument `arg` is part of a checkpoint: parameters and
  /// optimizer state.
  static bool isCheckpointed(const ManifestTensor &arg) {
    return arg.role == "param" || arg.role == "state";
  }
  void writeCheckpoint(int64_t nextStep);
  void resume();
  /// The checks and loads of --resume on this rank: an error message, or
  /// empty. `resharded` says how the checkpoint's layout differs from the
  /// step's, or is empty when it does not.
  std::string loadCheckpoint(int64_t &nextStep, std::string &resharded);
  /// `nonFinite` (findNonFinite's finding) as an error, or, with
  /// --allow-non-finite, as a warning said here if `say`, and no error.
  std::string refuseOrWarn(const std::string &nonFinite, bool say) const;
  void check(mp_status status) {
    if (status != MP_OK)
      die(mp_context_error(ctx));
  }

  const mp_step &step;
  StepManifest manifest;
  Options options;
  mp_context *ctx = nullptr;
  int rank = 0;
  std::vector<void *> args, outputs;
  std::map<std::string, Tensor> initTensors, dataTensors;
  /// The first step to run (a resumed run's checkpoint step), and the step
  /// of the newest checkpoint this run wrote or resumed from.
  int64_t startStep = 0, lastCheckpoint = -1;
  /// Whether runStep has captured the step (--cuda-graph).
  bool captured = false;
};

std::string jsonQuote(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string jsonInts(const std::vector<int64_t> &values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

std::string rankFileName(int rank) {
  char name[64];
  std::snprintf(name, sizeof(name), "rank-%05d.safetensors", rank);
  return name;
}

/// A checkpoint of the state before step `nextStep`: each rank writes its
/// pieces (the local, padded buffers as they are in memory) of every
/// parameter and optimizer state to DIR/.tmp-step-<k>/rank-<r>.safetensors;
/// rank 0 gathers their checksums, writes index.json, syncs, renames the
/// directory to DIR/step-<k>, points DIR/latest at it and removes all but
/// the newest --keep checkpoints.
void Trainer::writeCheckpoint(int64_t nextStep) {
  namespace fs = std::filesystem;
  const std::string &dir = options.checkpoint;
  std::string name = "step-" + std::to_string(nextStep);
  std::string temporary = dir + "/.tmp-" + name, published = dir + "/" + name;
  int worldSize = mp_context_world_size(ctx);
  if (rank == 0) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      die(dir + ": cannot create the checkpoint directory: " + ec.message());
    // A torn write of an earlier, killed run.
    fs::remove_all(temporary, ec);
    if (ec || !fs::create_directory(temporary, ec))
      die(temporary + ": cannot create: " + ec.message());
  }
  MPI_Barrier(MPI_COMM_WORLD);

  std::vector<std::pair<std::string, Tensor>> tensors;
  for (size_t i = 0; i < manifest.args.size(); ++i) {
    const ManifestTensor &arg = manifest.args[i];
    if (!isCheckpointed(arg))
      continue;
    size_t bytes =
        arg.localElements() * mp::train::manifestDtypeSize(arg.dtype);
    Tensor tensor{safetensorsDtype(arg.dtype), arg.localShape,
                  std::vector<char>(bytes)};
    check(mp_copy_to_host(ctx, tensor.bytes.data(), args[i], bytes));
    tensors.emplace_back(arg.name, std::move(tensor));
  }
  std::string file = temporary + "/" + rankFileName(rank), error;
  // The file's checksum and size, then each tensor's checksum: the index
  // names the file that is corrupt and the tensor in it.
  std::vector<uint64_t> mine(2 + tensors.size());
  // A rank that cannot write its file (a full disk) stops every rank with
  // its message, rather than aborting the job.
  bool written = mp::train::writeSafeTensors(file, tensors, error) &&
                 mp::train::hashFile(file, mine[0], mine[1], error);
  dieTogetherIfAny(written ? "" : error);
  for (size_t t = 0; t < tensors.size(); ++t)
    mine[2 + t] = mp::train::fnv1a64(tensors[t].second.bytes.data(),
                                     tensors[t].second.bytes.size());
  std::vector<uint64_t> all(rank == 0 ? mine.size() * worldSize : 0);
  // Every rank's file is written and synced once rank 0 has its line.
  MPI_Gather(mine.data(), static_cast<int>(mine.size()), MPI_UINT64_T,
             all.data(), static_cast<int>(mine.size()), MPI_UINT64_T, 0,
             MPI_COMM_WORLD);
  lastCheckpoint = nextStep;
  if (rank != 0)
    return;
  auto line = [&](int r) { return all.data() + r * mine.size(); };

  std::string index =
      "{\n  \"format\": \"mp-checkpoint\",\n  \"version\": 1,\n";
  index += "  \"function\": " + jsonQuote(manifest.function) + ",\n";
  index += "  \"step\": " + std::to_string(nextStep) + ",\n";
  index += "  \"mesh\": [";
  for (size_t a = 0; a < manifest.mesh.size(); ++a)
    index += std::string(a ? ", " : "") +
             "{\"axis\": " + jsonQuote(manifest.mesh[a].first) +
             ", \"size\": " + std::to_string(manifest.mesh[a].second) + "}";
  index += "],\n";
  // The data position is the step: seeded batches are counter-based on the
  // step index and --data's slice i is step i's batch.
  index += "  \"data\": {\"source\": " +
           jsonQuote(options.data.empty() ? "seeded" : options.data) +
           ", \"seed\": " + jsonQuote(std::to_string(options.seed)) +
           ", \"position\": " + std::to_string(nextStep) + "},\n";
  index += "  \"layout\": \"each rank's file holds its local pieces under the "
           "tensors' names, shaped local_shape, padding included as in "
           "memory; of each dim, entries [0, valid) hold the global entries "
           "[origin, origin + valid)\",\n";
  index += "  \"files\": [\n";
  for (int r = 0; r < worldSize; ++r)
    index += "    {\"rank\": " + std::to_string(r) +
             ", \"file\": " + jsonQuote(rankFileName(r)) +
             ", \"bytes\": " + std::to_string(line(r)[1]) +
             ", \"fnv1a64\": \"" + mp::train::hex64(line(r)[0]) + "\"}" +
             (r + 1 < worldSize ? ",\n" : "\n");
  index += "  ],\n  \"tensors\": [\n";
  for (size_t t = 0; t < tensors.size(); ++t) {
    const ManifestTensor *arg = nullptr;
    for (const ManifestTensor &candidate : manifest.args)
      if (candidate.name == tensors[t].first && isCheckpointed(candidate))
        arg = &candidate;
    index += "    {\"name\": " + jsonQuote(arg->name) +
             ", \"role\": " + jsonQuote(arg->role) +
             ", \"dtype\": " + jsonQuote(safetensorsDtype(arg->dtype)) +
             ", \"global_shape\": " + jsonInts(arg->globalShape) +
             ", \"local_shape\": " + jsonInts(arg->localShape) +
             ", \"split\": [";
    for (size_t d = 0; d < arg->split.size(); ++d) {
      index += d ? ", [" : "[";
      for (size_t a = 0; a < arg->split[d].size(); ++a)
        index += (a ? ", " : "") + jsonQuote(arg->split[d][a]);
      index += "]";
    }
    index += "],\n     \"slices\": [\n";
    for (int r = 0; r < worldSize; ++r) {
      std::vector<int64_t> origin, valid;
      for (const DimPiece &piece : getPiece(manifest, *arg, r)) {
        origin.push_back(piece.origin);
        valid.push_back(piece.valid);
      }
      index += "       {\"rank\": " + std::to_string(r) +
               ", \"file\": " + jsonQuote(rankFileName(r)) +
               ", \"origin\": " + jsonInts(origin) +
               ", \"valid\": " + jsonInts(valid) + ", \"fnv1a64\": \"" +
               mp::train::hex64(line(r)[2 + t]) + "\"}" +
               (r + 1 < worldSize ? ",\n" : "\n");
    }
    index += std::string("     ]}") + (t + 1 < tensors.size() ? ",\n" : "\n");
  }
  index += "  ]\n}\n";

  if (!mp::train::writeTextAtomically(temporary + "/index.json", index,
                                      error) ||
      !mp::train::syncDirectory(temporary, error))
    die(error);
  // A checkpoint of this step already published (an earlier run into the
  // same directory) is set aside and removed once the new one is in place.
  std::error_code ec;
  std::string aside = dir + "/.old-" + name;
  bool replaced = fs::exists(published, ec);
  if (replaced) {
    fs::remove_all(aside, ec);
    if (std::rename(published.c_str(), aside.c_str()) != 0)
      die(published + ": cannot set aside: " + std::strerror(errno));
  }
  if (std::rename(temporary.c_str(), published.c_str()) != 0)
    die(published + ": cannot publish " + temporary + ": " +
        std::strerror(errno));
  if (!mp::train::syncDirectory(dir, error) ||
      !mp::train::writeTextAtomically(dir + "/latest", name + "\n", error))
    die(error);
  if (replaced)
    fs::remove_all(aside, ec);
  // Only now, with the new checkpoint published: the newest --keep.
  std::vector<int64_t> steps = mp::train::listCheckpointSteps(dir);
  int64_t kept = 1;
  for (size_t i = steps.size(); i-- > 0;) {
    if (steps[i] == nextStep)
      continue;
    if (kept < options.keep) {
      ++kept;
      continue;
    }
    fs::remove_all(dir + "/step-" + std::to_string(steps[i]), ec);
  }
  // Torn writes of other steps (a run killed while writing) are never
  // published: with a newer checkpoint in place they go.
  for (const fs::directory_entry &entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string().rfind(".tmp-step-", 0) == 0)
      fs::remove_all(entry.path(), ec);
  std::printf("checkpoint %s (step %lld)\n", published.c_str(),
              static_cast<long long>(nextStep));
  std::fflush(stdout);
}

void Trainer::resume() {
  int64_t nextStep = 0;
  std::string resharded;
  dieTogetherIfAny(loadCheckpoint(nextStep, resharded));
  startStep = lastCheckpoint = nextStep;
  if (rank == 0) {
    if (!resharded.empty())
      resharded = " (resharded from " + resharded + ")";
    std::printf("resumed from %s/step-%lld%s\n", options.resume.c_str(),
                static_cast<long long>(nextStep), resharded.c_str());
    std::fflush(stdout);
  }
}

std::string Trainer::loadCheckpoint(int64_t &nextStep, std::string &resharded) {
  mp::train::CheckpointIndex index;
  std::string stepDir, error;
  if (!mp::train::findLatestCheckpoint(options.resume, stepDir, error))
    return error + " (no checkpoint to resume from)";
  if (!mp::train::readCheckpointIndex(stepDir, index, error))
    return error;
  nextStep = index.step;
  std::string writerMesh = mp::train::meshText(index.layout),
              mesh = mp::train::meshText(manifest);
  if (writerMesh != mesh)
    resharded = "mesh " + writerMesh + " to " + mesh;
  if (nextStep > options.steps)
    return stepDir + " is at step " + std::to_string(nextStep) +
           ", beyond --steps " + std::to_string(options.steps) +
           " (--steps is the run's total)";
  if (options.data.empty() && index.dataSource == "seeded" &&
      index.seed != std::to_string(options.seed))
    return stepDir + " was trained on batches of --seed " + index.seed +
           ", this run's --seed is " + std::to_string(options.seed) +
           ": pass --seed " + index.seed + " to resume the same data";

  // Exactly the step's parameters and state, by name, role, dtype and
  // global shape; how they were split is the reader's business.
  for (const ManifestTensor &stored : index.layout.args) {
    auto arg = std::find_if(manifest.args.begin(), manifest.args.end(),
                            [&](const ManifestTensor &candidate) {
                              return candidate.name == stored.name &&
                                     isCheckpointed(candidate);
                            });
    if (arg == manifest.args.end())
      return index.path + ": tensor '" + stored.name +
             "' is not a parameter or optimizer state of this step "
             "(compiled with another model or optimizer?)";
    if (stored.role != arg->role || stored.dtype != arg->dtype ||
        stored.globalShape != arg->globalShape)
      return index.path + ": tensor '" + stored.name + "' is " + stored.role +
             " " + safetensorsDtype(stored.dtype) + " " +
             shapeText(stored.globalShape) + ", but the step's is " +
             arg->role + " " + safetensorsDtype(arg->dtype) + " " +
             shapeText(arg->globalShape);
    if (resharded.empty() && stored.split != arg->split)
      resharded = "another split of '" + stored.name + "' on the same mesh";
  }
  // Each rank reads the slices its pieces overlap, and says what it finds
  // in them.
  mp::train::SliceCheck checkFinite = [&](const std::string &path,
                                          const std::string &name,
                                          const Tensor &slice) {
    return refuseOrWarn(findNonFinite(path, name, slice, slice.numElements()),
                        /*say=*/true);
  };
  mp::train::CheckpointFiles files;
  for (size_t i = 0; i < manifest.args.size(); ++i) {
    const ManifestTensor &arg = manifest.args[i];
    if (!isCheckpointed(arg))
      continue;
    int tensor = index.findTensor(arg.name);
    if (tensor < 0)
      return index.path + ": no tensor '" + arg.name + "' for the step's " +
             arg.role + " of that name";
    std::vector<char> piece;
    if (!mp::train::readCheckpointPiece(index, tensor,
                                        getPiece(manifest, arg, rank), rank,
                                        files, checkFinite, piece, error))
      return error;
    check(mp_copy_to_backend(ctx, args[i], piece.data(), piece.size()));
  }
  return "";
}

void Trainer::createContext() {
  std::vector<const char *> names;
  std::vector<int64_t> sizes;
  for (const auto &axis : manifest.mesh) {
    names.push_back(axis.first.c_str());
    sizes.push_back(axis.second);
  }
  if (names.empty()) {
    // An unpartitioned step runs on one rank.
    names.push_back("replica");
    sizes.push_back(1);
  }
  // The runtime reads its transport where the user may set it too.
  if (!options.cudaTransport.empty())
    setenv("MP_CUDA_TRANSPORT", options.cudaTransport.c_str(), 1);
  if (mp_context_create(static_cast<int>(names.size()), names.data(),
                        sizes.data(), options.backend, &ctx) != MP_OK)
    dieTogether(mp_context_error(ctx));
  rank = mp_context_rank(ctx);
  if (rank == 0 && options.backend == MP_BACKEND_CUDA) {
    // The context exists, so the variable was unset, empty or valid.
    const char *transport = std::getenv("MP_CUDA_TRANSPORT");
    bool mpi = transport && std::strcmp(transport, "mpi") == 0;
    std::printf("cuda backend, collectives over %s\n",
                mpi ? "mpi (staged through host memory; ranks may share a "
                      "GPU)"
                    : "nccl (a GPU per rank)");
  }
  if (!options.cudaGraph)
    return;
  // What the runtime cannot capture (the mpi transport, MP_PROFILE), on
  // any rank, before the first step rather than at the capture.
  const char *unavailable = mp_graph_unavailable(ctx);
  dieTogetherIfAny(unavailable ? options.cudaGraphBy + ": " + unavailable : "");
}

std::string Trainer::refuseOrWarn(const std::string &nonFinite,
                                  bool say) const {
  if (nonFinite.empty())
    return "";
  if (!options.allowNonFinite)
    return nonFinite + " (--allow-non-finite trains on them)";
  if (say) {
    std::fprintf(stderr,
                 "mp-train: warning: %s; training on them "
                 "(--allow-non-finite)\n",
                 nonFinite.c_str());
    std::fflush(stderr);
  }
  return "";
}

void Trainer::checkOutputs() {
  dieTogetherIfAny(rank == 0 ? findOutputError() : "");
}

std::string Trainer::findOutputError() const {
  std::string target, error;
  if (!options.save.empty() &&
      !mp::train::resolveOutputFile(options.save, target, error))
    return "--save " + error;
  if (!options.metrics.empty() &&
      !mp::train::resolveOutputFile(options.metrics, target, error))
    return "--metrics " + error;
  if (options.checkpoint.empty())
    return "";
  // Created now rather than at the first checkpoint, which may be hours in.
  const std::string &dir = options.checkpoint;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return "--checkpoint " + dir +
           ": cannot create the directory: " + ec.message();
  if (access(dir.c_str(), W_OK | X_OK) != 0)
    return "--checkpoint " + dir +
           ": cannot write in the directory: " + std::strerror(errno);
  return "";
}

void Trainer::initArguments() {
  std::string error;
  // A resumed run takes its parameters and state from the checkpoint.
  bool resuming = !options.resume.empty();
  if (!resuming && !options.init.empty() &&
      !mp::train::readSafeTensors(options.init, initTensors, error))
    dieTogether(error);
  // A tensor the step has no parameter for would be passed over silently:
  // a misnamed bias or a layer the generated model lacks trains from
  // nothing.
  std::vector<std::string> unknown;
  for (const auto &named : initTensors)
    if (std::none_of(manifest.args.begin(), manifest.args.end(),
                     [&](const ManifestTensor &arg) {
                       return arg.role == "param" && arg.name == named.first;
                     }))
      unknown.push_back(named.first);
  if (unknown.size() == 1)
    dieTogether(options.init + ": tensor '" + unknown.front() +
                "' is no parameter of the step");
  if (unknown.size() > 1)
    dieTogether(options.init + ": tensor '" + unknown.front() + "' and " +
                std::to_string(unknown.size() - 1) +
                " more are no parameters of the step");
  if (!options.data.empty() &&
      !mp::train::readSafeTensors(options.data, dataTensors, error))
    dieTogether(error);
  for (const ManifestTensor &arg : manifest.args) {
    size_t elementBytes = mp::train::manifestDtypeSize(arg.dtype);
    size_t bytes = arg.localElements() * elementBytes;
    void *buffer = mp_alloc(ctx, bytes);
    check(mp_context_status(ctx));
    args.push_back(buffer);
    // This rank's piece, staged in host memory: zeros until given values.
    std::vector<char> piece(bytes, 0);
    check(mp_copy_to_backend(ctx, buffer, piece.data(), bytes));
    if (arg.role == "input" || arg.role == "target") {
      if (options.data.empty() && arg.dtype != "f32" &&
          !(arg.dtype == "i64" && arg.bound > 0))
        dieTogether("input '" + arg.name + "' holds " + arg.dtype +
                    " values: give them with --data");
      if (!options.data.empty()) {
        auto it = dataTensors.find(arg.name);
        std::vector<int64_t> wanted = arg.globalShape;
        wanted.insert(wanted.begin(), options.batchesRead());
        if (it == dataTensors.end())
          dieTogether(options.data + ": no tensor '" + arg.name +
                      "' for the step's input of that name");
        const Tensor &data = it->second;
        if (data.dtype != safetensorsDtype(arg.dtype) ||
            data.shape.size() != wanted.size() || data.shape[0] < wanted[0] ||
            !std::equal(wanted.begin() + 1, wanted.end(),
                        data.shape.begin() + 1))
          dieTogether(options.data + ": tensor '" + arg.name + "' is " +
                      data.dtype + " " + shapeText(data.shape) +
                      ", but the step wants " + safetensorsDtype(arg.dtype) +
                      " [>= " + std::to_string(options.batchesRead()) +
                      " steps, " + shapeText(arg.globalShape).substr(1));
        // The steps' batches, not what lies beyond --steps.
        error = refuseOrWarn(
            findNonFinite(options.data, arg.name, data,
                          options.batchesRead() * arg.globalElements()),
            rank == 0);
        if (!error.empty())
          dieTogether(error);
        error = findOutOfRange(options.data, arg, data,
                               options.batchesRead() * arg.globalElements());
        if (!error.empty())
          dieTogether(error);
      }
      continue;
    }
    if (arg.role == "state" || resuming)
      continue; // Optimizer state starts at zero, as in torch.optim.
    // A parameter: our piece of the tensor from --init, or seeded.
    std::vector<DimPiece> mine = getPiece(manifest, arg, rank);
    if (!options.init.empty()) {
      auto it = initTensors.find(arg.name);
      if (it == initTensors.end())
        dieTogether(options.init + ": no tensor '" + arg.name +
                    "' for the step's parameter of that name");
      // A checkpoint published in bf16 or f16 initialises float32 master
      // parameters.
      std::string storedDtype = it->second.dtype;
      if (arg.dtype == "f32")
        mp::train::widenToF32(it->second);
      if (it->second.dtype != safetensorsDtype(arg.dtype) ||
          it->second.shape != arg.globalShape)
        dieTogether(options.init + ": tensor '" + arg.name + "' is " +
                    storedDtype + " " + shapeText(it->second.shape) +
                    ", but the step's parameter is " +
                    safetensorsDtype(arg.dtype) + " " +
                    shapeText(arg.globalShape));
      error = refuseOrWarn(findNonFinite(options.init, arg.name, it->second,
                                         it->second.numElements()),
                           rank == 0);
      if (!error.empty())
        dieTogether(error);
      copyPiece(it->second.bytes.data(), arg.globalShape, piece.data(), mine,
                elementBytes, /*toPiece=*/true);
    } else {
      if (arg.dtype != "f32")
        dieTogether("parameter '" + arg.name + "' is " + arg.dtype +
                    ": give its values with --init");
      // nn.Linear: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in),
      // 1/sqrt(fan_in)) with fan_in the last dim.
      int64_t fanIn = arg.globalShape.empty() ? 1 : arg.globalShape.back();
      double bound = 1 / std::sqrt(double(std::max<int64_t>(fanIn, 1)));
      RandomStream random{hashName(arg.name, options.seed, 0)};
      generatePiece(
          arg, mine, reinterpret_cast<float *>(piece.data()),
          [&](uint64_t i) { return (2 * random.uniform(i) - 1) * bound; });
    }
    check(mp_copy_to_backend(ctx, buffer, piece.data(), bytes));
  }
  // Inputs were only checked; --init's tensors are no longer needed.
  initTensors.clear();
  for (const ManifestTensor &result : manifest.results) {
    if (result.role != "output")
      continue;
    outputs.push_back(
        mp_alloc(ctx, result.localElements() *
                          mp::train::manifestDtypeSize(result.dtype)));
    check(mp_context_status(ctx));
  }
}

mp_status Trainer::runStep(bool warm) {
  if (!options.cudaGraph || !warm)
    return step.entry(ctx, args.data(), outputs.data());
  // The graph keeps the buffers' addresses: `args` and `outputs` are
  // allocated once, and batches, checkpoints and the loss go through them.
  if (!captured) {
    captured = true;
    if (mp_graph_begin_capture(ctx) != MP_OK)
      return MP_ERROR;
    mp_status status = step.entry(ctx, args.data(), outputs.data());
    // Ended even after a failure inside, which keeps the first error.
    if (mp_graph_end_capture(ctx) != MP_OK || status != MP_OK)
      return MP_ERROR;
  }
  return mp_graph_replay(ctx);
}

void Trainer::loadBatch(int64_t step) {
  int64_t stepIndex = options.batchOf(step);
  for (size_t i = 0; i < manifest.args.size(); ++i) {
    const ManifestTensor &arg = manifest.args[i];
    if (arg.role != "input" && arg.role != "target")
      continue;
    size_t elementBytes = mp::train::manifestDtypeSize(arg.dtype);
    std::vector<DimPiece> mine = getPiece(manifest, arg, rank);
    std::vector<char> piece(arg.localElements() * elementBytes);
    if (!options.data.empty()) {
      copyPiece(dataTensors[arg.name].bytes.data() +
                    stepIndex * arg.globalElements() * elementBytes,
                arg.globalShape, piece.data(), mine, elementBytes,
                /*toPiece=*/true);
    } else if (arg.dtype == "i64") {
      // Token ids or classes, uniform over what they index.
      RandomStream random{hashName(arg.name, options.seed, stepIndex + 1)};
      generatePiece(arg, mine, reinterpret_cast<int64_t *>(piece.data()),
                    [&](uint64_t i) {
                      return int64_t(random.bits(i) % uint64_t(arg.bound));
                    });
    } else {
      // Lightning's RandomDataset: standard normal samples.
      RandomStream random{hashName(arg.name, options.seed, stepIndex + 1)};
      generatePiece(arg, mine, reinterpret_cast<float *>(piece.data()),
                    [&](uint64_t i) { return random.normal(i); });
    }
    check(mp_copy_to_backend(ctx, args[i], piece.data(), piece.size()));
  }
}

void Trainer::save() {
  std::vector<std::pair<std::string, Tensor>> tensors;
  int worldSize = mp_context_world_size(ctx);
  for (size_t i = 0; i < manifest.args.size(); ++i) {
    const ManifestTensor &arg = manifest.args[i];
    if (arg.role != "param")
      continue;
    size_t elementBytes = mp::train::manifestDtypeSize(arg.dtype);
    size_t pieceBytes = arg.localElements() * elementBytes;
    std::vector<char> piece(pieceBytes);
    check(mp_copy_to_host(ctx, piece.data(), args[i], pieceBytes));
    std::vector<char> pieces(rank == 0 ? pieceBytes * worldSize : 0);
    // Counted in elements of a contiguous type, so that shards beyond
    // MPI's int count of bytes (2 GiB) still gather.
    if (arg.localElements() > std::numeric_limits<int>::max())
      die("parameter '" + arg.name + "' has a shard of " +
          std::to_string(arg.localElements()) +
          " elements, more than MPI_Gather counts");
    MPI_Datatype element;
    MPI_Type_contiguous(static_cast<int>(elementBytes), MPI_BYTE, &element);
    MPI_Type_commit(&element);
    int gathered =
        MPI_Gather(piece.data(), static_cast<int>(arg.localElements()), element,
                   pieces.data(), static_cast<int>(arg.localElements()),
                   element, 0, MPI_COMM_WORLD);
    MPI_Type_free(&element);
    if (gathered != MPI_SUCCESS)
      die("MPI_Gather of parameter '" + arg.name + "' failed");
    if (rank != 0)
      continue;
    Tensor global{safetensorsDtype(arg.dtype), arg.globalShape,
                  std::vector<char>(arg.globalElements() * elementBytes)};
    // Replicas write the same values over each other; padding is left out.
    for (int r = 0; r < worldSize; ++r)
      copyPiece(global.bytes.data(), arg.globalShape,
                pieces.data() + r * pieceBytes, getPiece(manifest, arg, r),
                elementBytes, /*toPiece=*/false);
    tensors.emplace_back(arg.name, std::move(global));
  }
  // Every rank leaves with rank 0's message if the write fails.
  std::string error;
  bool saved =
      rank != 0 || mp::train::writeSafeTensors(options.save, tensors, error);
  dieTogetherIfAny(saved ? "" : error);
}

int Trainer::run() {
  createContext();
  checkOutputs();
  initArguments();
  if (!options.resume.empty())
    resume();
  if (options.cudaGraph && rank == 0)
    std::printf("cuda graph: step %lld runs eagerly (warm-up), then the step "
                "is captured once and replayed\n",
                static_cast<long long>(startStep));
  int lossIndex = -1;
  for (size_t i = 0, output = 0; i < manifest.results.size(); ++i)
    if (manifest.results[i].role == "output") {
      if (lossIndex < 0 && manifest.results[i].localElements() == 1 &&
          manifest.results[i].dtype == "f32")
        lossIndex = static_cast<int>(output);
      ++output;
    }
  // With --time, each step from a barrier to its loss on the host on every
  // rank (the end of its asynchronous work) and a barrier: the slowest
  // rank's step, batch loading excluded.
  std::vector<double> stepMs;
  // With --allow-non-finite, a non-finite loss is said once.
  bool warnedLoss = false;
  // What a step processes, for the rates of --metrics and the progress
  // line: tokens (an integer input of rank >= 2) or samples.
  double perStep = 0;
  const char *perStepUnit = "samples";
  for (const ManifestTensor &arg : manifest.args)
    if (arg.role == "input") {
      bool tokens = arg.dtype[0] == 'i' && arg.globalShape.size() >= 2;
      perStep = tokens
                    ? double(arg.globalElements())
                    : double(arg.globalShape.empty() ? 1 : arg.globalShape[0]);
      perStepUnit = tokens ? "tokens" : "samples";
      break;
    }
  // The progress line: rank 0's, on a terminal, overwritten in place there.
  // Every rank learns whether, since each joins the peak memory's reduction.
  int progress = rank == 0 && (options.progress || isatty(STDERR_FILENO));
  MPI_Bcast(&progress, 1, MPI_INT, 0, MPI_COMM_WORLD);
  bool overwrite = progress && rank == 0 && isatty(STDERR_FILENO);
  double runSeconds = 0;
  // --metrics: rank 0's CSV, a row per step; a resumed run appends to it.
  FILE *metrics = nullptr;
  if (!options.metrics.empty()) {
    std::string error;
    if (rank == 0) {
      bool append = !options.resume.empty() &&
                    std::filesystem::exists(options.metrics) &&
                    std::filesystem::file_size(options.metrics) > 0;
      metrics = std::fopen(options.metrics.c_str(), append ? "a" : "w");
      if (!metrics)
        error = options.metrics + ": cannot open: " + std::strerror(errno);
      else if (!append)
        std::fputs("step,loss,step_time_s,tokens_or_samples_per_s,"
                   "peak_memory_bytes\n",
                   metrics);
    }
    dieTogetherIfAny(error);
  }
  // The step a SIGTERM or SIGINT stopped the run before, or --steps.
  int64_t endStep = options.steps;
  for (int64_t i = startStep; i < options.steps; ++i) {
    runningStep = i;
    double stepStart = MPI_Wtime();
    loadBatch(i);
    checkMpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    double start = MPI_Wtime();
    if (runStep(i > startStep) != MP_OK)
      die("step " + std::to_string(i) + ": " + mp_context_error(ctx));
    // Every rank reads it: the copy reports a failure of the step's
    // asynchronous work (CUDA) on the rank that met it.
    float loss = 0;
    if (lossIndex >= 0)
      check(mp_copy_to_host(ctx, &loss, outputs[lossIndex], sizeof(loss)));
    else
      check(mp_context_status(ctx));
    if (options.time) {
      MPI_Barrier(MPI_COMM_WORLD);
      if (i >= options.warmup)
        stepMs.push_back((MPI_Wtime() - start) * 1e3);
    }
    if (rank == 0 && lossIndex >= 0) {
      // Above the progress line, which is written again below.
      if (overwrite) {
        std::fputs("\r\033[K", stderr);
        std::fflush(stderr);
      }
      std::printf("step %lld loss %.9g\n", static_cast<long long>(i),
                  static_cast<double>(loss));
      std::fflush(stdout);
    }
    if (i + 1 == options.warmup)
      mp_profile_restart(ctx);
    if (!options.metrics.empty() || progress) {
      double seconds = MPI_Wtime() - stepStart;
      runSeconds += seconds;
      unsigned long long peak = mp_peak_bytes(ctx), maxPeak = 0;
      MPI_Reduce(&peak, &maxPeak, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, 0,
                 MPI_COMM_WORLD);
      if (progress && rank == 0) {
        // The mean step of this run so far times the steps left.
        double eta = runSeconds / double(i + 1 - startStep) *
                     double(options.steps - i - 1);
        std::fprintf(stderr, "%s[%lld/%lld steps]", overwrite ? "\r\033[K" : "",
                     static_cast<long long>(i + 1),
                     static_cast<long long>(options.steps));
        if (lossIndex >= 0)
          std::fprintf(stderr, " | loss %.6g", double(loss));
        std::fprintf(stderr, " | %.3g ms/step | %.0f %s/s | ETA %s | peak %s%s",
                     seconds * 1e3, seconds > 0 ? perStep / seconds : 0.0,
                     perStepUnit, durationText(eta).c_str(),
                     bytesText(maxPeak).c_str(), overwrite ? "" : "\n");
        std::fflush(stderr);
      }
      if (metrics) {
        std::string lossText;
        if (lossIndex >= 0) {
          char text[32];
          std::snprintf(text, sizeof(text), "%.9g", double(loss));
          lossText = text;
        }
        std::fprintf(metrics, "%lld,%s,%.6f,%.6g,%llu\n",
                     static_cast<long long>(i), lossText.c_str(), seconds,
                     seconds > 0 ? perStep / seconds : 0.0, maxPeak);
        std::fflush(metrics);
      }
    }
    // Before a checkpoint could keep what diverged. Every rank reads the
    // loss, and all leave together even if their losses were to differ.
    std::string lossError;
    if (lossIndex >= 0 && !std::isfinite(loss) && !options.allowNonFinite) {
      lossError = "step " + std::to_string(i) + ": the loss is " +
                  nonFiniteText(loss) +
                  ", training diverged (--allow-non-finite trains on)";
    } else if (lossIndex >= 0 && !std::isfinite(loss) && rank == 0 &&
               !warnedLoss) {
      warnedLoss = true;
      std::fprintf(stderr,
                   "mp-train: warning: step %lld: the loss is %s; training on "
                   "(--allow-non-finite)\n",
                   static_cast<long long>(i), nonFiniteText(loss));
      std::fflush(stderr);
    }
    // The same reduction agrees on stopping: a scheduler signals every
    // process of the job, but not at the same instant, so one that did not
    // get it yet stops after this step too. After the last step the run
    // ends as it would have.
    bool stop = dieTogetherIfAny(lossError, stopSignal != 0);
    if (stop && i + 1 < options.steps) {
      endStep = i + 1;
      if (rank == 0) {
        std::printf("stopped by a signal before step %lld of %lld%s\n",
                    static_cast<long long>(endStep),
                    static_cast<long long>(options.steps),
                    options.checkpoint.empty() ? " (no --checkpoint)" : "");
        std::fflush(stdout);
      }
      break;
    }
    if (options.checkpointEvery > 0 && (i + 1) % options.checkpointEvery == 0)
      writeCheckpoint(i + 1);
  }
  runningStep = -1;
  bool preempted = endStep < options.steps;
  if (overwrite) {
    // The last progress line stays, as the run's summary.
    std::fputs("\n", stderr);
    std::fflush(stderr);
  }
  if (metrics && std::fclose(metrics) != 0)
    die(options.metrics + ": cannot write: " + std::strerror(errno));
  if (!options.checkpoint.empty() && lastCheckpoint != endStep)
    writeCheckpoint(endStep);
  if (options.time && rank == 0 && !stepMs.empty()) {
    std::sort(stepMs.begin(), stepMs.end());
    std::printf("step time: median %.3f ms, min %.3f ms, max %.3f ms over "
                "%zu steps after %lld warm-up\n",
                stepMs[stepMs.size() / 2], stepMs.front(), stepMs.back(),
                stepMs.size(), static_cast<long long>(options.warmup));
  }
  std::fflush(stdout);
  // Peak memory per rank, in rank order, beside the compiler's plan: its
  // arguments and arena, the output buffers the trainer holds, and what the
  // backend's context holds for its life.
  double planned = double(manifest.persistentBytes + manifest.arenaBytes +
                          mp_backend_reserved_bytes(options.backend));
  for (const ManifestTensor &result : manifest.results)
    if (result.role == "output")
      planned += double(result.localElements() *
                        mp::train::manifestDtypeSize(result.dtype));
  // Rank 0 prints every rank's line: ranks' own output streams reach the
  // launcher's in no fixed order, whatever barriers separate the writes.
  unsigned long long peak = mp_peak_bytes(ctx);
  int worldSize = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
  std::vector<unsigned long long> peaks(rank == 0 ? size_t(worldSize) : 0);
  MPI_Gather(&peak, 1, MPI_UNSIGNED_LONG_LONG, peaks.data(), 1,
             MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  for (size_t r = 0; r < peaks.size(); ++r)
    std::printf("rank %zu: Peak memory usage: %.2f GB (%llu bytes; planned "
                "%.0f)\n",
                r, double(peaks[r]) / 1e9, peaks[r], planned);
  std::fflush(stdout);
  // A stopped run's parameters are not the final ones: its checkpoint
  // carries them on.
  if (!options.save.empty() && !preempted)
    save();
  for (void *buffer : args)
    mp_free(ctx, buffer);
  for (void *buffer : outputs)
    mp_free(ctx, buffer);
  mp_context_destroy(ctx);
  if (!preempted)
    return 0;
  // No rank exits non-zero, which makes mpirun end the job, while rank 0
  // still publishes the checkpoint.
  checkMpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  return kExitPreempted;
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  // Installed after MPI_Init, so that they hand on to any handler it set.
  // The first SIGTERM or SIGINT stops the run at the next step boundary,
  // with a checkpoint; a second one ends the process.
  mp::train::removeTemporaryOnSignals(&stopSignal);
  Options options;
  std::string error;
  if (!parseOptions(argc, argv, options, error))
    dieTogether(error);
  if (options.help) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
      std::fputs(kUsage, stdout);
    MPI_Finalize();
    return 0;
  }
  const mp_step *step = mp_default_step;
  if (!step)
    dieTogether(
        "no compiled step is linked in (link an object from mp-translate)");
  if (step->abi_version != MP_RUNTIME_ABI_VERSION)
    dieTogether("the step '" + std::string(step->name) +
                "' was compiled for ABI " + std::to_string(step->abi_version) +
                ", this runtime implements " +
                std::to_string(MP_RUNTIME_ABI_VERSION));
  StepManifest manifest;
  if (!mp::train::parseManifest(step->manifest, manifest, error))
    dieTogether(std::string(step->name) + ": " + error);
  int status = Trainer(*step, std::move(manifest), options).run();
  MPI_Finalize();
  return status;
}
