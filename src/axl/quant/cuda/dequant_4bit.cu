// Blockwise 4-bit (NF4/FP4) dequantisation to bf16 on the GPU: one thread per packed byte
// (two weights), the 16-entry table in shared memory, float32 block scale, one rounding to
// bf16. Only CUDA headers here; the ATen glue is quant/dequant_cuda.cpp. Not yet verified on
// a GPU, so the glue keeps it off by default (AXL_QUANT_CUDA_DEQUANT=1 turns it on).
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

namespace {

__global__ void dequant_4bit_bf16_kernel(const uint8_t* packed, const float* scales, const float* code,
                                         __nv_bfloat16* out, long long n, int blocksize) {
  __shared__ float table[16];
  if (threadIdx.x < 16) table[threadIdx.x] = code[threadIdx.x];
  __syncthreads();
  const long long byte = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const long long i = byte * 2;
  if (i >= n) return;
  const uint8_t b = packed[byte];
  out[i] = __float2bfloat16_rn(table[b >> 4] * scales[i / blocksize]);
  if (i + 1 < n) out[i + 1] = __float2bfloat16_rn(table[b & 15] * scales[(i + 1) / blocksize]);
}

}  // namespace

// scales: float32 per block (already decoded from double quantisation).
extern "C" int axl_dequant_4bit_bf16(const uint8_t* packed, const float* scales, const float* code, void* out,
                                     long long n, int blocksize, void* stream) {
  const int threads = 256;
  const long long bytes = (n + 1) / 2;
  const unsigned blocks = static_cast<unsigned>((bytes + threads - 1) / threads);
  if (blocks == 0) return 0;
  dequant_4bit_bf16_kernel<<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(
      packed, scales, code, static_cast<__nv_bfloat16*>(out), n, blocksize);
  return static_cast<int>(cudaGetLastError());
}
