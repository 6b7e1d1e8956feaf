//===- ReportFile.cpp - where report passes write -------------------------===//

#include "mp/Transforms/ReportFile.h"

#include "mlir/Support/FileUtilities.h"

namespace mp {

std::unique_ptr<llvm::ToolOutputFile> openReportFile(mlir::Operation *op,
                                                     llvm::StringRef path,
                                                     llvm::StringRef what) {
  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> file =
      mlir::openOutputFile(path, &errorMessage);
  if (!file)
    op->emitError() << "cannot open " << what << " '" << path
                    << "': " << errorMessage;
  return file;
}

} // namespace mp
