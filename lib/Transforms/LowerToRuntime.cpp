//===- LowerToRuntime.cpp - a step as calls of the runtime's C ABI --------===//
//
// Rewrites each function of mp ops into one that calls mp_runtime.h: every
// tensor lives at a fixed place (the caller's argument buffers, or an offset
// in one arena sized and laid out by MemoryPlan), so the body is straight
// line code of runtime calls on pointers. Errors in the runtime are sticky,
// so the generated code needs no branches and returns the context's status.
//
//===----------------------------------------------------------------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Analysis/MemoryPlan.h"
#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp/Dialect/MP/IR/ValueSharding.h"

#include "StepManifest.h"
#include "mp_runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_LOWERTORUNTIME
#include "mp/Transforms/Passes.h.inc"

namespace {

int64_t getNumElements(Value value) {
  return cast<RankedTensorType>(value.getType()).getNumElements();
}

int64_t getBytes(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

ArrayRef<int64_t> getShape(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// True if `op` moves integer class targets between ranks without summing
/// them, which the runtime's collectives can do.
bool movesTargets(Operation *op) {
  auto collective = dyn_cast<CollectiveOpInterface>(op);
  return collective && !collective.getSteps().sums;
}

/// "mp.linear at ffn.mlir:12:8": how errors name the op that failed.
std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName();
  if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
    os << " at " << loc.getFilename().getValue() << ':' << loc.getLine() << ':'
       << loc.getColumn();
  return text;
}

/// Lowers one function; owns the module-level declarations it needs.
class FunctionLowering {
public:
  FunctionLowering(func::FuncOp func, SymbolTable &symbols)
      : func(func), symbols(symbols), builder(func.getContext()),
        ptrType(LLVM::LLVMPointerType::get(func.getContext())) {}

  /// Replaces `func` by its lowered form; on failure leaves it untouched.
  LogicalResult run();

private:
  // Constants and module-level data. Each distinct constant and address is
  // materialized once and finally hoisted to the top of the function, so
  // the calls read as plain lists of operands.
  Value i32(int64_t value) {
    return constant(builder.getIntegerAttr(builder.getI32Type(), value));
  }
  Value i64(int64_t value) {
    return constant(builder.getIntegerAttr(builder.getI64Type(), value));
  }
  Value f32(double value) { return constant(builder.getF32FloatAttr(value)); }
  Value f64(double value) { return constant(builder.getF64FloatAttr(value)); }
  Value constant(TypedAttr value);
  Value nullPointer();
  Value addressOf(LLVM::GlobalOp global);
  /// The address of a constant global holding `data` (null when empty).
  Value global(DenseElementsAttr data, StringRef prefix);
  Value i64Array(ArrayRef<int64_t> values) {
    return global(builder.getI64TensorAttr(values), "__mp_i64");
  }
  Value i32Array(ArrayRef<int32_t> values) {
    return global(
        DenseElementsAttr::get(
            RankedTensorType::get({static_cast<int64_t>(values.size())},
                                  builder.getI32Type()),
            values),
        "__mp_i32");
  }
  Value string(StringRef text);
  LLVM::GlobalOp constantGlobal(Attribute value, Type type, StringRef prefix);

  /// Calls `name` (declared on first use, returning mp_status as i32).
  void call(StringRef name, ArrayRef<Value> args) {
    callWithResult(name, builder.getI32Type(), args);
  }
  Value callWithResult(StringRef name, Type result, ArrayRef<Value> args);

  /// Where `value` lives: an argument buffer or its arena offset.
  Value pointer(Value value);
  /// Copies `from` into `to`'s buffer unless both live at the same place.
  void copy(Value to, Value from) {
    if (pointer(to) != pointer(from))
      call("mp_copy", {ctx, pointer(to), pointer(from), i64(getBytes(from))});
  }
  FailureOr<Value> axisList(Operation *op, ArrayAttr axes);
  FailureOr<Value> dtype(Operation *op, Value value);

  LogicalResult lowerOp(Operation *op);
  LogicalResult lowerCollective(CollectiveOpInterface op);
  train::StepManifest buildManifest();

  func::FuncOp func;
  SymbolTable &symbols;
  OpBuilder builder;
  llvm::DenseMap<Attribute, Value> constants;
  /// The constants, in creation order, to move to the top at the end.
  SmallVector<Operation *> hoisted;
  Value hoist(Operation *op) {
    hoisted.push_back(op);
    return op->getResult(0);
  }
  Type ptrType;
  Location loc = UnknownLoc::get(builder.getContext());
  MemoryPlan plan;
  MeshAttr mesh;
  Value ctx, arena;
  llvm::DenseMap<Value, Value> pointers;
  llvm::DenseMap<int64_t, Value> arenaPointers;
  llvm::DenseMap<Value, int> argumentIndex;
};

Value FunctionLowering::global(DenseElementsAttr data, StringRef prefix) {
  if (data.getNumElements() == 0)
    return nullPointer();
  return addressOf(constantGlobal(
      data,
      LLVM::LLVMArrayType::get(data.getElementType(), data.getNumElements()),
      prefix));
}

Value FunctionLowering::string(StringRef text) {
  std::string withNull = (text + Twine('\0')).str();
  // Not hoisted: the address stays next to the call it names.
  return LLVM::AddressOfOp::create(
      builder, loc,
      constantGlobal(
          builder.getStringAttr(withNull),
          LLVM::LLVMArrayType::get(builder.getI8Type(), withNull.size()),
          "__mp_str"));
}

LLVM::GlobalOp FunctionLowering::constantGlobal(Attribute value, Type type,
                                                StringRef prefix) {
  // Identical data shares one global.
  std::string name;
  for (unsigned i = 0;; ++i) {
    name = (prefix + "_" + Twine(i)).str();
    auto existing = symbols.lookup<LLVM::GlobalOp>(name);
    if (!existing)
      break;
    if (existing.getValueAttr() == value)
      return existing;
  }
  auto atStart =
      OpBuilder::atBlockBegin(func->getParentOfType<ModuleOp>().getBody());
  auto op = LLVM::GlobalOp::create(atStart, loc, type, /*isConstant=*/true,
                                   LLVM::Linkage::Internal, name, value);
  symbols.insert(op);
  return op;
}

Value FunctionLowering::constant(TypedAttr value) {
  Value &known = constants[value];
  if (!known)
    known = hoist(arith::ConstantOp::create(builder, loc, value));
  return known;
}

Value FunctionLowering::nullPointer() {
  Value &known = constants[builder.getUnitAttr()];
  if (!known)
    known = hoist(LLVM::ZeroOp::create(builder, loc, ptrType));
  return known;
}

Value FunctionLowering::addressOf(LLVM::GlobalOp global) {
  Value &known = constants[FlatSymbolRefAttr::get(global.getSymNameAttr())];
  if (!known)
    known = hoist(LLVM::AddressOfOp::create(builder, loc, global));
  return known;
}

Value FunctionLowering::callWithResult(StringRef name, Type result,
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
  auto op = func::CallOp::create(builder, loc, callee, args);
  return result ? op.getResult(0) : Value();
}

Value FunctionLowering::pointer(Value value) {
  if (Value known = pointers.lookup(value))
    return known;
  Value ptr;
  if (auto it = plan.inPlace.find(value); it != plan.inPlace.end()) {
    ptr = pointer(func.getArgument(it->second));
  } else {
    // One address per offset: values sharing a buffer share the pointer,
    // so copies between them are seen to be no-ops.
    int64_t offset = plan.buffers.lookup(value).offset;
    Value &atOffset = arenaPointers[offset];
    if (!atOffset)
      atOffset = LLVM::GEPOp::create(builder, loc, ptrType, builder.getI8Type(),
                                     arena, ValueRange{i64(offset)});
    ptr = atOffset;
  }
  pointers[value] = ptr;
  return ptr;
}

FailureOr<Value> FunctionLowering::axisList(Operation *op, ArrayAttr axes) {
  SmallVector<int32_t> indices;
  for (auto axis : axes.getAsRange<StringAttr>()) {
    std::optional<unsigned> index =
        mesh ? mesh.getAxisIndex(axis.getValue()) : std::nullopt;
    if (!index)
      return op->emitError() << "axis '" << axis.getValue()
                             << "' is not on the mesh of the function's "
                                "arguments";
    indices.push_back(*index);
  }
  return i32Array(indices);
}

FailureOr<Value> FunctionLowering::dtype(Operation *op, Value value) {
  Type type = cast<RankedTensorType>(value.getType()).getElementType();
  if (type.isF32())
    return i32(MP_DTYPE_F32);
  if (type.isF64())
    return i32(MP_DTYPE_F64);
  if (type.isInteger(32))
    return i32(MP_DTYPE_I32);
  if (type.isInteger(64))
    return i32(MP_DTYPE_I64);
  return op->emitError() << "the runtime has no element type " << type;
}

LogicalResult FunctionLowering::lowerCollective(CollectiveOpInterface op) {
  Value in = op.getInput(), out = op.getResult();
  FailureOr<Value> axes = axisList(op, op.getAxes());
  FailureOr<Value> type = dtype(op, in);
  if (failed(axes) || failed(type))
    return failure();
  Value numAxes = i32(op.getAxes().size());
  RuntimeCollectiveCall runtimeCall = op.getRuntimeCall();
  if (runtimeCall.inPlace) {
    copy(out, in);
    call(runtimeCall.function, {ctx, *axes, numAxes, *type, pointer(out),
                                i64(getNumElements(out))});
    return success();
  }
  SmallVector<Value> dims = llvm::map_to_vector(
      runtimeCall.dims, [&](int64_t dim) { return i32(dim); });
  SmallVector<Value> args = {ctx,
                             *axes,
                             numAxes,
                             *type,
                             pointer(in),
                             pointer(out),
                             i32(getShape(in).size()),
                             i64Array(getShape(in))};
  args.append(dims.begin(), dims.end());
  call(runtimeCall.function, args);
  return success();
}

LogicalResult FunctionLowering::lowerOp(Operation *op) {
  if (auto collective = dyn_cast<CollectiveOpInterface>(op))
    return lowerCollective(collective);
  // An update runs in place in the buffers of the values it replaces.
  if (auto update = dyn_cast<OptimizerOpInterface>(op))
    for (OpResult result : op->getResults())
      copy(result,
           op->getOperand(update.getTiedOperandIndex(result.getResultNumber())));
  auto in = [&](unsigned i) { return pointer(op->getOperand(i)); };
  auto out = [&](unsigned i = 0) { return pointer(op->getResult(i)); };
  auto count = [&] { return i64(getNumElements(op->getOperand(0))); };
  auto unary = [&](mp_unary_op kind, double scalar = 0) {
    call("mp_unary_f32", {ctx, i32(kind), count(), in(0), out(), f64(scalar)});
    return success();
  };
  auto binary = [&](mp_binary_op kind) {
    call("mp_binary_f32", {ctx, i32(kind), count(), in(0), in(1), out()});
    return success();
  };
  // The dims of `value` in `dims`, as mp_runtime.h's bit mask.
  auto mask = [&](ArrayRef<int64_t> dims) {
    uint32_t bits = 0;
    for (int64_t dim : dims)
      bits |= 1u << dim;
    return i32(bits);
  };
  // Rows and classes of a [..., C] logits tensor.
  auto rowsAndClasses = [&](Value logits) {
    int64_t classes = getShape(logits).back();
    return std::make_pair(i64(getNumElements(logits) / classes), i64(classes));
  };
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](arith::ConstantOp c) -> LogicalResult {
        auto dense = dyn_cast<SplatElementsAttr>(c.getValue());
        if (!dense || !dense.getElementType().isF32())
          return c.emitError("the runtime lowering supports splat f32 "
                             "constants only");
        call("mp_fill_f32",
             {ctx, i64(getNumElements(c.getResult())),
              f32(dense.getSplatValue<APFloat>().convertToDouble()), out()});
        return success();
      })
      .Case([&](LinearOp l) {
        // x [..., K] · wᵀ with w [N, K]; a weight that is a transposed view
        // is read untransposed through its input.
        int64_t k = getShape(l.getInput()).back();
        int64_t n = getShape(l.getWeight())[0];
        Value weight = l.getWeight();
        bool viewed = plan.transposedViews.contains(weight);
        if (viewed)
          weight = weight.getDefiningOp<TransposeOp>().getInput();
        call("mp_gemm_f32",
             {ctx, i32(0), i32(!viewed), i64(getNumElements(l.getInput()) / k),
              i64(n), i64(k), f32(1), in(0), pointer(weight), f32(0), out()});
        return success();
      })
      .Case([&](MatmulOp mm) {
        ArrayRef<int64_t> lhs = getShape(mm.getLhs()),
                          rhs = getShape(mm.getRhs());
        int64_t m = lhs[lhs.size() - 2], k = lhs.back(), n = rhs.back();
        int64_t batch = getNumElements(mm.getLhs()) / (m * k);
        // An operand that is a transposed view is read through its input
        // with the GEMM's transpose flag.
        auto stored = [&](Value operand) -> std::pair<Value, int> {
          if (plan.transposedViews.count(operand))
            return {operand.getDefiningOp<TransposeOp>().getInput(), 1};
          return {operand, 0};
        };
        auto [a, transA] = stored(mm.getLhs());
        auto [b, transB] = stored(mm.getRhs());
        if (rhs.size() == 2 && !transA) {
          // A shared right operand: the batch folds into the rows.
          m *= batch;
          batch = 1;
        }
        call("mp_gemm_batched_f32",
             {ctx, i32(transA), i32(transB), i64(batch), i64(m), i64(n), i64(k),
              f32(1), pointer(a), i64(m * k), pointer(b),
              i64(rhs.size() == 2 ? 0 : k * n), f32(0), out(), i64(m * n)});
        return success();
      })
      .Case([&](AddOp) { return binary(MP_BINARY_ADD); })
      .Case([&](SubOp) { return binary(MP_BINARY_SUB); })
      .Case([&](MulOp) { return binary(MP_BINARY_MUL); })
      .Case([&](DivOp) { return binary(MP_BINARY_DIV); })
      .Case([&](GeluGradOp g) {
        return binary(g.getApproximateTanh() ? MP_BINARY_GELU_TANH_GRAD
                                               : MP_BINARY_GELU_GRAD);
      })
      .Case([&](NegOp) { return unary(MP_UNARY_NEG); })
      .Case([&](ExpOp) { return unary(MP_UNARY_EXP); })
      .Case([&](ReluOp) { return unary(MP_UNARY_RELU); })
      .Case([&](StepOp) { return unary(MP_UNARY_STEP); })
      .Case([&](SigmoidOp) { return unary(MP_UNARY_SIGMOID); })
      .Case([&](TanhOp) { return unary(MP_UNARY_TANH); })
      .Case([&](SiluOp) { return unary(MP_UNARY_SILU); })
      .Case([&](GeluOp g) {
        return unary(g.getApproximateTanh() ? MP_UNARY_GELU_TANH : MP_UNARY_GELU);
      })
      .Case([&](ScaleOp s) {
        return unary(MP_UNARY_SCALE, s.getFactor().convertToDouble());
      })
      .Case<SumOp, MeanOp>([&](Operation *) {
        SmallVector<int64_t> dims = isa<SumOp>(op)
                                        ? cast<SumOp>(op).getReducedDims()
                                        : cast<MeanOp>(op).getReducedDims();
        double scale = isa<MeanOp>(op)
                           ? double(getNumElements(op->getResult(0))) /
                                 double(getNumElements(op->getOperand(0)))
                           : 1.0;
        Value input = op->getOperand(0);
        call("mp_reduce_sum_f32",
             {ctx, i32(getShape(input).size()), i64Array(getShape(input)),
              mask(dims), f64(scale), in(0), out()});
        return success();
      })
      .Case([&](BroadcastOp b) {
        call("mp_broadcast_f32", {ctx, i32(getShape(b.getResult()).size()),
                                  i64Array(getShape(b.getResult())),
                                  mask(b.getDims()), in(0), out()});
        return success();
      })
      .Case([&](ReshapeOp r) {
        copy(r.getResult(), r.getOperand());
        return success();
      })
      .Case([&](TransposeOp t) {
        if (plan.transposedViews.count(t.getResult()))
          return success(); // Its GEMMs read the input transposed.
        SmallVector<int32_t> perm(t.getPermutation());
        call("mp_transpose_f32",
             {ctx, i32(perm.size()), i64Array(getShape(t.getInput())),
              i32Array(perm), in(0), out()});
        return success();
      })
      .Case([&](MseLossOp l) {
        int64_t n = getNumElements(l.getOperand(0));
        double scale = l.getReduction() == Reduction::mean ? 1.0 / n : 1.0;
        call("mp_mse_loss_f32", {ctx, i64(n), in(0), in(1), f64(scale), out()});
        return success();
      })
      .Case([&](CrossEntropyOp c) -> LogicalResult {
        if (!cast<RankedTensorType>(c.getTarget().getType())
                 .getElementType()
                 .isInteger(64))
          return c.emitError("the runtime takes i64 class targets");
        auto [rows, classes] = rowsAndClasses(c.getInput());
        int64_t numRows = getNumElements(c.getTarget());
        double scale =
            c.getReduction() == Reduction::mean ? 1.0 / numRows : 1.0;
        call("mp_cross_entropy_f32",
             {ctx, rows, classes, in(0), in(1), f64(scale), out()});
        return success();
      })
      .Case([&](CrossEntropyGradOp c) -> LogicalResult {
        if (!cast<RankedTensorType>(op->getOperand(1).getType())
                 .getElementType()
                 .isInteger(64))
          return c.emitError("the runtime takes i64 class targets");
        auto [rows, classes] = rowsAndClasses(op->getOperand(0));
        call("mp_cross_entropy_grad_f32",
             {ctx, rows, classes, in(0), in(1), in(2),
              f64(c.getScale().convertToDouble()), out()});
        return success();
      })
      .Case([&](ClipCoefficientOp c) {
        call("mp_clip_coefficient_f32",
             {ctx, in(0), f64(c.getMaxNorm().convertToDouble()), out()});
        return success();
      })
      .Case([&](SgdOp s) {
        call("mp_sgd_f32", {ctx, count(), out(), in(1), nullPointer(),
                            f64(s.getLr().convertToDouble()), f64(0), f64(0),
                            f64(s.getWeightDecay().convertToDouble()), i32(0)});
        return success();
      })
      .Case([&](SgdMomentumOp s) {
        call("mp_sgd_f32",
             {ctx, count(), out(0), in(1), out(1),
              f64(s.getLr().convertToDouble()),
              f64(s.getMomentum().convertToDouble()),
              f64(s.getDampening().convertToDouble()),
              f64(s.getWeightDecay().convertToDouble()), i32(s.getNesterov())});
        return success();
      })
      .Case([&](AdamWOp a) {
        call("mp_adamw_f32",
             {ctx, count(), out(0), in(1), out(1), out(2),
              f64(a.getLr().convertToDouble()),
              f64(a.getBeta1().convertToDouble()),
              f64(a.getBeta2().convertToDouble()),
              f64(a.getEps().convertToDouble()),
              f64(a.getWeightDecay().convertToDouble()), in(4)});
        return success();
      })
      .Default([](Operation *op) {
        return op->emitError()
               << "cannot lower '" << op->getName()
               << "' to runtime calls (partition the function first)";
      });
}

/// What the trainer reads about the step: see docs/runtime-abi.md.
train::StepManifest FunctionLowering::buildManifest() {
  train::StepManifest manifest;
  manifest.function = func.getName().str();
  if (mesh)
    for (auto [name, size] :
         llvm::zip(mesh.getAxisNames(), mesh.getAxisSizes()))
      manifest.mesh.emplace_back(name.getValue().str(), size);
  manifest.arenaBytes = plan.arenaBytes;
  manifest.persistentBytes = plan.persistentBytes;
  auto typeName = [](Type type) -> std::string {
    Type element = cast<RankedTensorType>(type).getElementType();
    if (element.isF32())
      return "f32";
    if (element.isF64())
      return "f64";
    return element.isInteger(32) ? "i32" : "i64";
  };
  auto split = [](ShardingAttr sharding, int64_t rank) {
    std::vector<std::vector<std::string>> axesPerDim(rank);
    if (sharding)
      for (int64_t dim = 0; dim < rank; ++dim)
        for (StringRef axis : sharding.getDimAxes(dim))
          axesPerDim[dim].push_back(axis.str());
    return axesPerDim;
  };
  SmallVector<ModelValue> values = getModelValues(func);
  llvm::DenseMap<unsigned, ModelValue> argValues, resultValues;
  for (const ModelValue &value : values)
    (value.isResult() ? resultValues : argValues)[value.index] = value;
  for (auto [index, arg] : llvm::enumerate(func.getArguments())) {
    auto it = argValues.find(index);
    train::ManifestTensor tensor;
    tensor.name = it != argValues.end() ? it->second.name.getValue().str()
                                        : ("arg" + Twine(index)).str();
    tensor.role = "input";
    if (it != argValues.end() && it->second.role == ModelRole::Param)
      tensor.role = "param";
    else if (it != argValues.end() && it->second.role == ModelRole::State)
      tensor.role = "state";
    else if (it != argValues.end() && it->second.role == ModelRole::Target)
      tensor.role = "target";
    auto type = cast<RankedTensorType>(arg.getType());
    tensor.dtype = typeName(type);
    tensor.localShape.assign(type.getShape().begin(), type.getShape().end());
    tensor.globalShape = tensor.localShape;
    ShardingAttr sharding = getValueSharding(arg);
    if (sharding && mesh)
      for (int64_t dim = 0; dim < sharding.getRank(); ++dim)
        for (StringRef axis : sharding.getDimAxes(dim))
          tensor.globalShape[dim] *= mesh.getAxisSize(axis);
    tensor.split = split(sharding, type.getRank());
    manifest.args.push_back(std::move(tensor));
  }
  for (unsigned index = 0; index < func.getNumResults(); ++index) {
    auto it = resultValues.find(index);
    train::ManifestTensor tensor;
    tensor.name = it != resultValues.end() ? it->second.name.getValue().str()
                                           : ("result" + Twine(index)).str();
    if (plan.updatedArgument[index] >= 0) {
      tensor.role = "update";
      tensor.updates = plan.updatedArgument[index];
      manifest.results.push_back(std::move(tensor));
      continue;
    }
    auto type = cast<RankedTensorType>(func.getResultTypes()[index]);
    tensor.role = "output";
    tensor.dtype = typeName(type);
    tensor.localShape.assign(type.getShape().begin(), type.getShape().end());
    tensor.split = split(func.getResultAttrOfType<ShardingAttr>(
                             index, MPDialect::kShardingAttrName),
                         type.getRank());
    manifest.results.push_back(std::move(tensor));
  }
  return manifest;
}

LogicalResult FunctionLowering::run() {
  if (func.isExternal() || !func.getFunctionBody().hasOneBlock())
    return func.emitError("the runtime lowering takes single-block functions");
  for (auto [index, type] : llvm::enumerate(func.getArgumentTypes())) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return emitError(func.getArgument(index).getLoc())
             << "the runtime lowering takes statically shaped tensors, not "
             << type;
  }
  for (BlockArgument arg : func.getArguments())
    if (ShardingAttr sharding = getValueSharding(arg);
        sharding && func->hasAttr(MPDialect::kPartitionedAttrName)) {
      mesh = lookupMesh(func, sharding.getMesh());
      break;
    }
  // The runtime's kernels are f32; class targets are i64.
  for (Operation &op : func.getFunctionBody().front().without_terminator())
    for (Value result : op.getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type || !type.hasStaticShape() ||
          !(type.getElementType().isF32() ||
            (type.getElementType().isInteger(64) && movesTargets(&op))))
        return op.emitError() << "the runtime lowering takes static f32 "
                                 "tensors (and i64 targets), not "
                              << result.getType();
    }
  plan = MemoryPlan::build(func);

  // The lowered function: (ctx, args, outputs) -> mp_status.
  MLIRContext *context = func.getContext();
  builder.setInsertionPoint(func);
  auto lowered =
      func::FuncOp::create(builder, func.getLoc(), func.getName(),
                           builder.getFunctionType({ptrType, ptrType, ptrType},
                                                   builder.getI32Type()));
  Block *body = lowered.addEntryBlock();
  builder.setInsertionPointToStart(body);
  loc = func.getLoc();
  ctx = body->getArgument(0);
  Value args = body->getArgument(1), outputs = body->getArgument(2);
  auto load = [&](Value array, int64_t index) -> Value {
    Value slot = LLVM::GEPOp::create(
        builder, loc, ptrType, ptrType, array,
        ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
    return LLVM::LoadOp::create(builder, loc, ptrType, slot);
  };
  for (BlockArgument arg : func.getArguments()) {
    loc = arg.getLoc();
    pointers[arg] = load(args, arg.getArgNumber());
  }
  loc = func.getLoc();
  arena = callWithResult("mp_alloc", ptrType, {ctx, i64(plan.arenaBytes)});

  Operation *terminator = func.getFunctionBody().front().getTerminator();
  for (Operation &op : func.getFunctionBody().front().without_terminator()) {
    loc = op.getLoc();
    call("mp_context_set_op", {ctx, string(describe(&op))});
    if (failed(lowerOp(&op))) {
      lowered.erase();
      return failure();
    }
  }

  // Outputs to the caller's buffers, then the updates the ops did not do in
  // place into the argument buffers (after every read of the arguments).
  loc = terminator->getLoc();
  call("mp_context_set_op",
       {ctx, string("writing the results of " + func.getName().str())});
  int64_t numOutputs = 0;
  for (auto [index, value] : llvm::enumerate(terminator->getOperands())) {
    if (plan.updatedArgument[index] >= 0)
      continue;
    Value to = load(outputs, numOutputs++);
    call("mp_copy", {ctx, to, pointer(value), i64(getBytes(value))});
  }
  llvm::DenseSet<unsigned> written;
  for (auto [index, value] : llvm::enumerate(terminator->getOperands())) {
    int argNumber = plan.updatedArgument[index];
    if (argNumber < 0)
      continue;
    auto source = dyn_cast<BlockArgument>(value);
    if (source && written.count(source.getArgNumber()))
      return terminator->emitError()
             << "result #" << index << " reads argument #"
             << source.getArgNumber() << " after it was updated";
    copy(func.getArgument(argNumber), value);
    written.insert(argNumber);
  }
  call("mp_free", {ctx, arena});
  Value status =
      callWithResult("mp_context_status", builder.getI32Type(), {ctx});
  func::ReturnOp::create(builder, loc, status);
  Operation *firstCall = &body->front();
  for (Operation *op : hoisted)
    op->moveBefore(firstCall);

  lowered->setAttr(MPDialect::kManifestAttrName,
                   StringAttr::get(context, train::printManifest(buildManifest())));
  symbols.erase(func);
  symbols.insert(lowered);
  return success();
}

struct LowerToRuntimePass : impl::LowerToRuntimeBase<LowerToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        funcs.push_back(func);
    for (func::FuncOp func : funcs) {
      FunctionLowering lowering(func, symbols);
      if (failed(lowering.run()))
        return signalPassFailure();
    }
    // The mesh and the plan were compiled into the functions.
    for (auto meshOp : llvm::make_early_inc_range(module.getOps<MeshOp>()))
      meshOp.erase();
    module->removeAttr(MPDialect::kPlanAttrName);
  }
};

} // namespace
} // namespace mp
