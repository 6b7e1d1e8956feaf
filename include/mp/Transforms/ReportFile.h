//===- ReportFile.h - where report passes write -----------------*- C++ -*-===//

#ifndef MP_TRANSFORMS_REPORTFILE_H
#define MP_TRANSFORMS_REPORTFILE_H

#include "mlir/IR/Operation.h"
#include "llvm/Support/ToolOutputFile.h"

#include <memory>

namespace mp {

/// Opens `path` ('-' is standard output) for the report `what`; on failure
/// reports the error at `op` and returns null. Keep() the file when done.
std::unique_ptr<llvm::ToolOutputFile>
openReportFile(mlir::Operation *op, llvm::StringRef path, llvm::StringRef what);

} // namespace mp

#endif // MP_TRANSFORMS_REPORTFILE_H
