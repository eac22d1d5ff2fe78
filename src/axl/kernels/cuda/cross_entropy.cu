// Cross-entropy over a large vocabulary with an online softmax: each thread walks its share of
// a row in chunks of blockDim.x logits keeping a running max and sum of exp(x - max); the
// block merges them into the row's log-sum-exp. Logits are read once in the forward and once in
// the backward, never converted to a float32 copy. CUDA headers only; the ATen glue is
// kernels/cross_entropy_cuda.cpp.
#include "axl/kernels/cuda/cuda_math.cuh"
#include "axl/kernels/cuda/launchers.h"

namespace {

using axl_cuda::block_merge;
using axl_cuda::from_f;
using axl_cuda::MaxSum;
using axl_cuda::to_f;

template <typename T>
__global__ void cross_entropy_forward_kernel(const T* __restrict__ logits, int64_t row_stride,
                                             const int64_t* __restrict__ targets, float* __restrict__ loss,
                                             float* __restrict__ lse, int64_t vocab, int64_t ignore_index) {
  const int64_t row = blockIdx.x;
  const T* xr = logits + row * row_stride;
  // One exp per logit: rescale the running sum only when the max grows.
  MaxSum acc{-INFINITY, 0.f};
  for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
    const float v = to_f(xr[i]);
    if (v > acc.m) {
      acc.s = acc.s * expf(acc.m - v) + 1.f;
      acc.m = v;
    } else if (v != -INFINITY) {
      acc.s += expf(v - acc.m);
    }
  }
  const MaxSum all = block_merge(acc);
  if (threadIdx.x != 0) return;
  const float row_lse = all.m + logf(all.s);
  lse[row] = row_lse;
  const int64_t t = targets[row];
  if (t == ignore_index) loss[row] = 0.f;
  else if (t < 0 || t >= vocab) loss[row] = NAN;
  else loss[row] = row_lse - to_f(xr[t]);
}

template <typename T>
__global__ void cross_entropy_backward_kernel(const T* logits, int64_t row_stride, const int64_t* __restrict__ targets,
                                              const float* __restrict__ lse, const float* __restrict__ grad_scale,
                                              T* grad, int64_t vocab, int64_t ignore_index) {
  const int64_t row = blockIdx.x;
  const T* xr = logits + row * row_stride;
  T* gr = grad + row * vocab;
  const int64_t t = targets[row];
  const bool ignored = t == ignore_index;
  const float scale = grad_scale[0], row_lse = lse[row];
  for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
    const float p = expf(to_f(xr[i]) - row_lse);
    gr[i] = ignored ? from_f<T>(0.f) : from_f<T>(scale * (p - (i == t ? 1.f : 0.f)));
  }
}

}  // namespace

extern "C" int axl_cuda_cross_entropy_forward(int dtype, const void* logits, int64_t row_stride,
                                              const int64_t* targets, float* loss, float* lse, int64_t rows,
                                              int64_t vocab, int64_t ignore_index, void* stream) {
  if (rows == 0) return 0;
  const int threads = 512;
  AXL_CUDA_DISPATCH(dtype, cross_entropy_forward_kernel<T><<<static_cast<unsigned>(rows), threads, 0,
                                                             static_cast<cudaStream_t>(stream)>>>(
                               static_cast<const T*>(logits), row_stride, targets, loss, lse, vocab, ignore_index));
  return static_cast<int>(cudaGetLastError());
}

extern "C" int axl_cuda_cross_entropy_backward(int dtype, const void* logits, int64_t row_stride,
                                               const int64_t* targets, const float* lse, const float* grad_scale,
                                               void* grad, int64_t rows, int64_t vocab, int64_t ignore_index,
                                               void* stream) {
  if (rows == 0) return 0;
  const int threads = 512;
  AXL_CUDA_DISPATCH(dtype, cross_entropy_backward_kernel<T><<<static_cast<unsigned>(rows), threads, 0,
                                                              static_cast<cudaStream_t>(stream)>>>(
                               static_cast<const T*>(logits), row_stride, targets, lse, grad_scale,
                               static_cast<T*>(grad), vocab, ignore_index));
  return static_cast<int>(cudaGetLastError());
}
