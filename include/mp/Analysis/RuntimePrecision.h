//===- RuntimePrecision.h - a GEMM's precision as the runtime's -*- C++ -*-===//
//
// For the code that speaks the runtime's C ABI (mp_runtime.h, on the
// include path of its users): the lowering, and the memory plan that sizes
// GEMM workspaces with the runtime's own mp_gemm_workspace_bytes.
//
//===----------------------------------------------------------------------===//

#ifndef MP_ANALYSIS_RUNTIMEPRECISION_H
#define MP_ANALYSIS_RUNTIMEPRECISION_H

#include "mp/Dialect/MP/IR/MPOps.h"

#include "mp_runtime.h"

namespace mp {

/// A GEMM's #mp.precision as mp_runtime.h's mp_precision.
mp_precision getRuntimePrecision(Precision precision);

} // namespace mp

#endif // MP_ANALYSIS_RUNTIMEPRECISION_H
