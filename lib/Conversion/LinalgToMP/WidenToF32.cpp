//===- WidenToF32.cpp - a bf16 or f16 export read as its f32 model --------===//
//
// A model exported in bf16 or f16 (`model.bfloat16()`, `.half()`, as
// checkpoints of large models are published) is imported as the f32 model
// it rounds: every 16-bit float type becomes f32, its literals widen
// exactly, and the conversions between them and f32 (torch-mlir's 16-bit
// GEMMs accumulate in f32 and round after) vanish. Training then keeps f32
// master parameters, as FSDP2's MixedPrecisionPolicy does; the bf16
// arithmetic is the training step's `precision=bf16`.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"

#include "LinalgToMP.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <array>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_WIDENTOF32
#include "mp/Conversion/Passes.h.inc"

namespace import {
namespace {

bool isNarrowFloat(Type type) { return type.isBF16() || type.isF16(); }

APFloat widen(APFloat value) {
  bool losesInfo;
  value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value;
}

/// A dense_resource blob of 16-bit floats as the f32 blob of the same
/// values; an elided blob stays elided. Every 16-bit pattern is widened
/// once, by APFloat, into a table the elements are looked up in (a model's
/// weights are billions of them).
DenseResourceElementsAttr widenResource(DenseResourceElementsAttr resource,
                                        ShapedType type) {
  DenseResourceElementsHandle handle = resource.getRawHandle();
  AsmResourceBlob *blob = handle.getBlob();
  ShapedType wideType = type.clone(Float32Type::get(type.getContext()));
  if (!blob)
    return DenseResourceElementsAttr::get(wideType, handle);
  const llvm::fltSemantics &semantics =
      cast<FloatType>(type.getElementType()).getFloatSemantics();
  auto table = std::make_unique<std::array<float, 1 << 16>>();
  for (uint32_t bits = 0; bits < table->size(); ++bits)
    (*table)[bits] =
        widen(APFloat(semantics, APInt(16, bits))).convertToFloat();
  ArrayRef<char> bytes = blob->getData();
  std::vector<float> values(bytes.size() / sizeof(uint16_t));
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes.data() + i * sizeof(uint16_t), sizeof(bits));
    values[i] = (*table)[bits];
  }
  return DenseF32ResourceElementsAttr::get(
      wideType, handle.getKey(),
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(values)));
}

} // namespace

LogicalResult widenToF32(ModuleOp module) {
  // Only a bitcast reads a 16-bit float as anything but its number.
  WalkResult bitcasts = module.walk([](arith::BitcastOp bitcast) {
    Type from = getElementTypeOrSelf(bitcast.getIn().getType());
    Type to = getElementTypeOrSelf(bitcast.getType());
    if (!isNarrowFloat(from) && !isNarrowFloat(to))
      return WalkResult::advance();
    bitcast.emitError() << "cannot import a bitcast of "
                        << (from.isF16() || to.isF16() ? "f16" : "bf16")
                        << " values: mp imports bf16 and f16 models as the "
                           "f32 ones they round";
    return WalkResult::interrupt();
  });
  if (bitcasts.wasInterrupted())
    return failure();

  Type f32 = Float32Type::get(module.getContext());
  AttrTypeReplacer replacer;
  replacer.addReplacement([&](Type type) -> std::optional<Type> {
    if (isNarrowFloat(type))
      return f32;
    return std::nullopt;
  });
  // Literals hold 16-bit patterns: each is rebuilt from its values, exactly.
  using Replaced = std::optional<std::pair<Attribute, WalkResult>>;
  // A scalar at the largest 16-bit float is the largest f32: a clamp there
  // (TOSA's ReLU, clamped at the type's range) bounds nothing in either
  // model.
  replacer.addReplacement([&](FloatAttr scalar) -> Replaced {
    if (!isNarrowFloat(scalar.getType()))
      return std::nullopt;
    APFloat value = scalar.getValue();
    APFloat wide =
        value.isLargest()
            ? APFloat::getLargest(APFloat::IEEEsingle(), value.isNegative())
            : widen(value);
    return std::make_pair(FloatAttr::get(f32, wide), WalkResult::skip());
  });
  replacer.addReplacement([&](DenseFPElementsAttr dense) -> Replaced {
    if (!isNarrowFloat(dense.getElementType()))
      return std::nullopt;
    return std::make_pair(
        dense.mapValues(
            f32,
            [](const APFloat &value) { return widen(value).bitcastToAPInt(); }),
        WalkResult::skip());
  });
  replacer.addReplacement([&](DenseResourceElementsAttr resource) -> Replaced {
    ShapedType type = resource.getType();
    if (!isNarrowFloat(type.getElementType()))
      return std::nullopt;
    return std::make_pair(widenResource(resource, type), WalkResult::skip());
  });
  replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true,
                                        /*replaceLocs=*/false,
                                        /*replaceTypes=*/true);

  // The conversions between 16-bit floats and f32 now convert f32 to f32.
  module.walk([](Operation *op) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(op) ||
        op->getOperand(0).getType() != op->getResult(0).getType())
      return;
    op->getResult(0).replaceAllUsesWith(op->getOperand(0));
    op->erase();
  });
  return success();
}

} // namespace import

namespace {
struct WidenToF32 : impl::WidenToF32Base<WidenToF32> {
  void runOnOperation() override {
    if (failed(import::widenToF32(getOperation())))
      signalPassFailure();
  }
};
} // namespace
} // namespace mp
