//===- ModelSignature.cpp - imported functions as named models -----------===//

#include "LinalgToMP.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace mp::import {

/// The name a location gives its value (torch.export's placeholder names,
/// `loc("p_fc1_weight")`), if any.
std::optional<StringRef> getLocationName(Location loc) {
  std::optional<StringRef> name;
  loc->walk([&](Location inner) {
    if (auto named = dyn_cast<NameLoc>(inner)) {
      name = named.getName().getValue();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

namespace {

/// torch.export lifts parameter `layers.0.w1.weight` as placeholder
/// `p_layers_0_w1_weight`; this is the way back (an `_` inside a module
/// name comes back as `.` too).
std::string getParameterName(StringRef name) {
  if (!name.consume_front("p_"))
    return name.str();
  std::string dotted = name.str();
  llvm::replace(dotted, '_', '.');
  return dotted;
}

bool isLinearWeight(BlockArgument arg) {
  return llvm::any_of(arg.getUsers(), [&](Operation *user) {
    auto linear = dyn_cast<LinearOp>(user);
    return linear && linear.getWeight() == arg;
  });
}

} // namespace

void nameArguments(func::FuncOp func) {
  MLIRContext *context = func.getContext();
  auto paramKey = StringAttr::get(context, "mp.param");
  auto inputKey = StringAttr::get(context, "mp.input");
  unsigned numParams = 0, numInputs = 0;
  for (BlockArgument arg : func.getArguments()) {
    unsigned index = arg.getArgNumber();
    if (func.getArgAttr(index, inputKey) ||
        func.getArgAttr(index, "mp.target")) {
      ++numInputs;
      continue;
    }
    std::optional<StringRef> name;
    if (auto param = func.getArgAttrOfType<StringAttr>(index, paramKey))
      name = param.getValue();
    else
      name = getLocationName(arg.getLoc());
    bool isParam = func.getArgAttr(index, paramKey) ||
                   (name && name->starts_with("p_")) || isLinearWeight(arg);
    unsigned position = isParam ? numParams++ : numInputs++;
    std::string text =
        name && !name->empty()
            ? getParameterName(*name)
            : (isParam ? "param" : "input") + std::to_string(position);
    func.setArgAttr(index, isParam ? paramKey : inputKey,
                    StringAttr::get(context, text));
  }
}

LogicalResult appendLoss(func::FuncOp func, StringRef loss,
                         StringRef ignoreIndex) {
  std::optional<int64_t> ignored;
  if (!ignoreIndex.empty()) {
    int64_t value;
    if (ignoreIndex.getAsInteger(10, value))
      return func.emitError()
             << "ignore-index '" << ignoreIndex << "' is no 64-bit integer";
    if (loss != "cross_entropy")
      return func.emitError() << "ignore-index goes with loss=cross_entropy, "
                                 "not "
                              << loss;
    ignored = value;
  }
  if (loss == "none")
    return success();
  if (!llvm::is_contained({"sum", "mean", "mse", "cross_entropy"}, loss))
    return func.emitError() << "unknown loss '" << loss
                            << "': choose none, sum, mean, mse or "
                               "cross_entropy";
  if (func.getNumResults() != 1)
    return func.emitError() << "cannot append a " << loss << " loss to a "
                            << "function with " << func.getNumResults()
                            << " results: it needs one, the model's output";
  auto ret = cast<func::ReturnOp>(func.front().getTerminator());
  Value output = ret.getOperand(0);
  auto outputType = cast<RankedTensorType>(output.getType());
  OpBuilder b(ret);
  Location loc = ret.getLoc();
  MLIRContext *context = func.getContext();

  auto addTarget = [&](RankedTensorType type) -> FailureOr<Value> {
    unsigned index = func.getNumArguments();
    auto attrs = DictionaryAttr::get(
        context, {NamedAttribute(StringAttr::get(context, "mp.target"),
                                 StringAttr::get(context, "target"))});
    if (failed(func.insertArgument(index, type, attrs, loc)))
      return failure();
    return Value(func.getArgument(index));
  };

  Value value;
  if (loss == "sum" || loss == "mean") {
    value = loss == "sum" ? SumOp::create(b, loc, output, nullptr).getResult()
                          : MeanOp::create(b, loc, output, nullptr).getResult();
  } else if (loss == "mse") {
    FailureOr<Value> target = addTarget(outputType);
    if (failed(target))
      return failure();
    value = MseLossOp::create(b, loc, output, *target,
                              ReductionAttr::get(context, Reduction::mean));
  } else {
    if (outputType.getRank() < 1)
      return func.emitError() << "cannot append a cross_entropy loss to an "
                                 "output of type "
                              << outputType << ": it needs [..., classes]";
    FailureOr<Value> target = addTarget(RankedTensorType::get(
        outputType.getShape().drop_back(), IntegerType::get(context, 64)));
    if (failed(target))
      return failure();
    if (ignored) {
      // PyTorch's mean over the targets kept: their sum over their count.
      Value sum = CrossEntropyOp::create(
          b, loc, output, *target, ReductionAttr::get(context, Reduction::sum),
          b.getI64IntegerAttr(*ignored));
      auto targetType = cast<RankedTensorType>(target->getType());
      Value kept = TargetMaskOp::create(
          b, loc,
          RankedTensorType::get(targetType.getShape(),
                                outputType.getElementType()),
          *target, *ignored);
      Value count = SumOp::create(b, loc, kept, nullptr);
      value = DivOp::create(b, loc, sum, count);
    } else {
      value = CrossEntropyOp::create(
          b, loc, output, *target, ReductionAttr::get(context, Reduction::mean),
          /*ignore_index=*/nullptr);
    }
  }
  ret->setOperands(value);
  func.setFunctionType(FunctionType::get(
      context, func.getArgumentTypes(), TypeRange{value.getType()}));
  func.removeResAttrsAttr();
  return success();
}

} // namespace mp::import
