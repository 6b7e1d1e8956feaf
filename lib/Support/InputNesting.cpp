//===- InputNesting.cpp - bound the nesting of MLIR text before parsing ---===//

#include "mp/Support/InputNesting.h"

#include "mlir/Support/FileUtilities.h"

using namespace mlir;

namespace mp {

LogicalResult checkInputNesting(llvm::SourceMgr &sourceMgr) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  StringRef text = buffer->getBuffer();
  unsigned depth = 0;
  for (size_t at = 0; at < text.size(); ++at) {
    char c = text[at];
    char next = at + 1 < text.size() ? text[at + 1] : '\0';
    if (c == '/' && next == '/') {
      at = text.find('\n', at);
      if (at == StringRef::npos)
        break;
    } else if (c == '"') {
      for (++at; at < text.size() && text[at] != '"'; ++at)
        if (text[at] == '\\')
          ++at;
    } else if (c == '(' || c == '[' || c == '{' || (c == '<' && next != '=')) {
      if (++depth > kMaxInputNesting) {
        sourceMgr.PrintMessage(
            llvm::SMLoc::getFromPointer(text.data() + at),
            llvm::SourceMgr::DK_Error,
            "brackets nest deeper than " + Twine(kMaxInputNesting) +
                " levels here; mp refuses input that would exhaust the "
                "parser's stack");
        return failure();
      }
    } else if (c == ')' || c == ']' || c == '}' ||
               (c == '>' && next != '=' && (at == 0 || text[at - 1] != '-'))) {
      depth -= depth > 0;
    }
  }
  return success();
}

LogicalResult checkInputFileNesting(StringRef path) {
  if (path == "-")
    return success();
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(path, &error);
  if (!file)
    return success(); // The tool reports it when it opens the file.
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return checkInputNesting(sourceMgr);
}

} // namespace mp
