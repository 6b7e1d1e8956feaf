//===- MemoryPlan.cpp - a static per-rank memory plan ---------------------===//

#include "mp/Analysis/MemoryPlan.h"

#include "mlir/IR/BuiltinTypes.h"

#include <map>

using namespace mlir;

namespace mp {
namespace {

int64_t getBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return 0;
  return tensor.getNumElements() *
         std::max<int64_t>(1, tensor.getElementTypeBitWidth() / 8);
}

int64_t alignUp(int64_t bytes) {
  return (bytes + MemoryPlan::kAlignment - 1) / MemoryPlan::kAlignment *
         MemoryPlan::kAlignment;
}

} // namespace

MemoryPlan MemoryPlan::build(FunctionOpInterface func) {
  MemoryPlan plan;
  for (Type type : func.getArgumentTypes())
    plan.persistentBytes += getBytes(type);

  Block &body = func.getFunctionBody().front();
  llvm::DenseMap<Operation *, int64_t> position;
  for (auto [index, op] : llvm::enumerate(body))
    position[&op] = index;
  int64_t last = body.getOperations().size();

  // Live ranges: from the defining op to the last user; what the function
  // returns lives to its end.
  SmallVector<Value> values;
  for (Operation &op : body)
    for (Value result : op.getResults()) {
      int64_t bytes = getBytes(result.getType());
      if (bytes == 0)
        continue;
      int64_t end = position[&op];
      for (Operation *user : result.getUsers())
        end = std::max(end, user->hasTrait<OpTrait::IsTerminator>()
                                ? last
                                : position[user]);
      plan.buffers[result] = Buffer{0, alignUp(bytes), position[&op], end};
      plan.unpooledBytes += alignUp(bytes);
      values.push_back(result);
    }

  // First fit, in program order, over the buffers still live.
  std::multimap<int64_t, Value> live; // offset -> value
  for (Value value : values) {
    Buffer &buffer = plan.buffers[value];
    for (auto it = live.begin(); it != live.end();)
      it = plan.buffers[it->second].end < buffer.begin ? live.erase(it)
                                                       : std::next(it);
    int64_t offset = 0;
    for (auto &[start, other] : live) {
      if (start - offset >= buffer.bytes)
        break;
      offset = std::max(offset, start + plan.buffers[other].bytes);
    }
    buffer.offset = offset;
    live.emplace(offset, value);
    plan.arenaBytes = std::max(plan.arenaBytes, offset + buffer.bytes);
  }
  return plan;
}

} // namespace mp
