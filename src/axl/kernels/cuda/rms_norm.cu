// Fused RMSNorm forward and backward, float32 accumulation. Forward: one block per row, also
// saving the row's inverse RMS for the backward. Backward: a grid of row-striding blocks, each
// writing its own float32 partial sums of the weight gradient (no atomics: deterministic).
// CUDA headers only; the ATen glue is kernels/rms_norm_cuda.cpp.
#include "axl/kernels/cuda/cuda_math.cuh"
#include "axl/kernels/cuda/launchers.h"

namespace {

using axl_cuda::block_sum;
using axl_cuda::from_f;
using axl_cuda::round_to;
using axl_cuda::to_f;

int threads_for(int64_t cols) {
  int t = 32;
  while (t < 1024 && t < cols / 4) t *= 2;
  return t;
}

// weight_offset 0 (Llama): y = w * T(x * inv), as transformers rounds before the weight;
// 1 (Gemma): y = T(x * inv * (1 + w)), all in float32.
template <typename T>
__global__ void rms_norm_forward_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y,
                                        float* __restrict__ inv_rms, int64_t cols, float eps, int weight_offset) {
  const int64_t row = blockIdx.x;
  const T* xr = x + row * cols;
  float sum = 0.f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    const float v = to_f(xr[i]);
    sum += v * v;
  }
  const float inv = rsqrtf(block_sum(sum) / static_cast<float>(cols) + eps);
  if (inv_rms && threadIdx.x == 0) inv_rms[row] = inv;
  T* yr = y + row * cols;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    const float n = to_f(xr[i]) * inv;
    yr[i] = weight_offset ? from_f<T>(n * (1.f + to_f(w[i]))) : from_f<T>(to_f(w[i]) * round_to<T>(n));
  }
}

// With n = x * inv and g = dy * w_eff: dx = inv * (g - n * mean(g * n)); dw += dy * n.
template <typename T>
__global__ void rms_norm_backward_kernel(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ w,
                                         const float* __restrict__ inv_rms, T* __restrict__ dx,
                                         float* __restrict__ dw_partial, int64_t rows, int64_t cols,
                                         int weight_offset) {
  float* dw = dw_partial + static_cast<int64_t>(blockIdx.x) * cols;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * cols;
    const T* dyr = dy + row * cols;
    const float inv = inv_rms[row];
    float dot = 0.f;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
      const float g = to_f(dyr[i]) * (to_f(w[i]) + static_cast<float>(weight_offset));
      dot += g * to_f(xr[i]) * inv;
    }
    const float mean_gn = block_sum(dot) / static_cast<float>(cols);
    T* dxr = dx + row * cols;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
      const float d = to_f(dyr[i]);
      const float n = to_f(xr[i]) * inv;
      const float g = d * (to_f(w[i]) + static_cast<float>(weight_offset));
      dxr[i] = from_f<T>(inv * (g - n * mean_gn));
      dw[i] += d * (weight_offset ? n : round_to<T>(n));
    }
  }
}

}  // namespace

extern "C" int64_t axl_cuda_rms_norm_backward_grid(int64_t rows) { return rows < 512 ? rows : 512; }

extern "C" int axl_cuda_rms_norm_forward(int dtype, const void* x, const void* w, void* y, float* inv_rms,
                                         int64_t rows, int64_t cols, float eps, int weight_offset, void* stream) {
  if (rows == 0) return 0;
  const int threads = threads_for(cols);
  AXL_CUDA_DISPATCH(dtype, rms_norm_forward_kernel<T><<<static_cast<unsigned>(rows), threads, 0,
                                                        static_cast<cudaStream_t>(stream)>>>(
                               static_cast<const T*>(x), static_cast<const T*>(w), static_cast<T*>(y),
                               inv_rms, cols, eps, weight_offset));
  return static_cast<int>(cudaGetLastError());
}

extern "C" int axl_cuda_rms_norm_backward(int dtype, const void* dy, const void* x, const void* w,
                                          const float* inv_rms, void* dx, float* dw_partial, int64_t rows,
                                          int64_t cols, int weight_offset, void* stream) {
  if (rows == 0) return 0;
  const int threads = threads_for(cols);
  const unsigned grid = static_cast<unsigned>(axl_cuda_rms_norm_backward_grid(rows));
  AXL_CUDA_DISPATCH(dtype, rms_norm_backward_kernel<T><<<grid, threads, 0, static_cast<cudaStream_t>(stream)>>>(
                               static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const T*>(w),
                               inv_rms, static_cast<T*>(dx), dw_partial, rows, cols, weight_offset));
  return static_cast<int>(cudaGetLastError());
}
