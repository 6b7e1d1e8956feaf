//===- Tensor.cpp - index arithmetic on host tensors ----------------------===//

#include "Tensor.h"

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
