//===- PlanResolution.cpp - which plan entry styles which value -----------===//

#include "mp/Plan/PlanResolution.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/GlobPattern.h"

using namespace mlir;

namespace mp {

namespace {
bool matchesComponents(StringRef pattern, StringRef name,
                       StringRef separators) {
  auto split = [&](StringRef path) {
    SmallVector<StringRef> parts;
    for (size_t end; (end = path.find_first_of(separators)) != StringRef::npos;
         path = path.drop_front(end + 1))
      parts.push_back(path.take_front(end));
    parts.push_back(path);
    return parts;
  };
  SmallVector<StringRef> patternParts = split(pattern), nameParts = split(name);
  if (patternParts.size() != nameParts.size())
    return false;
  for (auto [part, namePart] : llvm::zip_equal(patternParts, nameParts)) {
    llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(part);
    if (!glob) {
      // A malformed glob (an unclosed '[') matches only itself.
      llvm::consumeError(glob.takeError());
      if (part != namePart)
        return false;
      continue;
    }
    if (!glob->match(namePart))
      return false;
  }
  return true;
}
} // namespace

bool matchesPlanKey(StringRef pattern, StringRef name) {
  // torch.export writes a module path's dots as underscores
  // (`p_layers_0_attention_norm_weight`) and mp-import cannot tell which
  // underscores were dots: `layers.*.attention_norm` also matches the
  // imported `layers.0.attention.norm`, components split at both.
  return matchesComponents(pattern, name, ".") ||
         matchesComponents(pattern, name, "._");
}

StringRef getPlanName(const ModelValue &value) {
  if (value.role == ModelRole::State)
    return value.name.getValue().rsplit('.').first;
  return value.name.getValue();
}

std::optional<StringRef> getPlanModule(const ModelValue &value) {
  if (value.role != ModelRole::Param && value.role != ModelRole::State)
    return std::nullopt;
  // parallelize_module's styles touch a module's `weight` and `bias` only.
  StringRef name = getPlanName(value);
  for (StringRef member : {".weight", ".bias"})
    if (name.size() > member.size() && name.consume_back(member))
      return name;
  return std::nullopt;
}

namespace {
/// The glob entry of `plan` matching `target`, if any; globs that match it
/// must agree. `what` says what `target` is, for the error.
FailureOr<std::optional<NamedAttribute>>
findGlobEntry(PlanAttr plan, StringRef target, StringRef what, Location loc) {
  std::optional<NamedAttribute> found;
  for (NamedAttribute entry : plan.getStyles()) {
    if (!matchesPlanKey(entry.getName().getValue(), target))
      continue;
    if (found && found->getValue() != entry.getValue())
      return emitError(loc)
             << "plan entries '" << found->getName().getValue() << "' and '"
             << entry.getName().getValue() << "' both match " << what << "'"
             << target << "' with different styles";
    if (!found)
      found = entry;
  }
  return found;
}
} // namespace

FailureOr<std::optional<NamedAttribute>>
findPlanEntry(PlanAttr plan, const ModelValue &value, Location loc) {
  DictionaryAttr styles = plan.getStyles();
  StringRef name = getPlanName(value);
  std::optional<StringRef> module = getPlanModule(value);
  if (std::optional<NamedAttribute> exact = styles.getNamed(name))
    return exact;
  if (module)
    if (std::optional<NamedAttribute> exact = styles.getNamed(*module))
      return exact;
  FailureOr<std::optional<NamedAttribute>> glob =
      findGlobEntry(plan, name, "", loc);
  if (failed(glob) || *glob || !module)
    return glob;
  return findGlobEntry(plan, *module, "module ", loc);
}

FailureOr<std::optional<NamedAttribute>>
findModuleEntry(PlanAttr plan, StringRef module, Location loc) {
  if (std::optional<NamedAttribute> exact = plan.getStyles().getNamed(module))
    return exact;
  return findGlobEntry(plan, module, "module ", loc);
}

namespace {
/// Appends `axis` to the axes splitting `dim`, if the plan names the axis.
void splitDim(SmallVector<SmallVector<StringRef>> &dims, int64_t dim,
              StringAttr axis) {
  if (axis && dim < static_cast<int64_t>(dims.size()))
    dims[dim].push_back(axis.getValue());
}

/// Checks that `style` may apply to `value`; returns the dim it splits over
/// the tensor-parallel axis, or -1 when it splits none.
FailureOr<int64_t> getStyledDim(ParallelStyleAttr style, StringRef key,
                                const ModelValue &value, Location loc) {
  int64_t rank = value.type.getRank();
  StringRef styleName = stringifyParallelStyleKind(style.getKind());
  auto fail = [&]() {
    return emitError(loc) << "plan entry '" << key << "' (" << styleName
                          << ") cannot apply to "
                          << stringifyModelRole(value.role) << " '"
                          << value.name.getValue() << "' of type " << value.type
                          << ": ";
  };
  switch (style.getKind()) {
  case ParallelStyleKind::colwise:
  case ParallelStyleKind::rowwise:
    if (value.role != ModelRole::Param && value.role != ModelRole::State)
      return fail() << styleName << " shards the weight of a linear layer, "
                    << "so it applies to parameters only";
    // An embedding's [vocab, dim] table: rowwise splits the vocabulary,
    // colwise the embedding dim, as the styles do on nn.Embedding.
    if (rank == 2)
      return (style.getKind() == ParallelStyleKind::colwise) !=
                     value.isEmbeddingTable
                 ? 0
                 : 1;
    // A bias: split like the output features under colwise, replicated
    // under rowwise, as PyTorch's styles do.
    if (rank == 1)
      return style.getKind() == ParallelStyleKind::colwise ? 0 : -1;
    return fail() << "it needs an [out, in] weight (rank 2) or a bias (rank "
                     "1), not rank "
                  << rank;
  case ParallelStyleKind::sequence_parallel: {
    // On a norm (SequenceParallel on an RMSNorm or LayerNorm module): its
    // activations are split, its weight (and bias) whole.
    if (value.isNormWeight)
      return -1;
    if (value.role == ModelRole::Param || value.role == ModelRole::State)
      return fail() << "sequence_parallel splits activations; it applies to "
                       "inputs, targets, outputs and norms";
    int64_t dim = getSequenceDim(style, rank);
    if (dim < 0 || dim >= rank)
      return fail() << "sequence dim " << dim << " is out of range for rank "
                    << rank;
    return dim;
  }
  case ParallelStyleKind::replicate:
    return -1;
  }
  llvm_unreachable("unknown parallel style");
}
} // namespace

FailureOr<ShardingAttr> getStorageSharding(PlanAttr plan, MeshAttr mesh,
                                           const ModelValue &value,
                                           std::optional<NamedAttribute> entry,
                                           Location loc) {
  int64_t rank = value.type.getRank();
  SmallVector<SmallVector<StringRef>> dims(rank);
  int64_t styledDim = -1;
  if (entry) {
    FailureOr<int64_t> dim =
        getStyledDim(cast<ParallelStyleAttr>(entry->getValue()),
                     entry->getName().getValue(), value, loc);
    if (failed(dim))
      return failure();
    styledDim = *dim;
  }
  // Optimizer state is laid out as its parameter (ZeRO). FSDP2 shards the
  // tensor-parallel shard further, so its axis is minor to the style's; the
  // batch split of data is major to sequence parallelism's.
  ShardingAttr sharding;
  if (value.role == ModelRole::Param || value.role == ModelRole::State) {
    if (styledDim >= 0)
      splitDim(dims, styledDim, plan.getTpAxis());
    splitDim(dims, 0, plan.getFsdpAxis());
    sharding = ShardingAttr::get(plan.getMesh(), dims);
  } else {
    sharding = getActivationSharding(plan, rank, styledDim);
  }
  if (failed(sharding.verifyFor(
          [&] {
            InFlightDiagnostic diag = emitError(loc);
            diag << "plan cannot shard " << stringifyModelRole(value.role)
                 << " '" << value.name.getValue() << "'";
            if (entry)
              diag << " (entry '" << entry->getName().getValue() << "')";
            diag << ": ";
            return diag;
          },
          value.type, mesh)))
    return failure();
  return sharding;
}

ShardingAttr getActivationSharding(PlanAttr plan, int64_t rank,
                                   int64_t sequenceDim) {
  SmallVector<SmallVector<StringRef>> dims(rank);
  splitDim(dims, 0, plan.getEffectiveBatchAxis());
  if (sequenceDim >= 0)
    splitDim(dims, sequenceDim, plan.getTpAxis());
  return ShardingAttr::get(plan.getMesh(), dims);
}

int64_t getSequenceDim(ParallelStyleAttr style, int64_t rank) {
  return style.getDim() ? *style.getDim() : rank - 2;
}

ShardingAttr getUseSharding(PlanAttr plan, ShardingAttr storage) {
  StringAttr fsdpAxis = plan.getFsdpAxis();
  if (!fsdpAxis)
    return storage;
  SmallVector<SmallVector<StringRef>> dims;
  for (int64_t dim = 0; dim < storage.getRank(); ++dim) {
    dims.push_back(storage.getDimAxes(dim));
    llvm::erase(dims.back(), fsdpAxis.getValue());
  }
  return ShardingAttr::get(storage.getMesh(), dims, storage.getPartialAxes());
}

StringRef getFsdpGroup(StringRef name, PlanAttr plan) {
  ArrayAttr groups = plan ? plan.getFsdpGroups() : ArrayAttr();
  StringRef group;
  for (size_t dot = name.find('.'); dot != StringRef::npos;
       dot = name.find('.', dot + 1)) {
    StringRef prefix = name.take_front(dot);
    if (!groups) {
      StringRef component = prefix.substr(prefix.rfind('.') + 1);
      if (!component.empty() &&
          llvm::all_of(component, [](char c) { return llvm::isDigit(c); }))
        return prefix;
      continue;
    }
    if (llvm::any_of(groups, [&](Attribute pattern) {
          return matchesPlanKey(cast<StringAttr>(pattern).getValue(), prefix);
        }))
      group = prefix;
  }
  return group;
}

bool getReshardAfterForward(PlanAttr plan) {
  return plan && plan.getReshardAfterForward() &&
         plan.getReshardAfterForward().getValue();
}

} // namespace mp
