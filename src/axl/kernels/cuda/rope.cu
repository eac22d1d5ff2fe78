// Rotate-half RoPE (transformers' layout) forward and backward, one thread per rotated pair
// (x[j], x[j + rot/2]), float32 math and one rounding per output. In place when out == x: a
// thread reads both elements of its pair before writing them. CUDA headers only; the ATen glue
// is kernels/rope_cuda.cpp.
#include "axl/kernels/cuda/cuda_math.cuh"
#include "axl/kernels/cuda/launchers.h"

namespace {

using axl_cuda::from_f;
using axl_cuda::to_f;

struct Strides {
  int64_t b, h, t;
};

// Forward:  o1 = x1 c1 - x2 s1,  o2 = x2 c2 + x1 s2  (c = [c1, c2], s = [s1, s2]).
// Backward: d1 = g1 c1 + g2 s2,  d2 = g2 c2 - g1 s1  (the transpose of the forward map).
template <typename T>
__global__ void rope_kernel(const T* x, Strides xs, const T* __restrict__ cos, const T* __restrict__ sin, T* out,
                            Strides os, int64_t heads, int64_t seq, int64_t rot, int64_t total, int backward) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t half = rot / 2;
  const int64_t j = idx % half;
  int64_t rest = idx / half;
  const int64_t t = rest % seq;
  rest /= seq;
  const int64_t h = rest % heads;
  const int64_t b = rest / heads;
  const T* xp = x + b * xs.b + h * xs.h + t * xs.t;
  T* op = out + b * os.b + h * os.h + t * os.t;
  const T* cp = cos + (b * seq + t) * rot;
  const T* sp = sin + (b * seq + t) * rot;
  const float x1 = to_f(xp[j]), x2 = to_f(xp[j + half]);
  const float c1 = to_f(cp[j]), c2 = to_f(cp[j + half]);
  const float s1 = to_f(sp[j]), s2 = to_f(sp[j + half]);
  float o1, o2;
  if (backward) {
    o1 = x1 * c1 + x2 * s2;
    o2 = x2 * c2 - x1 * s1;
  } else {
    o1 = x1 * c1 - x2 * s1;
    o2 = x2 * c2 + x1 * s2;
  }
  op[j] = from_f<T>(o1);
  op[j + half] = from_f<T>(o2);
}

}  // namespace

extern "C" int axl_cuda_rope(int dtype, const void* x, const int64_t* x_strides, const void* cos, const void* sin,
                             void* out, const int64_t* out_strides, int64_t batch, int64_t heads, int64_t seq,
                             int64_t rot, int backward, void* stream) {
  const int64_t total = batch * heads * seq * (rot / 2);
  if (total == 0) return 0;
  const Strides xs{x_strides[0], x_strides[1], x_strides[2]};
  const Strides os{out_strides[0], out_strides[1], out_strides[2]};
  const int threads = 256;
  const unsigned blocks = static_cast<unsigned>((total + threads - 1) / threads);
  AXL_CUDA_DISPATCH(dtype, rope_kernel<T><<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(
                               static_cast<const T*>(x), xs, static_cast<const T*>(cos),
                               static_cast<const T*>(sin), static_cast<T*>(out), os, heads, seq, rot, total,
                               backward));
  return static_cast<int>(cudaGetLastError());
}
