//===- MpiCollectives.h - MPI collectives, direct or staged -----*- C++ -*-===//
//
// The host backend's collectives, and the CUDA backend's with
// MP_CUDA_TRANSPORT=mpi. Each ordered list of axes gets a communicator split
// from the world with the group index as key, so MPI's rank order is the
// header's group order. MPI moves contiguous blocks in group order, and a
// split of dim d of a row-major tensor is contiguous only for d = 0: pieces
// are packed into [group][piece] order before sending and unpacked after
// receiving, with memcpy on the host.
//
// Staged, the tensors are memory MPI cannot be handed (a GPU's): each
// collective copies its input into a host buffer with the backend's
// copyToHost, communicates and packs there, and copies its output back with
// copyToBackend. Both copies wait for the work issued before them and are
// done when they return, so a staged collective needs no other fencing.
//
//===----------------------------------------------------------------------===//

#ifndef MP_RUNTIME_MPICOLLECTIVES_H
#define MP_RUNTIME_MPICOLLECTIVES_H

#include "Context.h"

#include <map>
#include <memory>
#include <vector>

namespace mp::runtime {

/// Copies piece `p` of `n` along the view's dim of the host tensor `in`
/// into the contiguous `out` (the host backend's shard_slice too).
void copyPiece(const DimView &view, const char *in, char *out, int64_t p,
               int64_t n);

class MpiCollectives {
public:
  /// `staging` is null where MPI reads and writes the tensors themselves
  /// (host memory); otherwise the backend whose memory the tensors are,
  /// whose copies and host buffers stage them. `hostMemory`: the backend's
  /// memory is the host's (the host backend, staged or not), so that the
  /// scratch a call is given can hold packed pieces.
  MpiCollectives(mp_context *ctx, Backend *staging, bool hostMemory)
      : ctx(ctx), staging(staging), hostMemory(hostMemory) {}
  ~MpiCollectives();
  MpiCollectives(const MpiCollectives &) = delete;
  MpiCollectives &operator=(const MpiCollectives &) = delete;

  /// The Backend calls of the same names.
  mp_status allReduce(const Group &group, mp_dtype dtype, void *data,
                      int64_t count);
  mp_status allGather(const Group &group, mp_dtype dtype, const void *in,
                      void *out, const DimView &view, Workspace &scratch);
  mp_status reduceScatter(const Group &group, mp_dtype dtype, const void *in,
                          void *out, const DimView &view, Workspace &scratch);
  mp_status allToAll(const Group &group, mp_dtype dtype, const void *in,
                     void *out, const DimView &split, const DimView &piece,
                     Workspace &scratch);

private:
  /// The communicator of `group`, split from the world on first use; null
  /// with the error recorded if MPI fails.
  MPI_Comm getCommunicator(const Group &group);
  /// What MPI works on for `bytes` bytes of the tensor `data`: `data`
  /// itself, or staging buffer `slot` (0 for inputs, 1 for outputs), filled
  /// from `data` when `fill`. Null with the error recorded.
  char *stage(int slot, const void *data, size_t bytes, bool fill);
  /// Copies what MPI wrote to `host` (from stage) back to the tensor
  /// `data`; nothing to do unstaged.
  mp_status unstage(void *data, const char *host, size_t bytes);
  /// The MPI operation that sums `dtype`: MPI_SUM, or for bfloat16 (which
  /// MPI has no type for) an operation created on first use that adds
  /// pairs in float32 and rounds each sum to bfloat16, as NCCL's bf16 sum
  /// does. MPI_OP_NULL with the error recorded if MPI fails.
  MPI_Op getSumOp(mp_dtype dtype);

  mp_context *ctx;
  Backend *staging;
  bool hostMemory;
  /// One communicator per ordered list of axes.
  std::map<std::vector<int>, MPI_Comm> communicators;
  MPI_Op bfloat16Sum = MPI_OP_NULL;
  /// The staging buffers (pinned on CUDA), kept at the largest size a
  /// collective has needed: a step repeats the same collectives.
  struct HostBuffer {
    void *data = nullptr;
    size_t bytes = 0;
  };
  HostBuffer buffers[2];
  /// Where pieces are packed or concatenated for MPI: the host backend's
  /// planned `scratch`, or host memory of the call's own (all of it, not
  /// counted as the backend's, where MPI stages CUDA's tensors on the host:
  /// `scratch` is device memory).
  HostScratch getScratch(Workspace &scratch);
  Workspace none;
};

} // namespace mp::runtime

#endif // MP_RUNTIME_MPICOLLECTIVES_H
