//===- WidenBFloat16.cpp - a bf16 export read as its f32 master model -----===//
//
// A model exported in bf16 (`model.bfloat16()`, as checkpoints of large
// models are published) is imported as the f32 model it rounds: every bf16
// type becomes f32, its literals widen exactly, and the conversions between
// the two (torch-mlir's bf16 GEMMs accumulate in f32 and round after) vanish.
// Training then keeps f32 master parameters, as FSDP2's MixedPrecisionPolicy
// does; the bf16 arithmetic is the training step's `precision=bf16`.
//
//===----------------------------------------------------------------------===//

#include "mp/Conversion/Passes.h"

#include "LinalgToMP.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_WIDENBFLOAT16
#include "mp/Conversion/Passes.h.inc"

namespace import {
namespace {

APFloat widen(APFloat value) {
  bool losesInfo;
  value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value;
}

/// A dense_resource blob of bf16 values as the f32 blob of the same values
/// (bf16 is the upper half of an f32); an elided blob stays elided.
DenseResourceElementsAttr widenResource(DenseResourceElementsAttr resource,
                                        ShapedType type) {
  DenseResourceElementsHandle handle = resource.getRawHandle();
  AsmResourceBlob *blob = handle.getBlob();
  if (!blob)
    return DenseResourceElementsAttr::get(type, handle);
  ArrayRef<char> bytes = blob->getData();
  std::vector<float> values(bytes.size() / sizeof(uint16_t));
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes.data() + i * sizeof(uint16_t), sizeof(bits));
    uint32_t wide = uint32_t(bits) << 16;
    std::memcpy(&values[i], &wide, sizeof(wide));
  }
  return DenseF32ResourceElementsAttr::get(
      type, handle.getKey(),
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(values)));
}

} // namespace

LogicalResult widenBFloat16(ModuleOp module) {
  // Only a bitcast reads a bf16 value as anything but its number.
  WalkResult bitcasts = module.walk([](arith::BitcastOp bitcast) {
    if (!getElementTypeOrSelf(bitcast.getIn().getType()).isBF16() &&
        !getElementTypeOrSelf(bitcast.getType()).isBF16())
      return WalkResult::advance();
    bitcast.emitError() << "cannot import a bitcast of bf16 values: mp "
                           "imports a bf16 model as the f32 one it rounds";
    return WalkResult::interrupt();
  });
  if (bitcasts.wasInterrupted())
    return failure();

  Type f32 = Float32Type::get(module.getContext());
  AttrTypeReplacer replacer;
  replacer.addReplacement([&](Type type) -> std::optional<Type> {
    if (type.isBF16())
      return f32;
    return std::nullopt;
  });
  // Literals hold bf16 bits: each is rebuilt from its values, exactly.
  using Replaced = std::optional<std::pair<Attribute, WalkResult>>;
  // A scalar at the largest bf16 is the largest f32: a clamp there (TOSA's
  // ReLU, clamped at the type's range) bounds nothing in either model.
  replacer.addReplacement([&](FloatAttr scalar) -> Replaced {
    if (!scalar.getType().isBF16())
      return std::nullopt;
    APFloat value = scalar.getValue();
    APFloat wide =
        value.isLargest()
            ? APFloat::getLargest(APFloat::IEEEsingle(), value.isNegative())
            : widen(value);
    return std::make_pair(FloatAttr::get(f32, wide), WalkResult::skip());
  });
  replacer.addReplacement([&](DenseFPElementsAttr dense) -> Replaced {
    if (!dense.getElementType().isBF16())
      return std::nullopt;
    return std::make_pair(
        dense.mapValues(
            f32,
            [](const APFloat &value) { return widen(value).bitcastToAPInt(); }),
        WalkResult::skip());
  });
  replacer.addReplacement([&](DenseResourceElementsAttr resource) -> Replaced {
    ShapedType type = resource.getType();
    if (!type.getElementType().isBF16())
      return std::nullopt;
    return std::make_pair(widenResource(resource, type.clone(f32)),
                          WalkResult::skip());
  });
  replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true,
                                        /*replaceLocs=*/false,
                                        /*replaceTypes=*/true);

  // The conversions between bf16 and f32 now convert f32 to f32.
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
struct WidenBFloat16 : impl::WidenBFloat16Base<WidenBFloat16> {
  void runOnOperation() override {
    if (failed(import::widenBFloat16(getOperation())))
      signalPassFailure();
  }
};
} // namespace
} // namespace mp
