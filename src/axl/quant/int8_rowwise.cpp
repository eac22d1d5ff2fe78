#include "axl/quant/int8_rowwise.h"

#include <string>

#include "axl/core/error.h"

namespace axl::quant {

Int8Rowwise quantize_int8_rowwise(const at::Tensor& w_in) {
  if (w_in.dim() != 2) throw Error("8-bit quantisation needs a 2-D weight, got " + std::to_string(w_in.dim()) + " dims");
  if (!w_in.is_floating_point()) throw Error("8-bit quantisation needs a floating-point weight");
  at::Tensor w = w_in.detach().to(at::kCPU);
  at::Tensor stats = std::get<0>(w.abs().max(1)).to(at::kFloat);
  // Python's `127.0 / stats` is reciprocal(stats) * 127 (Tensor.__rtruediv__): same rounding here.
  at::Tensor scale = at::reciprocal(stats) * 127.0;
  scale = at::where(stats == 0, at::zeros_like(scale), scale);  // an all-zero row stays zero
  Int8Rowwise q;
  q.codes = at::round(w * scale.unsqueeze(-1)).to(at::kChar).contiguous();
  q.row_absmax = stats.contiguous();
  return q;
}

void dequantize_int8_rowwise_into(const Int8Rowwise& q, at::Tensor& out) {
  // bitsandbytes' int8_vectorwise_dequant: codes * SCB * (1 / 127) in float32.
  out.copy_(q.codes * q.row_absmax.view({-1, 1}) * 7.874015718698502e-3);
}

at::Tensor dequantize_int8_rowwise(const Int8Rowwise& q, at::ScalarType dtype) {
  at::Tensor out = at::empty(q.codes.sizes(), q.codes.options().dtype(dtype));
  dequantize_int8_rowwise_into(q, out);
  return out;
}

}  // namespace axl::quant
