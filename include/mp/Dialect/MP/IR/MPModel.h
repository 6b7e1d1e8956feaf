//===- MPModel.h - the named values of a model function ---------*- C++ -*-===//
//
// A model is a function whose arguments carry a role and a name (mp.param,
// mp.input, mp.target) and whose results may be named (mp.output). Plans,
// summaries and later the training step refer to values by those names.
//
//===----------------------------------------------------------------------===//

#ifndef MP_DIALECT_MP_IR_MPMODEL_H
#define MP_DIALECT_MP_IR_MPMODEL_H

#include "mp/Dialect/MP/IR/MPAttrs.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <optional>

namespace mp {

enum class ModelRole { Param, Input, Target, State, Output };

/// "parameter", "input", "target", "optimizer state" or "output".
llvm::StringRef stringifyModelRole(ModelRole role);

/// One named argument or result of a model function.
struct ModelValue {
  ModelRole role;
  mlir::StringAttr name;
  /// Argument index, or result index for outputs.
  unsigned index;
  mlir::RankedTensorType type;
  /// A parameter (or its optimizer state) that an mp.embedding looks rows
  /// up in: `[vocab, dim]`, where a linear weight is `[out, in]`.
  bool isEmbeddingTable = false;
  /// A parameter (or its optimizer state) of a norm: the weight of an
  /// mp.rms_norm or mp.layer_norm, or the bias of an mp.layer_norm.
  bool isNormWeight = false;

  bool isResult() const { return role == ModelRole::Output; }
  /// The location to report problems with this value at.
  mlir::Location getLoc(mlir::FunctionOpInterface func) const;
  /// The sharding the value carries (`mp.sharding`), if any.
  ShardingAttr getSharding(mlir::FunctionOpInterface func) const;
};

/// The value that carries `use`'s operand on towards the norm it scales:
/// the result of an mp.annotate, or of an mp.add of the operand and a
/// constant (a norm's weight offset: Nemotron's LayerNorm1P scales by
/// weight + 1). Null for any other use.
mlir::Value getNormWeightPassThrough(mlir::OpOperand &use);

/// The named values of `func` in order: arguments, then results. Empty when
/// `func` is not a model. Relies on the dialect's verifier for well-formed
/// names.
llvm::SmallVector<ModelValue> getModelValues(mlir::FunctionOpInterface func);

/// How many classes or table rows the integers in `value` index: those of
/// the cross entropy (or its pieces), embedding or index localization that
/// consumes it (the smallest, if several do), looking through ops that
/// only move it. None if nothing indexes with it.
std::optional<int64_t> getIndexBound(mlir::Value value);

/// The value the integers in `value` may hold besides [0, bound): the
/// ignore_index of the cross entropies and target masks that read them,
/// when they all have one and agree and no other reader with a bound but
/// the loss's pieces (an embedding) reads them. None otherwise.
std::optional<int64_t> getIgnoredIndex(mlir::Value value);

} // namespace mp

#endif // MP_DIALECT_MP_IR_MPMODEL_H
