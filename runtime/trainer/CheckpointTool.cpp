//===- CheckpointTool.cpp - mp-ckpt: look into mp-train's checkpoints -----===//
//
// mp-ckpt reads the sharded checkpoints mp-train --checkpoint writes
// (docs/runtime-abi.md, "Checkpoints") on one process, without MPI:
// `inspect` says what a checkpoint holds and whether each file matches its
// checksums, `verify` checks only that (for scripts: the exit status),
// `consolidate` assembles the global parameters into one safetensors file,
// padding dropped, that mp-train --init reads. The index reader, the file
// checks and the assembly are mp-train --resume's own (Checkpoint.h).
//
//===----------------------------------------------------------------------===//

#include "Checkpoint.h"
#include "SafeTensors.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace mp::train;

namespace {

const char *const kUsage =
    "usage: mp-ckpt inspect DIR\n"
    "       mp-ckpt verify DIR\n"
    "       mp-ckpt consolidate DIR OUT.safetensors\n"
    "DIR is a checkpoint directory of mp-train --checkpoint (its newest "
    "checkpoint,\n"
    "the one DIR/latest names) or one of its step-<k> directories.\n"
    "  inspect      the mesh, the step, the data position, each tensor's "
    "role, dtype,\n"
    "               global and local shapes and split, and each rank file "
    "with its\n"
    "               checksum verified: \"ok\" or what is wrong\n"
    "  verify       the index's structure and every file's checksums; "
    "exit status 0\n"
    "               when all match, 1 otherwise, naming the file and "
    "tensor\n"
    "  consolidate  the global parameters (padding dropped), in the form "
    "mp-train\n"
    "               --init reads, written atomically to OUT.safetensors\n";

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "mp-ckpt: %s\n", message.c_str());
  std::exit(1);
}

/// The index of DIR: a step directory's own, or that of DIR/latest's.
CheckpointIndex readIndex(const std::string &dir) {
  std::string stepDir = dir, error;
  struct stat status;
  if (stat((dir + "/index.json").c_str(), &status) != 0 &&
      !findLatestCheckpoint(dir, stepDir, error))
    fail(error + " (neither a checkpoint directory nor one of its step-<k> "
                 "directories)");
  CheckpointIndex index;
  if (!readCheckpointIndex(stepDir, index, error))
    fail(error);
  return index;
}

std::string splitText(const ManifestTensor &tensor) {
  std::string text;
  for (size_t d = 0; d < tensor.split.size(); ++d) {
    text += d ? " " : "";
    if (tensor.split[d].empty())
      text += "-";
    for (size_t a = 0; a < tensor.split[d].size(); ++a)
      text += (a ? "," : "") + tensor.split[d][a];
  }
  return text.empty() ? "(scalar)" : text;
}

int inspect(const CheckpointIndex &index) {
  std::printf(
      "checkpoint %s\nfunction %s\nstep %lld\nmesh %s (%lld ranks)\n"
      "data %s, seed %s, position %lld\n",
      index.dir.c_str(), index.function.c_str(),
      static_cast<long long>(index.step), meshText(index.layout).c_str(),
      static_cast<long long>(index.layout.numRanks()), index.dataSource.c_str(),
      index.seed.c_str(), static_cast<long long>(index.dataPosition));
  std::printf("tensors (%zu): name role dtype global-shape local-shape "
              "split\n",
              index.layout.args.size());
  for (const ManifestTensor &tensor : index.layout.args)
    std::printf("  %s %s %s %s %s %s\n", tensor.name.c_str(),
                tensor.role.c_str(), safetensorsDtype(tensor.dtype).c_str(),
                shapeText(tensor.globalShape).c_str(),
                shapeText(tensor.localShape).c_str(),
                splitText(tensor).c_str());
  std::printf("files (%zu): rank file bytes fnv1a64 check\n",
              index.files.size());
  int status = 0;
  for (size_t r = 0; r < index.files.size(); ++r) {
    std::string error;
    bool ok = verifyCheckpointFile(index, static_cast<int64_t>(r), error);
    status |= !ok;
    std::printf("  %zu %s %llu %s %s\n", r, index.files[r].name.c_str(),
                static_cast<unsigned long long>(index.files[r].bytes),
                hex64(index.files[r].hash).c_str(),
                ok ? "ok" : ("FAILED: " + error).c_str());
  }
  return status;
}

int verify(const CheckpointIndex &index) {
  int failed = 0;
  for (size_t r = 0; r < index.files.size(); ++r) {
    std::string error;
    if (!verifyCheckpointFile(index, static_cast<int64_t>(r), error)) {
      std::fprintf(stderr, "mp-ckpt: %s\n", error.c_str());
      ++failed;
    }
  }
  if (failed)
    return 1;
  std::printf("%s: ok (%zu files, %zu tensors, step %lld)\n", index.dir.c_str(),
              index.files.size(), index.layout.args.size(),
              static_cast<long long>(index.step));
  return 0;
}

int consolidate(const CheckpointIndex &index, const std::string &out) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  CheckpointFiles files;
  std::string error;
  for (size_t t = 0; t < index.layout.args.size(); ++t) {
    const ManifestTensor &layout = index.layout.args[t];
    if (layout.role != "param")
      continue;
    // The whole tensor as one piece: nothing padded, nothing left out.
    std::vector<DimPiece> whole;
    for (int64_t extent : layout.globalShape)
      whole.push_back({extent, 0, extent});
    Tensor global{safetensorsDtype(layout.dtype), layout.globalShape, {}};
    if (!readCheckpointPiece(index, static_cast<int>(t), whole, 0, files,
                             nullptr, global.bytes, error))
      fail(error);
    tensors.emplace_back(layout.name, std::move(global));
  }
  if (!writeSafeTensors(out, tensors, error))
    fail(error);
  std::printf("%s: %zu parameters of %s (step %lld)\n", out.c_str(),
              tensors.size(), index.dir.c_str(),
              static_cast<long long>(index.step));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.size() == 2 && args[0] == "inspect")
    return inspect(readIndex(args[1]));
  if (args.size() == 2 && args[0] == "verify")
    return verify(readIndex(args[1]));
  if (args.size() == 3 && args[0] == "consolidate")
    return consolidate(readIndex(args[1]), args[2]);
  std::fprintf(stderr, "%s", kUsage);
  return 2;
}
