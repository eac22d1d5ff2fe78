// Fused RMSNorm forward (one block per row, float32 accumulation). CUDA headers only; the
// ATen glue lives in a .cpp. Not yet verified on a GPU, so nothing calls it by default.
#include <cuda_runtime.h>
#include <cuda_bf16.h>

#include <cstdint>

namespace {

template <typename T>
__device__ float to_float(T v) { return static_cast<float>(v); }
template <>
__device__ float to_float<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ T from_float(float v) { return static_cast<T>(v); }
template <>
__device__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16(v); }

template <typename T>
__global__ void rms_norm_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y,
                                int64_t cols, float eps, float weight_offset) {
  extern __shared__ float partial[];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * cols;
  float sum = 0.f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = to_float(xr[i]);
    sum += v * v;
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  const float inv = rsqrtf(partial[0] / static_cast<float>(cols) + eps);
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x)
    y[row * cols + i] = from_float<T>(to_float(xr[i]) * inv * (to_float(w[i]) + weight_offset));
}

template <typename T>
int launch(const T* x, const T* w, T* y, int64_t rows, int64_t cols, float eps, float offset,
           void* stream) {
  const int threads = 256;
  rms_norm_kernel<T><<<static_cast<unsigned>(rows), threads, threads * sizeof(float),
                       static_cast<cudaStream_t>(stream)>>>(x, w, y, cols, eps, offset);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

// weight_offset is 0 for Llama-style norms and 1 for Gemma's (1 + w).
extern "C" int axl_cuda_rms_norm_f32(const float* x, const float* w, float* y, int64_t rows,
                                     int64_t cols, float eps, float weight_offset, void* stream) {
  return launch(x, w, y, rows, cols, eps, weight_offset, stream);
}

extern "C" int axl_cuda_rms_norm_bf16(const void* x, const void* w, void* y, int64_t rows,
                                      int64_t cols, float eps, float weight_offset, void* stream) {
  return launch(static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(w),
                static_cast<__nv_bfloat16*>(y), rows, cols, eps, weight_offset, stream);
}
