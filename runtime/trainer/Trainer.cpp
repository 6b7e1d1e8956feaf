//===- Trainer.cpp - mp-train: the stock training loop around a step ------===//
//
// The seed's training script as a command. Linked with an object that
// mp-translate wrote (`mp-link step.o -o train`), it runs the step that
// `mp_default_step` points at, one process per rank under mpirun/srun:
// parameters from --init (global tensors, scattered to each rank's shard)
// or a seeded Kaiming-uniform init as nn.Linear's; batches from --data or a
// seeded normal dataset like Lightning's RandomDataset; `step <i> loss <v>`
// on rank 0; each rank's peak memory beside the compiler's plan; --save
// gathers the parameters into one safetensors file of global tensors.
// Buffers are the backend's (device memory on CUDA): data goes in and out
// through mp_copy_to_backend and mp_copy_to_host, staged in host memory.
//
//===----------------------------------------------------------------------===//

#include "Pieces.h"
#include "SafeTensors.h"
#include "StepManifest.h"

#include "mp_runtime.h"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

extern "C" const mp_step *const mp_default_step;

namespace {

using mp::train::DimPiece;
using mp::train::ManifestTensor;
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
};

const char *const kUsage =
    "usage: mp-train [--steps N] [--init FILE.safetensors] [--data "
    "FILE.safetensors]\n"
    "                [--seed N] [--save FILE.safetensors] [--backend "
    "host|cuda]\n"
    "                [--time] [--warmup N]\n"
    "The optimizer and its hyperparameters are compiled into the step "
    "(mp-opt --mp-train-step=\"optimizer=... lr=...\").\n";

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
    auto number = [&](int64_t &out) {
      const char *text = value();
      if (!text)
        return false;
      char *end = nullptr;
      long long parsed = std::strtoll(text, &end, 10);
      if (*end || parsed < 0) {
        error = arg + " wants a non-negative integer, not '" + text + "'";
        return false;
      }
      out = parsed;
      return true;
    };
    if (arg == "--init" || arg == "--data" || arg == "--save") {
      const char *text = value();
      if (!text)
        return false;
      (arg == "--init"   ? options.init
       : arg == "--data" ? options.data
                         : options.save) = text;
    } else if (arg == "--steps") {
      if (!number(options.steps))
        return false;
    } else if (arg == "--warmup") {
      if (!number(options.warmup))
        return false;
    } else if (arg == "--time") {
      options.time = true;
    } else if (arg == "--seed") {
      int64_t seed;
      if (!number(seed))
        return false;
      options.seed = static_cast<uint64_t>(seed);
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
    } else if (arg == "--optimizer" || arg == "--lr") {
      error = arg + " is compiled into the step: pass it to mp-opt "
                    "--mp-train-step (scripts/run-ffn.sh does)";
      return false;
    } else {
      error = "unknown option '" + arg + "'\n" + kUsage;
      return false;
    }
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

/// This rank's coordinate on each mesh axis: row-major, last axis fastest.
std::vector<int64_t> getCoordinates(const StepManifest &manifest, int rank) {
  std::vector<int64_t> coords(manifest.mesh.size());
  int64_t rest = rank;
  for (size_t axis = manifest.mesh.size(); axis-- > 0;) {
    coords[axis] = rest % manifest.mesh[axis].second;
    rest /= manifest.mesh[axis].second;
  }
  return coords;
}

/// Per dim, where `rank`'s piece of `tensor` lies in the global tensor.
std::vector<DimPiece> getPiece(const StepManifest &manifest,
                               const ManifestTensor &tensor, int rank) {
  std::vector<int64_t> coords = getCoordinates(manifest, rank);
  std::vector<DimPiece> piece;
  for (size_t dim = 0; dim < tensor.localShape.size(); ++dim) {
    std::vector<int64_t> sizes, axisCoords;
    for (const std::string &axis : tensor.split[dim]) {
      int a = manifest.axisIndex(axis);
      sizes.push_back(manifest.mesh[a].second);
      axisCoords.push_back(coords[a]);
    }
    piece.push_back(
        mp::train::getDimPiece(tensor.globalShape[dim], sizes, axisCoords));
  }
  return piece;
}

/// Copies the valid box of a piece (shaped by the pieces' padded extents)
/// between it and the global tensor, in the direction `toPiece` says; the
/// piece's padding is left as it is.
void copyPiece(char *global, const std::vector<int64_t> &globalShape,
               char *local, const std::vector<DimPiece> &piece,
               size_t elementBytes, bool toPiece) {
  size_t rank = piece.size();
  int64_t count = 1;
  for (const DimPiece &dim : piece)
    count *= dim.valid;
  // Rows of the innermost dim are contiguous in both.
  int64_t row = rank ? piece[rank - 1].valid : 1;
  std::vector<int64_t> index(rank, 0);
  for (int64_t done = 0; done < count; done += row) {
    int64_t globalOffset = 0, localOffset = 0;
    for (size_t dim = 0; dim < rank; ++dim) {
      globalOffset =
          globalOffset * globalShape[dim] + piece[dim].origin + index[dim];
      localOffset = localOffset * piece[dim].extent + index[dim];
    }
    char *g = global + globalOffset * elementBytes;
    char *p = local + localOffset * elementBytes;
    std::memcpy(toPiece ? p : g, toPiece ? g : p, row * elementBytes);
    for (int64_t dim = static_cast<int64_t>(rank) - 2; dim >= 0; --dim) {
      if (++index[dim] < piece[dim].valid)
        break;
      index[dim] = 0;
    }
  }
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

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string safetensorsDtype(const std::string &dtype) {
  std::string upper = dtype;
  for (char &c : upper)
    c = static_cast<char>(std::toupper(c));
  return upper;
}

class Trainer {
public:
  Trainer(const mp_step &step, StepManifest manifest, Options options)
      : step(step), manifest(std::move(manifest)), options(std::move(options)) {
  }

  void run();

private:
  void createContext();
  void initArguments();
  void loadBatch(int64_t stepIndex);
  void save();
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
};

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
  if (mp_context_create(static_cast<int>(names.size()), names.data(),
                        sizes.data(), options.backend, &ctx) != MP_OK)
    dieTogether(mp_context_error(ctx));
  rank = mp_context_rank(ctx);
}

void Trainer::initArguments() {
  std::string error;
  if (!options.init.empty() &&
      !mp::train::readSafeTensors(options.init, initTensors, error))
    dieTogether(error);
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
        wanted.insert(wanted.begin(), options.steps);
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
                      " [>= " + std::to_string(options.steps) + " steps, " +
                      shapeText(arg.globalShape).substr(1));
      }
      continue;
    }
    if (arg.role == "state")
      continue; // Optimizer state starts at zero, as in torch.optim.
    // A parameter: our piece of the tensor from --init, or seeded.
    std::vector<DimPiece> mine = getPiece(manifest, arg, rank);
    if (!options.init.empty()) {
      auto it = initTensors.find(arg.name);
      if (it == initTensors.end())
        dieTogether(options.init + ": no tensor '" + arg.name +
                    "' for the step's parameter of that name");
      if (it->second.dtype != safetensorsDtype(arg.dtype) ||
          it->second.shape != arg.globalShape)
        dieTogether(options.init + ": tensor '" + arg.name + "' is " +
                    it->second.dtype + " " + shapeText(it->second.shape) +
                    ", but the step's parameter is " +
                    safetensorsDtype(arg.dtype) + " " +
                    shapeText(arg.globalShape));
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

void Trainer::loadBatch(int64_t stepIndex) {
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
  std::string error;
  if (rank == 0 && !mp::train::writeSafeTensors(options.save, tensors, error))
    die(error);
}

void Trainer::run() {
  createContext();
  initArguments();
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
  for (int64_t i = 0; i < options.steps; ++i) {
    loadBatch(i);
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    if (step.entry(ctx, args.data(), outputs.data()) != MP_OK)
      die(mp_context_error(ctx));
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
    if (rank == 0 && lossIndex >= 0)
      std::printf("step %lld loss %.9g\n", static_cast<long long>(i),
                  static_cast<double>(loss));
    if (i + 1 == options.warmup)
      mp_profile_restart(ctx);
  }
  if (options.time && rank == 0) {
    std::sort(stepMs.begin(), stepMs.end());
    std::printf("step time: median %.3f ms, min %.3f ms, max %.3f ms over "
                "%zu steps after %lld warm-up\n",
                stepMs[stepMs.size() / 2], stepMs.front(), stepMs.back(),
                stepMs.size(), static_cast<long long>(options.warmup));
  }
  std::fflush(stdout);
  // Peak memory per rank, in rank order, beside the compiler's plan: its
  // arguments and arena, and the output buffers the trainer holds.
  double planned = double(manifest.persistentBytes + manifest.arenaBytes);
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
  if (!options.save.empty())
    save();
  for (void *buffer : args)
    mp_free(ctx, buffer);
  for (void *buffer : outputs)
    mp_free(ctx, buffer);
  mp_context_destroy(ctx);
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  Options options;
  std::string error;
  if (!parseOptions(argc, argv, options, error))
    dieTogether(error);
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
  Trainer(*step, std::move(manifest), options).run();
  MPI_Finalize();
  return 0;
}
