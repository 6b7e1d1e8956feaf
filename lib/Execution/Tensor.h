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

/// Concatenates `pieces` along `dim`.
HostTensor concat(llvm::ArrayRef<HostTensor> pieces, int64_t dim);

} // namespace mp::execution

#endif // MP_LIB_EXECUTION_TENSOR_H
