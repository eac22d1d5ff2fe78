#pragma once
// ATen glue for the CUDA 4-bit dequantisation kernel (quant/cuda/dequant_4bit.cu).
#include <ATen/ATen.h>

#include "axl/quant/blockwise_4bit.h"

namespace axl::quant {

// True when the kernel was compiled in and AXL_QUANT_CUDA_DEQUANT=1 or AXL_CUDA_KERNELS names
// nf4_dequant (kernels/cuda_switch.h; off until verified on a GPU).
bool dequantize_4bit_cuda_available();
// `out`: a contiguous bf16 CUDA tensor of q.numel() elements; q's tensors on the same device.
void dequantize_4bit_cuda(const Quantized4bit& q, at::Tensor& out);

}  // namespace axl::quant
