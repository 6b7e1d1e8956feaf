//===- GenericToMP.cpp - linalg.generic bodies classified into mp ops -----===//
//
// A body is read as a scalar expression of its operands. Each sub-expression
// of one operand is evaluated at probe points and compared with the unary
// functions mp has, so every spelling of ReLU, SiLU or GELU is recognised by
// what it computes; the rest is split at +, -, ×, ÷ into binary mp ops.
//
//===----------------------------------------------------------------------===//

#include "LinalgToMP.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;

namespace mp::import {

std::optional<double> getSplatValue(Value tensor) {
  FloatAttr scalar;
  if (auto fill = tensor.getDefiningOp<linalg::FillOp>()) {
    if (matchPattern(fill.getInputs()[0], m_Constant(&scalar)))
      return scalar.getValueAsDouble();
    return std::nullopt;
  }
  DenseFPElementsAttr dense;
  if (matchPattern(tensor, m_Constant(&dense)) && dense.isSplat())
    return dense.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

FailureOr<Value> alignToLoops(OpBuilder &b, Location loc, Value value,
                              AffineMap map, ArrayRef<int64_t> loopShape) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> keptShape, loops;
  for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
    if (auto loop = dyn_cast<AffineDimExpr>(expr)) {
      unsigned pos = loop.getPosition();
      if (!llvm::is_contained(loops, pos) &&
          type.getDimSize(dim) == loopShape[pos]) {
        loops.push_back(pos);
        keptShape.push_back(type.getDimSize(dim));
        continue;
      }
    }
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    if (constant && constant.getValue() == 0 && type.getDimSize(dim) == 1)
      continue;
    return emitError(loc) << "cannot import an operand of type " << type
                          << " indexed by " << AffineMapAttr::get(map)
                          << ": mp takes each dim indexed by its own loop, or "
                             "a size-1 dim indexed by 0";
  }
  Type elementType = type.getElementType();
  if (static_cast<int64_t>(keptShape.size()) != type.getRank())
    value = ReshapeOp::create(
        b, loc, RankedTensorType::get(keptShape, elementType), value);
  SmallVector<int64_t> perm =
      llvm::to_vector(llvm::seq<int64_t>(0, loops.size()));
  llvm::sort(perm, [&](int64_t l, int64_t r) { return loops[l] < loops[r]; });
  if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    value = TransposeOp::create(b, loc, value, b.getDenseI64ArrayAttr(perm));
  SmallVector<int64_t> newDims;
  for (int64_t loop : llvm::seq<int64_t>(0, loopShape.size()))
    if (!llvm::is_contained(loops, loop))
      newDims.push_back(loop);
  if (!newDims.empty())
    value = BroadcastOp::create(b, loc,
                                RankedTensorType::get(loopShape, elementType),
                                value, b.getDenseI64ArrayAttr(newDims));
  return value;
}

namespace {

/// The elementwise functions of one variable that mp has an op for.
enum class Unary {
  Identity,
  Neg,
  Exp,
  Relu,
  Sigmoid,
  Tanh,
  Silu,
  Gelu,
  GeluTanh
};

constexpr Unary kUnaries[] = {Unary::Identity, Unary::Neg,     Unary::Exp,
                              Unary::Relu,     Unary::Sigmoid, Unary::Tanh,
                              Unary::Silu,     Unary::Gelu,    Unary::GeluTanh};

double evaluateUnary(Unary unary, double x) {
  switch (unary) {
  case Unary::Identity:
    return x;
  case Unary::Neg:
    return -x;
  case Unary::Exp:
    return std::exp(x);
  case Unary::Relu:
    return x > 0 ? x : 0;
  case Unary::Sigmoid:
    return 1 / (1 + std::exp(-x));
  case Unary::Tanh:
    return std::tanh(x);
  case Unary::Silu:
    return x / (1 + std::exp(-x));
  case Unary::Gelu:
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case Unary::GeluTanh:
    return 0.5 * x *
           (1 + std::tanh(std::sqrt(2 / llvm::numbers::pi) *
                          (x + 0.044715 * x * x * x)));
  }
  llvm_unreachable("unknown unary function");
}

/// How far a body may be from the function it is taken for, relative to
/// max(1, |value|): f32 constants in the body, and for GELU's tanh form
/// torch-mlir's 0.7977240352174656 for √(2/π) (5e-5 away; the erf form is
/// 4e-4 away).
double getTolerance(Unary unary) {
  return unary == Unary::GeluTanh ? 1e-4 : 1e-6;
}

/// Probe points: both signs over many magnitudes. Each constant of a body
/// adds probes at and around it, so a select on a threshold shows up.
constexpr double kProbes[] = {0,   1e-3, 0.1, 0.3, 0.5, 0.7, 1,  1.3, 1.7, 2,
                              2.5, 3,    4,   5.5, 8,   13,  20, 30,  50,  100};

bool isClose(double actual, double expected, double tolerance) {
  if (std::isnan(actual) || std::isnan(expected))
    return std::isnan(actual) && std::isnan(expected);
  if (std::isinf(actual) || std::isinf(expected))
    return actual == expected;
  return std::fabs(actual - expected) <=
         tolerance * std::max(1.0, std::fabs(expected));
}

/// Reads one generic's body and builds the mp ops computing its values.
class BodyRaiser {
public:
  BodyRaiser(OpBuilder &b, linalg::GenericOp op)
      : b(b), loc(op.getLoc()), body(op.getBody()) {}

  /// Binds a block argument to a scalar (a splat operand).
  void bindConstant(BlockArgument arg, double value) {
    constantArgs[arg] = value;
  }
  /// Binds a block argument to its operand, aligned to the loops.
  void bindTensor(BlockArgument arg, Value tensor) { emitted[arg] = tensor; }

  /// Whether `value` depends on an operand bound to a tensor.
  bool dependsOnTensor(Value value) {
    llvm::SetVector<BlockArgument> leaves;
    collectLeaves(value, leaves);
    return !leaves.empty();
  }

  /// The mp value of body value `value` over the loop space.
  FailureOr<Value> emit(Value value) {
    if (Value done = emitted.lookup(value))
      return done;
    llvm::SetVector<BlockArgument> leaves;
    collectLeaves(value, leaves);
    if (leaves.empty())
      return failure();
    FailureOr<Value> result = failure();
    if (leaves.size() == 1)
      result = emitUnary(value, leaves.front());
    if (failed(result))
      result = emitSplit(value);
    if (succeeded(result))
      emitted[value] = *result;
    return result;
  }

private:
  bool isInBody(Value value) {
    return value.getParentRegion() == body->getParent();
  }

  /// The block arguments bound to tensors that `value` depends on.
  void collectLeaves(Value value, llvm::SetVector<BlockArgument> &leaves) {
    if (!isInBody(value))
      return;
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      if (!constantArgs.count(arg))
        leaves.insert(arg);
      return;
    }
    for (Value operand : value.getDefiningOp()->getOperands())
      collectLeaves(operand, leaves);
  }

  /// The float constants `value` depends on.
  void collectConstants(Value value, SmallVectorImpl<double> &constants) {
    if (std::optional<double> constant = evaluateConstant(value)) {
      constants.push_back(*constant);
      return;
    }
    if (Operation *def = value.getDefiningOp(); def && isInBody(value))
      for (Value operand : def->getOperands())
        collectConstants(operand, constants);
  }

  std::optional<double> evaluateConstant(Value value) {
    llvm::DenseMap<Value, double> env;
    return evaluate(value, env);
  }

  /// `value` where the values in `env` are known; none when it depends on
  /// anything else or on an op this evaluator does not know.
  std::optional<double> evaluate(Value value,
                                 llvm::DenseMap<Value, double> &env) {
    if (auto it = env.find(value); it != env.end())
      return it->second;
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      if (auto it = constantArgs.find(arg); it != constantArgs.end())
        return it->second;
      return std::nullopt;
    }
    std::optional<double> result = evaluateOp(value.getDefiningOp(), env);
    if (result)
      env[value] = *result;
    return result;
  }

  std::optional<double> evaluateOp(Operation *op,
                                   llvm::DenseMap<Value, double> &env) {
    Attribute attr;
    if (matchPattern(op->getResult(0), m_Constant(&attr))) {
      if (auto f = dyn_cast<FloatAttr>(attr))
        return f.getValueAsDouble();
      if (auto i = dyn_cast<IntegerAttr>(attr))
        return i.getType().isInteger(1)
                   ? static_cast<double>(i.getValue().getZExtValue())
                   : static_cast<double>(i.getValue().getSExtValue());
      return std::nullopt;
    }
    if (!isInBody(op->getResult(0)))
      return std::nullopt;
    SmallVector<double, 3> args;
    for (Value operand : op->getOperands()) {
      std::optional<double> arg = evaluate(operand, env);
      if (!arg)
        return std::nullopt;
      args.push_back(*arg);
    }
    return llvm::TypeSwitch<Operation *, std::optional<double>>(op)
        .Case([&](arith::AddFOp) { return args[0] + args[1]; })
        .Case([&](arith::SubFOp) { return args[0] - args[1]; })
        .Case([&](arith::MulFOp) { return args[0] * args[1]; })
        .Case([&](arith::DivFOp) { return args[0] / args[1]; })
        .Case([&](arith::NegFOp) { return -args[0]; })
        .Case<arith::MaximumFOp, arith::MaxNumFOp>(
            [&](auto) { return std::fmax(args[0], args[1]); })
        .Case<arith::MinimumFOp, arith::MinNumFOp>(
            [&](auto) { return std::fmin(args[0], args[1]); })
        .Case<arith::SIToFPOp, arith::UIToFPOp>([&](auto) { return args[0]; })
        .Case([&](arith::SelectOp) { return args[0] != 0 ? args[1] : args[2]; })
        .Case([&](arith::CmpFOp cmp) -> std::optional<double> {
          return compare(cmp.getPredicate(), args[0], args[1]);
        })
        .Case([&](math::ExpOp) { return std::exp(args[0]); })
        .Case([&](math::ErfOp) { return std::erf(args[0]); })
        .Case([&](math::TanhOp) { return std::tanh(args[0]); })
        .Case([&](math::SqrtOp) { return std::sqrt(args[0]); })
        .Case([&](math::RsqrtOp) { return 1 / std::sqrt(args[0]); })
        .Case([&](math::AbsFOp) { return std::fabs(args[0]); })
        .Case<math::PowFOp, math::FPowIOp>(
            [&](auto) { return std::pow(args[0], args[1]); })
        .Default([](Operation *) { return std::nullopt; });
  }

  static double compare(arith::CmpFPredicate predicate, double l, double r) {
    bool unordered = std::isnan(l) || std::isnan(r);
    using P = arith::CmpFPredicate;
    switch (predicate) {
    case P::AlwaysFalse:
      return 0;
    case P::AlwaysTrue:
      return 1;
    case P::OEQ:
      return !unordered && l == r;
    case P::OGT:
      return !unordered && l > r;
    case P::OGE:
      return !unordered && l >= r;
    case P::OLT:
      return !unordered && l < r;
    case P::OLE:
      return !unordered && l <= r;
    case P::ONE:
      return !unordered && l != r;
    case P::ORD:
      return !unordered;
    case P::UEQ:
      return unordered || l == r;
    case P::UGT:
      return unordered || l > r;
    case P::UGE:
      return unordered || l >= r;
    case P::ULT:
      return unordered || l < r;
    case P::ULE:
      return unordered || l <= r;
    case P::UNE:
      return unordered || l != r;
    case P::UNO:
      return unordered;
    }
    llvm_unreachable("unknown cmpf predicate");
  }

  /// `value`, a function of `leaf` alone, as one mp op when it computes one
  /// of mp's unary functions or a multiple of its operand.
  FailureOr<Value> emitUnary(Value value, BlockArgument leaf) {
    SmallVector<double> probes(std::begin(kProbes), std::end(kProbes));
    SmallVector<double> constants;
    collectConstants(value, constants);
    for (double c : constants)
      probes.append({c, c - 1e-3 * std::max(1.0, std::fabs(c)),
                     c + 1e-3 * std::max(1.0, std::fabs(c))});
    // Only values an f32 can hold: a clamp at the largest f32 is a no-op.
    llvm::erase_if(probes, [](double x) {
      return std::fabs(x) > std::numeric_limits<float>::max();
    });
    for (size_t i = 0, e = probes.size(); i < e; ++i)
      probes.push_back(-probes[i]);

    SmallVector<double> values;
    for (double x : probes) {
      llvm::DenseMap<Value, double> env{{leaf, x}};
      std::optional<double> y = evaluate(value, env);
      if (!y)
        return failure();
      values.push_back(*y);
    }
    auto matches = [&](auto &&function, double tolerance) {
      return llvm::all_of(llvm::zip_equal(probes, values), [&](auto pair) {
        auto [x, y] = pair;
        return isClose(y, function(x), tolerance);
      });
    };
    Value input = emitted.lookup(leaf);
    for (Unary unary : kUnaries) {
      if (!matches([&](double x) { return evaluateUnary(unary, x); },
                   getTolerance(unary)))
        continue;
      switch (unary) {
      case Unary::Identity:
        return input;
      case Unary::Neg:
        return NegOp::create(b, loc, input).getResult();
      case Unary::Exp:
        return ExpOp::create(b, loc, input).getResult();
      case Unary::Relu:
        return ReluOp::create(b, loc, input).getResult();
      case Unary::Sigmoid:
        return SigmoidOp::create(b, loc, input).getResult();
      case Unary::Tanh:
        return TanhOp::create(b, loc, input).getResult();
      case Unary::Silu:
        return SiluOp::create(b, loc, input).getResult();
      case Unary::Gelu:
        return GeluOp::create(b, loc, input).getResult();
      case Unary::GeluTanh:
        return GeluOp::create(b, loc, input, /*approximate_tanh=*/true)
            .getResult();
      }
    }
    // torch.clamp (torch-mlir: cmpf ult + select, cmpf ugt + select; or
    // maximumf, minimumf) between two of the body's constants, or one with
    // the other side open. ReLU, clamp(min=0), matched above. torch-mlir's
    // ult + select maps NaN to the lower bound; mp.clamp keeps it, as
    // torch.clamp does (the probes hold no NaN).
    constexpr double kInf = std::numeric_limits<double>::infinity();
    SmallVector<std::pair<double, double>> bounds;
    for (double lower : constants) {
      bounds.push_back({lower, kInf});
      bounds.push_back({-kInf, lower});
      for (double upper : constants)
        if (lower < upper)
          bounds.push_back({lower, upper});
    }
    for (auto [lower, upper] : bounds)
      if (matches([&](double x) { return std::clamp(x, lower, upper); },
                  getTolerance(Unary::Identity)))
        return ClampOp::create(b, loc, input, b.getF64FloatAttr(lower),
                               b.getF64FloatAttr(upper))
            .getResult();
    llvm::DenseMap<Value, double> atOne{{leaf, 1.0}};
    std::optional<double> factor = evaluate(value, atOne);
    if (factor && *factor != 0 &&
        matches([&](double x) { return *factor * x; },
                getTolerance(Unary::Identity)))
      return ScaleOp::create(b, loc, input, b.getF64FloatAttr(*factor))
          .getResult();
    return failure();
  }

  /// `value` split at its last arithmetic op into binary mp ops.
  FailureOr<Value> emitSplit(Value value) {
    Operation *op = value.getDefiningOp();
    if (!op || !isInBody(value))
      return failure();
    // Each operand: an mp value, or a scalar constant.
    SmallVector<Value, 2> tensors;
    SmallVector<std::optional<double>, 2> scalars;
    for (Value operand : op->getOperands()) {
      llvm::SetVector<BlockArgument> leaves;
      collectLeaves(operand, leaves);
      if (leaves.empty()) {
        std::optional<double> scalar = evaluateConstant(operand);
        if (!scalar)
          return failure();
        tensors.push_back({});
        scalars.push_back(scalar);
        continue;
      }
      FailureOr<Value> tensor = emit(operand);
      if (failed(tensor))
        return failure();
      tensors.push_back(*tensor);
      scalars.push_back(std::nullopt);
    }
    auto both = [&]() {
      return tensors.size() == 2 && tensors[0] && tensors[1];
    };
    auto scaled = [&](Value tensor, double factor) -> FailureOr<Value> {
      if (factor == 1)
        return tensor;
      return ScaleOp::create(b, loc, tensor, b.getF64FloatAttr(factor))
          .getResult();
    };
    if (isa<arith::AddFOp>(op) && both())
      return AddOp::create(b, loc, tensors[0], tensors[1]).getResult();
    if (isa<arith::SubFOp>(op) && both())
      return SubOp::create(b, loc, tensors[0], tensors[1]).getResult();
    if (isa<arith::MulFOp>(op)) {
      if (both())
        return MulOp::create(b, loc, tensors[0], tensors[1]).getResult();
      return tensors[0] ? scaled(tensors[0], *scalars[1])
                        : scaled(tensors[1], *scalars[0]);
    }
    if (isa<arith::DivFOp>(op)) {
      if (both())
        return DivOp::create(b, loc, tensors[0], tensors[1]).getResult();
      if (tensors[0] && *scalars[1] != 0)
        return scaled(tensors[0], 1 / *scalars[1]);
    }
    if (isa<arith::NegFOp>(op))
      return NegOp::create(b, loc, tensors[0]).getResult();
    if (isa<math::ExpOp>(op))
      return ExpOp::create(b, loc, tensors[0]).getResult();
    return failure();
  }

  OpBuilder &b;
  Location loc;
  Block *body;
  llvm::DenseMap<BlockArgument, double> constantArgs;
  llvm::DenseMap<Value, Value> emitted;
};

InFlightDiagnostic emitUnmatchedBody(linalg::GenericOp op, StringRef why) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os, OpPrintingFlags().useLocalScope());
  return op.emitError()
         << "cannot import this linalg.generic: " << why
         << " (mp has add, sub, mul, div, neg, exp, relu, sigmoid, silu, "
            "gelu, gelu tanh, multiplication by a constant, and sum and mean "
            "reductions):\n"
         << text;
}

} // namespace

FailureOr<Value> raiseGeneric(OpBuilder &b, linalg::GenericOp op) {
  Location loc = op.getLoc();
  if (op.getNumDpsInits() != 1)
    return op.emitError() << "cannot import a linalg.generic with "
                          << op.getNumDpsInits() << " results: mp ops have one";
  SmallVector<int64_t> loopShape = op.getStaticLoopRanges();
  Block *body = op.getBody();
  Value yielded = body->getTerminator()->getOperand(0);
  OpOperand *init = op.getDpsInitOperand(0);
  BlockArgument outArg = op.getMatchingBlockArgument(init);
  SmallVector<int64_t> reduced;
  for (auto [loop, kind] : llvm::enumerate(op.getIteratorTypesArray()))
    if (kind == utils::IteratorType::reduction)
      reduced.push_back(loop);

  BodyRaiser raiser(b, op);
  auto bind = [&](OpOperand &operand) -> LogicalResult {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    if (arg.use_empty())
      return success();
    if (std::optional<double> splat = getSplatValue(operand.get())) {
      raiser.bindConstant(arg, *splat);
      return success();
    }
    FailureOr<Value> aligned = alignToLoops(
        b, loc, operand.get(), op.getMatchingIndexingMap(&operand), loopShape);
    if (failed(aligned))
      return failure();
    raiser.bindTensor(arg, *aligned);
    return success();
  };
  for (OpOperand *input : op.getDpsInputOperands())
    if (failed(bind(*input)))
      return failure();

  // A reduction accumulates into the output: the body yields out + f(ins).
  Value accumulated = yielded;
  if (!reduced.empty()) {
    auto add = yielded.getDefiningOp<arith::AddFOp>();
    if (!add || !outArg.hasOneUse() ||
        !llvm::is_contained(add->getOperands(), outArg))
      return emitUnmatchedBody(op,
                               "a reduction must add into its output (a sum)");
    accumulated = add.getLhs() == outArg ? add.getRhs() : add.getLhs();
  } else if (failed(bind(*init))) {
    return failure();
  }

  // Blaming the body for a constant result would send the user looking for
  // a missing op; the constant is what mp cannot hold.
  if (!raiser.dependsOnTensor(accumulated)) {
    InFlightDiagnostic diag =
        op.emitError() << "cannot import this linalg.generic: its value is a "
                          "constant (it reads no tensor the model computes), "
                          "and mp has no constant tensors";
    for (OpOperand *input : op.getDpsInputOperands())
      if (Operation *def = input->get().getDefiningOp();
          def && getSplatValue(input->get()))
        diag.attachNote(def->getLoc())
            << "operand #" << input->getOperandNumber()
            << " is this constant, read as a scalar";
    return diag;
  }
  FailureOr<Value> loopValue = raiser.emit(accumulated);
  if (failed(loopValue))
    return emitUnmatchedBody(op, "its body computes nothing mp has an op for");
  Value result = *loopValue;
  if (!reduced.empty())
    result = SumOp::create(b, loc, result, b.getDenseI64ArrayAttr(reduced));

  // The result holds the parallel loops in order; the output map orders
  // them and may keep reduced dims as size-1 dims indexed by 0.
  SmallVector<int64_t> parallel;
  for (int64_t loop : llvm::seq<int64_t>(0, loopShape.size()))
    if (!llvm::is_contained(reduced, loop))
      parallel.push_back(loop);
  auto outType = cast<RankedTensorType>(op.getResult(0).getType());
  SmallVector<int64_t> perm;
  for (auto [dim, expr] :
       llvm::enumerate(op.getMatchingIndexingMap(init).getResults())) {
    if (auto loop = dyn_cast<AffineDimExpr>(expr)) {
      auto *it = llvm::find(parallel, loop.getPosition());
      if (it != parallel.end() &&
          !llvm::is_contained(perm, it - parallel.begin())) {
        perm.push_back(it - parallel.begin());
        continue;
      }
    }
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    if (!constant || constant.getValue() != 0 || outType.getDimSize(dim) != 1)
      return emitUnmatchedBody(op, "its output map is not a permutation of "
                                   "its parallel loops");
  }
  if (perm.size() != parallel.size())
    return emitUnmatchedBody(op, "its output map does not cover its "
                                 "parallel loops");
  if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    result = TransposeOp::create(b, loc, result, b.getDenseI64ArrayAttr(perm));
  if (result.getType() != outType)
    result = ReshapeOp::create(b, loc, outType, result);

  // A sum into a tensor other than zero adds it.
  if (!reduced.empty()) {
    std::optional<double> splat = getSplatValue(init->get());
    if (splat && *splat != 0)
      return op.emitError() << "cannot import a sum into a non-zero fill ("
                            << *splat << "): mp has no op to add a constant";
    if (!splat)
      result = AddOp::create(b, loc, result, init->get());
  }
  return result;
}

} // namespace mp::import
