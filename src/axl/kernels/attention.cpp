#include "axl/kernels/attention.h"

#include <cmath>
#include <limits>
#include <string>

#include "axl/core/error.h"
#include "axl/kernels/flash_varlen.h"
#include "axl/kernels/packed_attention.h"

namespace axl::kernels {

namespace {

at::Tensor repeat_kv(const at::Tensor& x, int64_t n_rep) {
  if (n_rep == 1) return x;
  auto s = x.sizes();  // [B, Hkv, T, D]
  return x.unsqueeze(2).expand({s[0], s[1], n_rep, s[2], s[3]}).reshape({s[0], s[1] * n_rep, s[2], s[3]});
}

}  // namespace

at::Tensor build_attention_mask(const AttentionSpec& spec, int64_t batch, int64_t tq, int64_t tk,
                                at::ScalarType dtype, at::Device device) {
  auto iopts = at::TensorOptions().dtype(at::kLong).device(device);
  at::Tensor qpos = at::arange(tq, iopts).add_(spec.q_offset).unsqueeze(1);  // [Tq, 1]
  at::Tensor kpos = at::arange(tk, iopts).unsqueeze(0);                      // [1, Tk]
  at::Tensor allowed = kpos.le(qpos);
  if (spec.sliding_window > 0) allowed = allowed.bitwise_and(kpos.gt(qpos - spec.sliding_window));
  if (spec.cu_seqlens.defined()) {
    // Segment id of each position: the number of sequence starts at or before it, minus one.
    at::Tensor starts = spec.cu_seqlens.to(device, at::kLong);
    at::Tensor seg_k = at::searchsorted(starts, at::arange(tk, iopts), /*out_int32=*/false, /*right=*/true);
    at::Tensor seg_q = at::searchsorted(starts, qpos.squeeze(1), false, true);
    allowed = allowed.bitwise_and(seg_q.unsqueeze(1).eq(seg_k.unsqueeze(0)));
  }
  at::Tensor allowed4 = allowed.view({1, 1, tq, tk});
  if (spec.key_padding_mask.defined()) {
    at::Tensor keys = spec.key_padding_mask.to(device).ne(0).view({batch, 1, 1, tk});
    allowed4 = allowed4.bitwise_and(keys);
  }
  double lowest = static_cast<double>(std::numeric_limits<float>::lowest());
  if (dtype == at::kHalf) lowest = -65504.0;
  if (dtype == at::kBFloat16) lowest = -3.3895313892515355e38;
  if (dtype == at::kDouble) lowest = std::numeric_limits<double>::lowest();
  // Bitwise ops and arithmetic rather than logical_and / at::where: libtorch has C++ meta
  // kernels only for the former, and the meta-device test runs this path.
  return allowed4.bitwise_not().to(dtype).mul(lowest);
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const AttentionSpec& spec) {
  const int64_t batch = q.size(0), heads = q.size(1), tq = q.size(2), d = q.size(3);
  const int64_t tk = k.size(2);
  const int64_t n_rep = heads / k.size(1);
  if (spec.cu_seqlens.defined() && batch != 1)
    throw Error("packed attention (cu_seqlens) takes a batch of one packed row, got a batch of " +
                std::to_string(batch));
  // Packed rows on CUDA: flash attention's varlen kernel with cu_seqlens (off until verified).
  if (spec.impl != AttentionImpl::Eager && can_use_flash_varlen(q, k, v, spec))
    return flash_varlen_attention(q, k, v, spec);
  // Packed rows otherwise: a causal attention per sample (SDPA: flash on CUDA) rather than one
  // block-diagonal [T, T] mask over the row, which costs T^2 memory and work on the masked
  // blocks (bench/packed_training.cpp measures it on the CPU); eager keeps the mask as the
  // reference.
  if (spec.impl != AttentionImpl::Eager && can_attend_per_segment(spec, batch, tq, tk))
    return attention_per_segment(q, k, v, spec);
  const double scale = spec.scale > 0 ? spec.scale : 1.0 / std::sqrt(static_cast<double>(d));

  bool use_sdpa = spec.impl == AttentionImpl::Sdpa ||
                  (spec.impl == AttentionImpl::Auto && spec.softcap == 0.0);
  if (spec.softcap != 0.0) use_sdpa = false;  // SDPA cannot soft-cap scores

  bool plain_causal = !spec.key_padding_mask.defined() && !spec.cu_seqlens.defined() &&
                      spec.sliding_window == 0 && spec.q_offset == 0 && tq == tk;
  // One new query after the whole cache (decoding) sees every key: no mask to build.
  bool sees_all = !spec.key_padding_mask.defined() && !spec.cu_seqlens.defined() &&
                  tq == 1 && spec.q_offset + 1 == tk &&
                  (spec.sliding_window == 0 || spec.sliding_window >= tk);
  // Half precision on CUDA: flash reads the grouped K/V heads as they are (no expanded copies).
  const bool half = q.scalar_type() == at::kBFloat16 || q.scalar_type() == at::kHalf;
  if (use_sdpa && plain_causal && q.is_cuda() && half && n_rep > 1)
    return at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true, scale, /*enable_gqa=*/true);
  at::Tensor kx = repeat_kv(k, n_rep), vx = repeat_kv(v, n_rep);
  if (use_sdpa) {
    if (plain_causal)
      return at::scaled_dot_product_attention(q, kx, vx, {}, 0.0, /*is_causal=*/true, scale);
    if (sees_all) return at::scaled_dot_product_attention(q, kx, vx, {}, 0.0, false, scale);
    at::Tensor mask = build_attention_mask(spec, batch, tq, tk, q.scalar_type(), q.device());
    return at::scaled_dot_product_attention(q, kx, vx, mask, 0.0, false, scale);
  }

  // Eager reference, as transformers' eager_attention_forward: scores in the input dtype,
  // softmax in float32, then back.
  at::Tensor scores = at::matmul(q, kx.transpose(2, 3)) * scale;
  if (spec.softcap != 0.0) scores = at::tanh(scores / spec.softcap) * spec.softcap;
  scores = scores + build_attention_mask(spec, batch, tq, tk, scores.scalar_type(), q.device());
  at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  return at::matmul(probs, vx);
}

}  // namespace axl::kernels
