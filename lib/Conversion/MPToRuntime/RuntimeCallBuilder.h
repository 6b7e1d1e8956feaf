//===- RuntimeCallBuilder.h - runtime calls for one function ----*- C++ -*-===//
//
// What the MPToRuntime patterns share while they lower one function: where
// each tensor lives (an argument buffer, or its offset in the one arena that
// MemoryPlan laid out), the constants and constant globals the calls take
// (each materialized once and finally hoisted to the top of the function, so
// the calls read as plain lists of operands), and the declarations of the
// runtime functions called.
//
//===----------------------------------------------------------------------===//

#ifndef MP_LIB_CONVERSION_MPTORUNTIME_RUNTIMECALLBUILDER_H
#define MP_LIB_CONVERSION_MPTORUNTIME_RUNTIMECALLBUILDER_H

#include "mp/Analysis/MemoryPlan.h"
#include "mp/Dialect/MP/IR/MPAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mp {

class RuntimeCallBuilder {
public:
  /// `func` is the lowered function, whose entry block holds the context
  /// pointer and, still, the original tensor arguments `tensorArgs`, which
  /// `plan` (of the original function) and `mesh` describe.
  RuntimeCallBuilder(mlir::func::FuncOp func, mlir::SymbolTable &symbols,
                     const MemoryPlan &plan, MeshAttr mesh, mlir::Value ctx,
                     llvm::ArrayRef<mlir::BlockArgument> tensorArgs);

  /// Builds from now on with `builder`, at `loc`.
  void setBuilder(mlir::OpBuilder &builder, mlir::Location loc) {
    this->builder = &builder;
    this->loc = loc;
  }
  /// Names the op about to run for the runtime's error messages.
  void setOp(llvm::StringRef description);

  /// Loads each argument's pointer from `args` and allocates the arena.
  void emitPrologue(mlir::Value args);
  void freeArena() { call("mp_free", {ctx, arena}); }
  /// Loads pointer `index` of the pointer array `array`.
  mlir::Value loadPointer(mlir::Value array, int64_t index);

  mlir::Value getContext() const { return ctx; }
  const MemoryPlan &getPlan() const { return plan; }
  mlir::BlockArgument getTensorArgument(unsigned index) const {
    return tensorArgs[index];
  }

  // Constants and constant data.
  mlir::Value i32(int64_t value) {
    return constant(builder->getIntegerAttr(builder->getI32Type(), value));
  }
  mlir::Value i64(int64_t value) {
    return constant(builder->getIntegerAttr(builder->getI64Type(), value));
  }
  mlir::Value f32(double value) {
    return constant(builder->getF32FloatAttr(value));
  }
  mlir::Value f64(double value) {
    return constant(builder->getF64FloatAttr(value));
  }
  mlir::Value nullPointer();
  /// The address of a constant global holding `values` (null when empty).
  mlir::Value i64Array(llvm::ArrayRef<int64_t> values);
  mlir::Value i32Array(llvm::ArrayRef<int32_t> values);
  mlir::Value f64Array(llvm::ArrayRef<double> values);

  /// Calls `name` (declared on first use, returning mp_status as i32).
  void call(llvm::StringRef name, llvm::ArrayRef<mlir::Value> args) {
    callWithResult(name, builder->getI32Type(), args);
  }
  mlir::Value callWithResult(llvm::StringRef name, mlir::Type result,
                             llvm::ArrayRef<mlir::Value> args);

  /// Where `value` lives: an argument buffer or its arena offset.
  mlir::Value pointer(mlir::Value value);
  /// The address `offset` bytes into the arena.
  mlir::Value arenaAt(int64_t offset);
  /// A stack array of `pointers`, for calls that take several buffers.
  mlir::Value pointerArray(llvm::ArrayRef<mlir::Value> pointers);
  /// Copies `from` into `to`'s buffer unless both live at the same place.
  void copy(mlir::Value to, mlir::Value from);
  /// The indices of mesh axes `axes` as a constant i32 array.
  mlir::FailureOr<mlir::Value> axisList(mlir::Operation *op,
                                        mlir::ArrayAttr axes);
  /// `value`'s element type as mp_runtime.h's mp_dtype.
  mlir::FailureOr<mlir::Value> dtype(mlir::Operation *op, mlir::Value value);
  /// The mp_dtype of a float32 or bfloat16 tensor (a GEMM's or an
  /// elementwise kernel's, which the lowering has checked).
  mlir::Value floatDtype(mlir::Value value);

  /// Records that lowering `op` failed with `diagnostic`, an error at it.
  mlir::LogicalResult reject(mlir::InFlightDiagnostic &&diagnostic) {
    failed = true;
    return diagnostic;
  }
  bool hasFailed() const { return failed; }

  /// Moves the constants to the top of the function.
  void hoistConstants();

private:
  mlir::Value constant(mlir::TypedAttr value);
  mlir::Value addressOf(mlir::LLVM::GlobalOp global);
  mlir::Value global(mlir::DenseElementsAttr data, llvm::StringRef prefix);
  mlir::Value string(llvm::StringRef text);
  mlir::LLVM::GlobalOp constantGlobal(mlir::Attribute value, mlir::Type type,
                                      llvm::StringRef prefix);

  mlir::func::FuncOp func;
  mlir::SymbolTable &symbols;
  const MemoryPlan &plan;
  MeshAttr mesh;
  mlir::Value ctx, arena;
  llvm::SmallVector<mlir::BlockArgument> tensorArgs;
  mlir::OpBuilder *builder = nullptr;
  mlir::Location loc;
  mlir::Type ptrType;
  llvm::DenseMap<mlir::Attribute, mlir::Value> constants;
  /// The module's constant globals by value, read once, so that identical
  /// data shares one global; and each name prefix's next free suffix. (A
  /// step names thousands of ops: probing names one by one is quadratic.)
  llvm::DenseMap<mlir::Attribute, mlir::LLVM::GlobalOp> constantGlobals;
  bool readGlobals = false;
  llvm::StringMap<unsigned> nextSuffix;
  /// The constants, in creation order, to move to the top at the end.
  llvm::SmallVector<mlir::Operation *> hoisted;
  llvm::DenseMap<mlir::Value, mlir::Value> pointers;
  llvm::DenseMap<int64_t, mlir::Value> arenaPointers;
  bool failed = false;
};

/// Adds the patterns that lower mp ops (and tensor constants) to calls of
/// mp_runtime.h, one per op family, each writing its results where `calls`
/// says they live and replacing them by those pointers.
void populateMPToRuntimePatterns(RuntimeCallBuilder &calls,
                                 mlir::RewritePatternSet &patterns);

} // namespace mp

#endif // MP_LIB_CONVERSION_MPTORUNTIME_RUNTIMECALLBUILDER_H
