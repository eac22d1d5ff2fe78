#include "axl/quant/dequant_cuda.h"

#include "axl/kernels/cuda_switch.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

#ifdef AXL_WITH_QUANT_CUDA
#include <ATen/cuda/CUDAContext.h>
extern "C" int axl_dequant_4bit_bf16(const uint8_t* packed, const float* scales, const float* code, void* out,
                                     long long n, int blocksize, void* stream);
#endif

namespace axl::quant {

bool dequantize_4bit_cuda_available() {
#ifdef AXL_WITH_QUANT_CUDA
  const char* on = std::getenv("AXL_QUANT_CUDA_DEQUANT");
  return (on && std::string(on) == "1") || kernels::cuda::enabled(kernels::cuda::Kernel::Nf4Dequant);
#else
  return false;
#endif
}

void dequantize_4bit_cuda(const Quantized4bit& q, at::Tensor& out) {
#ifdef AXL_WITH_QUANT_CUDA
  if (!out.is_cuda() || out.scalar_type() != at::kBFloat16 || !out.is_contiguous()) {
    dequantize_4bit_into(q, out);  // the kernel writes bf16 only
    return;
  }
  const at::Device dev = out.device();
  at::Tensor packed = q.packed.to(dev).contiguous();
  at::Tensor scales = q.block_scales().to(dev, at::kFloat).contiguous();
  at::Tensor code = q.code.to(dev, at::kFloat).contiguous();
  int rc = axl_dequant_4bit_bf16(packed.data_ptr<uint8_t>(), scales.data_ptr<float>(), code.data_ptr<float>(),
                                 out.data_ptr(), q.numel(), static_cast<int>(q.blocksize),
                                 at::cuda::getCurrentCUDAStream().stream());
  if (rc != 0) throw std::runtime_error("4-bit dequantisation kernel failed to launch (CUDA error " + std::to_string(rc) + ")");
#else
  dequantize_4bit_into(q, out);
#endif
}

}  // namespace axl::quant
