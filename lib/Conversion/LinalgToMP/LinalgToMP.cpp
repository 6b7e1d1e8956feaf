//===- LinalgToMP.cpp - mp-import: linalg-on-tensors into mp ops ----------===//
//
// Raises a function op by op, in program order, so every operand is already
// an mp value (or an argument) when its user is raised; then tidies the
// result with mp-level patterns and names the model's arguments.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"

#include "LinalgToMP.h"

#include "mp/Dialect/MP/IR/MPDialect.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "SafeTensors.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-import"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_IMPORT
#include "mp/Conversion/Passes.h.inc"

namespace {
using namespace import;

constexpr llvm::StringLiteral kSupportedOps =
    "func.func, func.return, arith.constant, ml_program.global_load, "
    "tensor.empty, tensor.collapse_shape, tensor.expand_shape, "
    "tensor.reshape, tensor.cast, linalg.fill, linalg.matmul, "
    "linalg.batch_matmul, linalg.generic, linalg.copy, linalg.transpose, "
    "linalg.broadcast, linalg.reduce, linalg.add, linalg.sub, linalg.mul, "
    "linalg.div, linalg.exp, linalg.negf";

/// Checks that `type` is a static f32 tensor, the only values mp imports
/// (a bf16 or f16 model was widened to f32 first), or with `allowIndices` an
/// i32/i64 one (token ids: an argument).
LogicalResult checkTensorType(Type type, Location loc, StringRef what,
                              bool allowIndices = false) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return emitError(loc) << "cannot import " << what << " of type " << type
                          << ": mp imports ranked tensors";
  if (!tensor.hasStaticShape())
    return emitError(loc) << "cannot import " << what << " of type " << type
                          << ": dynamic shapes are not supported yet (export "
                             "with static shapes)";
  Type element = tensor.getElementType();
  if (allowIndices && isa<IntegerType>(element)) {
    if (element.isSignlessInteger(32) || element.isSignlessInteger(64))
      return success();
    return emitError(loc) << "cannot import " << what << " of type " << type
                          << ": mp takes integer inputs (token ids) as i32 "
                             "or i64 (call .long() on it before exporting)";
  }
  if (!element.isF32())
    return emitError(loc) << "cannot import " << what << " of type " << type
                          << ": mp imports f32, bf16 and f16 models (call "
                             ".float() on the model and its inputs before "
                             "exporting)";
  return success();
}

/// Whether `use` reads its value as a tensor. A splat read otherwise is a
/// scalar of the computation: the accumulator a linalg op starts from, or
/// a generic input its body ignores.
bool readsAsTensor(OpOperand &use) {
  auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
  if (dps && dps.isDpsInit(&use))
    return false;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(use.getOwner());
  return !linalgOp || !linalgOp.getMatchingBlockArgument(&use).use_empty();
}

/// A weight held as a value in the function: a tensor constant, as
/// torch-mlir's `dense_resource` literals and the dense or splat literals of
/// exports that inline parameters. A splat is a scalar of the computation
/// when it has one element (a 0-d tensor, TOSA's broadcast constants
/// `tensor<1x1xf32>`), is not of floats (no parameter is), or no op reads it
/// as a tensor.
bool isWeightConstant(arith::ConstantOp constant) {
  if (!isa<RankedTensorType>(constant.getType()))
    return false;
  if (isa<DenseResourceElementsAttr>(constant.getValue()))
    return true;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  if (!dense)
    return false;
  if (!dense.isSplat())
    return true;
  return dense.getNumElements() > 1 && isa<FloatType>(dense.getElementType()) &&
         llvm::any_of(constant->getUses(), readsAsTensor);
}

/// A weight lifted to a parameter argument, with the values the IR held
/// for it (null for a global without a value).
struct LiftedWeight {
  BlockArgument argument;
  Attribute values;
  Location loc;
};

/// Replaces the weights a function holds as values (tensor constants,
/// loaded ml_program globals) by parameter arguments. An unnamed one gets
/// an empty mp.param, named by position later.
LogicalResult liftWeights(func::FuncOp func,
                          SmallVectorImpl<LiftedWeight> &weights) {
  MLIRContext *context = func.getContext();
  llvm::DenseMap<Attribute, BlockArgument> globals;
  auto addParameter = [&](Operation *op, StringRef name,
                          Attribute values) -> FailureOr<BlockArgument> {
    Type type = op->getResult(0).getType();
    if (failed(checkTensorType(type, op->getLoc(), "a weight")))
      return failure();
    unsigned index = func.getNumArguments();
    auto attrs = DictionaryAttr::get(
        context, {NamedAttribute(StringAttr::get(context, "mp.param"),
                                 StringAttr::get(context, name))});
    if (failed(func.insertArgument(index, type, attrs, op->getLoc())))
      return failure();
    BlockArgument arg = func.getArgument(index);
    weights.push_back({arg, values, op->getLoc()});
    return arg;
  };
  // Each reader of a splat gets its own parameter: canonicalization merges
  // equal splats of different parameters into one constant (three layers
  // initialised to 0.01), and a splat carries no identity to tie them by.
  auto liftSplat = [&](arith::ConstantOp constant) -> LogicalResult {
    llvm::SetVector<Operation *> readers;
    for (OpOperand &use : constant->getUses())
      if (readsAsTensor(use))
        readers.insert(use.getOwner());
    // Use lists are unordered; parameters are numbered in program order.
    Block &block = func.front();
    SmallVector<Operation *> ordered = readers.takeVector();
    llvm::sort(ordered, [&](Operation *l, Operation *r) {
      return block.findAncestorOpInBlock(*l)->isBeforeInBlock(
          block.findAncestorOpInBlock(*r));
    });
    // A name location names one parameter; several are named by position.
    StringRef name = ordered.size() == 1
                         ? getLocationName(constant.getLoc()).value_or("")
                         : "";
    for (Operation *reader : ordered) {
      FailureOr<BlockArgument> arg =
          addParameter(constant, name, constant.getValue());
      if (failed(arg))
        return failure();
      constant.getResult().replaceUsesWithIf(*arg, [&](OpOperand &use) {
        return use.getOwner() == reader && readsAsTensor(use);
      });
    }
    if (constant.use_empty())
      constant.erase();
    return success();
  };
  for (Operation &op : llvm::make_early_inc_range(func.front())) {
    if (auto load = dyn_cast<ml_program::GlobalLoadOp>(op)) {
      // A global read twice is one parameter.
      SymbolRefAttr global = load.getGlobal();
      BlockArgument arg = globals.lookup(global);
      if (!arg) {
        auto definition =
            SymbolTable::lookupNearestSymbolFrom<ml_program::GlobalOp>(load,
                                                                       global);
        FailureOr<BlockArgument> added = addParameter(
            load, global.getLeafReference().getValue(),
            definition ? definition.getValue().value_or(Attribute()) : nullptr);
        if (failed(added))
          return failure();
        arg = globals[global] = *added;
      }
      load.getResult().replaceAllUsesWith(arg);
      load.erase();
      continue;
    }
    auto constant = dyn_cast<arith::ConstantOp>(op);
    if (!constant || !isWeightConstant(constant))
      continue;
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (dense && dense.isSplat()) {
      if (failed(liftSplat(constant)))
        return failure();
      continue;
    }
    FailureOr<BlockArgument> arg =
        addParameter(constant, getLocationName(constant.getLoc()).value_or(""),
                     constant.getValue());
    if (failed(arg))
      return failure();
    constant.getResult().replaceAllUsesWith(*arg);
    constant.erase();
  }
  return success();
}

/// The f32 values of a lifted weight, little-endian as safetensors stores
/// them; an error naming it when the IR does not hold them.
FailureOr<std::vector<char>> getWeightBytes(const LiftedWeight &weight,
                                            StringRef name) {
  std::vector<char> bytes;
  auto append = [&](ArrayRef<float> values) {
    const char *data = reinterpret_cast<const char *>(values.data());
    bytes.assign(data, data + values.size() * sizeof(float));
  };
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(weight.values)) {
    SmallVector<float> values(dense.getValues<float>());
    append(values);
    return bytes;
  }
  if (auto resource =
          dyn_cast_or_null<DenseF32ResourceElementsAttr>(weight.values))
    if (std::optional<ArrayRef<float>> values = resource.tryGetAsArrayRef()) {
      append(*values);
      return bytes;
    }
  return emitError(weight.loc)
         << "weight '" << name
         << "' has no values in the IR (an elided dense_resource, or a "
            "global without a value): drop weights= and initialise it in "
            "the trainer";
}

/// Writes the lifted weights' values under their parameter names.
LogicalResult writeWeights(ModuleOp module, StringRef path,
                           ArrayRef<LiftedWeight> weights) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
                "safetensors data is little-endian");
  std::vector<std::pair<std::string, train::Tensor>> tensors;
  llvm::StringSet<> written;
  for (const LiftedWeight &weight : weights) {
    auto func = cast<func::FuncOp>(weight.argument.getOwner()->getParentOp());
    StringRef name = func.getArgAttrOfType<StringAttr>(
                             weight.argument.getArgNumber(), "mp.param")
                         .getValue();
    if (!written.insert(name).second)
      continue;
    FailureOr<std::vector<char>> bytes = getWeightBytes(weight, name);
    if (failed(bytes))
      return failure();
    auto type = cast<RankedTensorType>(weight.argument.getType());
    tensors.emplace_back(
        name.str(), train::Tensor{"F32",
                                  std::vector<int64_t>(type.getShape().begin(),
                                                       type.getShape().end()),
                                  std::move(*bytes)});
  }
  std::string error;
  if (!train::writeSafeTensors(path.str(), tensors, error))
    return module.emitError() << "weights=: " << error;
  return success();
}

/// Operand `index` of `op`, which must be a value mp computes (an argument
/// or an mp op's result), not a constant or a buffer.
FailureOr<Value> getModelOperand(Operation *op, unsigned index) {
  Value value = op->getOperand(index);
  Operation *def = value.getDefiningOp();
  if (!def || isa<MPDialect>(def->getDialect()))
    return value;
  return op->emitError() << "cannot import operand #" << index << " of "
                         << op->getName() << ": it is a " << def->getName()
                         << ", and mp has no constant tensors";
}

/// `product` plus the accumulator a matmul starts from: nothing for a fill
/// of zero, as torch-mlir initialises its accumulators.
FailureOr<Value> accumulate(OpBuilder &b, linalg::LinalgOp op, Value product) {
  Value init = op.getDpsInitOperand(0)->get();
  std::optional<double> splat = getSplatValue(init);
  if (splat && *splat == 0)
    return product;
  if (splat)
    return op.emitError() << "cannot import a product accumulated into a "
                             "fill of "
                          << *splat << ": mp has no op to add a constant";
  FailureOr<Value> acc = getModelOperand(op, op.getNumDpsInputs());
  if (failed(acc))
    return failure();
  return AddOp::create(b, op.getLoc(), product, *acc).getResult();
}

/// `map` with its last two results swapped: how a matmul's indexing maps
/// read a transposed operand.
AffineMap swapLastTwoResults(AffineMap map) {
  SmallVector<AffineExpr> results(map.getResults());
  std::swap(results[results.size() - 2], results.back());
  return AffineMap::get(map.getNumDims(), 0, results, map.getContext());
}

FailureOr<Value> raiseMatmul(OpBuilder &b, linalg::LinalgOp op) {
  SmallVector<AffineMap> defaults =
      isa<linalg::MatmulOp>(op)
          ? linalg::MatmulOp::getDefaultIndexingMaps(op.getContext())
          : linalg::BatchMatmulOp::getDefaultIndexingMaps(op.getContext());
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[2] != defaults[2])
    return op.emitError() << "cannot import " << op->getName()
                          << " writing its result through "
                          << AffineMapAttr::get(maps[2]);
  // Operands read transposed (newer frontends' matmul with a transposed
  // weight) become mp.transpose, which simplification folds into
  // mp.linear.
  Value operands[2];
  for (unsigned index : {0u, 1u}) {
    FailureOr<Value> operand = getModelOperand(op, index);
    if (failed(operand))
      return failure();
    operands[index] = *operand;
    if (maps[index] == defaults[index])
      continue;
    if (maps[index] != swapLastTwoResults(defaults[index]))
      return op.emitError()
             << "cannot import " << op->getName() << " reading operand #"
             << index << " through " << AffineMapAttr::get(maps[index])
             << ": mp reads it as is or transposed";
    int64_t rank = cast<RankedTensorType>(operand->getType()).getRank();
    SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    std::swap(perm[rank - 2], perm[rank - 1]);
    operands[index] = TransposeOp::create(b, op.getLoc(), *operand,
                                          b.getDenseI64ArrayAttr(perm));
  }
  return accumulate(b, op,
                    MatmulOp::create(b, op.getLoc(), operands[0], operands[1],
                                     /*precision=*/nullptr));
}

FailureOr<Value> raiseReduce(OpBuilder &b, linalg::ReduceOp op) {
  Block *body = op.getBody();
  auto add = dyn_cast<arith::AddFOp>(
      body->getTerminator()->getOperand(0).getDefiningOp());
  if (op.getNumDpsInits() != 1 || !add ||
      !llvm::all_of(add->getOperands(), [&](Value v) {
        return isa<BlockArgument>(v) &&
               cast<BlockArgument>(v).getOwner() == body;
      }))
    return op.emitError() << "cannot import this linalg.reduce: mp has sum "
                             "and mean reductions, not max, min or products";
  FailureOr<Value> input = getModelOperand(op, 0);
  if (failed(input))
    return failure();
  return accumulate(b, op,
                    SumOp::create(b, op.getLoc(), *input,
                                  b.getDenseI64ArrayAttr(op.getDimensions())));
}

/// A named elementwise op, whose operands all have the result's shape.
template <typename MPOp>
FailureOr<Value> raiseElementwise(OpBuilder &b, linalg::LinalgOp op) {
  SmallVector<Value, 2> operands;
  for (unsigned i = 0, e = op.getNumDpsInputs(); i < e; ++i) {
    FailureOr<Value> operand = getModelOperand(op, i);
    if (failed(operand))
      return failure();
    operands.push_back(*operand);
  }
  return MPOp::create(b, op.getLoc(), op->getResult(0).getType(), operands,
                      ArrayRef<NamedAttribute>{})
      ->getResult(0);
}

FailureOr<Value> raiseReshape(OpBuilder &b, Operation *op) {
  FailureOr<Value> input = getModelOperand(op, 0);
  if (failed(input))
    return failure();
  return ReshapeOp::create(b, op->getLoc(), op->getResult(0).getType(), *input)
      .getResult();
}

FailureOr<Value> raiseOp(OpBuilder &b, Operation &op) {
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(&op)
      .Case([&](linalg::GenericOp generic) { return raiseGeneric(b, generic); })
      .Case<linalg::MatmulOp, linalg::BatchMatmulOp>(
          [&](linalg::LinalgOp matmul) { return raiseMatmul(b, matmul); })
      .Case([&](linalg::CopyOp copy) { return getModelOperand(copy, 0); })
      .Case([&](linalg::TransposeOp transpose) -> FailureOr<Value> {
        FailureOr<Value> input = getModelOperand(transpose, 0);
        if (failed(input))
          return failure();
        return TransposeOp::create(
                   b, op.getLoc(), *input,
                   b.getDenseI64ArrayAttr(transpose.getPermutation()))
            .getResult();
      })
      .Case([&](linalg::BroadcastOp broadcast) -> FailureOr<Value> {
        FailureOr<Value> input = getModelOperand(broadcast, 0);
        if (failed(input))
          return failure();
        return BroadcastOp::create(
                   b, op.getLoc(), broadcast->getResult(0).getType(), *input,
                   b.getDenseI64ArrayAttr(broadcast.getDimensions()))
            .getResult();
      })
      .Case([&](linalg::ReduceOp reduce) { return raiseReduce(b, reduce); })
      .Case([&](linalg::AddOp add) { return raiseElementwise<AddOp>(b, add); })
      .Case([&](linalg::SubOp sub) { return raiseElementwise<SubOp>(b, sub); })
      .Case([&](linalg::MulOp mul) { return raiseElementwise<MulOp>(b, mul); })
      .Case([&](linalg::DivOp div) { return raiseElementwise<DivOp>(b, div); })
      .Case([&](linalg::ExpOp exp) { return raiseElementwise<ExpOp>(b, exp); })
      .Case([&](linalg::NegFOp neg) { return raiseElementwise<NegOp>(b, neg); })
      .Case<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::ReshapeOp>(
          [&](Operation *reshape) { return raiseReshape(b, reshape); })
      .Case([&](tensor::CastOp cast) { return getModelOperand(cast, 0); })
      .Default([&](Operation *unknown) -> FailureOr<Value> {
        InFlightDiagnostic diag = unknown->emitError()
                                  << "cannot import '" << unknown->getName()
                                  << "': mp imports " << kSupportedOps;
        if (unknown->getName().getDialectNamespace() == "tosa")
          diag.attachNote() << "lower TOSA first: --mp-import-tosa runs "
                               "upstream's TOSA lowerings, then mp-import";
        return diag;
      });
}

/// Raises every op of `func` into mp ops.
LogicalResult raiseOps(func::FuncOp func) {
  OpBuilder b(func.getContext());
  // What lowerings leave unused (TOSA's shape constants) is not the model.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(func.front())))
    if (isOpTriviallyDead(&op))
      op.erase();
  for (Operation &op : llvm::make_early_inc_range(func.front())) {
    // Fills, empties and scalar constants are read by their users.
    if (isa<func::ReturnOp, arith::ConstantOp, tensor::EmptyOp, linalg::FillOp>(
            op) ||
        isa<MPDialect>(op.getDialect()))
      continue;
    if (op.getNumResults() != 1)
      return op.emitError()
             << "cannot import '" << op.getName()
             << "': mp imports ops with one result (" << kSupportedOps << ")";
    if (failed(checkTensorType(op.getResult(0).getType(), op.getLoc(),
                               "a result")))
      return failure();
    b.setInsertionPoint(&op);
    FailureOr<Value> raised = raiseOp(b, op);
    if (failed(raised))
      return failure();
    op.getResult(0).replaceAllUsesWith(*raised);
    op.erase();
  }
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(func.front())))
    if (isOpTriviallyDead(&op))
      op.erase();
  auto isModelOp = [](Operation *op) {
    return isa<func::ReturnOp>(op) || isa<MPDialect>(op->getDialect());
  };
  for (Operation &op : func.front())
    if (!isModelOp(&op) && llvm::any_of(op.getUsers(), isModelOp))
      return op.emitError() << "cannot import '" << op.getName()
                            << "' as a value of the model: mp has no "
                               "constant tensors";
  return success();
}

LogicalResult checkSignature(func::FuncOp func) {
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "cannot import a function with control flow";
  for (BlockArgument arg : func.getArguments())
    if (failed(checkTensorType(arg.getType(), arg.getLoc(), "an argument",
                               /*allowIndices=*/true)))
      return failure();
  for (Type type : func.getResultTypes())
    if (failed(checkTensorType(type, func.getLoc(), "a result")))
      return failure();
  return success();
}

struct Import : impl::ImportBase<Import> {
  using ImportBase::ImportBase;

  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet set(context);
    populateSimplifyPatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(widenToF32(module)))
      return signalPassFailure();
    SmallVector<LiftedWeight> weights;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(checkSignature(func)) || failed(liftWeights(func, weights)) ||
          failed(raiseOps(func)) ||
          failed(applyPatternsGreedily(func, patterns)))
        return signalPassFailure();
      nameArguments(func);
      LLVM_DEBUG(llvm::dbgs() << "[mp-import] raised @" << func.getName()
                              << "\n");
      if (failed(appendLoss(func, loss, ignoreIndex)))
        return signalPassFailure();
    }
    if (!this->weights.empty() &&
        failed(writeWeights(module, this->weights, weights)))
      return signalPassFailure();
    // Globals now read as arguments are gone from the program.
    SymbolTable symbols(module);
    for (auto global :
         llvm::make_early_inc_range(module.getOps<ml_program::GlobalOp>()))
      if (SymbolTable::symbolKnownUseEmpty(global, module))
        symbols.erase(global);
  }

  FrozenRewritePatternSet patterns;
};

} // namespace
} // namespace mp
