//===- MPCollectiveOps.cpp - resharding and collectives -------------------===//

#include "mp/Dialect/MP/IR/MPOps.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;

namespace mp {

MeshAttr lookupMesh(Operation *op, FlatSymbolRefAttr meshName) {
  return SymbolTable::lookupNearestSymbolFrom<MeshOp>(op, meshName).getMesh();
}

SmallVector<StringRef> getAxisNames(ArrayAttr axes) {
  return llvm::map_to_vector(
      axes, [](Attribute axis) { return cast<StringAttr>(axis).getValue(); });
}

int64_t getGroupSize(MeshAttr mesh, ArrayAttr axes) {
  int64_t size = 1;
  for (Attribute axis : axes)
    size *= mesh.getAxisSize(cast<StringAttr>(axis).getValue());
  return size;
}

LogicalResult verifyValueSharding(Operation *op, ShardingAttr sharding,
                                  Type type,
                                  SymbolTableCollection &symbolTable) {
  auto mesh =
      symbolTable.lookupNearestSymbolFrom<MeshOp>(op, sharding.getMesh());
  if (!mesh)
    return op->emitOpError()
           << "refers to " << sharding.getMesh() << ", which is not an mp.mesh";
  return sharding.verifyFor([&] { return op->emitOpError(); }, type,
                            mesh.getMesh());
}

LogicalResult ReshardOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyValueSharding(*this, getSharding(), getInput().getType(),
                             symbolTable);
}

namespace {
/// Checks a collective's mesh and axes; returns the group size.
FailureOr<int64_t> verifyGroup(Operation *op, FlatSymbolRefAttr meshName,
                               ArrayAttr axes,
                               SymbolTableCollection &symbolTable) {
  auto meshOp = symbolTable.lookupNearestSymbolFrom<MeshOp>(op, meshName);
  if (!meshOp)
    return op->emitOpError()
           << "refers to " << meshName << ", which is not an mp.mesh";
  MeshAttr mesh = meshOp.getMesh();
  if (axes.empty())
    return op->emitOpError() << "needs at least one mesh axis";
  llvm::StringSet<> seen;
  int64_t size = 1;
  for (Attribute axis : axes) {
    StringRef name = cast<StringAttr>(axis).getValue();
    if (!mesh.getAxisIndex(name))
      return op->emitOpError()
             << "mesh " << meshName << " has no axis '" << name << "'";
    if (!seen.insert(name).second)
      return op->emitOpError() << "repeats mesh axis '" << name << "'";
    size *= mesh.getAxisSize(name);
  }
  return size;
}

LogicalResult verifyDim(Operation *op, StringRef what, int64_t dim,
                        int64_t rank) {
  if (dim < 0 || dim >= rank)
    return op->emitOpError()
           << what << " " << dim << " is out of range for rank " << rank;
  return success();
}

/// Checks that `result` is `input` with dim `shrunk` split into `factor`
/// pieces (rounded up: the last may be padding) and dim `grown` gathered
/// from `factor` such pieces (either may be -1 for none).
LogicalResult verifyShapes(Operation *op, Value input, Value result,
                           int64_t grown, int64_t shrunk, int64_t factor) {
  auto in = cast<RankedTensorType>(input.getType());
  auto out = cast<RankedTensorType>(result.getType());
  if (in.getElementType() != out.getElementType() ||
      in.getRank() != out.getRank())
    return op->emitOpError()
           << "result " << out << " must have the rank and element type of "
           << in;
  for (int64_t dim = 0; dim < in.getRank(); ++dim) {
    int64_t have = in.getDimSize(dim), got = out.getDimSize(dim);
    if (dim == grown) {
      // Any whole extent whose pieces are the input's, padding included.
      if (getSplitExtent(got, factor) != have)
        return op->emitOpError() << "result dim " << dim << " of size " << got
                                 << " does not split over " << factor
                                 << " ranks into pieces of " << have;
      continue;
    }
    int64_t expected = dim == shrunk ? getSplitExtent(have, factor) : have;
    if (got != expected)
      return op->emitOpError() << "result dim " << dim << " must be "
                               << expected << ", got " << got;
  }
  return success();
}
} // namespace

LogicalResult AllReduceOp::verifySymbolUses(SymbolTableCollection &table) {
  return verifyGroup(*this, getMeshAttr(), getAxes(), table);
}

LogicalResult AllGatherOp::verifySymbolUses(SymbolTableCollection &table) {
  FailureOr<int64_t> size = verifyGroup(*this, getMeshAttr(), getAxes(), table);
  if (failed(size))
    return failure();
  return verifyShapes(*this, getInput(), getResult(), getDim(), -1, *size);
}
LogicalResult AllGatherOp::verify() {
  return verifyDim(*this, "dim", getDim(), getInput().getType().getRank());
}

LogicalResult ReduceScatterOp::verifySymbolUses(SymbolTableCollection &table) {
  FailureOr<int64_t> size = verifyGroup(*this, getMeshAttr(), getAxes(), table);
  if (failed(size))
    return failure();
  return verifyShapes(*this, getInput(), getResult(), -1, getDim(), *size);
}
LogicalResult ReduceScatterOp::verify() {
  return verifyDim(*this, "dim", getDim(), getInput().getType().getRank());
}

LogicalResult ShardSliceOp::verifySymbolUses(SymbolTableCollection &table) {
  FailureOr<int64_t> size = verifyGroup(*this, getMeshAttr(), getAxes(), table);
  if (failed(size))
    return failure();
  return verifyShapes(*this, getInput(), getResult(), -1, getDim(), *size);
}
LogicalResult ShardSliceOp::verify() {
  return verifyDim(*this, "dim", getDim(), getInput().getType().getRank());
}

LogicalResult AllToAllOp::verifySymbolUses(SymbolTableCollection &table) {
  FailureOr<int64_t> size = verifyGroup(*this, getMeshAttr(), getAxes(), table);
  if (failed(size))
    return failure();
  return verifyShapes(*this, getInput(), getResult(), getConcatDim(),
                      getSplitDim(), *size);
}
LogicalResult AllToAllOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (failed(verifyDim(*this, "split dim", getSplitDim(), rank)) ||
      failed(verifyDim(*this, "concat dim", getConcatDim(), rank)))
    return failure();
  if (getSplitDim() == getConcatDim())
    return emitOpError() << "split and concat dims must differ";
  return success();
}

//===----------------------------------------------------------------------===//
// Padding of uneven splits
//===----------------------------------------------------------------------===//

LogicalResult ZeroPaddingOp::verify() {
  if (failed(verifyDim(*this, "dim", getDim(), getInput().getType().getRank())))
    return failure();
  // I64Attr reads back unsigned: the sign is on the attribute.
  if (getExtentAttr().getInt() < 0)
    return emitOpError() << "extent must be non-negative, got "
                         << getExtentAttr().getInt();
  return success();
}

LogicalResult ZeroPaddingOp::verifySymbolUses(SymbolTableCollection &table) {
  if (failed(verifyGroup(*this, getMeshAttr(), getAxes(), table)))
    return failure();
  MeshAttr mesh = lookupMesh(*this, getMeshAttr());
  SmallVector<int64_t> sizes =
      llvm::map_to_vector(getAxisNames(getAxes()), [&](StringRef axis) {
        return mesh.getAxisSize(axis);
      });
  int64_t local = getInput().getType().getDimSize(getDim());
  int64_t expected = getSplitExtent(getExtent(), sizes);
  if (local != expected)
    return emitOpError() << "dim " << getDim() << " of extent " << getExtent()
                         << " split over " << getAxes() << " has pieces of "
                         << expected << ", not " << local;
  return success();
}

LogicalResult LocalizeIndexOp::verify() {
  // I64Attr reads back unsigned: the sign is on the attribute.
  if (getExtentAttr().getInt() < 0)
    return emitOpError() << "extent must be non-negative, got "
                         << getExtentAttr().getInt();
  return success();
}

LogicalResult LocalizeIndexOp::verifySymbolUses(SymbolTableCollection &table) {
  return failure(failed(verifyGroup(*this, getMeshAttr(), getAxes(), table)));
}

LogicalResult WaitOp::verify() {
  Operation *collective = getValue().getDefiningOp();
  if (!collective || !collective->hasAttr(MPDialect::kAsyncAttrName))
    return emitOpError() << "waits for the result of an asynchronous "
                            "collective ({mp.async = slot})";
  return success();
}

LogicalResult ResizeOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (failed(verifyDim(*this, "dim", getDim(), in.getRank())))
    return failure();
  if (in.getElementType() != out.getElementType() ||
      in.getRank() != out.getRank())
    return emitOpError() << "result " << out
                         << " must have the rank and element type of " << in;
  for (int64_t dim = 0; dim < in.getRank(); ++dim)
    if (dim != int64_t(getDim()) && in.getDimSize(dim) != out.getDimSize(dim))
      return emitOpError() << "only dim " << getDim()
                           << " may change size, not dim " << dim;
  return success();
}

namespace {
/// Checks that `type` has the rank and element type of `result`, and its
/// extents but in `dim`.
LogicalResult verifyAlongDim(Operation *op, RankedTensorType type,
                             RankedTensorType result, int64_t dim) {
  if (type.getElementType() != result.getElementType() ||
      type.getRank() != result.getRank())
    return op->emitOpError()
           << "result " << result << " must have the rank and element type of "
           << type;
  for (int64_t other = 0; other < type.getRank(); ++other)
    if (other != dim && type.getDimSize(other) != result.getDimSize(other))
      return op->emitOpError()
             << "only dim " << dim << " may differ from the result, not dim "
             << other << " of " << type;
  return success();
}
} // namespace

LogicalResult SliceOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (failed(verifyDim(*this, "dim", getDim(), in.getRank())) ||
      failed(verifyAlongDim(*this, in, out, getDim())))
    return failure();
  int64_t extent = in.getDimSize(getDim()), offset = getOffset();
  if (offset < 0 || offset > extent - out.getDimSize(getDim()))
    return emitOpError() << "entries " << offset << " to " << offset << " + "
                         << out.getDimSize(getDim()) << " are not in dim "
                         << getDim() << " of " << in;
  return success();
}

int64_t SliceOp::getKernelBytes() {
  // Read once and written once (a tensor's bytes fit int64, BoundedTensors;
  // twice them may not: saturated, as the other costs).
  int64_t bytes = *getTensorBytes(getResult().getType());
  return llvm::checkedAdd(bytes, bytes).value_or(INT64_MAX);
}

LogicalResult ConcatOp::verify() {
  auto out = getResult().getType();
  if (getInputs().empty())
    return emitOpError() << "needs at least one operand";
  if (failed(verifyDim(*this, "dim", getDim(), out.getRank())))
    return failure();
  std::optional<int64_t> total = 0;
  for (Value input : getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (failed(verifyAlongDim(*this, type, out, getDim())))
      return failure();
    if (total)
      total = llvm::checkedAdd(*total, type.getDimSize(getDim()));
  }
  if (!total)
    return emitOpError() << "the operands' extents in dim " << getDim()
                         << " overflow int64";
  if (*total != out.getDimSize(getDim()))
    return emitOpError() << "the operands have " << *total << " entries in dim "
                         << getDim() << ", the result "
                         << out.getDimSize(getDim());
  return success();
}

//===----------------------------------------------------------------------===//
// CollectiveOpInterface
//===----------------------------------------------------------------------===//

namespace {
int64_t getBytes(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

/// The share of a buffer a rank sends in one ring pass over `groupSize`.
double getRingFraction(int64_t groupSize) {
  return double(groupSize - 1) / double(groupSize);
}

/// What a rank sends in a ring gather or scatter of `piece`-sized pieces
/// (padded ones included): all but its own.
double getRingPieceBytes(int64_t groupSize, int64_t pieceBytes) {
  return double(groupSize - 1) * double(pieceBytes);
}
} // namespace

CollectiveSteps AllReduceOp::getSteps() {
  return CollectiveSteps{/*sums=*/true, std::nullopt, std::nullopt};
}
double AllReduceOp::getBytesSentPerRank() {
  return 2 * getRingFraction(getGroupSize()) * getBytes(getInput());
}
RuntimeCollectiveCall AllReduceOp::getRuntimeCall() {
  return RuntimeCollectiveCall{"mp_all_reduce", /*inPlace=*/true, {}};
}

CollectiveSteps AllGatherOp::getSteps() {
  return CollectiveSteps{/*sums=*/false, getDim(), std::nullopt};
}
double AllGatherOp::getBytesSentPerRank() {
  return getRingPieceBytes(getGroupSize(), getBytes(getInput()));
}
RuntimeCollectiveCall AllGatherOp::getRuntimeCall() {
  return RuntimeCollectiveCall{
      "mp_all_gather", /*inPlace=*/false, {int64_t(getDim())}};
}

CollectiveSteps ReduceScatterOp::getSteps() {
  return CollectiveSteps{/*sums=*/true, std::nullopt, getDim()};
}
double ReduceScatterOp::getBytesSentPerRank() {
  return getRingPieceBytes(getGroupSize(), getBytes(getResult()));
}
RuntimeCollectiveCall ReduceScatterOp::getRuntimeCall() {
  return RuntimeCollectiveCall{
      "mp_reduce_scatter", /*inPlace=*/false, {int64_t(getDim())}};
}

CollectiveSteps AllToAllOp::getSteps() {
  return CollectiveSteps{/*sums=*/false, getConcatDim(), getSplitDim()};
}
double AllToAllOp::getBytesSentPerRank() {
  // A piece is the input with its split dim split.
  int64_t extent = getInput().getType().getDimSize(getSplitDim());
  if (extent == 0)
    return 0;
  int64_t pieceExtent = getSplitExtent(extent, getGroupSize());
  return getRingPieceBytes(getGroupSize(),
                           getBytes(getInput()) / extent * pieceExtent);
}
RuntimeCollectiveCall AllToAllOp::getRuntimeCall() {
  return RuntimeCollectiveCall{
      "mp_all_to_all",
      /*inPlace=*/false,
      {int64_t(getSplitDim()), int64_t(getConcatDim())}};
}

CollectiveSteps ShardSliceOp::getSteps() {
  return CollectiveSteps{/*sums=*/false, std::nullopt, getDim()};
}
double ShardSliceOp::getBytesSentPerRank() { return 0; }
RuntimeCollectiveCall ShardSliceOp::getRuntimeCall() {
  return RuntimeCollectiveCall{
      "mp_shard_slice", /*inPlace=*/false, {int64_t(getDim())}};
}

} // namespace mp

SmallVector<SmallVector<mp::CollectiveOpInterface>>
mp::getCollectiveGroups(Block &block) {
  SmallVector<SmallVector<CollectiveOpInterface>> groups;
  SmallVector<CollectiveOpInterface> run;
  auto close = [&] {
    if (run.size() > 1)
      groups.push_back(run);
    run.clear();
  };
  auto joins = [&](CollectiveOpInterface op) {
    CollectiveOpInterface first = run.front();
    return op->getName() == first->getName() &&
           op->getAttr(MPDialect::kFsdpGroupAttrName) ==
               first->getAttr(MPDialect::kFsdpGroupAttrName) &&
           op->getAttr(MPDialect::kCoalescedAttrName) ==
               first->getAttr(MPDialect::kCoalescedAttrName) &&
           op->getAttr(MPDialect::kAsyncAttrName) ==
               first->getAttr(MPDialect::kAsyncAttrName) &&
           op.getMeshAttr() == first.getMeshAttr() &&
           op.getAxes() == first.getAxes() &&
           getElementTypeOrSelf(op.getInput()) ==
               getElementTypeOrSelf(first.getInput()) &&
           // One call packs every input before it communicates.
           llvm::none_of(run, [&](CollectiveOpInterface member) {
             return member.getOperation() == op.getInput().getDefiningOp();
           });
  };
  for (Operation &op : block) {
    auto collective = dyn_cast<CollectiveOpInterface>(op);
    if (!collective || !(op.hasAttr(MPDialect::kFsdpGroupAttrName) ||
                         op.hasAttr(MPDialect::kCoalescedAttrName))) {
      close();
      continue;
    }
    if (!run.empty() && !joins(collective))
      close();
    run.push_back(collective);
  }
  close();
  return groups;
}
