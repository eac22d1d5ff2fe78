#pragma once
// bitsandbytes' blockwise 8-bit quantisation with the signed dynamic map: one float32 absmax
// per block of the flattened tensor, each value mapped to the nearest of the 256 codes. Used
// for double quantisation of 4-bit block scales (blocks of 256). Same absmax and map as the
// CPU path of bitsandbytes.functional.quantize_blockwise; the codes are the nearest map entry,
// which bitsandbytes' approximate search misses for a few values in a thousand (one code off).
#include <ATen/ATen.h>

namespace axl::quant {

struct Blockwise8bit {
  at::Tensor codes;   // uint8, the input's shape
  at::Tensor absmax;  // float32 [ceil(numel / blocksize)]
  at::Tensor code;    // float32 [256], the dynamic map (what bitsandbytes saves as the quant map)
  int64_t blocksize = 256;
};

// `a`: float32, contiguous.
Blockwise8bit quantize_blockwise_8bit(const at::Tensor& a, int64_t blocksize);
// float32, flattened.
at::Tensor dequantize_blockwise_8bit(const at::Tensor& codes, const at::Tensor& absmax, const at::Tensor& code,
                                     int64_t blocksize);

}  // namespace axl::quant
