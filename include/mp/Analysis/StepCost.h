//===- StepCost.h - the predicted time of a partitioned step ----*- C++ -*-===//
//
// A machine is a few constants per rank (GEMM rate, memory bandwidth, the
// cost of launching an op) and per mesh axis (link bandwidth and latency);
// a step's time is what its ops and collectives cost on it: each op the
// slower of its GEMM FLOPs and its bytes at those rates, plus the launch;
// each collective the bytes a rank sends over the slowest of its axes'
// links plus a latency per ring step. The memory plan and the
// communication report count the same FLOPs and bytes: what is predicted
// here is their time.
//
//===----------------------------------------------------------------------===//

#ifndef MP_ANALYSIS_STEPCOST_H
#define MP_ANALYSIS_STEPCOST_H

#include "mp/Analysis/MemoryPlan.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <optional>
#include <string>

namespace mp {

/// a + b, or INT64_MAX past it: step estimates saturate rather than wrap.
int64_t addSaturated(int64_t a, int64_t b);

/// How a backend feeds a bf16 GEMM (#mp.precision<bf16>) its operands.
enum class BFloat16GemmOperands {
  /// A native bf16 GEMM: operands of one dtype are read as they are, and of
  /// mixed ones the smaller is converted first (the CUDA backend).
  Native,
  /// A float32 GEMM on float32 copies of both operands, each rounded to
  /// bf16 (the host backend's SGEMM).
  Float32Copies,
};

/// How a backend runs an all_gather or reduce_scatter over a dim whose
/// pieces are strided (a dim before it is not 1).
enum class StridedCollectives {
  /// One call per row of the dims before it, grouped, where there are at
  /// most kMaxRowCalls rows; packed copies for more (the CUDA backend's
  /// NCCL calls).
  RowCalls,
  /// Pieces packed before the call and unpacked after it, on the
  /// communication stream (the MPI backend).
  Copies,
};

struct MachineModel {
  struct Link {
    double bytesPerSecond = 0;
    double latencySeconds = 0;
  };

  std::string name;
  /// Per rank, as the ranks run together (ranks sharing a device or cores
  /// share its rates).
  double gemmFlopsPerSecond = 0;
  /// The GEMM rate per #mp.precision ("fp32", "tf32", "bf16") where the
  /// file gives one; gemmFlopsPerSecond for the others.
  llvm::StringMap<double> gemmFlopsPerSecondByPrecision;
  double memoryBytesPerSecond = 0;
  /// What running one op costs beyond its FLOPs and bytes (a kernel launch,
  /// a runtime call).
  double opSeconds = 0;
  /// Links by mesh axis name; `defaultLink` for the others.
  llvm::StringMap<Link> links;
  Link defaultLink;
  /// Per collective kind ("all_reduce", "all_gather", ...), a factor on the
  /// time of its bytes (not its latency): MPI and NCCL run each kind with
  /// their own algorithm, at their own rate per byte sent. 1 for kinds not
  /// named.
  llvm::StringMap<double> collectiveFactors;
  /// Whether communication runs beside compute (the step takes the longer
  /// of the two) or after it (their sum).
  bool overlap = false;
  /// Whether a collective the step issues asynchronously (`mp.async`) runs
  /// beside the compute up to its wait, as NCCL on its own stream does;
  /// false where it runs at its call (MPI on the host progresses only
  /// inside MPI calls).
  bool asyncOverlap = true;
  BFloat16GemmOperands bf16GemmOperands = BFloat16GemmOperands::Native;
  /// What a step's memory is planned for here: the host's runtime scratch
  /// where bf16 GEMMs run on float32 copies, else CUDA's, attention on chip
  /// as onChipAttentionMaxHeadDim says.
  PlanTarget getPlanTarget() const {
    PlanTarget target;
    target.backend = bf16GemmOperands == BFloat16GemmOperands::Float32Copies
                         ? WorkspaceBackend::Host
                         : WorkspaceBackend::Cuda;
    target.onChipAttentionMaxHeadDim = onChipAttentionMaxHeadDim;
    return target;
  }
  StridedCollectives stridedCollectives = StridedCollectives::RowCalls;
  /// The most rows StridedCollectives::RowCalls runs as calls (the CUDA
  /// backend's MP_CUDA_MAX_ROW_CALLS, mp_runtime.h).
  static constexpr int64_t kMaxRowCalls = 32;
  /// Per #mp.precision, the largest head dim at which attention runs as
  /// on-chip kernels (the CUDA backend's, where their tiles fit in shared
  /// memory: getOnChipAttentionCost); the composition in chunks for the
  /// precisions not named and larger heads.
  llvm::StringMap<int64_t> onChipAttentionMaxHeadDim;

  const Link &getLink(llvm::StringRef axis) const;
  /// The rate `op`'s GEMM runs at, by its precision.
  double getGemmFlopsPerSecond(mlir::Operation &op) const;
  /// `op`'s cost where it is attention that runs on chip here.
  std::optional<KernelCost> getOnChipAttentionCost(mlir::Operation &op) const;

  /// Reads a machine file (JSON, bench/machines/*.json); a located error on
  /// `loc` naming the file and the field on failure.
  static mlir::FailureOr<MachineModel> read(llvm::StringRef path,
                                            mlir::Location loc);
};

struct StepPrediction {
  double computeSeconds = 0;
  double commSeconds = 0;
  /// commSeconds by the collectives' axes ("data_parallel,tensor_parallel")
  /// and by their kind ("all_gather"; "strided_copies": the packing and
  /// unpacking of collectives called alone over a dim whose pieces are not
  /// contiguous, which run on the communication stream).
  llvm::MapVector<std::string, double, std::map<std::string, unsigned>>
      commSecondsPerAxes, commSecondsPerKind;
  /// computeSeconds by op name ("mp.linear"): where the compute time goes.
  /// A bf16 GEMM's operand conversions count with the GEMM, a grouped
  /// call's packing and unpacking as "grouped_copies".
  llvm::MapVector<std::string, double, std::map<std::string, unsigned>>
      computeSecondsPerOp;
  double stepSeconds = 0;
  int64_t gemmFlops = 0;
  int64_t kernelBytes = 0;
  double bytesSentPerRank = 0;

  /// Fails, with an error from `fail`, where a time is not finite: a
  /// machine file whose rates are too small or times too large for a
  /// double (each is finite alone; their products and sums overflow).
  mlir::LogicalResult
  verifyFinite(llvm::function_ref<mlir::InFlightDiagnostic()> fail) const;
};

/// Calls `visit` with each op of `func` that runs as a kernel or a
/// collective, and the GEMM FLOPs and kernel bytes of its CostOpInterface
/// (an op of another dialect is one kernel without GEMM FLOPs; transposes
/// that GEMMs read through are not computed, nor reshapes that share their
/// operand's buffer; a collective that
/// communicates runs no kernel, a grouped call's first member counts the
/// group's packing and unpacking copies, a collective called alone over
/// strided pieces its own as `stridedCollectives` makes them; a bf16
/// GEMM's operand conversions, as `bf16GemmOperands` makes them, are a
/// kernel of their own, visited with the GEMM before it).
void forEachKernel(mlir::FunctionOpInterface func, const MemoryPlan &plan,
                   BFloat16GemmOperands bf16GemmOperands,
                   StridedCollectives stridedCollectives,
                   llvm::function_ref<void(mlir::Operation &, int64_t gemmFlops,
                                           int64_t kernelBytes)>
                       visit);

/// The predicted time of one rank's run of `func` (a partitioned step, or
/// any function of mp ops on one device), planned as `plan`, on `machine`.
StepPrediction predictStep(mlir::FunctionOpInterface func,
                           const MemoryPlan &plan, const MachineModel &machine);

/// Writes `prediction`'s fields into the JSON object being written;
/// `perOp` adds computeSecondsPerOp, largest first.
void writePrediction(llvm::json::OStream &json,
                     const StepPrediction &prediction, bool perOp = false);

} // namespace mp

#endif // MP_ANALYSIS_STEPCOST_H
