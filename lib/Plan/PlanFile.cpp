//===- PlanFile.cpp - read a parallelization plan from JSON ---------------===//

#include "mp/Plan/PlanFile.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
namespace json = llvm::json;

namespace mp {
namespace {

/// Plans are a few levels deep and a few kilobytes long (a glob covers all
/// layers); bounds far above that keep a hostile file from exhausting the
/// stack (llvm::json parses recursively) or memory.
constexpr unsigned kMaxPlanDepth = 32;
constexpr uint64_t kMaxPlanBytes = 16 << 20;

Location locateOffset(MLIRContext *ctx, StringRef path, StringRef text,
                      size_t offset) {
  StringRef before = text.take_front(offset);
  unsigned line = before.count('\n') + 1;
  size_t lineStart = before.rfind('\n');
  unsigned column =
      offset - (lineStart == StringRef::npos ? 0 : lineStart + 1) + 1;
  return FileLineColLoc::get(ctx, path, line, column);
}

Location locateKeyInText(MLIRContext *ctx, StringRef path, StringRef text,
                         StringRef key) {
  size_t offset = text.find(("\"" + key + "\"").str());
  return locateOffset(ctx, path, text, offset == StringRef::npos ? 0 : offset);
}

/// What llvm::json lets through silently: nesting deep enough to overflow
/// its recursion, and a repeated key in one object (the last one wins there,
/// so a second "plan" would drop the first one's styles). Scans the text
/// before parsing; malformed JSON is left to the parser's message. Keys are
/// compared as spelled.
LogicalResult checkJsonStructure(MLIRContext *ctx, StringRef path,
                                 StringRef text) {
  struct Object {
    llvm::StringMap<size_t> keys;
    bool expectKey = true;
  };
  // One entry per open bracket: an object's keys, or none for an array.
  SmallVector<std::optional<Object>> open;
  for (size_t at = 0; at < text.size(); ++at) {
    char c = text[at];
    if (c == '{' || c == '[') {
      if (open.size() == kMaxPlanDepth)
        return emitError(locateOffset(ctx, path, text, at))
               << "plan file nests deeper than " << kMaxPlanDepth << " levels";
      open.push_back(c == '{' ? std::optional<Object>(Object()) : std::nullopt);
    } else if ((c == '}' || c == ']') && !open.empty()) {
      open.pop_back();
    } else if (c == ',' && !open.empty() && open.back()) {
      open.back()->expectKey = true;
    } else if (c == ':' && !open.empty() && open.back()) {
      open.back()->expectKey = false;
    } else if (c == '"') {
      size_t start = at;
      for (++at; at < text.size() && text[at] != '"'; ++at)
        if (text[at] == '\\')
          ++at;
      if (open.empty() || !open.back() || !open.back()->expectKey)
        continue;
      StringRef key = text.slice(start, at + 1);
      auto [first, inserted] = open.back()->keys.try_emplace(key, start);
      if (!inserted) {
        InFlightDiagnostic diag =
            emitError(locateOffset(ctx, path, text, start))
            << "plan file repeats the key " << key
            << " in one object (JSON would keep only the last)";
        diag.attachNote(locateOffset(ctx, path, text, first->second))
            << "first given here";
        return diag;
      }
    }
  }
  return success();
}

/// Reads one plan file, reporting problems at the line of the JSON key they
/// concern (llvm::json keeps no positions, so keys are found in the text).
class PlanFileReader {
public:
  PlanFileReader(MLIRContext *ctx, StringRef path, StringRef text)
      : ctx(ctx), path(path), text(text) {}

  FailureOr<PlanFile> read(StringRef meshName);

private:
  /// The location of the first `"key"` in the file, or of its start.
  Location locate(StringRef key) const {
    return locateKeyInText(ctx, path, text, key);
  }

  InFlightDiagnostic error(StringRef key) const {
    return emitError(locate(key));
  }

  FailureOr<MeshAttr> readMesh(const json::Value *value);
  FailureOr<StringAttr> readAxis(const json::Object &root, StringRef key);
  FailureOr<ParallelStyleAttr> readStyle(StringRef name,
                                         const json::Value &value);

  MLIRContext *ctx;
  StringRef path;
  StringRef text;
};

FailureOr<MeshAttr> PlanFileReader::readMesh(const json::Value *value) {
  const json::Object *mesh = value ? value->getAsObject() : nullptr;
  if (!mesh)
    return error("mesh") << "plan file needs \"mesh\": {\"shape\": [...], "
                            "\"names\": [...]}";
  for (const auto &entry : *mesh)
    if (entry.first != "shape" && entry.first != "names")
      return error(entry.first)
             << "unknown \"mesh\" key \"" << entry.first.str()
             << "\"; expected \"shape\" and \"names\"";
  const json::Array *shape = mesh->getArray("shape");
  const json::Array *names = mesh->getArray("names");
  if (!shape || !names)
    return error("mesh") << "\"mesh\" needs a \"shape\" array of sizes and a "
                            "\"names\" array of axis names";
  if (shape->size() != names->size())
    return error("mesh") << "\"mesh\" has " << shape->size() << " sizes but "
                         << names->size() << " names";
  SmallVector<StringAttr> axisNames;
  SmallVector<int64_t> axisSizes;
  for (auto [size, name] : llvm::zip_equal(*shape, *names)) {
    std::optional<int64_t> axisSize = size.getAsInteger();
    std::optional<StringRef> axisName = name.getAsString();
    if (!axisSize || !axisName)
      return error("mesh") << "mesh sizes must be integers and names strings";
    axisSizes.push_back(*axisSize);
    axisNames.push_back(StringAttr::get(ctx, *axisName));
  }
  MeshAttr result = MeshAttr::getChecked([&] { return error("mesh"); }, ctx,
                                         ArrayRef<StringAttr>(axisNames),
                                         ArrayRef<int64_t>(axisSizes));
  if (!result)
    return failure();
  return result;
}

FailureOr<StringAttr> PlanFileReader::readAxis(const json::Object &root,
                                               StringRef key) {
  const json::Value *value = root.get(key);
  if (!value)
    return StringAttr();
  std::optional<StringRef> axis = value->getAsString();
  if (!axis)
    return error(key) << "\"" << key << "\" must name a mesh axis";
  return StringAttr::get(ctx, *axis);
}

FailureOr<ParallelStyleAttr>
PlanFileReader::readStyle(StringRef name, const json::Value &value) {
  std::optional<StringRef> styleName = value.getAsString();
  std::optional<int64_t> dim;
  StringAttr inputLayouts, outputLayouts;
  if (const json::Object *object = value.getAsObject()) {
    styleName = object->getString("style");
    for (const auto &entry : *object) {
      StringRef key = entry.first;
      if (key == "style")
        continue;
      if (key == "dim") {
        dim = entry.second.getAsInteger();
        if (!dim)
          return error(name)
                 << "plan entry \"" << name << "\": \"dim\" must be an integer";
      } else if (key == "input_layouts" || key == "output_layouts") {
        std::optional<StringRef> layout = entry.second.getAsString();
        if (!layout)
          return error(name) << "plan entry \"" << name << "\": \"" << key
                             << "\" is one layout, \"Replicate()\" or "
                                "\"Shard(d)\"";
        (key == "input_layouts" ? inputLayouts : outputLayouts) =
            StringAttr::get(ctx, *layout);
      } else if (key == "use_local_output") {
        // PyTorch's choice between a DTensor and its local tensor: every
        // value is local in a compiled step, and its layout is known.
        if (!entry.second.getAsBoolean())
          return error(name) << "plan entry \"" << name
                             << "\": \"use_local_output\" must be true or "
                                "false";
        emitWarning(locate(name))
            << "plan entry \"" << name
            << "\": use_local_output has no effect in mp (a compiled step "
               "holds local tensors and knows every layout)";
      } else if (key == "desired_input_layouts") {
        return error(name)
               << "plan entry \"" << name
               << "\": desired_input_layouts belongs to PrepareModuleInput, "
                  "which mp does not take: give the layouts on the colwise "
                  "or rowwise entries of the module's layers instead";
      } else {
        return error(name) << "plan entry \"" << name << "\" has unknown key \""
                           << key.str()
                           << "\"; expected \"style\", \"dim\", "
                              "\"input_layouts\", \"output_layouts\" and "
                              "\"use_local_output\"";
      }
    }
  }
  if (!styleName)
    return error(name) << "plan entry \"" << name
                       << "\" must be a style name or {\"style\": ..., "
                          "\"dim\": ...}";
  if (*styleName == "prepare_module_input" ||
      *styleName == "prepare_module_output")
    return error(name) << "plan entry \"" << name << "\": " << *styleName
                       << " is not an mp style: mp derives the layouts "
                          "between modules from the styles around them; give "
                          "input_layouts or output_layouts on the colwise or "
                          "rowwise entries instead";
  std::optional<ParallelStyleKind> kind =
      symbolizeParallelStyleKind(*styleName);
  if (!kind)
    return error(name) << "plan entry \"" << name << "\" has unknown style \""
                       << *styleName
                       << "\"; expected colwise, rowwise, sequence_parallel "
                          "or replicate";
  ParallelStyleAttr style = ParallelStyleAttr::getChecked(
      [&] { return error(name) << "plan entry \"" << name << "\": "; }, ctx,
      *kind, dim, inputLayouts, outputLayouts);
  if (!style)
    return failure();
  return style;
}

FailureOr<PlanFile> PlanFileReader::read(StringRef meshName) {
  if (failed(checkJsonStructure(ctx, path, text)))
    return failure();
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed) {
    // llvm::json reports "[line:column, byte=offset]: message".
    std::string message = llvm::toString(parsed.takeError());
    unsigned line = 1, column = 1;
    StringRef rest = StringRef(message).drop_front();
    if (!rest.consumeInteger(10, line) && rest.consume_front(":"))
      (void)rest.consumeInteger(10, column);
    size_t start = message.find("]: ");
    StringRef reason = start == std::string::npos
                           ? StringRef(message)
                           : StringRef(message).drop_front(start + 3);
    return emitError(FileLineColLoc::get(ctx, path, line, column))
           << "plan file is not valid JSON: " << reason;
  }
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return emitError(FileLineColLoc::get(ctx, path, 1, 1))
           << "a plan file is a JSON object";
  static constexpr StringLiteral kKeys[] = {"mesh",
                                            "tensor_parallel",
                                            "fsdp",
                                            "batch",
                                            "plan",
                                            "fsdp_groups",
                                            "reshard_after_forward",
                                            "recompute",
                                            "recompute_full_layers",
                                            "precision",
                                            "reduce_dtype",
                                            "tp_reduce_dtype",
                                            "saved_dtype"};
  for (const auto &entry : *root)
    if (!llvm::is_contained(kKeys, StringRef(entry.first)))
      return error(entry.first)
             << "unknown plan file key \"" << entry.first.str()
             << "\"; expected mesh, tensor_parallel, fsdp, batch, plan, "
                "fsdp_groups, reshard_after_forward, recompute, "
                "recompute_full_layers, precision, reduce_dtype, "
                "tp_reduce_dtype, saved_dtype";

  FailureOr<MeshAttr> mesh = readMesh(root->get("mesh"));
  FailureOr<StringAttr> tpAxis = readAxis(*root, "tensor_parallel");
  FailureOr<StringAttr> fsdpAxis = readAxis(*root, "fsdp");
  FailureOr<StringAttr> batchAxis = readAxis(*root, "batch");
  if (failed(mesh) || failed(tpAxis) || failed(fsdpAxis) || failed(batchAxis))
    return failure();

  SmallVector<NamedAttribute> styles;
  if (const json::Value *planValue = root->get("plan")) {
    const json::Object *planObject = planValue->getAsObject();
    if (!planObject)
      return error("plan") << "\"plan\" must map names to styles";
    for (const auto &entry : *planObject) {
      StringRef name = entry.first;
      FailureOr<ParallelStyleAttr> style = readStyle(name, entry.second);
      if (failed(style))
        return failure();
      styles.emplace_back(StringAttr::get(ctx, name), *style);
    }
  }

  ArrayAttr fsdpGroups;
  if (const json::Value *groups = root->get("fsdp_groups")) {
    const json::Array *array = groups->getAsArray();
    SmallVector<Attribute> names;
    for (const json::Value &group : array ? *array : json::Array())
      if (std::optional<StringRef> name = group.getAsString())
        names.push_back(StringAttr::get(ctx, *name));
    if (!array || names.size() != array->size())
      return error("fsdp_groups") << "\"fsdp_groups\" must be an array of "
                                     "module names or globs";
    fsdpGroups = ArrayAttr::get(ctx, names);
  }
  BoolAttr reshardAfterForward;
  if (const json::Value *reshard = root->get("reshard_after_forward")) {
    std::optional<bool> value = reshard->getAsBoolean();
    if (!value)
      return error("reshard_after_forward")
             << "\"reshard_after_forward\" must be true or false";
    reshardAfterForward = BoolAttr::get(ctx, *value);
  }
  StringAttr recompute;
  if (const json::Value *policy = root->get("recompute")) {
    std::optional<StringRef> value = policy->getAsString();
    if (!value || !symbolizeRecompute(*value))
      return error("recompute") << "\"recompute\" must be \"none\", "
                                   "\"selective\", \"op\" or \"full\"";
    recompute = StringAttr::get(ctx, *value);
  }
  IntegerAttr recomputeFullLayers;
  if (const json::Value *layers = root->get("recompute_full_layers")) {
    std::optional<int64_t> value = layers->getAsInteger();
    if (!value || *value < 0)
      return error("recompute_full_layers")
             << "\"recompute_full_layers\" must be a count of layers (an "
                "integer, at least 0)";
    recomputeFullLayers = IntegerAttr::get(IntegerType::get(ctx, 64), *value);
  }

  PrecisionAttr precision;
  if (const json::Value *value = root->get("precision")) {
    std::optional<StringRef> name = value->getAsString();
    std::optional<Precision> symbol =
        name ? symbolizePrecision(*name) : std::nullopt;
    if (!symbol)
      return error("precision") << "\"precision\" must be \"fp32\", "
                                   "\"tf32\" or \"bf16\"";
    precision = PrecisionAttr::get(ctx, *symbol);
  }
  TypeAttr reduceDtype, tpReduceDtype, savedDtype;
  for (auto [key, dtype] :
       {std::pair{StringRef("reduce_dtype"), &reduceDtype},
        std::pair{StringRef("tp_reduce_dtype"), &tpReduceDtype},
        std::pair{StringRef("saved_dtype"), &savedDtype}}) {
    const json::Value *value = root->get(key);
    if (!value)
      continue;
    std::optional<StringRef> name = value->getAsString();
    *dtype = name ? getPlanDtype(ctx, *name) : nullptr;
    if (!*dtype)
      return error(key) << "\"" << key << "\" must be \"f32\" or \"bf16\"";
    // Sums of bf16 GEMMs' results and a bf16 forward pass's activations.
    if (key != "reduce_dtype" && dtype->getValue().isBF16() && precision &&
        precision.getValue() != Precision::bf16)
      return error(key) << "\"" << key
                        << "\": \"bf16\" needs \"precision\": \"bf16\", got \""
                        << stringifyPrecision(precision.getValue()) << "\"";
  }

  auto meshRef = FlatSymbolRefAttr::get(ctx, meshName);
  PlanAttr plan = PlanAttr::getChecked(
      [&] { return error("plan"); }, ctx, meshRef, *tpAxis, *fsdpAxis,
      *batchAxis, DictionaryAttr::get(ctx, styles), fsdpGroups,
      reshardAfterForward, recompute, recomputeFullLayers, precision,
      reduceDtype, tpReduceDtype, savedDtype);
  if (!plan || failed(plan.verifyAxesIn([&] { return error("mesh"); }, *mesh)))
    return failure();
  return PlanFile{*mesh, plan};
}

} // namespace

FailureOr<PlanFile> readPlanFile(MLIRContext *ctx, StringRef path,
                                 StringRef meshName) {
  // Read in chunks up to the bound: a device or a pipe has no size to check
  // beforehand (--mp-apply-plan=/dev/zero would read until memory ran out).
  auto cannotRead = [&](std::error_code error) {
    return emitError(UnknownLoc::get(ctx))
           << "cannot read plan file '" << path << "': " << error.message();
  };
  llvm::Expected<llvm::sys::fs::file_t> file =
      llvm::sys::fs::openNativeFileForRead(path);
  if (!file)
    return cannotRead(llvm::errorToErrorCode(file.takeError()));
  SmallString<4096> text;
  std::error_code readError;
  while (text.size() <= kMaxPlanBytes) {
    size_t before = text.size();
    text.resize_for_overwrite(before + 65536);
    llvm::Expected<size_t> read = llvm::sys::fs::readNativeFile(
        *file, MutableArrayRef(text.data() + before, 65536));
    text.truncate(before + (read ? *read : 0));
    if (!read)
      readError = llvm::errorToErrorCode(read.takeError());
    if (!read || *read == 0)
      break;
  }
  llvm::sys::fs::closeFile(*file);
  if (readError)
    return cannotRead(readError);
  // Not located in the file: the diagnostic handler would read all of it
  // to show the line.
  if (text.size() > kMaxPlanBytes)
    return emitError(UnknownLoc::get(ctx))
           << "plan file '" << path << "' is larger than " << kMaxPlanBytes
           << " bytes; plans are small (globs cover repeated layers)";
  return PlanFileReader(ctx, path, text).read(meshName);
}

TypeAttr getPlanDtype(MLIRContext *ctx, StringRef name) {
  if (name == "f32")
    return TypeAttr::get(Float32Type::get(ctx));
  if (name == "bf16")
    return TypeAttr::get(BFloat16Type::get(ctx));
  return nullptr;
}

} // namespace mp

Location mp::locatePlanKey(MLIRContext *ctx, StringRef path, StringRef key) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return FileLineColLoc::get(ctx, path, 1, 1);
  return locateKeyInText(ctx, path, (*buffer)->getBuffer(), key);
}
