//===- Interpreter.h - a reference interpreter for mp programs --*- C++ -*-===//
//
// Executes a function of the mp dialect on host tensors in double
// precision, whatever its element types: the global program as it is, and a
// partitioned program (mp.partitioned) on every rank of its mesh in
// lockstep, the collectives exchanging between the simulated ranks. It is
// the reference the tests compare compiled programs against: partitioning
// must not change results, and VJP rules must match finite differences.
//
//===----------------------------------------------------------------------===//

#ifndef MP_EXECUTION_INTERPRETER_H
#define MP_EXECUTION_INTERPRETER_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Support/LLVM.h"

#include <vector>

namespace mp {

/// A dense row-major tensor; integers are held exactly as doubles.
struct HostTensor {
  llvm::SmallVector<int64_t> shape;
  std::vector<double> data;

  static HostTensor zeros(llvm::ArrayRef<int64_t> shape);
  int64_t getNumElements() const;
};

/// Checks that every tensor `func` holds fits the interpreter in this
/// machine's memory: its global arguments and results, and each value on all
/// ranks it runs (float64 per element). A tensor too large is a located error
/// with its size, before anything is allocated.
mlir::LogicalResult checkInterpreterMemory(mlir::FunctionOpInterface func);

/// Runs `func` on GLOBAL arguments and returns its GLOBAL results. A
/// partitioned function runs on every rank of its mesh, each on its piece of
/// every argument; its results are assembled from the pieces (partial axes
/// summed; replicas checked to agree within `replicaTolerance`). Problems
/// (an op it cannot run, mismatched shapes) are located errors.
mlir::FailureOr<std::vector<HostTensor>>
runFunction(mlir::FunctionOpInterface func, llvm::ArrayRef<HostTensor> args,
            double replicaTolerance = 1e-9);

} // namespace mp

#endif // MP_EXECUTION_INTERPRETER_H
