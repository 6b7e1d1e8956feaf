//===- Graph.cpp - whole-step capture and replay (CUDA graphs) ------------===//
//
// The public mp_graph_* calls: they check what no backend can capture (a
// profile, which synchronizes between ops) and the order of the calls, then
// ask the backend, which says itself what it cannot capture (the host
// backend: anything; CUDA: the mpi transport).
//
//===----------------------------------------------------------------------===//

#include "Context.h"

using namespace mp::runtime;

extern "C" {

const char *mp_graph_unavailable(const mp_context *ctx) {
  if (!ctx->backend)
    return "the context has no backend (mp_context_create failed)";
  if (ctx->profiler)
    return "MP_PROFILE=1 times each op by waiting for the device between "
           "ops, which a CUDA graph cannot capture: unset MP_PROFILE (or set "
           "it to 0) to capture, or run without CUDA graphs to profile";
  return ctx->backend->graphUnavailable();
}

mp_status mp_graph_begin_capture(mp_context *ctx) {
  MP_RETURN_IF_FAILED(ctx);
  if (ctx->capturing)
    return fail(ctx, "mp_graph_begin_capture",
                "a capture is already under way (mp_graph_end_capture ends "
                "it)");
  if (const char *why = mp_graph_unavailable(ctx))
    return fail(ctx, "mp_graph_begin_capture", "%s", why);
  if (ctx->backend->beginCapture())
    return MP_ERROR;
  ctx->capturing = true;
  return MP_OK;
}

mp_status mp_graph_end_capture(mp_context *ctx) {
  if (!ctx->capturing) {
    MP_RETURN_IF_FAILED(ctx);
    return fail(ctx, "mp_graph_end_capture",
                "no capture is under way (mp_graph_begin_capture starts one)");
  }
  // Ended even on a failed context: the backend leaves capture mode.
  ctx->capturing = false;
  if (ctx->backend->endCapture())
    return MP_ERROR;
  return ctx->failed ? MP_ERROR : MP_OK;
}

mp_status mp_graph_replay(mp_context *ctx) {
  MP_RETURN_IF_FAILED(ctx);
  if (ctx->capturing)
    return fail(ctx, "mp_graph_replay",
                "called inside a capture (mp_graph_end_capture first)");
  if (const char *why = mp_graph_unavailable(ctx))
    return fail(ctx, "mp_graph_replay", "%s", why);
  return ctx->backend->replayGraph();
}

} // extern "C"
