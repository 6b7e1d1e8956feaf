//===- Tensor.h - index arithmetic on host tensors --------------*- C++ -*-===//

#ifndef MP_LIB_EXECUTION_TENSOR_H
#define MP_LIB_EXECUTION_TENSOR_H

#include "mp/Execution/Interpreter.h"

namespace mp::execution {

/// Row-major strides of `shape`.
llvm::SmallVector<int64_t> getStrides(llvm::ArrayRef<int64_t> shape);

/// The row-major index, in the tensor without `dims`, of the element at
/// index `i` of a tensor of `shape` (with row-major `strides`).
int64_t indexWithoutDims(llvm::ArrayRef<int64_t> shape,
                         llvm::ArrayRef<int64_t> strides,
                         llvm::ArrayRef<int64_t> dims, int64_t i);

/// Piece `index` of `count` equal pieces of `tensor` along `dim`.
HostTensor slicePiece(const HostTensor &tensor, int64_t dim, int64_t index,
                      int64_t count);

/// Adds `piece` into `tensor` as piece `index` of `count` along `dim`.
void addPiece(HostTensor &tensor, const HostTensor &piece, int64_t dim,
              int64_t index, int64_t count);

/// Entries [offset, offset + extent) of `dim` of `tensor`.
HostTensor sliceDim(const HostTensor &tensor, int64_t dim, int64_t offset,
                    int64_t extent);

/// Writes `piece` over entries [offset, offset + its extent) of `dim` of
/// `whole`.
void writeDim(HostTensor &whole, const HostTensor &piece, int64_t dim,
              int64_t offset);

/// Concatenates `pieces` along `dim`.
HostTensor concat(llvm::ArrayRef<HostTensor> pieces, int64_t dim);

/// `tensor` with `extent` entries in `dim`: the first ones kept, zeros past
/// the old extent.
HostTensor resizeDim(const HostTensor &tensor, int64_t dim, int64_t extent);

/// Zeros the entries of `dim` from `valid` on.
void zeroFrom(HostTensor &tensor, int64_t dim, int64_t valid);

/// A piece of `shape` cut from `whole` at `offsets`: per dim, the first
/// `valids` entries are the whole's and the rest (padding) zero.
HostTensor takePiece(const HostTensor &whole, llvm::ArrayRef<int64_t> shape,
                     llvm::ArrayRef<int64_t> offsets,
                     llvm::ArrayRef<int64_t> valids);

/// Adds the valid entries of `piece` (as takePiece cuts it) into `whole`.
void addValidPiece(HostTensor &whole, const HostTensor &piece,
                   llvm::ArrayRef<int64_t> offsets,
                   llvm::ArrayRef<int64_t> valids);

} // namespace mp::execution

#endif // MP_LIB_EXECUTION_TENSOR_H
