//===- Tensor.cpp - index arithmetic on host tensors ----------------------===//

#include "Tensor.h"

#include <algorithm>

using namespace llvm;

namespace mp {

HostTensor HostTensor::zeros(ArrayRef<int64_t> shape) {
  HostTensor tensor{SmallVector<int64_t>(shape), {}};
  tensor.data.assign(tensor.getNumElements(), 0.0);
  return tensor;
}

int64_t HostTensor::getNumElements() const {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

namespace execution {

SmallVector<int64_t> getStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

int64_t indexWithoutDims(ArrayRef<int64_t> shape, ArrayRef<int64_t> strides,
                         ArrayRef<int64_t> dims, int64_t i) {
  int64_t index = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t coord = i / strides[d];
    i %= strides[d];
    if (!llvm::is_contained(dims, static_cast<int64_t>(d)))
      index = index * shape[d] + coord;
  }
  return index;
}

namespace {
/// [outer][extent][inner] around `dim`.
void splitAround(ArrayRef<int64_t> shape, int64_t dim, int64_t &outer,
                 int64_t &inner) {
  outer = inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim)
      outer *= shape[d];
    else if (d > dim)
      inner *= shape[d];
  }
}
} // namespace

HostTensor slicePiece(const HostTensor &tensor, int64_t dim, int64_t index,
                      int64_t count) {
  HostTensor piece{tensor.shape, {}};
  piece.shape[dim] /= count;
  int64_t outer, inner;
  splitAround(tensor.shape, dim, outer, inner);
  int64_t rows = piece.shape[dim], extent = tensor.shape[dim];
  piece.data.reserve(outer * rows * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < inner; ++i)
        piece.data.push_back(
            tensor.data[(o * extent + index * rows + r) * inner + i]);
  return piece;
}

void addPiece(HostTensor &tensor, const HostTensor &piece, int64_t dim,
              int64_t index, int64_t count) {
  int64_t outer, inner;
  splitAround(tensor.shape, dim, outer, inner);
  int64_t rows = tensor.shape[dim] / count, extent = tensor.shape[dim];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < inner; ++i)
        tensor.data[(o * extent + index * rows + r) * inner + i] +=
            piece.data[(o * rows + r) * inner + i];
}

HostTensor sliceDim(const HostTensor &tensor, int64_t dim, int64_t offset,
                    int64_t extent) {
  SmallVector<int64_t> shape(tensor.shape);
  shape[dim] = extent;
  HostTensor slice = HostTensor::zeros(shape);
  int64_t outer, inner;
  splitAround(tensor.shape, dim, outer, inner);
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(tensor.data.begin() + (o * tensor.shape[dim] + offset) * inner,
                extent * inner, slice.data.begin() + o * extent * inner);
  return slice;
}

void writeDim(HostTensor &whole, const HostTensor &piece, int64_t dim,
              int64_t offset) {
  int64_t outer, inner;
  splitAround(whole.shape, dim, outer, inner);
  int64_t extent = piece.shape[dim];
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(piece.data.begin() + o * extent * inner, extent * inner,
                whole.data.begin() + (o * whole.shape[dim] + offset) * inner);
}

HostTensor resizeDim(const HostTensor &tensor, int64_t dim, int64_t extent) {
  SmallVector<int64_t> shape(tensor.shape);
  shape[dim] = extent;
  HostTensor resized = HostTensor::zeros(shape);
  int64_t outer, inner;
  splitAround(tensor.shape, dim, outer, inner);
  int64_t kept = std::min(extent, tensor.shape[dim]);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < kept; ++r)
      for (int64_t i = 0; i < inner; ++i)
        resized.data[(o * extent + r) * inner + i] =
            tensor.data[(o * tensor.shape[dim] + r) * inner + i];
  return resized;
}

void zeroFrom(HostTensor &tensor, int64_t dim, int64_t valid) {
  int64_t outer, inner;
  splitAround(tensor.shape, dim, outer, inner);
  int64_t extent = tensor.shape[dim];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = valid; r < extent; ++r)
      for (int64_t i = 0; i < inner; ++i)
        tensor.data[(o * extent + r) * inner + i] = 0;
}

namespace {
/// Calls `f(pieceIndex, wholeIndex)` for each element of a piece of
/// `pieceShape` at `offsets` in a tensor of `wholeShape` that lies in the
/// piece's valid box.
void forEachValid(ArrayRef<int64_t> pieceShape, ArrayRef<int64_t> wholeShape,
                  ArrayRef<int64_t> offsets, ArrayRef<int64_t> valids,
                  llvm::function_ref<void(int64_t, int64_t)> f) {
  SmallVector<int64_t> strides = getStrides(pieceShape);
  int64_t count = 1;
  for (int64_t extent : pieceShape)
    count *= extent;
  for (int64_t i = 0; i < count; ++i) {
    int64_t whole = 0, rest = i;
    bool valid = true;
    for (size_t d = 0; d < pieceShape.size(); ++d) {
      int64_t coord = rest / strides[d];
      rest %= strides[d];
      valid &= coord < valids[d];
      whole = whole * wholeShape[d] + offsets[d] + coord;
    }
    if (valid)
      f(i, whole);
  }
}
} // namespace

HostTensor takePiece(const HostTensor &whole, ArrayRef<int64_t> shape,
                     ArrayRef<int64_t> offsets, ArrayRef<int64_t> valids) {
  HostTensor piece = HostTensor::zeros(shape);
  forEachValid(shape, whole.shape, offsets, valids,
               [&](int64_t p, int64_t w) { piece.data[p] = whole.data[w]; });
  return piece;
}

void addValidPiece(HostTensor &whole, const HostTensor &piece,
                   ArrayRef<int64_t> offsets, ArrayRef<int64_t> valids) {
  forEachValid(piece.shape, whole.shape, offsets, valids,
               [&](int64_t p, int64_t w) { whole.data[w] += piece.data[p]; });
}

HostTensor concat(ArrayRef<HostTensor> pieces, int64_t dim) {
  SmallVector<int64_t> shape(pieces.front().shape);
  shape[dim] *= pieces.size();
  HostTensor whole = HostTensor::zeros(shape);
  for (auto [index, piece] : enumerate(pieces))
    addPiece(whole, piece, dim, index, pieces.size());
  return whole;
}

} // namespace execution
} // namespace mp
