//===- RowChunks.h - rows cut into chunks as even as they allow -*- C++ -*-===//
//
// --mp-pipeline-tp-sums and --mp-chunk-loss cut a region's rows into
// chunks the same way, so that their chunks line up where both run.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRANSFORMS_ROWCHUNKS_H
#define MP_TRANSFORMS_ROWCHUNKS_H

#include <algorithm>
#include <cstdint>

namespace mp {

/// Chunk `chunk` of `rows` rows cut into `count` chunks as even as they
/// allow (the first get one more): its first row and its number of rows.
struct RowChunk {
  int64_t offset, rows;
};
inline RowChunk getRowChunk(int64_t rows, int64_t count, int64_t chunk) {
  int64_t base = rows / count, extra = rows % count;
  return {chunk * base + std::min(chunk, extra), base + (chunk < extra)};
}

} // namespace mp

#endif // MP_TRANSFORMS_ROWCHUNKS_H
