//===- MPAttrs.h - mesh, sharding and plan attributes -----------*- C++ -*-===//

#ifndef MP_DIALECT_MP_IR_MPATTRS_H
#define MP_DIALECT_MP_IR_MPATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"

#include "mp/Dialect/MP/IR/MPEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mp/Dialect/MP/IR/MPAttrs.h.inc"

namespace mp {

/// Names mp carries from a model into generated files (the manifest, the C
/// header, the trainer's safetensors files): tensor names (parameters,
/// inputs, targets, state, outputs) and mesh axis names are 1 to
/// kMaxNameLength characters of [A-Za-z0-9_.:/-], which PyTorch's dotted
/// state-dict names, safetensors keys and torch-mlir's names all are. They
/// are checked where they enter (IR attributes, plan files, importers), so
/// that no later file needs to quote them (docs/sharding.md, "Names").
constexpr size_t kMaxNameLength = 256;
bool isValidName(llvm::StringRef name);
/// Plan keys are names that may also hold glob characters (*?[]!^).
bool isValidPlanKey(llvm::StringRef key);
/// The grammars, for diagnostics.
constexpr llvm::StringLiteral kNameGrammar =
    "1 to 256 characters of [A-Za-z0-9_.:/-]";
constexpr llvm::StringLiteral kPlanKeyGrammar =
    "1 to 256 characters of [A-Za-z0-9_.:/-] and the glob characters *?[]!^";

/// The local extent of a dim of `extent` split over axes of `axisSizes`
/// (major to minor): each axis splits the previous piece, rounded up.
int64_t getSplitExtent(int64_t extent, llvm::ArrayRef<int64_t> axisSizes);

/// How many of those local entries hold values on the rank at `coords` (one
/// per axis), the rest being padding; the values are a prefix.
int64_t getValidExtent(int64_t extent, llvm::ArrayRef<int64_t> axisSizes,
                       llvm::ArrayRef<int64_t> coords);

/// Where the piece of the rank at `coords` starts in the global dim.
int64_t getPieceOffset(int64_t extent, llvm::ArrayRef<int64_t> axisSizes,
                       llvm::ArrayRef<int64_t> coords);

} // namespace mp

#endif // MP_DIALECT_MP_IR_MPATTRS_H
