//===- CommReport.cpp - what a partitioned step sends, per rank -----------===//

#include "mp/Transforms/Passes.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mp/Transforms/ReportFile.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/ToolOutputFile.h"

#include <map>

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_COMMREPORT
#include "mp/Transforms/Passes.h.inc"

namespace {

int64_t getBytes(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

/// What one collective moves.
struct Traffic {
  StringRef kind;
  Value input;
  Value output;
  FlatSymbolRefAttr mesh;
  ArrayAttr axes;
  StringAttr origin;
  /// Bytes each rank sends with a ring algorithm over a group of n ranks.
  double bytesPerRank;
};

/// The ring-algorithm cost: all_reduce sends 2(n-1)/n of its buffer,
/// all_gather (n-1)/n of its result, reduce_scatter and all_to_all (n-1)/n
/// of their input; a shard_slice sends nothing.
std::optional<Traffic> getTraffic(Operation *op) {
  auto ring = [](int64_t n) { return double(n - 1) / double(n); };
  if (auto c = dyn_cast<AllReduceOp>(op))
    return Traffic{"all_reduce",
                   c.getInput(),
                   c.getResult(),
                   c.getMeshAttr(),
                   c.getAxes(),
                   c.getOriginAttr(),
                   2 * ring(c.getGroupSize()) * getBytes(c.getInput())};
  if (auto c = dyn_cast<AllGatherOp>(op))
    return Traffic{"all_gather",
                   c.getInput(),
                   c.getResult(),
                   c.getMeshAttr(),
                   c.getAxes(),
                   c.getOriginAttr(),
                   ring(c.getGroupSize()) * getBytes(c.getResult())};
  if (auto c = dyn_cast<ReduceScatterOp>(op))
    return Traffic{"reduce_scatter",
                   c.getInput(),
                   c.getResult(),
                   c.getMeshAttr(),
                   c.getAxes(),
                   c.getOriginAttr(),
                   ring(c.getGroupSize()) * getBytes(c.getInput())};
  if (auto c = dyn_cast<AllToAllOp>(op))
    return Traffic{"all_to_all",
                   c.getInput(),
                   c.getResult(),
                   c.getMeshAttr(),
                   c.getAxes(),
                   c.getOriginAttr(),
                   ring(c.getGroupSize()) * getBytes(c.getInput())};
  if (auto c = dyn_cast<ShardSliceOp>(op))
    return Traffic{"shard_slice",
                   c.getInput(),
                   c.getResult(),
                   c.getMeshAttr(),
                   c.getAxes(),
                   c.getOriginAttr(),
                   0};
  return std::nullopt;
}

std::string joinAxes(ArrayAttr axes) {
  std::string key;
  llvm::raw_string_ostream os(key);
  llvm::interleave(
      axes, os,
      [&](Attribute axis) { os << cast<StringAttr>(axis).getValue(); }, ",");
  return key;
}

void writeShape(llvm::json::OStream &json, Value value) {
  json.attributeArray("shape", [&] {
    for (int64_t extent : cast<RankedTensorType>(value.getType()).getShape())
      json.value(extent);
  });
}

struct CommReportPass : impl::CommReportBase<CommReportPass> {
  using Base::Base;

  void runOnOperation() override {
    std::unique_ptr<llvm::ToolOutputFile> file =
        openReportFile(getOperation(), output, "communication report");
    if (!file)
      return signalPassFailure();
    llvm::json::OStream json(file->os(), /*IndentSize=*/2);
    json.object([&] {
      json.attributeArray("functions", [&] {
        getOperation().walk([&](FunctionOpInterface func) {
          if (func->hasAttr(MPDialect::kPartitionedAttrName))
            report(json, func);
        });
      });
    });
    file->os() << '\n';
    file->keep();
  }

  void report(llvm::json::OStream &json, FunctionOpInterface func) {
    struct Total {
      int64_t count = 0;
      double bytesPerRank = 0;
      double bytesGlobal = 0;
    };
    llvm::MapVector<std::string, Total, std::map<std::string, unsigned>>
        perAxes;
    Total step;
    json.object([&] {
      json.attribute("function", func.getName());
      json.attributeArray("collectives", [&] {
        func.getFunctionBody().walk([&](Operation *op) {
          std::optional<Traffic> traffic = getTraffic(op);
          if (!traffic)
            return;
          MeshAttr mesh = lookupMesh(op, traffic->mesh);
          double global = traffic->bytesPerRank * mesh.getNumDevices();
          auto type = cast<RankedTensorType>(traffic->input.getType());
          json.object([&] {
            json.attribute("kind", traffic->kind);
            json.attributeArray("axes", [&] {
              for (Attribute axis : traffic->axes)
                json.value(cast<StringAttr>(axis).getValue());
            });
            json.attribute("group_size", getGroupSize(mesh, traffic->axes));
            std::string elementType;
            llvm::raw_string_ostream(elementType) << type.getElementType();
            json.attribute("element_type", elementType);
            writeShape(json, traffic->input);
            json.attribute("input_bytes", getBytes(traffic->input));
            json.attribute("output_bytes", getBytes(traffic->output));
            json.attribute("bytes_per_rank", traffic->bytesPerRank);
            json.attribute("bytes_global", global);
            json.attribute("origin", traffic->origin
                                         ? traffic->origin.getValue()
                                         : StringRef());
          });
          if (traffic->kind == "shard_slice")
            return;
          Total &total = perAxes[joinAxes(traffic->axes)];
          for (Total *t : {&total, &step}) {
            t->count += 1;
            t->bytesPerRank += traffic->bytesPerRank;
            t->bytesGlobal += global;
          }
        });
      });
      auto writeTotal = [&](const Total &total) {
        json.attribute("count", total.count);
        json.attribute("bytes_per_rank", total.bytesPerRank);
        json.attribute("bytes_global", total.bytesGlobal);
      };
      json.attributeObject("per_axes", [&] {
        for (auto &[axes, total] : perAxes)
          json.attributeObject(axes, [&] { writeTotal(total); });
      });
      json.attributeObject("total", [&] { writeTotal(step); });
    });
  }
};

} // namespace
} // namespace mp
