//===- PlanResolution.h - which plan entry styles which value ---*- C++ -*-===//

#ifndef MP_PLAN_PLANRESOLUTION_H
#define MP_PLAN_PLANRESOLUTION_H

#include "mp/Dialect/MP/IR/MPAttrs.h"
#include "mp/Dialect/MP/IR/MPModel.h"

namespace mp {

/// True if `name` matches the plan key `pattern`: both split into dotted
/// components, as many in each, every component matching as a glob (`*`,
/// `?`, `[...]`), the way `parallelize_module` matches `layers.*.mlp.w1`;
/// or so when split at `_` too (torch.export's names write `.` as `_`).
bool matchesPlanKey(llvm::StringRef pattern, llvm::StringRef name);

/// The name plan keys are matched against for `value`: its own, or for
/// optimizer state (`w1.weight.exp_avg`) its parameter's (`w1.weight`).
llvm::StringRef getPlanName(const ModelValue &value);

/// The module a plan key may name `value` by, as `parallelize_module` names
/// modules: `layers.0.wq` for the parameter (or its optimizer state)
/// `layers.0.wq.weight` or `layers.0.wq.bias`, PyTorch's state_dict names.
/// None for other values.
std::optional<llvm::StringRef> getPlanModule(const ModelValue &value);

/// The plan entry that styles `value`, the most specific first: a key equal
/// to its plan name, a key equal to its module, globs matching its plan
/// name, globs matching its module. Globs of one rank must agree. No entry
/// is not an error (the value is then replicated over the tensor-parallel
/// axis). Disagreeing globs are reported at `loc`.
mlir::FailureOr<std::optional<mlir::NamedAttribute>>
findPlanEntry(PlanAttr plan, const ModelValue &value, mlir::Location loc);

/// The plan entry that styles the module named `module` (an op's
/// `mp.module`): a key equal to it, else the globs matching it, which must
/// agree.
mlir::FailureOr<std::optional<mlir::NamedAttribute>>
findModuleEntry(PlanAttr plan, llvm::StringRef module, mlir::Location loc);

/// The storage sharding `plan` gives `value` under `entry` (its style, if
/// any), checked against `mesh`: the style's role and rank, and even splits.
/// Problems are reported at `loc`.
mlir::FailureOr<ShardingAttr>
getStorageSharding(PlanAttr plan, MeshAttr mesh, const ModelValue &value,
                   std::optional<mlir::NamedAttribute> entry,
                   mlir::Location loc);

/// The sharding of a rank-`rank` activation: dim 0 split over the plan's
/// batch axis, and `sequenceDim` (if not -1) over its tensor-parallel axis,
/// minor to the batch split (sequence parallelism within each batch shard).
ShardingAttr getActivationSharding(PlanAttr plan, int64_t rank,
                                   int64_t sequenceDim);

/// The dim sequence_parallel `style` splits in a rank-`rank` tensor: its
/// `dim`, by default rank - 2 (the sequence of [batch, seq, feature]).
int64_t getSequenceDim(ParallelStyleAttr style, int64_t rank);

/// The FSDP group of the parameter named `name`: the module FSDP2's
/// fully_shard wraps it in, whose parameters are gathered and
/// reduce-scattered together. With the plan's `fsdp_groups` (module globs),
/// the innermost module prefix of `name` that one matches; by default (no
/// plan, or no `fsdp_groups`) each numbered layer (`layers.3` for
/// `layers.3.attention.wq.weight`: the name up to its first all-digit
/// component). Parameters of no group are the root module's, "".
llvm::StringRef getFsdpGroup(llvm::StringRef name, PlanAttr plan);

/// Whether the plan asks for FSDP2's reshard_after_forward.
bool getReshardAfterForward(PlanAttr plan);

/// The sharding an FSDP parameter is used with: `storage` without the FSDP
/// axis. Equal to `storage` when the plan has no FSDP axis.
ShardingAttr getUseSharding(PlanAttr plan, ShardingAttr storage);

} // namespace mp

#endif // MP_PLAN_PLANRESOLUTION_H
