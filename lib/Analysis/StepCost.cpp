//===- StepCost.cpp - the predicted time of a partitioned step ------------===//

#include "mp/Analysis/StepCost.h"

#include "mp/Dialect/MP/IR/MPOps.h"
#include "mp_runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

using namespace mlir;

namespace mp {

static_assert(MachineModel::kMaxRowCalls == MP_CUDA_MAX_ROW_CALLS,
              "the cost model's strided collectives are the CUDA backend's");

int64_t addSaturated(int64_t a, int64_t b) {
  return llvm::checkedAdd(a, b).value_or(INT64_MAX);
}

const MachineModel::Link &MachineModel::getLink(StringRef axis) const {
  auto it = links.find(axis);
  return it == links.end() ? defaultLink : it->second;
}

namespace {
/// The precision of `op`'s GEMMs; attention's run in its precision too.
std::optional<Precision> getOpGemmPrecision(Operation &op) {
  if (auto attention = dyn_cast<AttentionOp>(op))
    return attention.getEffectivePrecision();
  if (auto gradient = dyn_cast<AttentionGradOp>(op))
    return gradient.getEffectivePrecision();
  return getGemmPrecision(op);
}
} // namespace

std::optional<KernelCost>
MachineModel::getOnChipAttentionCost(Operation &op) const {
  if (!fitsOnChipAttention(&op, onChipAttentionMaxHeadDim))
    return std::nullopt;
  return mp::getOnChipAttentionCost(&op);
}

double MachineModel::getGemmFlopsPerSecond(Operation &op) const {
  std::optional<Precision> precision = getOpGemmPrecision(op);
  if (precision) {
    auto it =
        gemmFlopsPerSecondByPrecision.find(stringifyPrecision(*precision));
    if (it != gemmFlopsPerSecondByPrecision.end())
      return it->second;
  }
  return gemmFlopsPerSecond;
}

namespace {
/// Machine files are small; anything larger is not one.
constexpr uint64_t kMaxMachineFileBytes = 1 << 20;

/// Reads `object[key]` as a positive finite number (zero allowed with
/// `allowZero`) into `value`.
LogicalResult readRate(const llvm::json::Object &object, StringRef key,
                       double &value, bool allowZero,
                       function_ref<InFlightDiagnostic()> fail) {
  std::optional<double> number = object.getNumber(key);
  if (!number)
    return fail() << "'" << key << "' must be a number";
  if (!std::isfinite(*number) || *number < 0 || (!allowZero && *number == 0))
    return fail() << "'" << key << "' must be " << (allowZero ? "" : "above ")
                  << (allowZero ? "0 or more" : "0") << ", got " << *number;
  value = *number;
  return success();
}

/// Reads the optional string `object[key]`, one of `choices`, into `value`.
template <typename T>
LogicalResult readChoice(const llvm::json::Object &object, StringRef key,
                         ArrayRef<std::pair<StringRef, T>> choices, T &value,
                         function_ref<InFlightDiagnostic()> fail) {
  if (!object.get(key))
    return success();
  std::optional<StringRef> name = object.getString(key);
  for (auto [choice, meaning] : choices)
    if (name == choice) {
      value = meaning;
      return success();
    }
  InFlightDiagnostic diag = fail() << "'" << key << "' must be ";
  llvm::interleave(
      choices,
      [&](const auto &choice) { diag << "\"" << choice.first << "\""; },
      [&] { diag << " or "; });
  return diag;
}

/// Calls read(precision, value) for each entry of the object `root[key]`
/// (if present), whose keys must name precisions.
LogicalResult readPerPrecision(
    const llvm::json::Object &root, StringRef key,
    function_ref<InFlightDiagnostic()> fail,
    function_ref<LogicalResult(StringRef, const llvm::json::Value &)> read) {
  if (!root.get(key))
    return success();
  const llvm::json::Object *entries = root.getObject(key);
  if (!entries)
    return fail() << "'" << key << "' must be an object";
  for (const auto &entry : *entries) {
    StringRef precision = entry.first;
    if (!symbolizePrecision(precision))
      return fail() << "unknown precision '" << precision << "' in '" << key
                    << "' (fp32, tf32 or bf16)";
    if (failed(read(precision, entry.second)))
      return failure();
  }
  return success();
}

LogicalResult readLink(const llvm::json::Object &object,
                       MachineModel::Link &link,
                       function_ref<InFlightDiagnostic()> fail) {
  for (const auto &entry : object)
    if (entry.first != "bytes_per_second" && entry.first != "latency_seconds")
      return fail() << "unknown link field '" << entry.first.str() << "'";
  return failure(
      failed(readRate(object, "bytes_per_second", link.bytesPerSecond,
                      /*allowZero=*/false, fail)) ||
      failed(readRate(object, "latency_seconds", link.latencySeconds,
                      /*allowZero=*/true, fail)));
}
} // namespace

FailureOr<MachineModel> MachineModel::read(StringRef path, Location loc) {
  auto fail = [&]() {
    return emitError(loc) << "machine file '" << path << "': ";
  };
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!file)
    return fail() << file.getError().message();
  if ((*file)->getBufferSize() > kMaxMachineFileBytes)
    return fail() << "larger than " << kMaxMachineFileBytes << " bytes";
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*file)->getBuffer());
  if (!json)
    return fail() << llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return fail() << "the top level must be an object";
  MachineModel machine;
  static constexpr StringLiteral kFields[] = {
      "name",
      "gemm_flops_per_second",
      "gemm_flops_per_second_by_precision",
      "memory_bytes_per_second",
      "op_seconds",
      "links",
      "collective_factors",
      "overlap",
      "async_overlap",
      "bf16_gemm_operands",
      "strided_collectives",
      "on_chip_attention"};
  for (const auto &entry : *root)
    if (!llvm::is_contained(kFields, StringRef(entry.first)))
      return fail() << "unknown field '" << entry.first.str() << "'";
  if (std::optional<StringRef> name = root->getString("name"))
    machine.name = name->str();
  if (failed(readRate(*root, "gemm_flops_per_second",
                      machine.gemmFlopsPerSecond, /*allowZero=*/false, fail)) ||
      failed(readRate(*root, "memory_bytes_per_second",
                      machine.memoryBytesPerSecond, /*allowZero=*/false,
                      fail)) ||
      failed(readRate(*root, "op_seconds", machine.opSeconds,
                      /*allowZero=*/true, fail)))
    return failure();
  if (root->get("overlap")) {
    std::optional<bool> overlap = root->getBoolean("overlap");
    if (!overlap)
      return fail() << "'overlap' must be true or false";
    machine.overlap = *overlap;
  }
  if (root->get("async_overlap")) {
    std::optional<bool> asyncOverlap = root->getBoolean("async_overlap");
    if (!asyncOverlap)
      return fail() << "'async_overlap' must be true or false";
    machine.asyncOverlap = *asyncOverlap;
  }
  if (failed(readChoice<BFloat16GemmOperands>(
          *root, "bf16_gemm_operands",
          {{"native", BFloat16GemmOperands::Native},
           {"float32_copies", BFloat16GemmOperands::Float32Copies}},
          machine.bf16GemmOperands, fail)) ||
      failed(readChoice<StridedCollectives>(
          *root, "strided_collectives",
          {{"row_calls", StridedCollectives::RowCalls},
           {"copies", StridedCollectives::Copies}},
          machine.stridedCollectives, fail)))
    return failure();
  const llvm::json::Object *rates =
      root->getObject("gemm_flops_per_second_by_precision");
  if (failed(readPerPrecision(
          *root, "gemm_flops_per_second_by_precision", fail,
          [&](StringRef precision, const llvm::json::Value &) {
            return readRate(*rates, precision,
                            machine.gemmFlopsPerSecondByPrecision[precision],
                            /*allowZero=*/false, fail);
          })) ||
      failed(readPerPrecision(
          *root, "on_chip_attention", fail,
          [&](StringRef precision,
              const llvm::json::Value &value) -> LogicalResult {
            std::optional<int64_t> limit = value.getAsInteger();
            if (!limit || *limit < 1)
              return fail() << "'on_chip_attention' of '" << precision
                            << "' must be a head dim of 1 or more";
            machine.onChipAttentionMaxHeadDim[precision] = *limit;
            return success();
          })))
    return failure();
  if (root->get("collective_factors")) {
    const llvm::json::Object *factors = root->getObject("collective_factors");
    if (!factors)
      return fail() << "'collective_factors' must be an object";
    static constexpr StringLiteral kKinds[] = {"all_reduce", "all_gather",
                                               "reduce_scatter", "all_to_all"};
    for (const auto &entry : *factors) {
      StringRef kind = entry.first;
      if (!llvm::is_contained(kKinds, kind))
        return fail() << "unknown collective kind '" << kind
                      << "' in 'collective_factors'";
      if (failed(readRate(*factors, kind, machine.collectiveFactors[kind],
                          /*allowZero=*/false, fail)))
        return failure();
    }
  }
  const llvm::json::Object *links = root->getObject("links");
  if (!links || !links->getObject("default"))
    return fail() << "'links' must be an object with a 'default' link";
  for (const auto &[axis, value] : *links) {
    const llvm::json::Object *link = value.getAsObject();
    if (!link)
      return fail() << "link '" << axis.str() << "' must be an object";
    MachineModel::Link &target = axis == "default"
                                     ? machine.defaultLink
                                     : machine.links[StringRef(axis)];
    if (failed(readLink(*link, target, [&]() {
          return fail() << "link '" << axis.str() << "': ";
        })))
      return failure();
  }
  return machine;
}

namespace {
/// The copies a grouped call makes on the compute stream: every member's
/// input packed into the flat buffer, every result unpacked from it (each
/// byte read and written), and the kernels each side launches: one per 64
/// copies (the runtime's copy batches), a copy per tensor on the tensors'
/// contiguous side and per tensor and member on the other (the CUDA
/// backend's batches: cuda::kCopyBatchRegions, runtime/src/cuda/Kernels.h);
/// an all_reduce group's tensors are contiguous on both sides.
struct GroupCopies {
  int64_t packBytes = 0, unpackBytes = 0;
  int64_t packLaunches = 0, unpackLaunches = 0;
};

GroupCopies getGroupCopies(ArrayRef<CollectiveOpInterface> group) {
  constexpr int64_t kCopiesPerLaunch = 64;
  auto bytesOf = [](Value value) {
    return getTensorBytes(cast<RankedTensorType>(value.getType())).value_or(0);
  };
  CollectiveOpInterface leader = group.front();
  int64_t tensors = group.size();
  int64_t perMember =
      tensors *
      getGroupSize(lookupMesh(leader, leader.getMeshAttr()), leader.getAxes());
  bool gathers = isa<AllGatherOp>(leader);
  GroupCopies copies;
  for (CollectiveOpInterface member : group) {
    copies.packBytes += 2 * bytesOf(member.getInput());
    copies.unpackBytes += 2 * bytesOf(member.getResult());
  }
  auto launches = [&](int64_t copyCount) {
    return (copyCount + kCopiesPerLaunch - 1) / kCopiesPerLaunch;
  };
  bool sums = isa<AllReduceOp>(leader);
  copies.packLaunches = launches(gathers || sums ? tensors : perMember);
  copies.unpackLaunches = launches(gathers ? perMember : tensors);
  return copies;
}

/// The copies a collective called alone makes on the communication stream
/// where its pieces are not contiguous (a dim before its own is not 1): a
/// reduce_scatter packs its input before the transfer, an all_gather
/// unpacks its result after it, an all_to_all both (the CUDA backend's
/// launchSwapLeadingDims, the MPI backend's packPieces and concatPieces;
/// runtime/src/cuda/Collectives.cpp, runtime/src/MpiCollectives.cpp), one
/// kernel each, every byte read and written; none where `strided` runs an
/// all_gather or reduce_scatter of few rows as a call per row.
GroupCopies getStridedCopies(CollectiveOpInterface collective,
                             StridedCollectives stridedCollectives) {
  CollectiveSteps steps = collective.getSteps();
  bool rowCalls = stridedCollectives == StridedCollectives::RowCalls &&
                  !isa<AllToAllOp>(collective);
  auto strided = [&](Value value, std::optional<int64_t> dim) {
    if (!dim)
      return false;
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(value.getType()).getShape();
    uint64_t rows = 1;
    for (int64_t extent : shape.take_front(*dim))
      rows = llvm::SaturatingMultiply(rows, uint64_t(extent));
    return rows > 1 &&
           !(rowCalls && rows <= uint64_t(MachineModel::kMaxRowCalls));
  };
  auto bytesOf = [](Value value) {
    return getTensorBytes(cast<RankedTensorType>(value.getType())).value_or(0);
  };
  GroupCopies copies;
  if (steps.sliceDim && steps.communicates() &&
      strided(collective.getInput(), steps.sliceDim)) {
    copies.packBytes = 2 * bytesOf(collective.getInput());
    copies.packLaunches = 1;
  }
  if (strided(collective.getResult(), steps.gatherDim)) {
    copies.unpackBytes = 2 * bytesOf(collective.getResult());
    copies.unpackLaunches = 1;
  }
  return copies;
}

/// The group `op` leads, if it is a grouped call's first member.
std::optional<unsigned> getLedGroup(Operation &op, const MemoryPlan &plan) {
  auto group = plan.groupOf.find(&op);
  if (group == plan.groupOf.end() ||
      plan.collectiveGroups[group->second].front() != &op)
    return std::nullopt;
  return group->second;
}

/// Charges the kernel that converts a bf16 GEMM's operands to the dtypes
/// the GEMM reads (mp_gemm_f32). A conversion reads and writes each element
/// (6 bytes per element between float32 and bf16; 8 for a float32 rounded
/// in float32). `Native` (CUDA): a GEMM with one bfloat16 operand converts
/// the smaller operand, a float32 one rounded to bf16 for a native bf16
/// GEMM, else the bf16 one widened; one writing bf16 (mp-fuse-conversions)
/// runs natively, its float32 operands rounded first. `Float32Copies`
/// (host): every operand is copied into float32, rounded to bf16, and a
/// bf16 result is written in float32 and rounded after. Returns what the
/// conversions change in the bytes the GEMM reads and writes.
int64_t chargeOperandConversion(
    Operation &gemm, BFloat16GemmOperands bf16GemmOperands,
    function_ref<void(Operation &, int64_t, int64_t)> visit) {
  if (getGemmPrecision(gemm) != Precision::bf16)
    return 0;
  Value lhs = gemm.getOperand(0), rhs = gemm.getOperand(1);
  auto elementsOf = [](Value value) {
    return cast<RankedTensorType>(value.getType()).getNumElements();
  };
  auto isBF16 = [](Value value) {
    return getElementTypeOrSelf(value).isBF16();
  };
  // Estimates: saturated rather than wrapped.
  auto bytes = [](int64_t elements, int64_t perElement) {
    return llvm::checkedMul(elements, perElement).value_or(INT64_MAX);
  };
  if (bf16GemmOperands == BFloat16GemmOperands::Float32Copies) {
    int64_t copyBytes = 0, readBytesAdded = 0;
    for (Value operand : {lhs, rhs}) {
      int64_t elementBytes = isBF16(operand) ? 2 : 4;
      copyBytes =
          addSaturated(copyBytes, bytes(elementsOf(operand), elementBytes + 4));
      readBytesAdded = addSaturated(readBytesAdded,
                                    bytes(elementsOf(operand), 4 - elementBytes));
    }
    if (Value result = gemm.getResult(0); isBF16(result)) {
      copyBytes = addSaturated(copyBytes, bytes(elementsOf(result), 6));
      readBytesAdded =
          addSaturated(readBytesAdded, bytes(elementsOf(result), 2));
    }
    visit(gemm, 0, copyBytes);
    return readBytesAdded;
  }
  if (isBF16(gemm.getResult(0))) {
    int64_t rounded = 0;
    for (Value operand : {lhs, rhs})
      if (!isBF16(operand))
        rounded = addSaturated(rounded, elementsOf(operand));
    if (rounded)
      visit(gemm, 0, bytes(rounded, 6));
    return -bytes(rounded, 2);
  }
  if (isBF16(lhs) == isBF16(rhs))
    return 0;
  Value narrow = isBF16(lhs) ? lhs : rhs, wide = isBF16(lhs) ? rhs : lhs;
  bool roundWide = elementsOf(wide) <= elementsOf(narrow);
  int64_t converted = elementsOf(roundWide ? wide : narrow);
  visit(gemm, 0, bytes(converted, 6));
  // A tensor's bytes fit int64 (the memory plan checks), so 2 per element
  // do.
  return roundWide ? -2 * converted : 2 * converted;
}
} // namespace

void forEachKernel(
    FunctionOpInterface func, const MemoryPlan &plan,
    BFloat16GemmOperands bf16GemmOperands,
    StridedCollectives stridedCollectives,
    function_ref<void(Operation &, int64_t gemmFlops, int64_t kernelBytes)>
        visit) {
  for (Operation &op : func.getFunctionBody().front().without_terminator()) {
    // Transposes that GEMMs read through, slices that are views and
    // concatenations computed in place copy nothing.
    if (op.hasTrait<OpTrait::ConstantLike>() ||
        llvm::any_of(op.getResults(), [&](Value result) {
          return plan.transposedViews.contains(result) ||
                 plan.views.contains(result);
        }))
      continue;
    // A reshape that took over its operand's buffer copies nothing.
    if (isa<ReshapeOp>(op) &&
        plan.getStorage(op.getResult(0)) == plan.getStorage(op.getOperand(0)))
      continue;
    // A wait runs no kernel: it orders compute after a collective.
    if (isa<WaitOp>(op)) {
      visit(op, 0, 0);
      continue;
    }
    auto costed = dyn_cast<CostOpInterface>(op);
    int64_t bytes =
        costed ? costed.getKernelBytes() : getOperandAndResultBytes(&op);
    if (isa<LinearOp, MatmulOp>(op))
      bytes = addSaturated(
          bytes, chargeOperandConversion(op, bf16GemmOperands, visit));
    // A weight gradient its update computes is neither written nor read
    // back (its GEMM's FLOPs and operands stay where they are charged).
    for (Value value : llvm::concat<Value>(op.getResults(), op.getOperands()))
      if (plan.gradientsInUpdate.contains(value))
        bytes = std::max<int64_t>(
            0, bytes - getTensorBytes(cast<RankedTensorType>(value.getType()))
                           .value_or(0));
    // A GEMM summing outside its accumulator's buffer copies it there first
    // (read and written once).
    if (Value accumulator = getGemmAccumulator(op);
        accumulator &&
        plan.getStorage(accumulator) != plan.getStorage(op.getResult(0))) {
      int64_t copied =
          getTensorBytes(cast<RankedTensorType>(accumulator.getType()))
              .value_or(0);
      bytes = addSaturated(addSaturated(bytes, copied), copied);
    }
    // A grouped call's packing and unpacking, at its first member; a
    // collective called alone, its own.
    if (std::optional<unsigned> group = getLedGroup(op, plan)) {
      GroupCopies copies = getGroupCopies(plan.collectiveGroups[*group]);
      bytes += copies.packBytes + copies.unpackBytes;
    } else if (auto collective = dyn_cast<CollectiveOpInterface>(op);
               collective && !plan.groupOf.contains(&op)) {
      GroupCopies copies = getStridedCopies(collective, stridedCollectives);
      bytes += copies.packBytes + copies.unpackBytes;
    }
    visit(op, costed ? costed.getGemmFlops() : 0, bytes);
  }
}

namespace {
/// The latency steps of one collective over a ring of `size` ranks: a sum
/// that every member keeps is reduce-scatter then all-gather.
int64_t getRingSteps(const CollectiveSteps &steps, int64_t size) {
  bool allReduce = steps.sums && !steps.sliceDim && !steps.gatherDim;
  return (allReduce ? 2 : 1) * std::max<int64_t>(size - 1, 0);
}
} // namespace

StepPrediction predictStep(FunctionOpInterface func, const MemoryPlan &plan,
                           const MachineModel &machine) {
  StepPrediction prediction;
  // Two clocks: the compute stream's and the communication stream's. A
  // collective starts when both are there; a synchronous one holds compute
  // until it is done, an asynchronous one only its mp.wait does.
  double computeClock = 0, commClock = 0;
  llvm::DenseMap<Operation *, double> doneAt;
  // A grouped call packs on the compute stream before its collective and
  // unpacks after it (at its first wait when asynchronous); its members
  // ride one call, so they pay one latency and one call overhead.
  SmallVector<GroupCopies> groupCopies =
      llvm::map_to_vector(plan.collectiveGroups, [](const auto &group) {
        return getGroupCopies(group);
      });
  auto runCopies = [&](int64_t bytes, int64_t launches) {
    double seconds =
        bytes / machine.memoryBytesPerSecond + launches * machine.opSeconds;
    prediction.computeSeconds += seconds;
    prediction.computeSecondsPerOp["grouped_copies"] += seconds;
    computeClock += seconds;
  };
  auto runKernel = [&](Operation &op, int64_t flops, int64_t bytes) {
    std::optional<KernelCost> onChip = machine.getOnChipAttentionCost(op);
    if (onChip) {
      flops = onChip->gemmFlops;
      bytes = onChip->kernelBytes;
    }
    if (auto wait = dyn_cast<WaitOp>(op)) {
      // Without asynchronous overlap the collective (and a group's
      // unpacking) was done at its call.
      if (!machine.asyncOverlap)
        return;
      Operation *collective = wait.getValue().getDefiningOp();
      auto group = plan.groupOf.find(collective);
      if (group == plan.groupOf.end()) {
        computeClock = std::max(computeClock, doneAt.lookup(collective));
      } else if (plan.groupFirstWait[group->second] == &op) {
        ArrayRef<CollectiveOpInterface> members =
            plan.collectiveGroups[group->second];
        for (CollectiveOpInterface member : members)
          computeClock = std::max(computeClock, doneAt.lookup(member));
        const GroupCopies &copies = groupCopies[group->second];
        runCopies(copies.unpackBytes, copies.unpackLaunches);
      }
      return;
    }
    prediction.gemmFlops =
        addSaturated(prediction.gemmFlops, flops);
    prediction.kernelBytes =
        addSaturated(prediction.kernelBytes, bytes);
    auto collective = dyn_cast<CollectiveOpInterface>(op);
    if (collective && collective.getSteps().communicates()) {
      MeshAttr mesh = lookupMesh(&op, collective.getMeshAttr());
      int64_t size = getGroupSize(mesh, collective.getAxes());
      // The slowest of the axes' links carries the ring.
      MachineModel::Link link{INFINITY, 0};
      std::string axes;
      for (Attribute axis : collective.getAxes()) {
        StringRef name = cast<StringAttr>(axis).getValue();
        const MachineModel::Link &own = machine.getLink(name);
        link.bytesPerSecond = std::min(link.bytesPerSecond, own.bytesPerSecond);
        link.latencySeconds = std::max(link.latencySeconds, own.latencySeconds);
        axes += (axes.empty() ? "" : ",") + name.str();
      }
      auto group = plan.groupOf.find(&op);
      ArrayRef<CollectiveOpInterface> members;
      const GroupCopies *copies = nullptr;
      if (group != plan.groupOf.end()) {
        members = plan.collectiveGroups[group->second];
        copies = &groupCopies[group->second];
      }
      bool leads = members.empty() || members.front() == &op;
      if (copies && leads)
        runCopies(copies->packBytes, copies->packLaunches);
      double sent = collective.getBytesSentPerRank();
      StringRef kind = op.getName().stripDialect();
      auto factor = machine.collectiveFactors.find(kind);
      // The kind's factor prices its bytes (MPI's and NCCL's algorithms
      // and copies per byte sent); a group pays the latency and the call
      // once.
      double kindFactor =
          factor == machine.collectiveFactors.end() ? 1.0 : factor->second;
      double seconds = sent / link.bytesPerSecond * kindFactor +
                       (leads ? getRingSteps(collective.getSteps(), size) *
                                        link.latencySeconds +
                                    machine.opSeconds
                              : 0);
      // Called alone over a strided dim, it packs or unpacks on the
      // communication stream, around its transfer.
      GroupCopies strided =
          members.empty()
              ? getStridedCopies(collective, machine.stridedCollectives)
              : GroupCopies();
      double copySeconds =
          (strided.packBytes + strided.unpackBytes) /
              machine.memoryBytesPerSecond +
          (strided.packLaunches + strided.unpackLaunches) * machine.opSeconds;
      prediction.bytesSentPerRank += sent;
      prediction.commSeconds += seconds + copySeconds;
      prediction.commSecondsPerAxes[axes] += seconds + copySeconds;
      prediction.commSecondsPerKind[kind.str()] += seconds;
      if (copySeconds)
        prediction.commSecondsPerKind["strided_copies"] += copySeconds;
      seconds += copySeconds;
      commClock = std::max(computeClock, commClock) + seconds;
      if (op.hasAttr(MPDialect::kAsyncAttrName) && machine.asyncOverlap) {
        doneAt[&op] = commClock;
      } else {
        computeClock = commClock;
        if (copies && members.back() == &op)
          runCopies(copies->unpackBytes, copies->unpackLaunches);
      }
      return;
    }
    auto costed = dyn_cast<CostOpInterface>(op);
    double seconds =
        std::max(flops ? flops / machine.getGemmFlopsPerSecond(op) : 0.0,
                 bytes / machine.memoryBytesPerSecond) +
        (onChip   ? onChip->launches
         : costed ? costed.getKernelLaunches()
                  : 1) *
            machine.opSeconds;
    prediction.computeSeconds += seconds;
    prediction.computeSecondsPerOp[op.getName().getStringRef().str()] +=
        seconds;
    computeClock += seconds;
  };
  forEachKernel(func, plan, machine.bf16GemmOperands,
                machine.stridedCollectives, runKernel);
  // `overlap` in the machine file: every collective hidden as far as it
  // can be (the bound of a perfect schedule); else the step's own schedule.
  prediction.stepSeconds = machine.overlap ? std::max(prediction.computeSeconds,
                                                      prediction.commSeconds)
                                           : std::max(computeClock, commClock);
  return prediction;
}

LogicalResult
StepPrediction::verifyFinite(function_ref<InFlightDiagnostic()> fail) const {
  auto finite = [](const auto &secondsPerKey) {
    return llvm::all_of(secondsPerKey, [](const auto &entry) {
      return std::isfinite(entry.second);
    });
  };
  if (std::isfinite(stepSeconds) && std::isfinite(computeSeconds) &&
      std::isfinite(commSeconds) && finite(commSecondsPerAxes) &&
      finite(commSecondsPerKind) && finite(computeSecondsPerOp))
    return success();
  return fail() << "its rates and times make the predicted time overflow "
                   "(a rate too small or a time too large)";
}

void writePrediction(llvm::json::OStream &json,
                     const StepPrediction &prediction, bool perOp) {
  json.attribute("step_seconds", prediction.stepSeconds);
  json.attribute("compute_seconds", prediction.computeSeconds);
  json.attribute("comm_seconds", prediction.commSeconds);
  json.attributeObject("comm_seconds_per_axes", [&] {
    for (auto &[axes, seconds] : prediction.commSecondsPerAxes)
      json.attribute(axes, seconds);
  });
  json.attributeObject("comm_seconds_per_kind", [&] {
    for (auto &[kind, seconds] : prediction.commSecondsPerKind)
      json.attribute(kind, seconds);
  });
  if (perOp) {
    SmallVector<std::pair<std::string, double>> ops(
        prediction.computeSecondsPerOp.begin(),
        prediction.computeSecondsPerOp.end());
    llvm::stable_sort(
        ops, [](const auto &a, const auto &b) { return a.second > b.second; });
    json.attributeObject("compute_seconds_per_op", [&] {
      for (auto &[name, seconds] : ops)
        json.attribute(name, seconds);
    });
  }
  json.attribute("gemm_flops", prediction.gemmFlops);
  json.attribute("kernel_bytes", prediction.kernelBytes);
  json.attribute("bytes_sent_per_rank", prediction.bytesSentPerRank);
}

} // namespace mp
