//===- Summary.cpp - a model summary with per-rank placement --------------===//

#include "mp/Transforms/Passes.h"

#include "mp/Transforms/BareOption.h"

#include "mp/Dialect/MP/IR/MPModel.h"
#include "mp/Dialect/MP/IR/MPOps.h"

#include "mlir/IR/SymbolTable.h"
#include "mp/Transforms/ReportFile.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-summary"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_SUMMARY
#include "mp/Transforms/Passes.h.inc"

namespace {

/// Lightning's get_human_readable_count: "123", "6.2 K", "67.1 M", "201 M".
std::string formatCount(int64_t count) {
  static constexpr const char *kUnits[] = {" ", "K", "M", "B", "T"};
  int digits =
      count > 0 ? static_cast<int>(std::floor(std::log10(count))) + 1 : 1;
  int groups = std::min<int>((digits + 2) / 3, std::size(kUnits));
  double scaled = count * std::pow(10.0, -3 * (groups - 1));
  std::string text;
  llvm::raw_string_ostream os(text);
  if (groups < 2 || scaled >= 100)
    os << static_cast<int64_t>(scaled) << ' ' << kUnits[groups - 1];
  else
    os << llvm::format("%.1f", scaled) << ' ' << kUnits[groups - 1];
  return text;
}

std::string formatShape(RankedTensorType type) {
  if (type.getRank() == 0)
    return "scalar";
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleave(type.getShape(), os, "x");
  return text;
}

/// DTensor-style placement of a sharding on one mesh axis: S(d), P or R.
std::string formatPlacement(ShardingAttr sharding, StringRef axis) {
  if (!sharding)
    return "R";
  for (int64_t dim = 0; dim < sharding.getRank(); ++dim)
    if (llvm::is_contained(sharding.getDimAxes(dim), axis))
      return ("S(" + Twine(dim) + ")").str();
  if (llvm::is_contained(sharding.getPartialAxes(), axis))
    return "P";
  return "R";
}

/// The ops that consume `value`, looking through annotations.
std::string formatConsumers(Value value) {
  llvm::SmallSetVector<StringRef, 4> names;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (Operation *user : current.getUsers()) {
      if (auto annotate = dyn_cast<AnnotateOp>(user)) {
        worklist.push_back(annotate.getResult());
        continue;
      }
      StringRef name = user->getName().getStringRef();
      names.insert(name.starts_with("mp.") ? name.drop_front(3) : name);
    }
  }
  if (names.empty())
    return "-";
  SmallVector<StringRef> sorted(names.begin(), names.end());
  llvm::sort(sorted);
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleave(sorted, os, ",");
  return text;
}

struct Row {
  std::string index, name, op, shape, params;
  SmallVector<std::string> placements;
  std::string localParams;
};

struct SummaryPass : impl::SummaryBase<SummaryPass> {
  using Base::Base;

  /// `--mp-summary=FILE` abbreviates `--mp-summary=output=FILE`.
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    return Base::initializeOptions(expandBareOption(options, "output"),
                                   errorHandler);
  }

  void runOnOperation() override {
    std::unique_ptr<llvm::ToolOutputFile> file =
        openReportFile(getOperation(), output, "summary output");
    if (!file)
      return signalPassFailure();
    getOperation().walk(
        [&](FunctionOpInterface func) { summarize(func, file->os()); });
    file->keep();
  }

  void summarize(FunctionOpInterface func, raw_ostream &os);
};

void SummaryPass::summarize(FunctionOpInterface func, raw_ostream &os) {
  LLVM_DEBUG(llvm::dbgs() << "[mp-summary] @" << func.getName() << "\n");
  SmallVector<ModelValue> params =
      llvm::filter_to_vector(getModelValues(func), [](const ModelValue &v) {
        return v.role == ModelRole::Param;
      });
  if (params.empty())
    return;

  // The mesh of the first sharded parameter; the verifier has checked that
  // every sharding names an existing mesh.
  MeshAttr mesh;
  FlatSymbolRefAttr meshName;
  for (const ModelValue &param : params)
    if (ShardingAttr sharding = param.getSharding(func)) {
      meshName = sharding.getMesh();
      mesh = SymbolTable::lookupNearestSymbolFrom<MeshOp>(func, meshName)
                 .getMesh();
      break;
    }

  SmallVector<std::string> header = {"", "Name", "Op", "Shape", "Params"};
  if (mesh) {
    for (StringAttr axis : mesh.getAxisNames())
      header.push_back(axis.getValue().str());
    header.push_back("Params per rank");
  }

  SmallVector<Row> rows;
  int64_t totalParams = 0, totalLocal = 0;
  double totalBytes = 0, localBytes = 0;
  for (auto [index, param] : llvm::enumerate(params)) {
    ShardingAttr sharding = param.getSharding(func);
    int64_t count = param.type.getNumElements();
    SmallVector<int64_t> localShape =
        sharding && mesh ? sharding.getLocalShape(param.type.getShape(), mesh)
                         : SmallVector<int64_t>(param.type.getShape());
    int64_t local = 1;
    for (int64_t extent : localShape)
      local *= extent;
    double elementBytes =
        param.type.getElementType().getIntOrFloatBitWidth() / 8.0;
    totalParams += count;
    totalLocal += local;
    totalBytes += count * elementBytes;
    localBytes += local * elementBytes;

    Row row;
    row.index = std::to_string(index);
    row.name = param.name.getValue().str();
    row.op = func.isExternal() ? "-"
                               : formatConsumers(func.getArgument(param.index));
    row.shape = formatShape(param.type);
    row.params = formatCount(count);
    if (mesh) {
      for (StringAttr axis : mesh.getAxisNames())
        row.placements.push_back(formatPlacement(sharding, axis.getValue()));
      row.localParams = formatCount(local);
    }
    rows.push_back(std::move(row));
  }

  auto cells = [&](const Row &row) {
    SmallVector<std::string> result = {row.index, row.name, row.op, row.shape,
                                       row.params};
    if (mesh) {
      llvm::append_range(result, row.placements);
      result.push_back(row.localParams);
    }
    return result;
  };
  SmallVector<size_t> widths;
  for (const std::string &title : header)
    widths.push_back(title.size());
  for (const Row &row : rows)
    for (auto [column, cell] : llvm::enumerate(cells(row)))
      widths[column] = std::max(widths[column], cell.size());
  auto printLine = [&](ArrayRef<std::string> line) {
    for (auto [column, cell] : llvm::enumerate(line)) {
      if (column > 0)
        os << " | ";
      os << cell;
      if (column + 1 < line.size())
        os.indent(widths[column] - cell.size());
    }
    os << '\n';
  };
  size_t ruleWidth = 3 * (widths.size() - 1);
  for (size_t width : widths)
    ruleWidth += width;
  std::string rule(ruleWidth, '-');

  os << "Model summary of @" << func.getName();
  if (mesh) {
    os << " on mesh " << meshName << " <";
    llvm::interleaveComma(
        llvm::zip_equal(mesh.getAxisNames(), mesh.getAxisSizes()), os,
        [&](auto axis) {
          os << std::get<0>(axis).getValue() << " = " << std::get<1>(axis);
        });
    os << "> (" << mesh.getNumDevices() << " ranks)";
  }
  os << '\n';
  printLine(header);
  os << rule << '\n';
  for (const Row &row : rows)
    printLine(cells(row));
  os << rule << '\n';
  auto printTotal = [&](const std::string &value, StringRef what) {
    os << value;
    os.indent(value.size() < 10 ? 10 - value.size() : 1);
    os << what << '\n';
  };
  auto formatMB = [](double bytes) {
    std::string text;
    llvm::raw_string_ostream(text) << llvm::format("%.3f", bytes / 1e6);
    return text;
  };
  printTotal(formatCount(totalParams), "Total params");
  if (mesh)
    printTotal(formatCount(totalLocal), "Params per rank");
  printTotal(formatMB(totalBytes), "Total estimated model params size (MB)");
  if (mesh)
    printTotal(formatMB(localBytes), "Estimated params size per rank (MB)");
}

} // namespace
} // namespace mp
