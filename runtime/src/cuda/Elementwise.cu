//===- Elementwise.cu - elementwise ops and optimizer updates -------------===//
//
// Grid-stride loops over 64-bit indices applying the formulas of
// ../Elementwise.h, the same the host backend applies.
//
//===----------------------------------------------------------------------===//

#include "../Elementwise.h"
#include "Launch.cuh"

namespace mp::runtime::cuda {

namespace {

// The kernels read and write four elements at a time where the arrays are
// 16-byte aligned, and the rest one at a time: they are bound by memory,
// and wide accesses keep enough bytes in flight to reach its bandwidth.
// Every element gets the same formula either way. Each tensor is float32
// or bfloat16 (load1, store4, ... in Launch.cuh).

__global__ void unaryKernel(mp_unary_op op, int64_t n, TensorIn in,
                            TensorOut out, double scalar, double upper) {
  int64_t vectorEnd = alignedForVectors(in.data, out.data) ? n / 4 * 4 : 0;
  for (int64_t v = gridStart(); v < vectorEnd / 4; v += gridStride()) {
    float4 x = load4(in, v);
    x.x = applyUnary(op, x.x, scalar, upper);
    x.y = applyUnary(op, x.y, scalar, upper);
    x.z = applyUnary(op, x.z, scalar, upper);
    x.w = applyUnary(op, x.w, scalar, upper);
    store4(out, v, x);
  }
  for (int64_t i = vectorEnd + gridStart(); i < n; i += gridStride())
    store1(out, i, applyUnary(op, load1(in, i), scalar, upper));
}

__global__ void binaryKernel(mp_binary_op op, int64_t n, TensorIn a, TensorIn b,
                             TensorOut out) {
  int64_t vectorEnd =
      alignedForVectors(a.data, b.data, out.data) ? n / 4 * 4 : 0;
  for (int64_t v = gridStart(); v < vectorEnd / 4; v += gridStride()) {
    float4 x = load4(a, v);
    float4 y = load4(b, v);
    x.x = applyBinary(op, x.x, y.x);
    x.y = applyBinary(op, x.y, y.y);
    x.z = applyBinary(op, x.z, y.z);
    x.w = applyBinary(op, x.w, y.w);
    store4(out, v, x);
  }
  for (int64_t i = vectorEnd + gridStart(); i < n; i += gridStride())
    store1(out, i, applyBinary(op, load1(a, i), load1(b, i)));
}

__device__ inline void swigluGradAt(float grad, float gate, float up,
                                    float &gateGrad, float &upGrad) {
  double s = sigmoid(gate);
  gateGrad = swigluGateGrad(grad, gate, up, s);
  upGrad = swigluUpGrad(grad, gate, s);
}

__global__ void swigluGradKernel(int64_t n, TensorIn grad, TensorIn gate,
                                 TensorIn up, TensorOut gateGrad,
                                 TensorOut upGrad) {
  int64_t vectorEnd = alignedForVectors(grad.data, gate.data, up.data,
                                        gateGrad.data, upGrad.data)
                          ? n / 4 * 4
                          : 0;
  for (int64_t v = gridStart(); v < vectorEnd / 4; v += gridStride()) {
    float4 g = load4(grad, v);
    float4 a = load4(gate, v);
    float4 b = load4(up, v);
    float4 da, db;
    swigluGradAt(g.x, a.x, b.x, da.x, db.x);
    swigluGradAt(g.y, a.y, b.y, da.y, db.y);
    swigluGradAt(g.z, a.z, b.z, da.z, db.z);
    swigluGradAt(g.w, a.w, b.w, da.w, db.w);
    store4(gateGrad, v, da);
    store4(upGrad, v, db);
  }
  for (int64_t i = vectorEnd + gridStart(); i < n; i += gridStride()) {
    float da, db;
    swigluGradAt(load1(grad, i), load1(gate, i), load1(up, i), da, db);
    store1(gateGrad, i, da);
    store1(upGrad, i, db);
  }
}

__global__ void fillKernel(int64_t n, float value, float *out) {
  for (int64_t i = gridStart(); i < n; i += gridStride())
    out[i] = value;
}

__global__ void clipCoefficientKernel(const float *squaredNorm, double maxNorm,
                                      float *out) {
  out[0] = computeClipCoefficient(squaredNorm[0], maxNorm);
}

/// An update's gradient scale, read on the device where the step keeps it.
__device__ float readGradScale(const float *gradScale) {
  return gradScale ? *gradScale : 1.0f;
}

__global__ void sgdKernel(int64_t n, float *param, const float *grad,
                          float *momentumBuffer, double lr, double momentum,
                          double dampening, double weightDecay, bool nesterov,
                          const float *gradScale) {
  float scale = readGradScale(gradScale);
  for (int64_t i = gridStart(); i < n; i += gridStride())
    sgdUpdate(param[i], scaleGradient(grad[i], scale),
              momentumBuffer ? momentumBuffer + i : nullptr, lr, momentum,
              dampening, weightDecay, nesterov);
}

/// AdamW's step count, read on the device where the training step keeps
/// it; false, with the fault recorded once, when it is below 1.
__device__ bool readAdamWStep(const float *stepCount, DeviceFault *fault,
                              const char *op, double &step) {
  step = *stepCount;
  if (step >= 1)
    return true;
  if (gridStart() == 0)
    recordFault(fault, DeviceFault::kAdamWStep, 0, 0, 0, step, op);
  return false;
}

/// The whole AdamW step in one pass; the step count is read on the device,
/// where the training step keeps it.
__global__ void adamwKernel(int64_t n, float *param, const float *grad,
                            float *expAvg, float *expAvgSq, double lr,
                            double beta1, double beta2, double eps,
                            double weightDecay, const float *stepCount,
                            const float *gradScale, DeviceFault *fault,
                            const char *op) {
  double step;
  if (!readAdamWStep(stepCount, fault, op, step))
    return;
  AdamWStep update(lr, beta1, beta2, eps, weightDecay, step,
                   readGradScale(gradScale));
  // It reads 16 bytes and writes 12 per element.
  int64_t vectorEnd =
      alignedForVectors(param, grad, expAvg, expAvgSq) ? n / 4 * 4 : 0;
  for (int64_t v = gridStart(); v < vectorEnd / 4; v += gridStride()) {
    float4 p = reinterpret_cast<float4 *>(param)[v];
    float4 g = reinterpret_cast<const float4 *>(grad)[v];
    float4 m = reinterpret_cast<float4 *>(expAvg)[v];
    float4 s = reinterpret_cast<float4 *>(expAvgSq)[v];
    update.apply(p.x, g.x, m.x, s.x);
    update.apply(p.y, g.y, m.y, s.y);
    update.apply(p.z, g.z, m.z, s.z);
    update.apply(p.w, g.w, m.w, s.w);
    reinterpret_cast<float4 *>(param)[v] = p;
    reinterpret_cast<float4 *>(expAvg)[v] = m;
    reinterpret_cast<float4 *>(expAvgSq)[v] = s;
  }
  for (int64_t i = vectorEnd + gridStart(); i < n; i += gridStride())
    update.apply(param[i], grad[i], expAvg[i], expAvgSq[i]);
}

/// Rows of the parameter a block of adamwOuterKernel updates.
constexpr int64_t kOuterRows = 16;

/// AdamW whose gradient it computes as it reads it (mp_adamw_outer_f32):
/// a thread takes 4 consecutive columns (a float4 of the parameter and each
/// moment) of kOuterRows rows, so it reads the same k values of b for each
/// of its rows (from L1 after the first), and a, one value per row, is
/// shared by the warp. It reads 12 bytes and writes 12 per element.
__global__ void adamwOuterKernel(int64_t k, int64_t m, int64_t n, float alpha,
                                 bool bf16, const float *a, const float *b,
                                 float *param, float *expAvg, float *expAvgSq,
                                 double lr, double beta1, double beta2,
                                 double eps, double weightDecay,
                                 const float *stepCount, DeviceFault *fault,
                                 const char *op) {
  double step;
  if (!readAdamWStep(stepCount, fault, op, step))
    return;
  AdamWStep update(lr, beta1, beta2, eps, weightDecay, step, 1.0f);
  bool vectors = n % 4 == 0 && alignedForVectors(param, expAvg, expAvgSq);
  int64_t lanes = vectors ? 4 : 1;
  auto gradient = [&](int64_t i, int64_t j) {
    return outerProductElement(k, m, n, a, b, i, j, bf16, alpha);
  };
  for (int64_t run = blockIdx.y; run * kOuterRows < m; run += gridDim.y)
    for (int64_t j = gridStart() * lanes; j < n; j += gridStride() * lanes)
      for (int64_t i = run * kOuterRows; i < m && i < (run + 1) * kOuterRows;
           ++i) {
        int64_t e = i * n + j;
        if (!vectors) {
          update.apply(param[e], gradient(i, j), expAvg[e], expAvgSq[e]);
          continue;
        }
        float4 p = *reinterpret_cast<float4 *>(param + e);
        float4 mo = *reinterpret_cast<float4 *>(expAvg + e);
        float4 s = *reinterpret_cast<float4 *>(expAvgSq + e);
        update.apply(p.x, gradient(i, j), mo.x, s.x);
        update.apply(p.y, gradient(i, j + 1), mo.y, s.y);
        update.apply(p.z, gradient(i, j + 2), mo.z, s.z);
        update.apply(p.w, gradient(i, j + 3), mo.w, s.w);
        *reinterpret_cast<float4 *>(param + e) = p;
        *reinterpret_cast<float4 *>(expAvg + e) = mo;
        *reinterpret_cast<float4 *>(expAvgSq + e) = s;
      }
}

/// SGD whose gradient it computes as it reads it (mp_sgd_outer_f32): a
/// thread takes a column of kOuterRows rows, so it reads the same k values
/// of b for each of them and a warp shares a's value of a row.
__global__ void sgdOuterKernel(int64_t k, int64_t m, int64_t n, float alpha,
                               bool bf16, const float *a, const float *b,
                               float *param, float *momentumBuffer, double lr,
                               double momentum, double dampening,
                               double weightDecay, bool nesterov) {
  for (int64_t run = blockIdx.y; run * kOuterRows < m; run += gridDim.y)
    for (int64_t j = gridStart(); j < n; j += gridStride())
      for (int64_t i = run * kOuterRows; i < m && i < (run + 1) * kOuterRows;
           ++i) {
        int64_t e = i * n + j;
        sgdUpdate(param[e],
                  outerProductElement(k, m, n, a, b, i, j, bf16, alpha),
                  momentumBuffer ? momentumBuffer + e : nullptr, lr, momentum,
                  dampening, weightDecay, nesterov);
      }
}

} // namespace

cudaError_t launchUnary(cudaStream_t stream, mp_unary_op op, int64_t n,
                        TensorIn in, TensorOut out, double scalar,
                        double upper) {
  if (n == 0)
    return cudaSuccess;
  unaryKernel<<<gridFor((n + 3) / 4), kThreads, 0, stream>>>(op, n, in, out,
                                                             scalar, upper);
  return cudaGetLastError();
}

cudaError_t launchBinary(cudaStream_t stream, mp_binary_op op, int64_t n,
                         TensorIn a, TensorIn b, TensorOut out) {
  if (n == 0)
    return cudaSuccess;
  binaryKernel<<<gridFor((n + 3) / 4), kThreads, 0, stream>>>(op, n, a, b,
                                                               out);
  return cudaGetLastError();
}

cudaError_t launchSwigluGrad(cudaStream_t stream, int64_t n, TensorIn grad,
                             TensorIn gate, TensorIn up, TensorOut gateGrad,
                             TensorOut upGrad) {
  if (n == 0)
    return cudaSuccess;
  swigluGradKernel<<<gridFor((n + 3) / 4), kThreads, 0, stream>>>(
      n, grad, gate, up, gateGrad, upGrad);
  return cudaGetLastError();
}

cudaError_t launchFill(cudaStream_t stream, int64_t n, float value,
                       float *out) {
  if (n == 0)
    return cudaSuccess;
  fillKernel<<<gridFor(n), kThreads, 0, stream>>>(n, value, out);
  return cudaGetLastError();
}

__global__ void toBFloat16Kernel(int64_t n, const float *in, uint16_t *out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = toBFloat16Bits(in[i]);
}

__global__ void fromBFloat16Kernel(int64_t n, const uint16_t *in, float *out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = fromBFloat16Bits(in[i]);
}

cudaError_t launchConvert(cudaStream_t stream, mp_dtype from, mp_dtype to,
                          int64_t n, const void *in, void *out) {
  if (n == 0)
    return cudaSuccess;
  if (from == MP_DTYPE_F32 && to == MP_DTYPE_BF16)
    toBFloat16Kernel<<<gridFor(n), kThreads, 0, stream>>>(
        n, static_cast<const float *>(in), static_cast<uint16_t *>(out));
  else
    fromBFloat16Kernel<<<gridFor(n), kThreads, 0, stream>>>(
        n, static_cast<const uint16_t *>(in), static_cast<float *>(out));
  return cudaGetLastError();
}

cudaError_t launchClipCoefficient(cudaStream_t stream, const float *squaredNorm,
                                  double maxNorm, float *out) {
  clipCoefficientKernel<<<1, 1, 0, stream>>>(squaredNorm, maxNorm, out);
  return cudaGetLastError();
}

cudaError_t launchSgd(cudaStream_t stream, int64_t n, float *param,
                      const float *grad, float *momentumBuffer, double lr,
                      double momentum, double dampening, double weightDecay,
                      bool nesterov, const float *gradScale) {
  if (n == 0)
    return cudaSuccess;
  sgdKernel<<<gridFor(n), kThreads, 0, stream>>>(
      n, param, grad, momentumBuffer, lr, momentum, dampening, weightDecay,
      nesterov, gradScale);
  return cudaGetLastError();
}

cudaError_t launchAdamW(cudaStream_t stream, int64_t n, float *param,
                        const float *grad, float *expAvg, float *expAvgSq,
                        double lr, double beta1, double beta2, double eps,
                        double weightDecay, const float *step,
                        const float *gradScale, DeviceFault *fault,
                        const char *op) {
  // Even with no elements, so that a bad step is reported alike.
  adamwKernel<<<gridFor((n + 3) / 4), kThreads, 0, stream>>>(
      n, param, grad, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay,
      step, gradScale, fault, op);
  return cudaGetLastError();
}

cudaError_t launchAdamWOuter(cudaStream_t stream, bool bf16, int64_t k,
                             int64_t m, int64_t n, float alpha, const float *a,
                             const float *b, float *param, float *expAvg,
                             float *expAvgSq, double lr, double beta1,
                             double beta2, double eps, double weightDecay,
                             const float *step, DeviceFault *fault,
                             const char *op) {
  // Even with no elements, so that a bad step is reported alike.
  int64_t runs = (m + kOuterRows - 1) / kOuterRows;
  dim3 grid(gridFor((n + 3) / 4),
            static_cast<unsigned>(std::clamp<int64_t>(runs, 1, 65535)));
  adamwOuterKernel<<<grid, kThreads, 0, stream>>>(
      k, m, n, alpha, bf16, a, b, param, expAvg, expAvgSq, lr, beta1, beta2,
      eps, weightDecay, step, fault, op);
  return cudaGetLastError();
}

cudaError_t launchSgdOuter(cudaStream_t stream, bool bf16, int64_t k, int64_t m,
                           int64_t n, float alpha, const float *a,
                           const float *b, float *param, float *momentumBuffer,
                           double lr, double momentum, double dampening,
                           double weightDecay, bool nesterov) {
  if (m * n == 0)
    return cudaSuccess;
  int64_t runs = (m + kOuterRows - 1) / kOuterRows;
  dim3 grid(gridFor(n),
            static_cast<unsigned>(std::clamp<int64_t>(runs, 1, 65535)));
  sgdOuterKernel<<<grid, kThreads, 0, stream>>>(
      k, m, n, alpha, bf16, a, b, param, momentumBuffer, lr, momentum,
      dampening, weightDecay, nesterov);
  return cudaGetLastError();
}

/// Calls apply(t, j) for every element j of every tensor t of one launch:
/// a thread walks its elements in order over their concatenated range, so
/// it finds each one's tensor by moving forward through `begin`.
template <typename Apply>
__device__ void forEachElement(const OptimizerTensors &tensors, Apply apply) {
  int t = 0;
  for (int64_t i = gridStart(); i < tensors.begin[tensors.count];
       i += gridStride()) {
    while (i >= tensors.begin[t + 1])
      ++t;
    apply(t, i - tensors.begin[t]);
  }
}

__global__ void adamwMultiKernel(OptimizerTensors tensors, double lr,
                                 double beta1, double beta2, double eps,
                                 double weightDecay, const float *stepCount,
                                 const float *gradScale, DeviceFault *fault,
                                 const char *op) {
  double step;
  if (!readAdamWStep(stepCount, fault, op, step))
    return;
  AdamWStep update(lr, beta1, beta2, eps, weightDecay, step,
                   readGradScale(gradScale));
  forEachElement(tensors, [&](int t, int64_t j) {
    update.apply(tensors.param[t][j], tensors.grad[t][j],
                 tensors.state[0][t][j], tensors.state[1][t][j]);
  });
}

__global__ void sgdMultiKernel(OptimizerTensors tensors, double lr,
                               double momentum, double dampening,
                               double weightDecay, bool nesterov,
                               const float *gradScale) {
  float scale = readGradScale(gradScale);
  forEachElement(tensors, [&](int t, int64_t j) {
    float *buffer = tensors.state[0][t];
    sgdUpdate(tensors.param[t][j], scaleGradient(tensors.grad[t][j], scale),
              buffer ? buffer + j : nullptr, lr, momentum, dampening,
              weightDecay, nesterov);
  });
}

cudaError_t launchAdamWMulti(cudaStream_t stream,
                             const OptimizerTensors &tensors, double lr,
                             double beta1, double beta2, double eps,
                             double weightDecay, const float *step,
                             const float *gradScale, DeviceFault *fault,
                             const char *op) {
  adamwMultiKernel<<<gridFor(tensors.begin[tensors.count]), kThreads, 0,
                     stream>>>(tensors, lr, beta1, beta2, eps, weightDecay,
                               step, gradScale, fault, op);
  return cudaGetLastError();
}

cudaError_t launchSgdMulti(cudaStream_t stream, const OptimizerTensors &tensors,
                           double lr, double momentum, double dampening,
                           double weightDecay, bool nesterov,
                           const float *gradScale) {
  if (tensors.begin[tensors.count] == 0)
    return cudaSuccess;
  sgdMultiKernel<<<gridFor(tensors.begin[tensors.count]), kThreads, 0,
                   stream>>>(tensors, lr, momentum, dampening, weightDecay,
                             nesterov, gradScale);
  return cudaGetLastError();
}

} // namespace mp::runtime::cuda
