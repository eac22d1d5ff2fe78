// SwiGLU (silu(gate) * up) forward and backward, elementwise, float32 math. The forward
// rounds silu(gate) to the element type before the product, as the two ATen ops it replaces
// do. The backward may write over its inputs (d_gate over gate, d_up over up). CUDA headers
// only; the ATen glue is kernels/swiglu_cuda.cpp.
#include "axl/kernels/cuda/cuda_math.cuh"
#include "axl/kernels/cuda/launchers.h"

namespace {

using axl_cuda::from_f;
using axl_cuda::round_to;
using axl_cuda::to_f;

template <typename T>
__global__ void swiglu_forward_kernel(const T* __restrict__ gate, const T* __restrict__ up, T* __restrict__ h,
                                      int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = to_f(gate[i]);
    h[i] = from_f<T>(round_to<T>(g / (1.f + expf(-g))) * to_f(up[i]));
  }
}

// d_up = dh * silu(g); d_gate = dh * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))).
template <typename T>
__global__ void swiglu_backward_kernel(const T* dh, const T* gate, const T* up, T* d_gate, T* d_up, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float d = to_f(dh[i]), g = to_f(gate[i]), u = to_f(up[i]);
    const float s = 1.f / (1.f + expf(-g));
    d_up[i] = from_f<T>(d * g * s);
    d_gate[i] = from_f<T>(d * u * s * (1.f + g * (1.f - s)));
  }
}

unsigned blocks_for(int64_t n, int threads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 65535 * 8 ? b : 65535 * 8);
}

}  // namespace

extern "C" int axl_cuda_swiglu_forward(int dtype, const void* gate, const void* up, void* h, int64_t n, void* stream) {
  if (n == 0) return 0;
  const int threads = 256;
  AXL_CUDA_DISPATCH(dtype, swiglu_forward_kernel<T><<<blocks_for(n, threads), threads, 0,
                                                      static_cast<cudaStream_t>(stream)>>>(
                               static_cast<const T*>(gate), static_cast<const T*>(up), static_cast<T*>(h), n));
  return static_cast<int>(cudaGetLastError());
}

extern "C" int axl_cuda_swiglu_backward(int dtype, const void* dh, const void* gate, const void* up, void* d_gate,
                                        void* d_up, int64_t n, void* stream) {
  if (n == 0) return 0;
  const int threads = 256;
  AXL_CUDA_DISPATCH(dtype, swiglu_backward_kernel<T><<<blocks_for(n, threads), threads, 0,
                                                       static_cast<cudaStream_t>(stream)>>>(
                               static_cast<const T*>(dh), static_cast<const T*>(gate), static_cast<const T*>(up),
                               static_cast<T*>(d_gate), static_cast<T*>(d_up), n));
  return static_cast<int>(cudaGetLastError());
}
