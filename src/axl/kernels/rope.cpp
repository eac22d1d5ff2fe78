#include "axl/kernels/rope.h"

#include <cmath>

namespace axl::kernels {

at::Tensor rope_inv_freq(const RopeConfig& rope, int64_t rotary_dim,
                         int64_t max_position_embeddings, int64_t seq_len, at::Device device) {
  // Computed on the CPU (a few numbers), then moved: keeps every device, meta included, exact.
  auto f32 = at::TensorOptions().dtype(at::kFloat).device(at::kCPU);
  double base = rope.theta;
  if (rope.type == "dynamic" && seq_len > max_position_embeddings) {
    double ratio = rope.factor * static_cast<double>(seq_len) / max_position_embeddings - (rope.factor - 1);
    base = rope.theta * std::pow(ratio, static_cast<double>(rotary_dim) / (rotary_dim - 2));
  }
  // Same arithmetic as transformers: exponents from an int64 arange, made float, over dim.
  at::Tensor exponent = at::arange(0, rotary_dim, 2, f32.dtype(at::kLong)).to(at::kFloat) /
                        static_cast<float>(rotary_dim);
  at::Tensor inv_freq = 1.0 / at::pow(base, exponent);
  if (rope.type == "linear") inv_freq = inv_freq / rope.factor;
  if (rope.type == "llama3") {
    double old_ctx = static_cast<double>(rope.original_max_position_embeddings);
    double low_wavelen = old_ctx / rope.low_freq_factor;
    double high_wavelen = old_ctx / rope.high_freq_factor;
    at::Tensor wavelen = 2 * M_PI / inv_freq;
    at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / rope.factor, inv_freq);
    at::Tensor smooth = (old_ctx / wavelen - rope.low_freq_factor) /
                        (rope.high_freq_factor - rope.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled;
    at::Tensor medium = wavelen.ge(high_wavelen).logical_and(wavelen.le(low_wavelen));
    inv_freq = at::where(medium, smoothed, scaled);
  }
  return inv_freq.to(at::kFloat).to(device);
}

std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& inv_freq,
                                               const at::Tensor& position_ids,
                                               at::ScalarType dtype) {
  at::Tensor freqs = position_ids.to(at::kFloat).unsqueeze(-1) * inv_freq.view({1, 1, -1});
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t rot = cos.size(-1);
  at::Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);  // [B, 1, T, rot]
  at::Tensor xr = rot == x.size(-1) ? x : x.narrow(-1, 0, rot);
  at::Tensor x1 = xr.narrow(-1, 0, rot / 2), x2 = xr.narrow(-1, rot / 2, rot / 2);
  at::Tensor rotated = at::cat({-x2, x1}, -1);
  at::Tensor out = xr * c + rotated * s;
  if (rot == x.size(-1)) return out;
  return at::cat({out, x.narrow(-1, rot, x.size(-1) - rot)}, -1);
}

}  // namespace axl::kernels
