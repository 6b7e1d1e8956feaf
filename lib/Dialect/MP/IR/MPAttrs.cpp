//===- MPAttrs.cpp - mesh, sharding and plan attributes -------------------===//

#include "mp/Dialect/MP/IR/MPAttrs.h"
#include "mp/Dialect/MP/IR/MPDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mp;

#include "mp/Dialect/MP/IR/MPEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "mp/Dialect/MP/IR/MPAttrs.cpp.inc"

void MPDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mp/Dialect/MP/IR/MPAttrs.cpp.inc"
      >();
}

namespace {
/// Parses `[a, "b.c", ...]` into strings.
ParseResult parseAxisList(AsmParser &parser, SmallVectorImpl<Attribute> &axes) {
  return parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
    std::string name;
    if (parser.parseKeywordOrString(&name))
      return failure();
    axes.push_back(StringAttr::get(parser.getContext(), name));
    return success();
  });
}

void printAxisList(AsmPrinter &printer, ArrayRef<Attribute> axes) {
  printer << '[';
  llvm::interleaveComma(axes, printer, [&](Attribute axis) {
    printer.printKeywordOrString(cast<StringAttr>(axis).getValue());
  });
  printer << ']';
}

SmallVector<StringRef> toStrings(ArrayAttr array) {
  return llvm::map_to_vector(
      array, [](Attribute attr) { return cast<StringAttr>(attr).getValue(); });
}

ArrayAttr toArrayAttr(MLIRContext *ctx, ArrayRef<StringRef> strings) {
  return ArrayAttr::get(ctx, llvm::map_to_vector(strings, [&](StringRef s) {
                          return Attribute(StringAttr::get(ctx, s));
                        }));
}
} // namespace

namespace {
bool isNameChar(char c) {
  return llvm::isAlnum(c) || llvm::is_contained(StringRef("_.:/-"), c);
}

bool isNameOf(StringRef name, function_ref<bool(char)> isAllowed) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         llvm::all_of(name, isAllowed);
}
} // namespace

bool mp::isValidName(StringRef name) { return isNameOf(name, isNameChar); }

bool mp::isValidPlanKey(StringRef key) {
  return isNameOf(key, [](char c) {
    return isNameChar(c) || llvm::is_contained(StringRef("*?[]!^"), c);
  });
}

//===----------------------------------------------------------------------===//
// MeshAttr
//===----------------------------------------------------------------------===//

Attribute MeshAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<StringAttr> names;
  SmallVector<int64_t> sizes;
  auto parseAxis = [&]() -> ParseResult {
    std::string name;
    int64_t size = 0;
    if (parser.parseKeywordOrString(&name) || parser.parseEqual() ||
        parser.parseInteger(size))
      return failure();
    names.push_back(StringAttr::get(parser.getContext(), name));
    sizes.push_back(size);
    return success();
  };
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::LessGreater,
                                     parseAxis))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    ArrayRef<StringAttr>(names), ArrayRef<int64_t>(sizes));
}

void MeshAttr::print(AsmPrinter &printer) const {
  printer << '<';
  llvm::interleaveComma(
      llvm::zip_equal(getAxisNames(), getAxisSizes()), printer, [&](auto axis) {
        printer.printKeywordOrString(std::get<0>(axis).getValue());
        printer << " = " << std::get<1>(axis);
      });
  printer << '>';
}

LogicalResult MeshAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<StringAttr> axisNames,
                               ArrayRef<int64_t> axisSizes) {
  if (axisNames.empty())
    return emitError() << "a mesh needs at least one axis";
  if (axisNames.size() != axisSizes.size())
    return emitError() << "a mesh needs one size per axis name";
  llvm::StringSet<> seen;
  int64_t devices = 1;
  for (auto [name, size] : llvm::zip_equal(axisNames, axisSizes)) {
    if (!isValidName(name.getValue()))
      return emitError() << "mesh axis name '" << name.getValue() << "' is not "
                         << kNameGrammar;
    if (!seen.insert(name.getValue()).second)
      return emitError() << "mesh axis '" << name.getValue()
                         << "' is repeated; axis names must be unique";
    if (size <= 0)
      return emitError() << "mesh axis '" << name.getValue() << "' has size "
                         << size << "; sizes must be positive";
    // MPI counts ranks in an int.
    if (size > INT32_MAX / devices)
      return emitError() << "the mesh has more than 2^31 - 1 devices";
    devices *= size;
  }
  return success();
}

std::optional<unsigned> MeshAttr::getAxisIndex(StringRef axis) const {
  for (auto [index, name] : llvm::enumerate(getAxisNames()))
    if (name.getValue() == axis)
      return index;
  return std::nullopt;
}

int64_t MeshAttr::getAxisSize(StringRef axis) const {
  return getAxisSizes()[*getAxisIndex(axis)];
}

int64_t MeshAttr::getNumDevices() const {
  int64_t count = 1;
  for (int64_t size : getAxisSizes())
    count *= size;
  return count;
}

//===----------------------------------------------------------------------===//
// ShardingAttr
//===----------------------------------------------------------------------===//

ShardingAttr ShardingAttr::get(FlatSymbolRefAttr mesh,
                               ArrayRef<SmallVector<StringRef>> dimAxes,
                               ArrayRef<StringRef> partialAxes) {
  MLIRContext *ctx = mesh.getContext();
  SmallVector<Attribute> dims = llvm::map_to_vector(
      dimAxes, [&](const SmallVector<StringRef> &axes) -> Attribute {
        return toArrayAttr(ctx, axes);
      });
  return Base::get(ctx, mesh, ArrayAttr::get(ctx, dims),
                   toArrayAttr(ctx, partialAxes));
}

Attribute ShardingAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  MLIRContext *ctx = parser.getContext();
  FlatSymbolRefAttr mesh;
  SmallVector<Attribute> dims, partial;
  if (parser.parseLess() || parser.parseAttribute(mesh) || parser.parseComma())
    return {};
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        SmallVector<Attribute> axes;
        if (parseAxisList(parser, axes))
          return failure();
        dims.push_back(ArrayAttr::get(ctx, axes));
        return success();
      }))
    return {};
  if (succeeded(parser.parseOptionalComma()) &&
      (parser.parseKeyword("partial") || parser.parseEqual() ||
       parseAxisList(parser, partial)))
    return {};
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, ctx, mesh,
                    ArrayAttr::get(ctx, dims), ArrayAttr::get(ctx, partial));
}

void ShardingAttr::print(AsmPrinter &printer) const {
  printer << '<';
  printer.printAttribute(getMesh());
  printer << ", [";
  llvm::interleaveComma(getDims(), printer, [&](Attribute axes) {
    printAxisList(printer, cast<ArrayAttr>(axes).getValue());
  });
  printer << ']';
  if (!getPartial().empty()) {
    printer << ", partial = ";
    printAxisList(printer, getPartial().getValue());
  }
  printer << '>';
}

LogicalResult ShardingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   FlatSymbolRefAttr mesh, ArrayAttr dims,
                                   ArrayAttr partial) {
  if (!mesh)
    return emitError() << "a sharding needs a mesh";
  llvm::StringSet<> seen;
  auto checkAxes = [&](ArrayAttr axes) -> LogicalResult {
    for (Attribute axis : axes) {
      auto name = dyn_cast<StringAttr>(axis);
      if (!name)
        return emitError() << "mesh axes must be names, got " << axis;
      if (!seen.insert(name.getValue()).second)
        return emitError() << "mesh axis '" << name.getValue()
                           << "' appears more than once in the sharding";
    }
    return success();
  };
  for (Attribute dim : dims) {
    auto axes = dyn_cast<ArrayAttr>(dim);
    if (!axes)
      return emitError() << "each dim of a sharding is a list of mesh axes";
    if (failed(checkAxes(axes)))
      return failure();
  }
  return checkAxes(partial);
}

SmallVector<StringRef> ShardingAttr::getDimAxes(int64_t dim) const {
  return toStrings(cast<ArrayAttr>(getDims()[dim]));
}

SmallVector<StringRef> ShardingAttr::getPartialAxes() const {
  return toStrings(getPartial());
}

bool ShardingAttr::isFullyReplicated() const {
  return getPartial().empty() && llvm::all_of(getDims(), [](Attribute dim) {
           return cast<ArrayAttr>(dim).empty();
         });
}

LogicalResult
ShardingAttr::verifyFor(function_ref<InFlightDiagnostic()> emitError, Type type,
                        MeshAttr mesh) const {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return emitError() << "a sharding applies to a ranked tensor, not " << type;
  if (tensorType.getRank() != getRank())
    return emitError() << "sharding has " << getRank() << " dims but " << type
                       << " has rank " << tensorType.getRank();
  auto checkKnown = [&](StringRef axis) -> LogicalResult {
    if (mesh.getAxisIndex(axis))
      return success();
    return emitError() << "mesh " << getMesh() << " has no axis '" << axis
                       << "'";
  };
  for (StringRef axis : getPartialAxes())
    if (failed(checkKnown(axis)))
      return failure();
  for (int64_t dim = 0; dim < getRank(); ++dim) {
    SmallVector<StringRef> axes = getDimAxes(dim);
    for (StringRef axis : axes)
      if (failed(checkKnown(axis)))
        return failure();
    if (!axes.empty() && tensorType.isDynamicDim(dim))
      return emitError() << "dim " << dim << " of " << type
                         << " is dynamic; only static dims can be split";
  }
  return success();
}

namespace {
SmallVector<int64_t> getAxisSizes(MeshAttr mesh, ArrayRef<StringRef> axes) {
  return llvm::map_to_vector(
      axes, [&](StringRef axis) { return mesh.getAxisSize(axis); });
}
} // namespace

SmallVector<int64_t> ShardingAttr::getLocalShape(ArrayRef<int64_t> shape,
                                                 MeshAttr mesh) const {
  SmallVector<int64_t> local(shape);
  for (int64_t dim = 0; dim < getRank(); ++dim)
    local[dim] =
        getSplitExtent(shape[dim], getAxisSizes(mesh, getDimAxes(dim)));
  return local;
}

bool ShardingAttr::isUneven(ArrayRef<int64_t> shape, MeshAttr mesh) const {
  for (int64_t dim = 0; dim < getRank(); ++dim) {
    int64_t shards = 1;
    for (int64_t size : getAxisSizes(mesh, getDimAxes(dim)))
      shards *= size;
    if (shape[dim] % shards != 0)
      return true;
  }
  return false;
}

int64_t mp::getSplitExtent(int64_t extent, ArrayRef<int64_t> axisSizes) {
  for (int64_t size : axisSizes)
    extent = llvm::divideCeil(extent, size);
  return extent;
}

int64_t mp::getValidExtent(int64_t extent, ArrayRef<int64_t> axisSizes,
                           ArrayRef<int64_t> coords) {
  int64_t piece = extent, valid = extent;
  for (auto [size, coord] : llvm::zip_equal(axisSizes, coords)) {
    piece = llvm::divideCeil(piece, size);
    valid = std::clamp<int64_t>(valid - coord * piece, 0, piece);
  }
  return valid;
}

int64_t mp::getPieceOffset(int64_t extent, ArrayRef<int64_t> axisSizes,
                           ArrayRef<int64_t> coords) {
  int64_t piece = extent, offset = 0;
  for (auto [size, coord] : llvm::zip_equal(axisSizes, coords)) {
    piece = llvm::divideCeil(piece, size);
    offset += coord * piece;
  }
  return offset;
}

//===----------------------------------------------------------------------===//
// ParallelStyleAttr
//===----------------------------------------------------------------------===//

ParallelStyleAttr ParallelStyleAttr::parseBody(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return {};
  std::optional<ParallelStyleKind> kind = symbolizeParallelStyleKind(keyword);
  if (!kind) {
    parser.emitError(loc) << "unknown parallel style '" << keyword
                          << "'; expected colwise, rowwise, "
                             "sequence_parallel or replicate";
    return {};
  }
  std::optional<int64_t> dim;
  StringAttr inputLayouts, outputLayouts;
  auto parseOption = [&]() -> ParseResult {
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return failure();
    if (key == "dim") {
      int64_t value;
      if (parser.parseInteger(value))
        return failure();
      dim = value;
      return success();
    }
    if (key == "input_layouts" || key == "output_layouts") {
      std::string layout;
      if (parser.parseString(&layout))
        return failure();
      (key == "input_layouts" ? inputLayouts : outputLayouts) =
          StringAttr::get(parser.getContext(), layout);
      return success();
    }
    return parser.emitError(parser.getCurrentLocation())
           << "unknown style option '" << key
           << "'; expected dim, input_layouts or output_layouts";
  };
  if (succeeded(parser.parseOptionalLess()) &&
      (parser.parseCommaSeparatedList(parseOption) || parser.parseGreater()))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *kind, dim, inputLayouts, outputLayouts);
}

void ParallelStyleAttr::printBody(AsmPrinter &printer) const {
  printer << stringifyParallelStyleKind(getKind());
  SmallVector<std::string> options;
  if (getDim())
    options.push_back("dim = " + std::to_string(*getDim()));
  for (auto [key, layout] : {std::pair{"input_layouts", getInputLayouts()},
                             {"output_layouts", getOutputLayouts()}})
    if (layout)
      options.push_back(
          (Twine(key) + " = \"" + layout.getValue() + "\"").str());
  if (!options.empty())
    printer << '<' << llvm::join(options, ", ") << '>';
}

FailureOr<std::optional<int64_t>>
ParallelStyleAttr::parseLayout(StringRef text) {
  if (text == "Replicate()")
    return std::optional<int64_t>();
  int64_t dim;
  if (text.consume_front("Shard(") && text.consume_back(")") &&
      !text.getAsInteger(10, dim))
    return std::optional<int64_t>(dim);
  return failure();
}

Attribute ParallelStyleAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  ParallelStyleAttr style = parseBody(parser);
  if (!style || parser.parseGreater())
    return {};
  return style;
}

void ParallelStyleAttr::print(AsmPrinter &printer) const {
  printer << '<';
  printBody(printer);
  printer << '>';
}

LogicalResult
ParallelStyleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          ParallelStyleKind kind, std::optional<int64_t> dim,
                          StringAttr inputLayouts, StringAttr outputLayouts) {
  for (StringAttr layout : {inputLayouts, outputLayouts}) {
    if (!layout)
      continue;
    if (kind != ParallelStyleKind::colwise &&
        kind != ParallelStyleKind::rowwise)
      return emitError() << "only colwise and rowwise take input_layouts and "
                            "output_layouts, not "
                         << stringifyParallelStyleKind(kind);
    if (failed(parseLayout(layout.getValue())))
      return emitError() << "layout '" << layout.getValue()
                         << "' is not Replicate() or Shard(d)";
  }
  if (!dim)
    return success();
  if (kind != ParallelStyleKind::sequence_parallel)
    return emitError() << "only sequence_parallel takes a dim, not "
                       << stringifyParallelStyleKind(kind);
  if (*dim < 0)
    return emitError() << "sequence_parallel dim must be non-negative, got "
                       << *dim;
  return success();
}

//===----------------------------------------------------------------------===//
// PlanAttr
//===----------------------------------------------------------------------===//

Attribute PlanAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  MLIRContext *ctx = parser.getContext();
  FlatSymbolRefAttr mesh;
  StringAttr tpAxis, fsdpAxis, batchAxis;
  SmallVector<NamedAttribute> styles;
  ArrayAttr fsdpGroups;
  BoolAttr reshardAfterForward;
  StringAttr recompute;
  IntegerAttr recomputeFullLayers;
  PrecisionAttr precision;
  TypeAttr reduceDtype, tpReduceDtype, savedDtype;
  llvm::StringSet<> seenKeys;

  auto parseAxisName = [&](StringAttr &axis) -> ParseResult {
    std::string name;
    if (parser.parseKeywordOrString(&name))
      return failure();
    axis = StringAttr::get(ctx, name);
    return success();
  };
  auto parseStyles = [&]() -> ParseResult {
    return parser.parseCommaSeparatedList(
        AsmParser::Delimiter::Braces, [&]() -> ParseResult {
          std::string name;
          if (parser.parseKeywordOrString(&name) || parser.parseEqual())
            return failure();
          ParallelStyleAttr style = ParallelStyleAttr::parseBody(parser);
          if (!style)
            return failure();
          if (llvm::any_of(styles, [&](NamedAttribute entry) {
                return entry.getName().getValue() == name;
              }))
            return ParseResult(parser.emitError(parser.getCurrentLocation())
                               << "plan entry '" << name << "' is repeated");
          styles.emplace_back(StringAttr::get(ctx, name), style);
          return success();
        });
  };
  auto parseEntry = [&]() -> ParseResult {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return failure();
    if (!seenKeys.insert(key).second)
      return parser.emitError(keyLoc) << "plan key '" << key << "' repeated";
    if (key == "mesh")
      return parser.parseAttribute(mesh);
    if (key == "tp_axis")
      return parseAxisName(tpAxis);
    if (key == "fsdp_axis")
      return parseAxisName(fsdpAxis);
    if (key == "batch_axis")
      return parseAxisName(batchAxis);
    if (key == "styles")
      return parseStyles();
    if (key == "fsdp_groups") {
      SmallVector<Attribute> groups;
      if (parseAxisList(parser, groups))
        return failure();
      fsdpGroups = ArrayAttr::get(ctx, groups);
      return success();
    }
    if (key == "reshard_after_forward") {
      bool value = false;
      if (succeeded(parser.parseOptionalKeyword("true")))
        value = true;
      else if (parser.parseKeyword("false"))
        return failure();
      reshardAfterForward = BoolAttr::get(ctx, value);
      return success();
    }
    if (key == "recompute")
      return parseAxisName(recompute);
    if (key == "recompute_full_layers") {
      int64_t layers = 0;
      if (parser.parseInteger(layers))
        return failure();
      recomputeFullLayers = IntegerAttr::get(IntegerType::get(ctx, 64), layers);
      return success();
    }
    if (key == "precision") {
      SMLoc valueLoc = parser.getCurrentLocation();
      StringRef name;
      if (parser.parseKeyword(&name))
        return failure();
      std::optional<Precision> value = symbolizePrecision(name);
      if (!value)
        return parser.emitError(valueLoc) << "unknown precision '" << name
                                          << "'; expected fp32, tf32 or bf16";
      precision = PrecisionAttr::get(ctx, *value);
      return success();
    }
    for (auto [dtypeKey, dtype] : {std::pair{"reduce_dtype", &reduceDtype},
                                   std::pair{"tp_reduce_dtype", &tpReduceDtype},
                                   std::pair{"saved_dtype", &savedDtype}})
      if (key == dtypeKey) {
        Type type;
        if (parser.parseType(type))
          return failure();
        *dtype = TypeAttr::get(type);
        return success();
      }
    return parser.emitError(keyLoc)
           << "unknown plan key '" << key
           << "'; expected mesh, tp_axis, fsdp_axis, batch_axis, styles, "
              "fsdp_groups, reshard_after_forward, recompute, "
              "recompute_full_layers, precision, reduce_dtype, "
              "tp_reduce_dtype or saved_dtype";
  };
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::LessGreater,
                                     parseEntry))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, ctx, mesh, tpAxis,
                    fsdpAxis, batchAxis, DictionaryAttr::get(ctx, styles),
                    fsdpGroups, reshardAfterForward, recompute,
                    recomputeFullLayers, precision, reduceDtype, tpReduceDtype,
                    savedDtype);
}

void PlanAttr::print(AsmPrinter &printer) const {
  printer << "<mesh = ";
  printer.printAttribute(getMesh());
  auto printAxis = [&](StringRef key, StringAttr axis) {
    if (!axis)
      return;
    printer << ", " << key << " = ";
    printer.printKeywordOrString(axis.getValue());
  };
  printAxis("tp_axis", getTpAxis());
  printAxis("fsdp_axis", getFsdpAxis());
  printAxis("batch_axis", getBatchAxis());
  printer << ", styles = {";
  llvm::interleaveComma(getStyles(), printer, [&](NamedAttribute entry) {
    printer.printKeywordOrString(entry.getName().getValue());
    printer << " = ";
    cast<ParallelStyleAttr>(entry.getValue()).printBody(printer);
  });
  printer << "}";
  if (ArrayAttr groups = getFsdpGroups()) {
    printer << ", fsdp_groups = ";
    printAxisList(printer, groups.getValue());
  }
  if (BoolAttr reshard = getReshardAfterForward())
    printer << ", reshard_after_forward = "
            << (reshard.getValue() ? "true" : "false");
  if (StringAttr recompute = getRecompute())
    printer << ", recompute = " << recompute.getValue();
  if (IntegerAttr layers = getRecomputeFullLayers())
    printer << ", recompute_full_layers = " << layers.getInt();
  if (PrecisionAttr precision = getPrecision())
    printer << ", precision = " << stringifyPrecision(precision.getValue());
  for (auto [key, dtype] : {std::pair{"reduce_dtype", getReduceDtype()},
                            std::pair{"tp_reduce_dtype", getTpReduceDtype()},
                            std::pair{"saved_dtype", getSavedDtype()}})
    if (dtype) {
      printer << ", " << key << " = ";
      printer.printType(dtype.getValue());
    }
  printer << ">";
}

LogicalResult PlanAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               FlatSymbolRefAttr mesh, StringAttr tpAxis,
                               StringAttr fsdpAxis, StringAttr batchAxis,
                               DictionaryAttr styles, ArrayAttr fsdpGroups,
                               BoolAttr reshardAfterForward,
                               StringAttr recompute,
                               IntegerAttr recomputeFullLayers,
                               PrecisionAttr precision, TypeAttr reduceDtype,
                               TypeAttr tpReduceDtype, TypeAttr savedDtype) {
  if (!mesh)
    return emitError() << "a plan needs a mesh (mesh = @name)";
  if (!styles)
    return emitError() << "a plan needs a styles dictionary";
  for (NamedAttribute entry : styles) {
    if (!isValidPlanKey(entry.getName().getValue()))
      return emitError() << "plan entry '" << entry.getName().getValue()
                         << "' is not " << kPlanKeyGrammar;
    if (!isa<ParallelStyleAttr>(entry.getValue()))
      return emitError() << "plan entry '" << entry.getName().getValue()
                         << "' must be a parallel style, got "
                         << entry.getValue();
  }
  if (fsdpGroups) {
    if (!fsdpAxis)
      return emitError() << "fsdp_groups needs fsdp_axis, the axis FSDP "
                            "shards parameters over";
    for (Attribute group : fsdpGroups)
      if (!isa<StringAttr>(group) ||
          !isValidPlanKey(cast<StringAttr>(group).getValue()))
        return emitError() << "fsdp_groups entry " << group << " is not "
                           << kPlanKeyGrammar;
  }
  if (reshardAfterForward && reshardAfterForward.getValue() && !fsdpAxis)
    return emitError() << "reshard_after_forward needs fsdp_axis";
  if (recompute && !symbolizeRecompute(recompute.getValue()))
    return emitError() << "unknown recompute '" << recompute.getValue()
                       << "'; expected none, selective, op or full";
  if (recomputeFullLayers && recomputeFullLayers.getInt() < 0)
    return emitError() << "recompute_full_layers must not be negative, got "
                       << recomputeFullLayers.getInt();
  for (auto [key, dtype] : {std::pair{"reduce_dtype", reduceDtype},
                            std::pair{"tp_reduce_dtype", tpReduceDtype},
                            std::pair{"saved_dtype", savedDtype}}) {
    if (!dtype)
      continue;
    Type type = dtype.getValue();
    if (!type.isF32() && !type.isBF16())
      return emitError() << key << " must be f32 or bf16, got " << type;
    // A plan that sets no precision leaves it to --mp-train-step's option,
    // and the training step checks the pair.
    if (type.isBF16() && precision && precision.getValue() != Precision::bf16 &&
        key != "reduce_dtype")
      return emitError() << key << " = bf16 needs precision = bf16, got "
                         << stringifyPrecision(precision.getValue());
  }
  if (!styles.empty() && !tpAxis)
    return emitError() << "a plan with styles needs tp_axis, the mesh axis "
                          "the styles split over";
  if (tpAxis && fsdpAxis && tpAxis == fsdpAxis)
    return emitError() << "tp_axis and fsdp_axis must be different mesh axes, "
                          "both are '"
                       << tpAxis.getValue() << "'";
  StringAttr effectiveBatch = batchAxis ? batchAxis : fsdpAxis;
  if (tpAxis && effectiveBatch && tpAxis == effectiveBatch)
    return emitError() << "the batch cannot be split over the tensor-parallel "
                          "axis '"
                       << tpAxis.getValue()
                       << "': ranks of one tensor-parallel group see the same "
                          "batch";
  return success();
}

LogicalResult
PlanAttr::verifyAxesIn(function_ref<InFlightDiagnostic()> emitError,
                       MeshAttr mesh) const {
  for (auto [key, axis] :
       {std::pair<StringRef, StringAttr>{"tp_axis", getTpAxis()},
        {"fsdp_axis", getFsdpAxis()},
        {"batch_axis", getBatchAxis()}})
    if (axis && !mesh.getAxisIndex(axis.getValue()))
      return emitError() << "plan " << key << " '" << axis.getValue()
                         << "' is not an axis of mesh " << getMesh() << " "
                         << mesh;
  return success();
}
