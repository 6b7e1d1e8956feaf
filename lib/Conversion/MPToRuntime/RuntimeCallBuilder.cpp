//===- RuntimeCallBuilder.cpp - runtime calls for one function ------------===//

#include "RuntimeCallBuilder.h"

#include "mp_runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace mp {

RuntimeCallBuilder::RuntimeCallBuilder(func::FuncOp func, SymbolTable &symbols,
                                       const MemoryPlan &plan, MeshAttr mesh,
                                       Value ctx,
                                       ArrayRef<BlockArgument> tensorArgs)
    : func(func), symbols(symbols), plan(plan), mesh(mesh), ctx(ctx),
      tensorArgs(tensorArgs), loc(func.getLoc()),
      ptrType(LLVM::LLVMPointerType::get(func.getContext())) {}

void RuntimeCallBuilder::setOp(StringRef description) {
  call("mp_context_set_op", {ctx, string(description)});
}

Value RuntimeCallBuilder::loadPointer(Value array, int64_t index) {
  Value slot = LLVM::GEPOp::create(
      *builder, loc, ptrType, ptrType, array,
      ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
  return LLVM::LoadOp::create(*builder, loc, ptrType, slot);
}

void RuntimeCallBuilder::emitPrologue(Value args) {
  Location funcLoc = loc;
  for (auto [index, arg] : llvm::enumerate(tensorArgs)) {
    loc = arg.getLoc();
    pointers[arg] = loadPointer(args, index);
  }
  loc = funcLoc;
  arena = callWithResult("mp_alloc", ptrType, {ctx, i64(plan.arenaBytes)});
}

Value RuntimeCallBuilder::i64Array(ArrayRef<int64_t> values) {
  return global(builder->getI64TensorAttr(values), "__mp_i64");
}

/// A rank-1 constant of `values` with elements of `type`.
template <typename T>
static DenseElementsAttr getVector(ArrayRef<T> values, Type type) {
  return DenseElementsAttr::get(
      RankedTensorType::get({static_cast<int64_t>(values.size())}, type),
      values);
}

Value RuntimeCallBuilder::i32Array(ArrayRef<int32_t> values) {
  return global(getVector(values, builder->getI32Type()), "__mp_i32");
}

Value RuntimeCallBuilder::f64Array(ArrayRef<double> values) {
  return global(getVector(values, builder->getF64Type()), "__mp_f64");
}

Value RuntimeCallBuilder::global(DenseElementsAttr data, StringRef prefix) {
  if (data.getNumElements() == 0)
    return nullPointer();
  return addressOf(constantGlobal(
      data,
      LLVM::LLVMArrayType::get(data.getElementType(), data.getNumElements()),
      prefix));
}

Value RuntimeCallBuilder::string(StringRef text) {
  std::string withNull = (text + Twine('\0')).str();
  // Not hoisted: the address stays next to the call it names.
  return LLVM::AddressOfOp::create(
      *builder, loc,
      constantGlobal(
          builder->getStringAttr(withNull),
          LLVM::LLVMArrayType::get(builder->getI8Type(), withNull.size()),
          "__mp_str"));
}

LLVM::GlobalOp RuntimeCallBuilder::constantGlobal(Attribute value, Type type,
                                                  StringRef prefix) {
  auto module = func->getParentOfType<ModuleOp>();
  if (!readGlobals) {
    readGlobals = true;
    for (auto global : module.getOps<LLVM::GlobalOp>())
      if (global.getConstant() && global.getValueAttr())
        constantGlobals.try_emplace(global.getValueAttr(), global);
  }
  // Identical data shares one global.
  LLVM::GlobalOp &global = constantGlobals[value];
  if (global)
    return global;
  std::string name;
  unsigned &suffix = nextSuffix[prefix];
  do
    name = (prefix + "_" + Twine(suffix++)).str();
  while (symbols.lookup(name));
  auto atStart = OpBuilder::atBlockBegin(module.getBody());
  global = LLVM::GlobalOp::create(atStart, loc, type, /*isConstant=*/true,
                                  LLVM::Linkage::Internal, name, value);
  symbols.insert(global);
  return global;
}

Value RuntimeCallBuilder::constant(TypedAttr value) {
  Value &known = constants[value];
  if (!known) {
    known = arith::ConstantOp::create(*builder, loc, value);
    hoisted.push_back(known.getDefiningOp());
  }
  return known;
}

Value RuntimeCallBuilder::nullPointer() {
  Value &known = constants[builder->getUnitAttr()];
  if (!known) {
    known = LLVM::ZeroOp::create(*builder, loc, ptrType);
    hoisted.push_back(known.getDefiningOp());
  }
  return known;
}

Value RuntimeCallBuilder::addressOf(LLVM::GlobalOp global) {
  Value &known = constants[FlatSymbolRefAttr::get(global.getSymNameAttr())];
  if (!known) {
    known = LLVM::AddressOfOp::create(*builder, loc, global);
    hoisted.push_back(known.getDefiningOp());
  }
  return known;
}

void RuntimeCallBuilder::hoistConstants() {
  Operation *first = &func.getFunctionBody().front().front();
  for (Operation *op : hoisted)
    op->moveBefore(first);
}

Value RuntimeCallBuilder::callWithResult(StringRef name, Type result,
                                         ArrayRef<Value> args) {
  auto callee = symbols.lookup<func::FuncOp>(name);
  if (!callee) {
    auto atEnd =
        OpBuilder::atBlockEnd(func->getParentOfType<ModuleOp>().getBody());
    SmallVector<Type> argTypes;
    for (Value arg : args)
      argTypes.push_back(arg.getType());
    callee = func::FuncOp::create(
        atEnd, loc, name,
        atEnd.getFunctionType(argTypes,
                              result ? TypeRange(result) : TypeRange()));
    callee.setPrivate();
    symbols.insert(callee);
  }
  auto op = func::CallOp::create(*builder, loc, callee, args);
  return result ? op.getResult(0) : Value();
}

Value RuntimeCallBuilder::pointer(Value value) {
  if (Value known = pointers.lookup(value))
    return known;
  // The entry block's arguments are the runtime's by now (their pointers
  // are known), so the plan's argument numbers index tensorArgs.
  Value ptr;
  if (plan.transposedViews.contains(value)) {
    // Never computed: its GEMMs read its input with the transpose flag.
    ptr = pointer(value.getDefiningOp()->getOperand(0));
  } else {
    MemoryPlan::Storage storage = plan.getStorage(value);
    ptr = storage.argument >= 0 ? pointer(tensorArgs[storage.argument])
                                : arenaAt(storage.offset);
  }
  pointers[value] = ptr;
  return ptr;
}

Value RuntimeCallBuilder::arenaAt(int64_t offset) {
  // One address per offset: values sharing a buffer share the pointer, so
  // copies between them are seen to be no-ops.
  Value &atOffset = arenaPointers[offset];
  if (!atOffset)
    atOffset = LLVM::GEPOp::create(*builder, loc, ptrType, builder->getI8Type(),
                                   arena, ValueRange{i64(offset)});
  return atOffset;
}

Value RuntimeCallBuilder::pointerArray(ArrayRef<Value> values) {
  auto arrayType = LLVM::LLVMArrayType::get(ptrType, values.size());
  Value array =
      LLVM::AllocaOp::create(*builder, loc, ptrType, arrayType, i64(1));
  for (auto [index, value] : llvm::enumerate(values)) {
    Value slot = LLVM::GEPOp::create(
        *builder, loc, ptrType, ptrType, array,
        ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
    LLVM::StoreOp::create(*builder, loc, value, slot);
  }
  return array;
}

void RuntimeCallBuilder::copy(Value to, Value from) {
  if (pointer(to) != pointer(from))
    call("mp_copy",
         {ctx, pointer(to), pointer(from),
          i64(*getTensorBytes(cast<RankedTensorType>(from.getType())))});
}

FailureOr<Value> RuntimeCallBuilder::axisList(Operation *op, ArrayAttr axes) {
  SmallVector<int32_t> indices;
  for (auto axis : axes.getAsRange<StringAttr>()) {
    std::optional<unsigned> index =
        mesh ? mesh.getAxisIndex(axis.getValue()) : std::nullopt;
    if (!index)
      return reject(op->emitError()
                    << "axis '" << axis.getValue()
                    << "' is not on the mesh of the function's arguments");
    indices.push_back(*index);
  }
  return i32Array(indices);
}

FailureOr<Value> RuntimeCallBuilder::dtype(Operation *op, Value value) {
  Type type = cast<RankedTensorType>(value.getType()).getElementType();
  if (type.isF32())
    return i32(MP_DTYPE_F32);
  if (type.isF64())
    return i32(MP_DTYPE_F64);
  if (type.isInteger(32))
    return i32(MP_DTYPE_I32);
  if (type.isInteger(64))
    return i32(MP_DTYPE_I64);
  if (type.isBF16())
    return i32(MP_DTYPE_BF16);
  return reject(op->emitError() << "the runtime has no element type " << type);
}

Value RuntimeCallBuilder::floatDtype(Value value) {
  return i32(getElementTypeOrSelf(value).isBF16() ? MP_DTYPE_BF16
                                                  : MP_DTYPE_F32);
}

} // namespace mp
