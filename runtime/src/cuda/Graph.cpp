//===- Graph.cpp - whole-step capture as a CUDA graph ---------------------===//
//
// mp_graph_begin_capture starts capturing the compute stream
// (cudaStreamBeginCapture, thread-local mode: a call of this thread that
// cannot be captured fails, MPI's and NCCL's own threads are left alone).
// Every call then records its work instead of running it: kernels, cuBLAS,
// copies, stream-ordered allocations and frees (graph memory nodes), and
// NCCL collectives on the communication stream, which joins the capture by
// waiting for an event recorded on the compute stream and rejoins it by the
// event the compute stream waits for (runCollective), as eagerly. The
// graph keeps every address, shape and scalar it saw: it is replayed on the
// same buffers, with whatever they hold when it runs.
//
// What cannot be captured is refused with the reason: the mpi transport
// (MPI on the host, through host memory), a host copy (Context.cpp), a
// profile (Graph.cpp above this directory), an NCCL communicator not yet
// created (Collectives.cpp), and freeing memory allocated before the
// capture, or keeping memory allocated in it (below).
//
//===----------------------------------------------------------------------===//

#include "CudaBackend.h"

namespace mp::runtime {

const char *CudaBackend::graphUnavailable() const {
  if (mpi)
    return "the mpi transport (MP_CUDA_TRANSPORT=mpi) runs each collective "
           "through host memory with MPI on the host, which a CUDA graph "
           "cannot capture: use the nccl transport (a GPU per rank), or run "
           "without CUDA graphs";
  return nullptr;
}

void CudaBackend::dropGraph() {
  // Callers wait for the replays in flight first.
  if (graphExec)
    cudaGraphExecDestroy(graphExec);
  if (graph)
    cudaGraphDestroy(graph);
  graphExec = nullptr;
  graph = nullptr;
}

mp_status CudaBackend::beginCapture() {
  // A new capture replaces the last graph, once its replays are done.
  if (graphExec && checkCuda(ctx, "cudaStreamSynchronize",
                             cudaStreamSynchronize(computeStream)))
    return MP_ERROR;
  dropGraph();
  graphAllocations.clear();
  if (checkCuda(ctx, "cudaStreamBeginCapture",
                cudaStreamBeginCapture(computeStream,
                                       cudaStreamCaptureModeThreadLocal)))
    return MP_ERROR;
  capturing = true;
  return MP_OK;
}

mp_status CudaBackend::endCapture() {
  if (!capturing)
    return MP_OK;
  capturing = false;
  cudaGraph_t captured = nullptr;
  cudaError_t status = cudaStreamEndCapture(computeStream, &captured);
  // What the capture allocated and did not free is no memory once its
  // graph is discarded (no graph is kept then): forget it, so that nothing
  // frees it later.
  size_t kept = graphAllocations.size();
  for (void *ptr : graphAllocations)
    if (auto it = ctx->allocations.find(ptr); it != ctx->allocations.end()) {
      ctx->liveBytes -= it->second;
      ctx->allocations.erase(it);
    }
  graphAllocations.clear();
  // A call that failed inside the capture has said why; what capture
  // itself then reports (an invalidated capture) would say less.
  if (ctx->failed || status != cudaSuccess) {
    if (captured)
      cudaGraphDestroy(captured);
    // The capture's error is not sticky: clear it for the calls after.
    cudaGetLastError();
    return ctx->failed ? MP_ERROR
                       : checkCuda(ctx, "cudaStreamEndCapture", status);
  }
  if (kept) {
    cudaGraphDestroy(captured);
    return fail(ctx, "mp_graph_end_capture",
                "%zu buffer(s) allocated by mp_alloc during the capture were "
                "not freed in it: a CUDA graph must free the memory it "
                "allocates (mp_free before mp_graph_end_capture), or each "
                "replay would allocate it again",
                kept);
  }
  cudaGraphExec_t exec = nullptr;
  if (checkCuda(ctx, "cudaGraphInstantiate",
                cudaGraphInstantiate(&exec, captured, 0))) {
    cudaGraphDestroy(captured);
    return MP_ERROR;
  }
  graph = captured;
  graphExec = exec;
  // The graph allocates its own memory; what the eager steps before it
  // freed into the stream-ordered pool (their arena) is given back, so
  // that replays do not hold the arena twice.
  cudaMemPool_t pool;
  if (checkCuda(ctx, "cudaDeviceGetDefaultMemPool",
                cudaDeviceGetDefaultMemPool(&pool, device)))
    return MP_ERROR;
  return checkCuda(ctx, "cudaMemPoolTrimTo", cudaMemPoolTrimTo(pool, 0));
}

mp_status CudaBackend::replayGraph() {
  if (!graphExec)
    return fail(ctx, "mp_graph_replay",
                "nothing has been captured (mp_graph_begin_capture and "
                "mp_graph_end_capture around the work capture it)");
  // After the work issued before it on the compute stream, before the work
  // issued after it (the loss's copy to the host).
  return checkCuda(ctx, "cudaGraphLaunch",
                   cudaGraphLaunch(graphExec, computeStream));
}

} // namespace mp::runtime
