//===- Collectives.cpp - the host backend's collectives -------------------===//

#include "HostBackend.h"

namespace mp::runtime {

mp_status HostBackend::allReduce(const Group &group, mp_dtype dtype, void *data,
                                 int64_t count) {
  return collectives.allReduce(group, dtype, data, count);
}

mp_status HostBackend::allGather(const Group &group, mp_dtype dtype,
                                 const void *in, void *out, const DimView &view,
                                 Workspace &scratch) {
  return collectives.allGather(group, dtype, in, out, view, scratch);
}

mp_status HostBackend::reduceScatter(const Group &group, mp_dtype dtype,
                                     const void *in, void *out,
                                     const DimView &view, Workspace &scratch) {
  return collectives.reduceScatter(group, dtype, in, out, view, scratch);
}

mp_status HostBackend::allToAll(const Group &group, mp_dtype dtype,
                                const void *in, void *out, const DimView &split,
                                const DimView &piece, Workspace &scratch) {
  return collectives.allToAll(group, dtype, in, out, split, piece, scratch);
}

mp_status HostBackend::shardSlice(const Group &group, const void *in, void *out,
                                  const DimView &view) {
  copyPiece(view, static_cast<const char *>(in), static_cast<char *>(out),
            group.index, group.size);
  return MP_OK;
}

} // namespace mp::runtime
