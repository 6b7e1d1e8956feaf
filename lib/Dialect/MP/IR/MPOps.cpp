//===- MPOps.cpp - mp dialect operations ----------------------------------===//

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include "mp_runtime.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mp;

#include "mp/Dialect/MP/IR/MPInterfaces.cpp.inc"

namespace {
/// MP_BFloat16Storage's assembly: one type where the operands and results
/// all have it, else the functional type `(operands) -> results`.
template <typename... Types>
ParseResult parseStorageTypes(OpAsmParser &parser, Types &...types) {
  SMLoc loc = parser.getCurrentLocation();
  Type type;
  if (parser.parseType(type))
    return failure();
  auto function = dyn_cast<FunctionType>(type);
  if (!function) {
    ((types = type), ...);
    return success();
  }
  SmallVector<Type> all(function.getInputs());
  llvm::append_range(all, function.getResults());
  if (all.size() != sizeof...(types))
    return parser.emitError(loc)
           << "expected " << sizeof...(types)
           << " operand and result types, got " << all.size();
  size_t index = 0;
  ((types = all[index++]), ...);
  return success();
}

template <typename... Types>
void printStorageTypes(OpAsmPrinter &printer, Operation *op, Types... types) {
  std::array<Type, sizeof...(types)> all = {types...};
  if (llvm::all_equal(all))
    printer << all.front();
  else
    printer << FunctionType::get(op->getContext(), op->getOperandTypes(),
                                 op->getResultTypes());
}

/// A list of f64 written `[a, b, ...]` with every digit: DenseF64ArrayAttr's
/// own printer writes each value with six (llvm::raw_ostream's `%e`), so a
/// printed YaRN or longrope divisor such as 1.2307692307692308 read back as
/// 1.230769, a different model.
ParseResult parseExactF64Array(OpAsmParser &parser, DenseF64ArrayAttr &attr) {
  SmallVector<double> values;
  if (parser.parseCommaSeparatedList(
          OpAsmParser::Delimiter::Square,
          [&] { return parser.parseFloat(values.emplace_back()); }))
    return failure();
  attr = DenseF64ArrayAttr::get(parser.getContext(), values);
  return success();
}

void printExactF64Array(OpAsmPrinter &printer, Operation *,
                        DenseF64ArrayAttr attr) {
  printer << '[';
  llvm::interleaveComma(attr.asArrayRef(), printer, [&](double value) {
    printer.printFloat(APFloat(value));
  });
  printer << ']';
}
} // namespace

#define GET_OP_CLASSES
#include "mp/Dialect/MP/IR/MPOps.cpp.inc"

std::optional<int64_t> mp::getTensorBytes(ShapedType type) {
  std::optional<int64_t> bytes = (type.getElementTypeBitWidth() + 7) / 8;
  for (int64_t dim : type.getShape())
    if (bytes)
      bytes = llvm::checkedMul(*bytes, dim);
  return bytes;
}

LogicalResult mp::verifyTensorSize(function_ref<InFlightDiagnostic()> emitError,
                                   Type type, StringRef what) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() ||
      !tensor.getElementType().isIntOrFloat())
    return success(); // The op's own verifier says what it takes.
  if (llvm::is_contained(tensor.getShape(), 0))
    return emitError() << what << ": " << type
                       << " is empty: mp takes no zero-sized dims";
  if (!getTensorBytes(tensor))
    return emitError() << what << ": " << type
                       << " has more bytes than int64 counts";
  return success();
}

LogicalResult mp::MPTrait::verifyBoundedTensors(Operation *op) {
  auto emitError = [&] { return op->emitOpError(); };
  for (auto [index, type] : llvm::enumerate(op->getOperandTypes()))
    if (failed(verifyTensorSize(emitError, type,
                                ("operand #" + Twine(index)).str())))
      return failure();
  for (auto [index, type] : llvm::enumerate(op->getResultTypes()))
    if (failed(verifyTensorSize(emitError, type,
                                ("result #" + Twine(index)).str())))
      return failure();
  return success();
}

namespace {
/// The element types of `op`'s operands, then of its results.
auto getElementTypes(Operation *op) {
  return llvm::map_range(
      llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()),
      [](Type type) { return getElementTypeOrSelf(type); });
}
} // namespace

LogicalResult mp::MPTrait::verifyBFloat16Storage(Operation *op) {
  auto elements = getElementTypes(op);
  if (llvm::all_equal(elements) || llvm::all_of(elements, [](Type type) {
        return type.isF32() || type.isBF16();
      }))
    return success();
  return op->emitOpError("takes tensors of one element type, or float32 and "
                         "bfloat16 ones (a float32 computation held in "
                         "bfloat16)");
}

namespace {
/// The tensors attention or its gradient may hold in bfloat16 beside
/// float32 ones, computing in float32: q, k, v and the output (the
/// forward's result, the gradient's operand), and the gradient's grad and
/// results, which mixed storage keeps float32. Empty for other ops.
SmallVector<Value> getAttentionStorage(Operation *op) {
  if (isa<AttentionOp>(op))
    return {op->getOperand(0), op->getOperand(1), op->getOperand(2),
            op->getResult(0)};
  if (isa<AttentionGradOp>(op)) {
    // Not lse nor ALiBi's slopes, float32 in any case.
    SmallVector<Value> values(op->getOperands().take_front(6));
    values.erase(values.begin() + 4);
    llvm::append_range(values, op->getResults());
    return values;
  }
  return {};
}

/// True if attention or its gradient holds tensors of several element
/// types (getAttentionStorage).
bool mixesAttentionStorage(Operation *op) {
  return !llvm::all_equal(
      llvm::map_range(getAttentionStorage(op),
                      [](Value value) { return getElementTypeOrSelf(value); }));
}

/// True for attention or its gradient in bf16 precision.
bool isBFloat16Attention(Operation *op) {
  if (auto attention = dyn_cast<AttentionOp>(op))
    return attention.getEffectivePrecision() == Precision::bf16;
  if (auto gradient = dyn_cast<AttentionGradOp>(op))
    return gradient.getEffectivePrecision() == Precision::bf16;
  return false;
}
} // namespace

bool mp::mixesBFloat16Storage(Operation *op) {
  if (isa<AttentionOp, AttentionGradOp>(op))
    return mixesAttentionStorage(op);
  return (op->hasTrait<MPTrait::BFloat16Storage>() ||
          isa<RmsNormOp, RmsNormGradOp, RmsNormWeightGradOp, LayerNormOp,
              LayerNormGradOp, LayerNormWeightGradOp>(op)) &&
         !llvm::all_equal(getElementTypes(op));
}

bool mp::mayReadBFloat16(OpOperand &use) {
  Operation *op = use.getOwner();
  if (op->hasTrait<MPTrait::BFloat16Storage>())
    return true;
  // The input, and the gradients' gradient: not the parameters.
  if (isa<RmsNormOp, LayerNormOp>(op))
    return use.getOperandNumber() == 0;
  if (isa<RmsNormGradOp, LayerNormGradOp>(op))
    return use.getOperandNumber() != 1;
  if (isa<RmsNormWeightGradOp, LayerNormWeightGradOp>(op))
    return true;
  if (isa<AttentionOp, AttentionGradOp>(op))
    // q, k, v (and the gradient's output), not ALiBi's slopes.
    return isBFloat16Attention(op) &&
           use.getOperandNumber() < (isa<AttentionOp>(op) ? 3u : 4u);
  return isGemmFactor(use) && getGemmPrecision(*op) == Precision::bf16;
}

bool mp::mayWriteBFloat16(OpResult result) {
  Operation *op = result.getOwner();
  if (isa<AttentionOp>(op))
    return isBFloat16Attention(op) && result.getResultNumber() == 0;
  return op->hasTrait<MPTrait::BFloat16Storage>() ||
         isa<RmsNormOp, LayerNormOp>(op) ||
         (getGemmPrecision(*op) == Precision::bf16 && !getGemmAccumulator(*op));
}

namespace {
/// True if `actual` may stand where `inferred` was inferred: the same
/// types, or tensors of one shape of which `actual` holds in bfloat16 what
/// `inferred` computes in float32 (or the reverse, for an op whose
/// operands are bfloat16 and whose result is float32).
bool areStorageCompatible(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  auto isF32OrBF16 = [](Type type) { return type.isF32() || type.isBF16(); };
  for (auto [a, b] : llvm::zip(inferred, actual)) {
    if (a == b)
      continue;
    auto left = dyn_cast<RankedTensorType>(a);
    auto right = dyn_cast<RankedTensorType>(b);
    if (!left || !right || left.getShape() != right.getShape() ||
        !isF32OrBF16(left.getElementType()) ||
        !isF32OrBF16(right.getElementType()))
      return false;
  }
  return true;
}

/// MP_BFloat16Storage's inferred results: `count` of its operands' type, or
/// float32 tensors of their shape where their element types differ.
LogicalResult inferStorageTypes(ValueRange operands, unsigned count,
                                SmallVectorImpl<Type> &results) {
  auto first = dyn_cast<RankedTensorType>(operands.front().getType());
  if (!first)
    return failure();
  Type type = first;
  if (!llvm::all_equal(operands.getTypes()))
    type = first.clone(Float32Type::get(first.getContext()));
  results.append(count, type);
  return success();
}
} // namespace

// The ops holding float32 computations in bfloat16 (MP_BFloat16Storage)
// and the number of their results.
#define MP_BFLOAT16_STORAGE_OP(OP, RESULTS)                                    \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location>,   \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &results) {         \
    return inferStorageTypes(adaptor.getOperands(), RESULTS, results);         \
  }                                                                            \
  bool OP::isCompatibleReturnTypes(TypeRange inferred, TypeRange actual) {     \
    return areStorageCompatible(inferred, actual);                             \
  }
MP_BFLOAT16_STORAGE_OP(AddOp, 1)
MP_BFLOAT16_STORAGE_OP(SubOp, 1)
MP_BFLOAT16_STORAGE_OP(MulOp, 1)
MP_BFLOAT16_STORAGE_OP(DivOp, 1)
MP_BFLOAT16_STORAGE_OP(NegOp, 1)
MP_BFLOAT16_STORAGE_OP(ExpOp, 1)
MP_BFLOAT16_STORAGE_OP(ReluOp, 1)
MP_BFLOAT16_STORAGE_OP(LogOp, 1)
MP_BFLOAT16_STORAGE_OP(SigmoidOp, 1)
MP_BFLOAT16_STORAGE_OP(TanhOp, 1)
MP_BFLOAT16_STORAGE_OP(RsqrtOp, 1)
MP_BFLOAT16_STORAGE_OP(SiluOp, 1)
MP_BFLOAT16_STORAGE_OP(GeluOp, 1)
MP_BFLOAT16_STORAGE_OP(ScaleOp, 1)
MP_BFLOAT16_STORAGE_OP(StepOp, 1)
MP_BFLOAT16_STORAGE_OP(ClampOp, 1)
MP_BFLOAT16_STORAGE_OP(ClampMaskOp, 1)
MP_BFLOAT16_STORAGE_OP(SwigluOp, 1)
MP_BFLOAT16_STORAGE_OP(SiluGradOp, 1)
MP_BFLOAT16_STORAGE_OP(GeluGradOp, 1)
MP_BFLOAT16_STORAGE_OP(SwigluGradOp, 2)
MP_BFLOAT16_STORAGE_OP(RopeOp, 1)
#undef MP_BFLOAT16_STORAGE_OP

namespace {
/// Operand types reach type inference before operand constraints are
/// verified (builders infer too), so every cast here is checked.
RankedTensorType getTensorType(Value value) {
  return dyn_cast<RankedTensorType>(value.getType());
}

void printShape(InFlightDiagnostic &diag, ArrayRef<int64_t> shape) {
  diag << '[';
  llvm::interleaveComma(shape, diag);
  diag << ']';
}

/// A rank-0 tensor of `elementType`, what losses and full reductions return.
RankedTensorType getScalarType(Type elementType) {
  return RankedTensorType::get({}, elementType);
}

/// The element type of a GEMM's result: its operands' where they agree; a
/// bf16 GEMM may read bfloat16 operands beside float32 ones (FSDP's
/// gathered bf16 parameters, mp-narrow-collectives) and sums into float32.
FailureOr<Type> getGemmElementType(std::optional<Location> location,
                                   StringRef op, Type a, Type b,
                                   std::optional<Precision> precision) {
  auto isF32OrBF16 = [](Type type) { return type.isF32() || type.isBF16(); };
  if ((a.isBF16() || b.isBF16()) && precision == Precision::bf16 &&
      isF32OrBF16(a) && isF32OrBF16(b))
    return Type(Float32Type::get(a.getContext()));
  if (a != b) {
    (void)emitOptionalError(location, op, " element types differ: ", a, " vs ",
                            b);
    return failure();
  }
  return a;
}

/// Pushes `result`, the type of a GEMM's product, after checking that the
/// accumulator the product is added into (if any) has exactly that type,
/// float32 (what the runtime's GEMMs sum into).
LogicalResult pushGemmResult(std::optional<Location> location, StringRef op,
                             RankedTensorType result, Value accumulator,
                             SmallVectorImpl<Type> &results) {
  if (accumulator &&
      (accumulator.getType() != result || !result.getElementType().isF32()))
    return emitOptionalError(location, op, " accumulates into ",
                             accumulator.getType(), " but its product is ",
                             result,
                             "; the accumulator must be float32 of the "
                             "product's type");
  results.push_back(result);
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// AnnotateOp
//===----------------------------------------------------------------------===//

LogicalResult AnnotateOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyValueSharding(*this, getSharding(), getInput().getType(),
                             symbolTable);
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  RankedTensorType input = getTensorType(adaptor.getInput());
  RankedTensorType weight = getTensorType(adaptor.getWeight());
  if (!input || !weight)
    return emitOptionalError(location, "mp.linear takes ranked tensors");
  if (input.getRank() < 1)
    return emitOptionalError(
        location, "mp.linear input needs at least one dim [..., in]");
  if (weight.getRank() != 2)
    return emitOptionalError(location,
                             "mp.linear weight must be [out, in], "
                             "got rank ",
                             weight.getRank());
  int64_t in = input.getShape().back();
  if (weight.getDimSize(1) != in)
    return emitOptionalError(location, "mp.linear input has ", in,
                             " features but the [out, in] weight expects ",
                             weight.getDimSize(1));
  FailureOr<Type> elementType = getGemmElementType(
      location, "mp.linear input and weight", input.getElementType(),
      weight.getElementType(), adaptor.getPrecision());
  if (failed(elementType))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(0);
  return pushGemmResult(location, "mp.linear",
                        RankedTensorType::get(shape, *elementType),
                        adaptor.getAccumulator(), results);
}

namespace {
/// A GEMM's result may be held in bfloat16 where its product is a bf16
/// GEMM's added into nothing (MP_GemmBFloat16Result): the inferred float32
/// result, rounded (isGemmResultCompatible; verifyGemmResult checks the
/// rest). A GEMM of two bfloat16 operands in another precision returns
/// bfloat16 as inferred.
bool isGemmResultCompatible(TypeRange inferred, TypeRange actual) {
  if (inferred == actual)
    return true;
  auto product = dyn_cast<RankedTensorType>(inferred.front());
  auto result = dyn_cast<RankedTensorType>(actual.front());
  return inferred.size() == 1 && actual.size() == 1 && product && result &&
         product.getElementType().isF32() && result.getElementType().isBF16() &&
         product.getShape() == result.getShape();
}

LogicalResult verifyGemmResult(Operation *op, Value lhs, Value rhs,
                               Value result, Value accumulator,
                               std::optional<Precision> precision) {
  auto isBF16 = [](Value value) {
    return getElementTypeOrSelf(value).isBF16();
  };
  if (!isBF16(result) ||
      (isBF16(lhs) && isBF16(rhs) && precision != Precision::bf16))
    return success();
  if (precision != Precision::bf16 || accumulator)
    return op->emitOpError("returns bfloat16 only as a bf16 GEMM that "
                           "accumulates into nothing");
  return success();
}
} // namespace

bool LinearOp::isCompatibleReturnTypes(TypeRange inferred, TypeRange actual) {
  return isGemmResultCompatible(inferred, actual);
}

LogicalResult LinearOp::verify() {
  return verifyGemmResult(*this, getInput(), getWeight(), getResult(),
                          getAccumulator(), getPrecision());
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

bool MatmulOp::isCompatibleReturnTypes(TypeRange inferred, TypeRange actual) {
  return isGemmResultCompatible(inferred, actual);
}

LogicalResult MatmulOp::verify() {
  return verifyGemmResult(*this, getLhs(), getRhs(), getResult(),
                          getAccumulator(), getPrecision());
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  RankedTensorType lhs = getTensorType(adaptor.getLhs());
  RankedTensorType rhs = getTensorType(adaptor.getRhs());
  if (!lhs || !rhs)
    return emitOptionalError(location, "mp.matmul takes ranked tensors");
  if (lhs.getRank() < 2 || rhs.getRank() < 2)
    return emitOptionalError(location,
                             "mp.matmul operands need rank 2 or more, got ",
                             lhs.getRank(), " and ", rhs.getRank());
  FailureOr<Type> elementType =
      getGemmElementType(location, "mp.matmul", lhs.getElementType(),
                         rhs.getElementType(), adaptor.getPrecision());
  if (failed(elementType))
    return failure();
  ArrayRef<int64_t> lhsShape = lhs.getShape(), rhsShape = rhs.getShape();
  int64_t k = lhsShape.back();
  if (rhsShape[rhsShape.size() - 2] != k)
    return emitOptionalError(location, "mp.matmul contracts lhs dim of size ",
                             k, " with rhs dim of size ",
                             rhsShape[rhsShape.size() - 2]);
  ArrayRef<int64_t> lhsBatch = lhsShape.drop_back(2);
  ArrayRef<int64_t> rhsBatch = rhsShape.drop_back(2);
  if (!rhsBatch.empty() && rhsBatch != lhsBatch)
    return emitOptionalError(location,
                             "mp.matmul batch dims differ; rhs must have the "
                             "lhs's batch dims or none");
  // The runtime multiplies by a float32 alpha.
  if (std::optional<APFloat> scale = adaptor.getScale();
      scale &&
      !llvm::APFloat(float(scale->convertToDouble())).isFiniteNonZero())
    return emitOptionalError(location, "mp.matmul scale ",
                             scale->convertToDouble(),
                             " is not a finite, nonzero float32");
  SmallVector<int64_t> shape(lhsBatch);
  shape.push_back(lhsShape[lhsShape.size() - 2]);
  shape.push_back(rhsShape.back());
  return pushGemmResult(location, "mp.matmul",
                        RankedTensorType::get(shape, *elementType),
                        adaptor.getAccumulator(), results);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

namespace {
/// The result type of reducing `input` over `dims` (all when absent), or
/// failure with a diagnostic at `location`.
LogicalResult inferReductionType(std::optional<Location> location,
                                 StringRef opName, Value input,
                                 std::optional<ArrayRef<int64_t>> dims,
                                 SmallVectorImpl<Type> &results) {
  RankedTensorType type = getTensorType(input);
  if (!type)
    return emitOptionalError(location, opName, " takes a ranked tensor");
  if (!dims) {
    results.push_back(getScalarType(type.getElementType()));
    return success();
  }
  llvm::SmallSet<int64_t, 4> reduced;
  for (int64_t dim : *dims) {
    if (dim < 0 || dim >= type.getRank())
      return emitOptionalError(location, opName, " dim ", dim,
                               " is out of range for rank ", type.getRank());
    if (!reduced.insert(dim).second)
      return emitOptionalError(location, opName, " dim ", dim, " is repeated");
  }
  SmallVector<int64_t> shape;
  for (auto [dim, extent] : llvm::enumerate(type.getShape()))
    if (!reduced.contains(dim))
      shape.push_back(extent);
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

SmallVector<int64_t> getReducedDimsOf(Value input,
                                      std::optional<ArrayRef<int64_t>> dims) {
  if (!dims)
    return llvm::to_vector(llvm::seq<int64_t>(
        0, cast<RankedTensorType>(input.getType()).getRank()));
  SmallVector<int64_t> sorted(*dims);
  llvm::sort(sorted);
  return sorted;
}
} // namespace

LogicalResult SumOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> location,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferReductionType(location, "mp.sum", adaptor.getInput(),
                            adaptor.getDims(), results);
}

SmallVector<int64_t> SumOp::getReducedDims() {
  return getReducedDimsOf(getInput(), getDims());
}

LogicalResult MeanOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  return inferReductionType(location, "mp.mean", adaptor.getInput(),
                            adaptor.getDims(), results);
}

SmallVector<int64_t> MeanOp::getReducedDims() {
  return getReducedDimsOf(getInput(), getDims());
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (input.getElementType() != result.getElementType())
    return emitOpError() << "cannot change the element type from "
                         << input.getElementType() << " to "
                         << result.getElementType();
  if (input.getNumElements() != result.getNumElements()) {
    InFlightDiagnostic diag = emitOpError() << "cannot reshape ";
    printShape(diag, input.getShape());
    diag << " (" << input.getNumElements() << " elements) to ";
    printShape(diag, result.getShape());
    return diag << " (" << result.getNumElements() << " elements)";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType type = getTensorType(adaptor.getInput());
  if (!type)
    return emitOptionalError(location, "mp.transpose takes a ranked tensor");
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  if (static_cast<int64_t>(perm.size()) != type.getRank())
    return emitOptionalError(location, "mp.transpose permutation has ",
                             perm.size(), " entries for rank ", type.getRank());
  llvm::SmallSet<int64_t, 4> seen;
  SmallVector<int64_t> shape;
  for (int64_t dim : perm) {
    if (dim < 0 || dim >= type.getRank() || !seen.insert(dim).second)
      return emitOptionalError(location,
                               "mp.transpose permutation is not a "
                               "permutation of 0..",
                               type.getRank() - 1);
    shape.push_back(type.getDimSize(dim));
  }
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

bool TransposeOp::isCompatibleReturnTypes(TypeRange inferred,
                                          TypeRange actual) {
  return areStorageCompatible(inferred, actual);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

LogicalResult MseLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  RankedTensorType input = getTensorType(adaptor.getInput());
  RankedTensorType target = getTensorType(adaptor.getTarget());
  if (!input || !target)
    return emitOptionalError(location, "mp.mse_loss takes ranked tensors");
  if (input != target)
    return emitOptionalError(location, "mp.mse_loss input ", input,
                             " and target ", target, " must have one type");
  results.push_back(getScalarType(input.getElementType()));
  return success();
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> location,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  RankedTensorType input = getTensorType(adaptor.getInput());
  RankedTensorType target = getTensorType(adaptor.getTarget());
  if (!input || !target)
    return emitOptionalError(location, "mp.cross_entropy takes ranked tensors");
  if (input.getRank() < 1)
    return emitOptionalError(location,
                             "mp.cross_entropy input needs a class dim");
  if (target.getShape() != input.getShape().drop_back())
    return emitOptionalError(
        location, "mp.cross_entropy target ", target,
        " must have the input's shape without its class dim, as ", input,
        " has");
  results.push_back(getScalarType(input.getElementType()));
  return success();
}

LogicalResult CrossEntropyOp::verify() {
  if (getIgnoreIndex() && getReduction() == Reduction::mean)
    return emitOpError() << "with ignore_index takes reduction sum: the mean "
                            "over the samples kept is that sum divided by "
                            "the sum of mp.target_mask";
  return success();
}

LogicalResult TargetMaskOp::verify() {
  if (getTarget().getType().getShape() != getResult().getType().getShape())
    return emitOpError() << "result " << getResult().getType()
                         << " must have the target's shape "
                         << getTarget().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Transformer layers
//===----------------------------------------------------------------------===//

LogicalResult IotaOp::verify() {
  auto type = cast<RankedTensorType>(getResult().getType());
  int64_t dim = getDimAttr().getInt();
  if (dim < 0 || dim >= type.getRank())
    return emitOpError() << "dim " << dim << " is not a dim of " << type;
  int64_t start = getStart();
  // Negative ids mean "another rank's row" to mp.embedding.
  if (start < 0)
    return emitOpError() << "start " << start << " is negative";
  int64_t extent = type.getDimSize(dim);
  int64_t maxId = type.getElementType().isInteger(32)
                      ? std::numeric_limits<int32_t>::max()
                      : std::numeric_limits<int64_t>::max();
  if (extent > 0 && start > maxId - (extent - 1))
    return emitOpError() << "start " << start << " plus " << extent - 1
                         << " overflows " << type.getElementType();
  return success();
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType ids = getTensorType(adaptor.getIds());
  RankedTensorType table = getTensorType(adaptor.getTable());
  if (!ids || !table)
    return emitOptionalError(location, "mp.embedding takes ranked tensors");
  if (table.getRank() != 2)
    return emitOptionalError(location, "mp.embedding table ", table,
                             " must be [vocab, dim]");
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  results.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

LogicalResult EmbeddingOp::verify() {
  std::optional<int64_t> paddingIdx = getPaddingIdx();
  auto table = cast<RankedTensorType>(getTable().getType());
  if (!paddingIdx || table.getRank() != 2) // inferReturnTypes names the rank
    return success();
  int64_t vocab = table.getDimSize(0);
  if (*paddingIdx < 0 || *paddingIdx >= vocab)
    return emitOpError() << "padding_idx " << *paddingIdx
                         << " is not a row of the table: it must be in [0, "
                         << vocab << ")";
  return success();
}

/// True if elements of type `held` are those of a float32 computation in
/// `computed`: the same type, or bfloat16 where it is float32 (a norm's
/// input beside its float32 parameters and gradients, mp-fuse-conversions).
static bool holdsElementsOf(Type held, Type computed) {
  return held == computed || (held.isBF16() && computed.isF32());
}

/// Checks a norm's parameters against its input: `[dim]` of its element
/// type, or float32 where the input is held in bfloat16.
static LogicalResult verifyNormWeight(Operation *op, Value input, Value weight,
                                      double eps, Value bias = {}) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getRank() < 1)
    return op->emitOpError() << "input needs a dim to normalize";
  auto paramType =
      RankedTensorType::get({type.getShape().back()}, type.getElementType());
  auto isParam = [&](Type param) {
    Type element = getElementTypeOrSelf(param);
    return param == paramType ||
           (param == paramType.clone(element) &&
            holdsElementsOf(type.getElementType(), element));
  };
  std::pair<StringRef, Value> params[] = {{"weight", weight}, {"bias", bias}};
  for (auto [name, param] : params)
    if (param && !isParam(param.getType()))
      return op->emitOpError() << name << " " << param.getType() << " must be ["
                               << type.getShape().back() << "] of the input's "
                               << "element type (or f32 where it is bf16)";
  if (!(eps >= 0))
    return op->emitOpError() << "eps must be non-negative, got " << eps;
  return success();
}

/// An RMSNorm's weight offset (Gemma's 1) is a finite number.
static LogicalResult verifyWeightOffset(Operation *op, const APFloat &offset) {
  if (!offset.isFinite())
    return op->emitOpError()
           << "weight_offset must be finite, got " << offset.convertToDouble();
  return success();
}

bool mp::isGemmFactor(OpOperand &use) {
  return isa<LinearOp, MatmulOp>(use.getOwner()) && use.getOperandNumber() < 2;
}

Value mp::getGemmAccumulator(Operation &op) {
  if (auto linear = dyn_cast<LinearOp>(op))
    return linear.getAccumulator();
  if (auto matmul = dyn_cast<MatmulOp>(op))
    return matmul.getAccumulator();
  return Value();
}

std::optional<Precision> mp::getGemmPrecision(Operation &op) {
  if (auto linear = dyn_cast<LinearOp>(op))
    return linear.getEffectivePrecision();
  if (auto matmul = dyn_cast<MatmulOp>(op))
    return matmul.getEffectivePrecision();
  return std::nullopt;
}

NormOperands mp::getNormOperands(Operation *op) {
  if (auto norm = dyn_cast<RmsNormOp>(op))
    return {&norm.getInputMutable(), norm.getWeight(), Value()};
  if (auto norm = dyn_cast<LayerNormOp>(op))
    return {&norm.getInputMutable(), norm.getWeight(), norm.getBias()};
  return {};
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  RankedTensorType input = getTensorType(adaptor.getInput());
  if (!input)
    return emitOptionalError(location, "mp.rms_norm takes ranked tensors");
  results.push_back(input);
  return success();
}

LogicalResult RsqrtOp::verify() {
  double eps = getEps().convertToDouble();
  if (!(eps >= 0) || !std::isfinite(eps))
    return emitOpError() << "eps must be finite and non-negative, got " << eps;
  return success();
}

/// A clamp's bounds: numbers (infinities allowed), min no more than max.
static LogicalResult verifyClampBounds(Operation *op, APFloat min,
                                       APFloat max) {
  double lower = min.convertToDouble(), upper = max.convertToDouble();
  if (std::isnan(lower) || std::isnan(upper) || lower > upper)
    return op->emitOpError()
           << "needs min <= max, got [" << lower << ", " << upper << "]";
  return success();
}

LogicalResult ClampOp::verify() {
  return verifyClampBounds(*this, getMin(), getMax());
}

LogicalResult ClampMaskOp::verify() {
  return verifyClampBounds(*this, getMin(), getMax());
}

LogicalResult RmsNormOp::verify() {
  if (failed(verifyWeightOffset(*this, getWeightOffset())))
    return failure();
  return verifyNormWeight(*this, getInput(), getWeight(),
                          getEps().convertToDouble());
}

bool RmsNormOp::isCompatibleReturnTypes(TypeRange inferred, TypeRange actual) {
  return areStorageCompatible(inferred, actual);
}

bool LayerNormOp::isCompatibleReturnTypes(TypeRange inferred,
                                          TypeRange actual) {
  return areStorageCompatible(inferred, actual);
}

/// A norm's input gradient holds its input and gradient in the result's
/// element type, or in bfloat16 where that is float32.
static LogicalResult verifyNormGradStorage(Operation *op, Value input,
                                           Value grad, Value result) {
  Type computed = getElementTypeOrSelf(result);
  for (auto [name, value] :
       {std::pair{"input", input}, std::pair{"grad", grad}})
    if (Type held = getElementTypeOrSelf(value);
        !holdsElementsOf(held, computed))
      return op->emitOpError()
             << name << " of " << held << " must be of the result's "
             << computed << " (or bf16 where it is f32)";
  return success();
}

LogicalResult RmsNormGradOp::verify() {
  if (failed(
          verifyNormGradStorage(*this, getInput(), getGrad(), getResult())) ||
      failed(verifyWeightOffset(*this, getWeightOffset())))
    return failure();
  return verifyNormWeight(*this, getInput(), getWeight(),
                          getEps().convertToDouble());
}

LogicalResult LayerNormGradOp::verify() {
  if (failed(verifyNormGradStorage(*this, getInput(), getGrad(), getResult())))
    return failure();
  return verifyNormWeight(*this, getInput(), getWeight(),
                          getEps().convertToDouble());
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType input = getTensorType(adaptor.getInput());
  if (!input)
    return emitOptionalError(location, "mp.layer_norm takes ranked tensors");
  results.push_back(input);
  return success();
}

LogicalResult LayerNormOp::verify() {
  return verifyNormWeight(*this, getInput(), getWeight(),
                          getEps().convertToDouble(), getBias());
}

/// A sliding window (mp.softmax, mp.attention, mp.attention_grad) is
/// positive and masks a causal softmax.
static LogicalResult verifyWindow(Operation *op, bool causal,
                                  std::optional<int64_t> window) {
  if (!window)
    return success();
  if (!causal)
    return op->emitOpError() << "a window needs causal";
  if (*window < 1)
    return op->emitOpError() << "window must be positive, got " << *window;
  return success();
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (rank < (getCausal() ? 2 : 1))
    return emitOpError() << (getCausal() ? "causal softmax needs [..., q, k]"
                                         : "softmax needs a dim")
                         << ", got rank " << rank;
  return verifyWindow(*this, getCausal(), getWindow());
}

//===----------------------------------------------------------------------===//
// AttentionOp, AttentionGradOp
//===----------------------------------------------------------------------===//

namespace {
/// Checks attention's operands and attributes (as `op` names them) and
/// returns the result type, `[..., sq, dv]`: of their element type, or
/// float32 where float32 and bfloat16 ones mix (verifyAttentionStorage
/// checks the precision).
FailureOr<RankedTensorType>
inferAttentionType(std::optional<Location> location, StringRef op,
                   Value queryValue, Value keyValue, Value valueValue,
                   double scale, std::optional<uint64_t> chunkBytes) {
  RankedTensorType query = getTensorType(queryValue);
  RankedTensorType key = getTensorType(keyValue);
  RankedTensorType value = getTensorType(valueValue);
  if (!query || !key || !value)
    return emitOptionalError(location, op, " takes ranked tensors");
  if (query.getRank() < 2 || key.getRank() != query.getRank() ||
      value.getRank() != query.getRank())
    return emitOptionalError(location, op,
                             " takes query, key and value of one rank, 2 or "
                             "more ([..., seq, dim])");
  Type elements[] = {query.getElementType(), key.getElementType(),
                     value.getElementType()};
  bool mixed = !llvm::all_equal(elements);
  if (mixed && !llvm::all_of(elements, [](Type type) {
        return type.isF32() || type.isBF16();
      }))
    return emitOptionalError(location, op, " element types differ");
  ArrayRef<int64_t> q = query.getShape(), k = key.getShape(),
                    v = value.getShape();
  int64_t rank = query.getRank();
  // Grouped-query attention: the dim before the sequence (heads) of the
  // keys and values may divide the query's.
  auto headsDiffer = [&](ArrayRef<int64_t> kv) {
    return rank >= 3 && kv[rank - 3] != q[rank - 3];
  };
  if (k.drop_back(2) != v.drop_back(2) ||
      q.drop_back(headsDiffer(k) ? 3 : 2) !=
          k.drop_back(headsDiffer(k) ? 3 : 2))
    return emitOptionalError(location, op,
                             " query, key and value have different leading "
                             "dims");
  if (headsDiffer(k) && q[rank - 3] % k[rank - 3] != 0)
    return emitOptionalError(location, op, " key and value heads ", k[rank - 3],
                             " do not divide the query's ", q[rank - 3]);
  if (k[rank - 1] != q[rank - 1])
    return emitOptionalError(location, op, " key dim ", k[rank - 1],
                             " differs from the query's ", q[rank - 1]);
  if (v[rank - 2] != k[rank - 2])
    return emitOptionalError(location, op, " has ", k[rank - 2], " keys but ",
                             v[rank - 2], " values");
  // The runtime multiplies the scores by a float32 alpha.
  if (!llvm::APFloat(float(scale)).isFiniteNonZero())
    return emitOptionalError(location, op, " scale ", scale,
                             " is not a finite, nonzero float32");
  if (chunkBytes && (*chunkBytes == 0 || *chunkBytes > uint64_t(INT64_MAX)))
    return emitOptionalError(location, op, " chunk_bytes must be positive");
  SmallVector<int64_t> shape(q.drop_back());
  shape.push_back(v.back());
  auto result =
      RankedTensorType::get(shape, mixed ? Float32Type::get(query.getContext())
                                         : query.getElementType());
  // Two rows of scores (the gradient's least scratch) must fit int64 bytes,
  // as any tensor: then so does every chunk (at most chunk_bytes or a row).
  SmallVector<int64_t> scores(q.drop_back(2));
  scores.append({2, k[rank - 2]});
  if (!getTensorBytes(RankedTensorType::get(scores, query.getElementType())))
    return emitOptionalError(location, op,
                             " scores of a query row need more bytes than "
                             "int64 counts");
  return result;
}

/// The rows' log-sum-exp of an attention result `[..., sq, dv]`:
/// `[..., sq]`, float32.
RankedTensorType getLogSumExpType(RankedTensorType result) {
  return RankedTensorType::get(result.getShape().drop_back(),
                               Float32Type::get(result.getContext()));
}

/// Saturating product, for costs.
int64_t saturatingProduct(std::initializer_list<int64_t> factors) {
  uint64_t product = 1;
  for (int64_t factor : factors)
    product = llvm::SaturatingMultiply(product, uint64_t(factor));
  return int64_t(std::min<uint64_t>(product, INT64_MAX));
}
} // namespace

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  FailureOr<RankedTensorType> result = inferAttentionType(
      location, "mp.attention", adaptor.getQuery(), adaptor.getKey(),
      adaptor.getValue(), adaptor.getScale().convertToDouble(),
      adaptor.getChunkBytes());
  if (failed(result))
    return failure();
  results.append({*result, getLogSumExpType(*result)});
  return success();
}

LogicalResult AttentionGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  FailureOr<RankedTensorType> result = inferAttentionType(
      location, "mp.attention_grad", adaptor.getQuery(), adaptor.getKey(),
      adaptor.getValue(), adaptor.getScale().convertToDouble(),
      adaptor.getChunkBytes());
  if (failed(result))
    return failure();
  // The output and its gradient may hold in bfloat16 or float32 what the
  // attention computes in float32 (verifyAttentionStorage checks the rest).
  for (auto [name, operand, type] :
       {std::tuple(StringRef("output"), adaptor.getOutput(), *result),
        std::tuple(StringRef("lse"), adaptor.getLse(),
                   getLogSumExpType(*result)),
        std::tuple(StringRef("grad"), adaptor.getGrad(), *result)})
    if (operand.getType() != type &&
        (name == "lse" ||
         !areStorageCompatible(ArrayRef<Type>(type),
                               ArrayRef<Type>(operand.getType()))))
      return emitOptionalError(location, "mp.attention_grad ", name, " ",
                               operand.getType(),
                               " does not match the attention's ", type);
  // The gradients of q, k and v: of their types, float32 where bfloat16 and
  // float32 mix.
  Value storage[] = {adaptor.getQuery(), adaptor.getKey(), adaptor.getValue(),
                     adaptor.getOutput(), adaptor.getGrad()};
  bool mixed = !llvm::all_equal(llvm::map_range(
      storage, [](Value value) { return getElementTypeOrSelf(value); }));
  for (Value input : ArrayRef(storage).take_front(3)) {
    auto type = cast<RankedTensorType>(input.getType());
    results.push_back(mixed ? type.clone(Float32Type::get(type.getContext()))
                            : type);
  }
  return success();
}

namespace {
/// Attention holding bfloat16 beside float32 computes in bf16 precision,
/// where its GEMMs round q, k, v to bfloat16 anyway; its gradient takes
/// grad in float32.
LogicalResult verifyAttentionStorage(Operation *op) {
  // Other element types that differ are the type inference's error.
  if (!mixesAttentionStorage(op) ||
      !llvm::all_of(getAttentionStorage(op), [](Value value) {
        Type element = getElementTypeOrSelf(value);
        return element.isF32() || element.isBF16();
      }))
    return success();
  if (!isBFloat16Attention(op))
    return op->emitOpError("holds bfloat16 beside float32 tensors only in "
                           "bf16 precision");
  if (auto gradient = dyn_cast<AttentionGradOp>(op);
      gradient && !getElementTypeOrSelf(gradient.getGrad()).isF32())
    return op->emitOpError("takes a float32 grad where it mixes bfloat16 "
                           "and float32 tensors");
  return success();
}
} // namespace

bool AttentionOp::isCompatibleReturnTypes(TypeRange inferred,
                                          TypeRange actual) {
  return inferred.size() == 2 && actual.size() == 2 &&
         inferred[1] == actual[1] &&
         areStorageCompatible(inferred.take_front(), actual.take_front());
}

namespace {
/// The mask's rules, a soft cap as the runtime takes it (a positive, finite
/// float32), ALiBi's slopes (one per query head, without a soft cap: the
/// cap's gradient reads the capped scores back from the probabilities),
/// and the storage's.
template <typename OpT> LogicalResult verifyAttention(OpT op) {
  if (failed(verifyWindow(op, op.getCausal(), op.getWindow())))
    return failure();
  if (std::optional<APFloat> softcap = op.getSoftcap()) {
    double cap = softcap->convertToDouble();
    if (!(cap > 0) || !APFloat(float(cap)).isFiniteNonZero())
      return op.emitOpError()
             << "softcap " << cap << " is not a positive, finite float32";
  }
  if (Value slopes = op.getAlibiSlopes()) {
    auto query = cast<RankedTensorType>(op.getQuery().getType());
    auto type = cast<RankedTensorType>(slopes.getType());
    if (query.getRank() < 3 || type.getRank() != 1 ||
        type.getDimSize(0) != query.getDimSize(query.getRank() - 3))
      return op.emitOpError()
             << "alibi slopes " << type << " must be one per head of the "
             << "query " << query << " (its dim before the sequence)";
    if (op.getSoftcap())
      return op.emitOpError("takes alibi slopes or a softcap, not both");
  } else if (op.getAlibiBf16()) {
    return op.emitOpError("bf16_bias is a form of alibi slopes it has none of");
  }
  return verifyAttentionStorage(op);
}
} // namespace

LogicalResult AttentionOp::verify() { return verifyAttention(*this); }

LogicalResult AttentionGradOp::verify() { return verifyAttention(*this); }

std::optional<AttentionGeometry> mp::getAttentionGeometry(Operation *op) {
  auto attention = dyn_cast<AttentionOp>(op);
  auto gradient = dyn_cast<AttentionGradOp>(op);
  if (!attention && !gradient)
    return std::nullopt;
  AttentionGeometry geometry;
  ArrayRef<int64_t> q =
      cast<RankedTensorType>(op->getOperand(0).getType()).getShape();
  ArrayRef<int64_t> k =
      cast<RankedTensorType>(op->getOperand(1).getType()).getShape();
  ArrayRef<int64_t> v =
      cast<RankedTensorType>(op->getOperand(2).getType()).getShape();
  int64_t rank = q.size();
  // The verifier bounded every tensor, so these products fit int64.
  geometry.batch = 1;
  for (int64_t extent : q.drop_back(2))
    geometry.batch *= extent;
  geometry.queries = q[rank - 2];
  geometry.keys = k[rank - 2];
  geometry.headDim = q[rank - 1];
  geometry.valueDim = v[rank - 1];
  geometry.group = rank >= 3 ? q[rank - 3] / k[rank - 3] : 1;
  geometry.causal = attention ? attention.getCausal() : gradient.getCausal();
  geometry.window =
      (attention ? attention.getWindow() : gradient.getWindow()).value_or(0);
  geometry.precision = attention ? attention.getEffectivePrecision()
                                 : gradient.getEffectivePrecision();
  geometry.alibi =
      bool(attention ? attention.getAlibiSlopes() : gradient.getAlibiSlopes());
  geometry.alibiBf16 =
      attention ? attention.getAlibiBf16() : gradient.getAlibiBf16();
  auto elementBytes = [](Value value) -> int64_t {
    return getElementTypeOrSelf(value).isBF16() ? 2 : 4;
  };
  geometry.queryBytes = elementBytes(op->getOperand(0));
  geometry.keyBytes = elementBytes(op->getOperand(1));
  geometry.valueBytes = elementBytes(op->getOperand(2));
  geometry.outputBytes =
      elementBytes(attention ? attention.getResult() : gradient.getOutput());
  geometry.chunkRows = geometry.queries;
  // Under a causal mask a chunk of c rows computes about c/2 rows of scores
  // past the diagonal in vain, and every chunk reads the keys and values
  // once more: per batch entry, passes · sq · c / 2 and (sq / c) · sk ·
  // (d + dv) floats, least at c = sqrt(2 · sk · (d + dv) / passes), where
  // passes are the op's float passes over its scores (4 forward, 10 for
  // the gradient, as getKernelBytes counts them). Multiples of 16 rows
  // keep the GEMM tiles full. (The chunks' kernel launches are left out:
  // counted as a GPU's, about 2.4M floats each, they would make a host's
  // chunks 4x longer and its step 8% slower; getKernelLaunches charges
  // them.) Under a sliding window W a chunk reads c + W - 1 keys, not sk:
  // least at c = sqrt(2 · W · (d + dv) / passes).
  if (geometry.causal) {
    double passes = gradient ? 10 : 4;
    int64_t span = geometry.window ? std::min(geometry.keys, geometry.window)
                                   : geometry.keys;
    int64_t best = int64_t(
        std::sqrt(2 * double(span) *
                  double(geometry.headDim + geometry.valueDim) / passes));
    geometry.chunkRows = std::clamp<int64_t>(
        llvm::alignTo(best, 16), 1, std::max<int64_t>(geometry.queries, 1));
  }
  // No more rows than the scratch (one score buffer, or the gradient's
  // two, of rows by mp_attention_chunk_keys: fewer than every key under a
  // window) holds within chunk_bytes, and at least one. The scores grow
  // with the rows, so the most that fit are found by bisection.
  std::optional<uint64_t> chunkBytes =
      attention ? attention.getChunkBytes() : gradient.getChunkBytes();
  if (chunkBytes) {
    auto fits = [&](int64_t rows) {
      uint64_t bytes = uint64_t(saturatingProduct(
          {gradient ? 2 : 1, geometry.batch, rows,
           mp_attention_chunk_keys(geometry.queries, geometry.keys,
                                   geometry.window, rows),
           int64_t(sizeof(float))}));
      return bytes <= *chunkBytes;
    };
    int64_t fitting = 1, tooMany = geometry.chunkRows + 1;
    while (tooMany - fitting > 1) {
      int64_t rows = fitting + (tooMany - fitting) / 2;
      (fits(rows) ? fitting : tooMany) = rows;
    }
    geometry.chunkRows = fitting;
  }
  return geometry;
}

int64_t AttentionGeometry::getVisibleKeys(int64_t first, int64_t rows) const {
  int64_t begin, end;
  mp_attention_keys_seen(queries, keys, causal, window, first, rows, &begin,
                         &end);
  return end - begin;
}

int64_t AttentionGeometry::getScoresPerBatch() const {
  uint64_t scores = 0;
  for (int64_t first = 0; first < queries; first += chunkRows) {
    int64_t rows = std::min(chunkRows, queries - first);
    scores = llvm::SaturatingAdd(
        scores,
        uint64_t(saturatingProduct({rows, getVisibleKeys(first, rows)})));
  }
  return int64_t(std::min<uint64_t>(scores, INT64_MAX));
}

int64_t AttentionGeometry::getKeyRowsPerBatch() const {
  uint64_t keyRows = 0;
  for (int64_t first = 0; first < queries; first += chunkRows)
    keyRows = llvm::SaturatingAdd(
        keyRows,
        uint64_t(getVisibleKeys(first, std::min(chunkRows, queries - first))));
  return int64_t(std::min<uint64_t>(keyRows, INT64_MAX));
}

LogicalResult RopeOp::verify() {
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  if (shape.size() < 3)
    return emitOpError() << "input must be [..., seq, heads, head_dim], got "
                            "rank "
                         << shape.size();
  if (shape.back() % 2 != 0)
    return emitOpError() << "head_dim " << shape.back()
                         << " must be even: its entries pair into rotations";
  if (!(getTheta().convertToDouble() > 0))
    return emitOpError() << "theta must be positive, got "
                         << getTheta().convertToDouble();
  // The rotation as mp_rope_f32 refuses it, its factors counted first (the
  // runtime reads rotary_dims / 2 of them).
  int64_t rotaryDims = getEffectiveRotaryDims();
  std::optional<ArrayRef<double>> longrope = getLongropeFactors();
  if (longrope && rotaryDims > 0 && rotaryDims % 2 == 0 &&
      int64_t(longrope->size()) != rotaryDims / 2)
    return emitOpError() << "longrope_factors must hold one factor per "
                            "rotated pair ("
                         << rotaryDims / 2 << "), got " << longrope->size();
  double linear = getLinearScaling().convertToDouble(),
         attentionFactor = getAttentionFactor().convertToDouble();
  if (const char *problem = mp_rope_rotation_problem(
          shape.back(), rotaryDims, linear,
          longrope ? longrope->data() : nullptr, attentionFactor))
    // The values as mp_rope_f32 prints them.
    return emitOpError() << problem
                         << llvm::formatv(" (rotary_dims {0} of head_dim {1}, "
                                          "linear_scaling {2}, "
                                          "attention_factor {3})",
                                          rotaryDims, shape.back(),
                                          llvm::format("%g", linear),
                                          llvm::format("%g", attentionFactor))
                                .str();
  std::optional<ArrayRef<double>> scaling = getLlama3Scaling();
  if (!scaling)
    return success();
  if (scaling->size() != 4)
    return emitOpError() << "llama3_scaling must hold 4 values [factor, "
                            "low_freq_factor, high_freq_factor, "
                            "original_context], got "
                         << scaling->size();
  // The runtime's rules (mp_rope_f32 refuses what they refuse).
  mp_rope_scaling values = {(*scaling)[0], (*scaling)[1], (*scaling)[2],
                            (*scaling)[3]};
  if (const char *problem = mp_rope_scaling_problem(&values))
    return emitOpError() << "llama3_scaling: " << problem;
  return success();
}

LogicalResult MaskBiasOp::verify() {
  if (getMask().getType().getShape() != getResult().getType().getShape())
    return emitOpError() << "result " << getResult().getType()
                         << " must have the mask's shape "
                         << getMask().getType();
  return success();
}

LogicalResult AlibiSlopesOp::verify() {
  auto type = cast<RankedTensorType>(getResult().getType());
  if (type.getRank() != 1)
    return emitOpError() << "result " << type << " must be one slope per head";
  double maxBias = getMaxBias().convertToDouble();
  if (!(maxBias > 0) || !std::isfinite(maxBias))
    return emitOpError() << "max_bias must be positive and finite, got "
                         << maxBias;
  return success();
}

LogicalResult AlibiOp::verify() {
  auto scores = cast<RankedTensorType>(getScores().getType());
  auto slopes = cast<RankedTensorType>(getSlopes().getType());
  if (scores.getRank() < 3)
    return emitOpError() << "scores " << scores
                         << " must be [..., heads, queries, keys]";
  int64_t heads = scores.getDimSize(scores.getRank() - 3);
  if (slopes.getRank() != 1 || slopes.getDimSize(0) != heads)
    return emitOpError() << "slopes " << slopes << " must be one per head of "
                         << scores << " (" << heads << ")";
  return success();
}

LogicalResult BlockMaxOp::verify() {
  auto input = getInput().getType(), result = getResult().getType();
  if (input.getRank() < 1 || input.getRank() != result.getRank() ||
      input.getShape().drop_back() != result.getShape().drop_back() ||
      input.getElementType() != result.getElementType())
    return emitOpError() << "result " << result << " must be the input "
                         << input << " with another last dim";
  int64_t blocks = result.getShape().back(), extent = input.getShape().back();
  if (blocks < 1 || extent % blocks != 0)
    return emitOpError() << "the last dim (" << extent << ") does not cut into "
                         << blocks << " equal blocks";
  return success();
}

LogicalResult GatherLastOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> location,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &results) {
  RankedTensorType input = getTensorType(adaptor.getInput());
  RankedTensorType index = getTensorType(adaptor.getIndex());
  if (!input || !index)
    return emitOptionalError(location, "mp.gather_last takes ranked tensors");
  if (input.getRank() < 1 || index.getShape() != input.getShape().drop_back())
    return emitOptionalError(location, "mp.gather_last index ", index,
                             " must have the input's shape without its last "
                             "dim, as ",
                             input, " has");
  results.push_back(
      RankedTensorType::get(index.getShape(), input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Training ops
//===----------------------------------------------------------------------===//

LogicalResult BroadcastOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (input.getElementType() != result.getElementType())
    return emitOpError() << "cannot change the element type";
  SmallVector<int64_t> kept;
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t dim : getDims())
    if (dim < 0 || dim >= result.getRank() || !seen.insert(dim).second)
      return emitOpError() << "dims must be distinct dims of the result, got "
                           << dim;
  for (auto [dim, extent] : llvm::enumerate(result.getShape()))
    if (!seen.contains(dim))
      kept.push_back(extent);
  if (ArrayRef<int64_t>(kept) != input.getShape())
    return emitOpError() << "input " << input
                         << " must be the result without the broadcast dims";
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto target = cast<RankedTensorType>(getTarget().getType());
  auto grad = cast<RankedTensorType>(getGrad().getType());
  if (input.getRank() < 1 || target.getShape() != input.getShape().drop_back())
    return emitOpError() << "target " << target
                         << " must have the input's shape without its class "
                            "dim";
  if (grad.getRank() != 0 || grad.getElementType() != input.getElementType())
    return emitOpError() << "grad must be a rank-0 tensor of the input's "
                            "element type";
  if (getResult().getType() != input)
    return emitOpError() << "result must have the input's type";
  return success();
}

LogicalResult EmbeddingGradOp::verify() {
  auto ids = cast<RankedTensorType>(getIds().getType());
  auto grad = cast<RankedTensorType>(getGrad().getType());
  auto table = cast<RankedTensorType>(getTable().getType());
  if (grad.getRank() != ids.getRank() + 1 ||
      grad.getShape().drop_back() != ids.getShape())
    return emitOpError() << "grad " << grad
                         << " must be the ids' shape plus a last dim";
  if (table.getRank() != 2 || table.getDimSize(1) != grad.getShape().back() ||
      table.getElementType() != grad.getElementType())
    return emitOpError() << "table " << table << " must be [vocab, "
                         << grad.getShape().back() << "] of grad's type";
  return success();
}

/// A norm's `count` parameter gradients' types: `[dim]` of the element
/// type of its input and grad, of one ranked shape. Either or both may be
/// held in bf16 beside f32, a float32 computation: the result is then f32.
static LogicalResult inferNormParamGradTypes(std::optional<Location> location,
                                             StringRef opName, Value inputValue,
                                             Value gradValue, unsigned count,
                                             SmallVectorImpl<Type> &results) {
  RankedTensorType input = getTensorType(inputValue);
  RankedTensorType grad = getTensorType(gradValue);
  if (!input || !grad || input.getRank() < 1 ||
      input.getShape() != grad.getShape())
    return emitOptionalError(location, opName,
                             " takes an input and grad of one ranked shape");
  Type inputType = input.getElementType(), gradType = grad.getElementType();
  Type resultType = inputType.isBF16() || gradType.isBF16()
                        ? Float32Type::get(input.getContext())
                        : inputType;
  if (!holdsElementsOf(inputType, resultType) ||
      !holdsElementsOf(gradType, resultType))
    return emitOptionalError(location, opName,
                             " takes an input and grad of one element type "
                             "(or bf16 beside f32)");
  results.append(count,
                 RankedTensorType::get({input.getShape().back()}, resultType));
  return success();
}

LogicalResult RmsNormWeightGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  return inferNormParamGradTypes(location, getOperationName(),
                                 adaptor.getInput(), adaptor.getGrad(), 1,
                                 results);
}

LogicalResult LayerNormWeightGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  return inferNormParamGradTypes(location, getOperationName(),
                                 adaptor.getInput(), adaptor.getGrad(), 2,
                                 results);
}

LogicalResult ScatterLastOp::verify() {
  auto index = cast<RankedTensorType>(getIndex().getType());
  auto grad = cast<RankedTensorType>(getGrad().getType());
  auto like = cast<RankedTensorType>(getLike().getType());
  if (like.getRank() < 1 || index.getShape() != like.getShape().drop_back() ||
      grad.getShape() != index.getShape() ||
      grad.getElementType() != like.getElementType())
    return emitOpError() << "index " << index << " and grad " << grad
                         << " must have the shape of " << like
                         << " without its last dim";
  return success();
}

// Optimizers: the new parameter replaces `param` (operand 0), each new state
// the state operand it updates.
unsigned SgdOp::getTiedOperandIndex(unsigned) { return 0; }
unsigned SgdMomentumOp::getTiedOperandIndex(unsigned resultNumber) {
  return resultNumber == 0 ? 0 : 2;
}
unsigned AdamWOp::getTiedOperandIndex(unsigned resultNumber) {
  return std::array<unsigned, 3>{0, 2, 3}[resultNumber];
}
