//===- Pieces.h - where a rank's piece of a split dim lies ------*- C++ -*-===//
//
// The layout of mp_runtime.h's "Uneven splits": a dim split over mesh axes
// (major to minor) is chunked axis by axis as torch.chunk does, each axis
// chunking the previous level's padded piece; every rank holds the same
// padded extent, of which a prefix is valid. Header-only plain C++, beside
// the manifest that names the splits.
//
//===----------------------------------------------------------------------===//

#ifndef MP_TRAINER_PIECES_H
#define MP_TRAINER_PIECES_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace mp::train {

/// One rank's piece of one dim.
struct DimPiece {
  /// Entries every rank holds: c_m of the layout.
  int64_t extent = 0;
  /// The global index of the piece's first entry.
  int64_t origin = 0;
  /// Entries [0, valid) hold global entries [origin, origin + valid); the
  /// rest is padding.
  int64_t valid = 0;
};

/// The piece of a dim of global extent `extent` split over axes of sizes
/// `sizes` (major to minor) on the rank at `coords` on those axes.
inline DimPiece getDimPiece(int64_t extent, const std::vector<int64_t> &sizes,
                            const std::vector<int64_t> &coords) {
  DimPiece piece{extent, 0, extent};
  for (size_t j = 0; j < sizes.size(); ++j) {
    piece.extent = piece.extent / sizes[j] + (piece.extent % sizes[j] != 0);
    int64_t start = coords[j] * piece.extent;
    piece.origin += start;
    piece.valid = std::clamp(piece.valid - start, int64_t(0), piece.extent);
  }
  return piece;
}

/// Copies a box of `count[d]` entries per dim between two row-major arrays
/// of the same rank and element size: from `source` (extents
/// `sourceShape`), the box starting at `sourceStart`, to `target` (extents
/// `targetShape`) at `targetStart`. A rank's piece and the global tensor,
/// or two ranks' pieces of different layouts, are such arrays.
inline void copyBox(const char *source, const std::vector<int64_t> &sourceShape,
                    const std::vector<int64_t> &sourceStart, char *target,
                    const std::vector<int64_t> &targetShape,
                    const std::vector<int64_t> &targetStart,
                    const std::vector<int64_t> &count, size_t elementBytes) {
  size_t rank = count.size();
  int64_t total = 1;
  for (int64_t entries : count)
    total *= entries;
  // Rows of the innermost dim are contiguous in both.
  int64_t row = rank ? count[rank - 1] : 1;
  std::vector<int64_t> index(rank, 0);
  for (int64_t done = 0; done < total; done += row) {
    int64_t sourceOffset = 0, targetOffset = 0;
    for (size_t dim = 0; dim < rank; ++dim) {
      sourceOffset =
          sourceOffset * sourceShape[dim] + sourceStart[dim] + index[dim];
      targetOffset =
          targetOffset * targetShape[dim] + targetStart[dim] + index[dim];
    }
    std::memcpy(target + targetOffset * elementBytes,
                source + sourceOffset * elementBytes, row * elementBytes);
    for (int64_t dim = static_cast<int64_t>(rank) - 2; dim >= 0; --dim) {
      if (++index[dim] < count[dim])
        break;
      index[dim] = 0;
    }
  }
}

} // namespace mp::train

#endif // MP_TRAINER_PIECES_H
