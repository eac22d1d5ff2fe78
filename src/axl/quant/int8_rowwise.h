#pragma once
// LLM.int8 weight quantisation (bitsandbytes' int8_vectorwise_quant with no outlier
// threshold): each row scaled by 127 / its absmax and rounded to int8. The row absmax is
// what bitsandbytes saves as SCB.
#include <ATen/ATen.h>

namespace axl::quant {

struct Int8Rowwise {
  at::Tensor codes;       // int8 [rows, cols]
  at::Tensor row_absmax;  // float32 [rows] (SCB)
  int64_t storage_bytes() const { return codes.numel() + row_absmax.numel() * 4; }
};

// `w`: a 2-D float tensor [out, in].
Int8Rowwise quantize_int8_rowwise(const at::Tensor& w);
at::Tensor dequantize_int8_rowwise(const Int8Rowwise& q, at::ScalarType dtype = at::kFloat);
void dequantize_int8_rowwise_into(const Int8Rowwise& q, at::Tensor& out);

}  // namespace axl::quant
