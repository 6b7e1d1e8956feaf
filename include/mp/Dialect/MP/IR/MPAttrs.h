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

#endif // MP_DIALECT_MP_IR_MPATTRS_H
