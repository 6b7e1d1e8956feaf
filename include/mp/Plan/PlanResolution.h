//===- PlanResolution.h - which plan entry styles which value ---*- C++ -*-===//

#ifndef MP_PLAN_PLANRESOLUTION_H
#define MP_PLAN_PLANRESOLUTION_H

#include "mp/Dialect/MP/IR/MPAttrs.h"
#include "mp/Dialect/MP/IR/MPModel.h"

namespace mp {

/// True if `name` matches the plan key `pattern`: both split into dotted
/// components, as many in each, every component matching as a glob (`*`,
/// `?`, `[...]`), the way `parallelize_module` matches `layers.*.mlp.w1`.
bool matchesPlanKey(llvm::StringRef pattern, llvm::StringRef name);

/// The plan entry that styles `name`: an exact key, else the glob keys that
/// match it, which must agree. No entry is not an error (the value is then
/// replicated over the tensor-parallel axis). Disagreeing globs are reported
/// at `loc`.
mlir::FailureOr<std::optional<mlir::NamedAttribute>>
findPlanEntry(PlanAttr plan, llvm::StringRef name, mlir::Location loc);

/// The storage sharding `plan` gives `value` under `entry` (its style, if
/// any), checked against `mesh`: the style's role and rank, and even splits.
/// Problems are reported at `loc`.
mlir::FailureOr<ShardingAttr>
getStorageSharding(PlanAttr plan, MeshAttr mesh, const ModelValue &value,
                   std::optional<mlir::NamedAttribute> entry,
                   mlir::Location loc);

/// The sharding an FSDP parameter is used with: `storage` without the FSDP
/// axis. Equal to `storage` when the plan has no FSDP axis.
ShardingAttr getUseSharding(PlanAttr plan, ShardingAttr storage);

} // namespace mp

#endif // MP_PLAN_PLANRESOLUTION_H
