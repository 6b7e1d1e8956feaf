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
#include "SafeTensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

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
/// values (of the size its type says: checked before); an elided blob
/// stays elided.
DenseResourceElementsAttr widenResource(DenseResourceElementsAttr resource) {
  ShapedType type = resource.getType();
  DenseResourceElementsHandle handle = resource.getRawHandle();
  AsmResourceBlob *blob = handle.getBlob();
  ShapedType wideType = type.clone(Float32Type::get(type.getContext()));
  if (!blob)
    return DenseResourceElementsAttr::get(wideType, handle);
  // The trainer's widening of a safetensors checkpoint's BF16 and F16.
  size_t count = type.getNumElements();
  AsmResourceBlob wide =
      HeapAsmResourceBlob::allocate(count * sizeof(float), alignof(float));
  train::widenToF32(type.getElementType().isBF16() ? "BF16" : "F16",
                    blob->getData().data(), count,
                    wide.getMutableData().data());
  return DenseF32ResourceElementsAttr::get(wideType, handle.getKey(),
                                           std::move(wide));
}

/// Why `op` has no f32 reading, diagnosed; success when it has one: a
/// bitcast reads a 16-bit float as something other than its number, and a
/// blob whose size is not its type's holds no such numbers.
LogicalResult checkWidenable(Operation *op) {
  if (isa<arith::BitcastOp, tensor::BitcastOp>(op)) {
    Type from = getElementTypeOrSelf(op->getOperand(0).getType());
    Type to = getElementTypeOrSelf(op->getResult(0).getType());
    if (isNarrowFloat(from) || isNarrowFloat(to))
      return op->emitError()
             << "cannot import a bitcast of "
             << (from.isF16() || to.isF16() ? "f16" : "bf16")
             << " values: mp imports bf16 and f16 models as the f32 ones "
                "they round";
  }
  for (NamedAttribute attr : op->getAttrs()) {
    auto resource = dyn_cast<DenseResourceElementsAttr>(attr.getValue());
    if (!resource || !isNarrowFloat(resource.getType().getElementType()))
      continue;
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    // Divided, not multiplied: the element count comes from the user.
    size_t size = blob ? blob->getData().size() : 0;
    if (blob && (size % sizeof(uint16_t) != 0 ||
                 size / sizeof(uint16_t) !=
                     uint64_t(resource.getType().getNumElements())))
      return op->emitError()
             << "dense_resource blob '" << resource.getRawHandle().getKey()
             << "' holds " << size << " bytes, not 2 for each element of "
             << resource.getType();
  }
  return success();
}

/// A clamp bound at the largest value of its 16-bit type: an attribute of
/// `op` (by name), and its sign.
struct RangeEnd {
  Operation *op;
  StringAttr name;
  bool negative;
};

/// The clamp bounds at the largest value of their 16-bit type: TOSA's
/// clamp's, and scalar constants only minima and maxima read (a clamp in
/// linalg). Such a bound stands for the end of the type's range (TOSA's
/// ReLU clamps there), so widened it becomes the end of f32's, where the
/// clamp bounds nothing either; other literals at that value (a fill of
/// torch.finfo(dtype).min) widen exactly.
SmallVector<RangeEnd> findRangeEnds(ModuleOp module) {
  SmallVector<RangeEnd> ends;
  auto note = [&](Operation *op, StringRef name) {
    auto scalar = op->getAttrOfType<FloatAttr>(name);
    if (scalar && isNarrowFloat(scalar.getType()) &&
        scalar.getValue().isLargest())
      ends.push_back({op, StringAttr::get(op->getContext(), name),
                      scalar.getValue().isNegative()});
  };
  auto isMinOrMax = [](Operation *user) {
    return isa<arith::MinimumFOp, arith::MaximumFOp, arith::MinNumFOp,
               arith::MaxNumFOp>(user);
  };
  module.walk([&](Operation *op) {
    if (isa<tosa::ClampOp>(op)) {
      note(op, "min_val");
      note(op, "max_val");
    } else if (isa<arith::ConstantOp>(op) && !op->use_empty() &&
               llvm::all_of(op->getUsers(), isMinOrMax)) {
      note(op, "value");
    }
  });
  return ends;
}

} // namespace

LogicalResult widenToF32(ModuleOp module) {
  WalkResult unwidenable = module.walk([](Operation *op) {
    return failed(checkWidenable(op)) ? WalkResult::interrupt()
                                      : WalkResult::advance();
  });
  if (unwidenable.wasInterrupted())
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
  replacer.addReplacement([&](FloatAttr scalar) -> Replaced {
    if (!isNarrowFloat(scalar.getType()))
      return std::nullopt;
    return std::make_pair(FloatAttr::get(f32, widen(scalar.getValue())),
                          WalkResult::skip());
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
    return std::make_pair(widenResource(resource), WalkResult::skip());
  });
  SmallVector<RangeEnd> rangeEnds = findRangeEnds(module);
  replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true,
                                        /*replaceLocs=*/false,
                                        /*replaceTypes=*/true);
  for (const RangeEnd &end : rangeEnds)
    end.op->setAttr(
        end.name, FloatAttr::get(f32, APFloat::getLargest(APFloat::IEEEsingle(),
                                                          end.negative)));

  // The conversions between 16-bit floats and f32 now convert f32 to f32
  // (TOSA's casts where an export computes on x.float(): RMSNorm, softmax,
  // the rotary embedding, which mp-raise-tosa-composites must see whole).
  module.walk([](Operation *op) {
    if (!isa<arith::ExtFOp, arith::TruncFOp, tosa::CastOp>(op) ||
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
