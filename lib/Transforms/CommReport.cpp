//===- CommReport.cpp - what a partitioned step sends, per rank -----------===//

#include "mp/Transforms/Passes.h"

#include "mp/Transforms/BareOption.h"

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mp/Transforms/ReportFile.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/ToolOutputFile.h"

#include <map>
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "mp-comm-report"

using namespace mlir;

namespace mp {
#define GEN_PASS_DEF_COMMREPORT
#include "mp/Transforms/Passes.h.inc"

namespace {

/// A collective's operand or result bytes; the verifier made sure they fit.
int64_t getBytes(Value value) {
  return *getTensorBytes(cast<RankedTensorType>(value.getType()));
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

  /// `--mp-comm-report=FILE` abbreviates `--mp-comm-report=output=FILE`.
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    return Base::initializeOptions(expandBareOption(options, "output"),
                                   errorHandler);
  }

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
    // A group of collectives is one call: counted once, bytes summed.
    llvm::DenseSet<Operation *> grouped;
    for (ArrayRef<CollectiveOpInterface> group :
         getCollectiveGroups(func.getFunctionBody().front()))
      for (CollectiveOpInterface member : group.drop_front())
        grouped.insert(member);
    json.object([&] {
      json.attribute("function", func.getName());
      json.attributeArray("collectives", [&] {
        func.getFunctionBody().walk([&](CollectiveOpInterface op) {
          MeshAttr mesh = lookupMesh(op, op.getMeshAttr());
          double bytesPerRank = op.getBytesSentPerRank();
          LLVM_DEBUG(llvm::dbgs() << "[mp-comm-report] " << op->getName()
                                  << " at " << op->getLoc() << ": "
                                  << bytesPerRank << " bytes per rank\n");
          double global = bytesPerRank * mesh.getNumDevices();
          auto type = cast<RankedTensorType>(op.getInput().getType());
          json.object([&] {
            json.attribute("kind", op->getName().stripDialect());
            json.attributeArray("axes", [&] {
              for (Attribute axis : op.getAxes())
                json.value(cast<StringAttr>(axis).getValue());
            });
            json.attribute("group_size", getGroupSize(mesh, op.getAxes()));
            std::string elementType;
            llvm::raw_string_ostream(elementType) << type.getElementType();
            json.attribute("element_type", elementType);
            writeShape(json, op.getInput());
            json.attribute("input_bytes", getBytes(op.getInput()));
            json.attribute("output_bytes", getBytes(op.getResult()));
            json.attribute("bytes_per_rank", bytesPerRank);
            json.attribute("bytes_global", global);
            StringAttr origin = op.getOriginAttr();
            json.attribute("origin", origin ? origin.getValue() : StringRef());
            if (auto group = op->getAttrOfType<StringAttr>(
                    MPDialect::kFsdpGroupAttrName))
              json.attribute("fsdp_group", group.getValue());
            if (auto group = op->getAttrOfType<IntegerAttr>(
                    MPDialect::kCoalescedAttrName))
              json.attribute("coalesced", group.getInt());
            if (op->hasAttr(MPDialect::kRegatherAttrName))
              json.attribute("regather", true);
          });
          if (!op.getSteps().communicates())
            return;
          Total &total = perAxes[joinAxes(op.getAxes())];
          for (Total *t : {&total, &step}) {
            t->count += !grouped.contains(op);
            t->bytesPerRank += bytesPerRank;
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
