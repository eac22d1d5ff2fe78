#pragma once
// Device helpers shared by the kernels of this folder: float32 conversions of the three
// element types and block-wide reductions. CUDA headers only.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace axl_cuda {

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }

template <typename T>
__device__ __forceinline__ T from_f(float v);
template <>
__device__ __forceinline__ float from_f<float>(float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }

// Rounds through T (what an op producing a T tensor does between two ATen ops).
template <typename T>
__device__ __forceinline__ float round_to(float v) { return to_f(from_f<T>(v)); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ float warp_parts[32];
  __shared__ float total;
  v = warp_sum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_parts[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float p = lane < static_cast<int>(blockDim.x >> 5) ? warp_parts[lane] : 0.f;
    p = warp_sum(p);
    if (lane == 0) total = p;
  }
  __syncthreads();
  const float r = total;
  __syncthreads();  // the shared slots may be reused by the next call
  return r;
}

// Online-softmax state (running max m, sum s of exp(x - m)) and its merge.
struct MaxSum {
  float m;
  float s;
};
__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  if (a.m == -INFINITY) return b;
  if (b.m == -INFINITY) return a;
  const float m = fmaxf(a.m, b.m);
  return {m, a.s * expf(a.m - m) + b.s * expf(b.m - m)};
}
__device__ __forceinline__ MaxSum warp_merge(MaxSum v) {
  for (int o = 16; o > 0; o >>= 1) {
    MaxSum other{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
    v = merge(v, other);
  }
  return v;
}
__device__ __forceinline__ MaxSum block_merge(MaxSum v) {
  __shared__ float parts_m[32], parts_s[32];
  __shared__ MaxSum total;
  v = warp_merge(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) parts_m[warp] = v.m, parts_s[warp] = v.s;
  __syncthreads();
  if (warp == 0) {
    MaxSum p = lane < static_cast<int>(blockDim.x >> 5) ? MaxSum{parts_m[lane], parts_s[lane]}
                                                        : MaxSum{-INFINITY, 0.f};
    p = warp_merge(p);
    if (lane == 0) total = p;
  }
  __syncthreads();
  const MaxSum r = total;
  __syncthreads();
  return r;
}

}  // namespace axl_cuda

// Instantiates `body` with T = float, __nv_bfloat16 or __half from the launcher's dtype code.
#define AXL_CUDA_DISPATCH(dtype, ...)                      \
  switch (dtype) {                                         \
    case kCudaF32: { using T = float; __VA_ARGS__; break; }          \
    case kCudaBF16: { using T = __nv_bfloat16; __VA_ARGS__; break; } \
    case kCudaF16: { using T = __half; __VA_ARGS__; break; }         \
    default: return static_cast<int>(cudaErrorInvalidValue);          \
  }
