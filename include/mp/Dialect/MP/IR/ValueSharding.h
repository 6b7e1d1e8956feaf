//===- ValueSharding.h - where a value's sharding is recorded ---*- C++ -*-===//
//
// After propagation every value has a sharding: a function argument in its
// `mp.sharding` argument attribute, an op result in the op's `mp.sharding`
// attribute (for mp.annotate and mp.reshard, in their own `sharding`).
//
//===----------------------------------------------------------------------===//

#ifndef MP_DIALECT_MP_IR_VALUESHARDING_H
#define MP_DIALECT_MP_IR_VALUESHARDING_H

#include "mp/Dialect/MP/IR/MPAttrs.h"

#include "mlir/IR/Value.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mp {

/// A sharding in a form passes can edit: per dim the splitting axes (major
/// to minor), and the partial axes.
struct Layout {
  llvm::SmallVector<llvm::SmallVector<llvm::StringRef>> dims;
  llvm::SmallVector<llvm::StringRef> partial;

  static Layout getReplicated(int64_t rank) {
    return Layout{llvm::SmallVector<llvm::SmallVector<llvm::StringRef>>(rank),
                  {}};
  }
  static Layout get(ShardingAttr sharding);
  ShardingAttr toAttr(mlir::FlatSymbolRefAttr mesh) const;

  /// True if `axis` splits a dim or is partial.
  bool uses(llvm::StringRef axis) const;
  bool operator==(const Layout &other) const {
    return dims == other.dims && partial == other.partial;
  }
  bool operator!=(const Layout &other) const { return !(*this == other); }
};

/// The sharding recorded for `value`, or null.
ShardingAttr getValueSharding(mlir::Value value);

/// Records `sharding` for `value` (on its op or function argument).
void setValueSharding(mlir::Value value, ShardingAttr sharding);

/// The global shape of argument (or, if `isResult`, result) `index` of
/// `func`: its type's, unless `func` is partitioned and the value split.
/// `mesh` is the mesh of its sharding when the caller knows it (looking it
/// up scans the module).
llvm::SmallVector<int64_t> getGlobalShape(mlir::FunctionOpInterface func,
                                          unsigned index, bool isResult,
                                          MeshAttr mesh = {});

} // namespace mp

#endif // MP_DIALECT_MP_IR_VALUESHARDING_H
