#include "axl/kernels/packed_attention.h"

#include <string>

#include "axl/core/error.h"

namespace axl::kernels {

namespace {

std::vector<int64_t> checked(std::vector<int64_t> bounds, int64_t total) {
  if (bounds.size() < 2) throw Error("cu_seqlens must be a 1-D tensor of at least 2 sequence boundaries");
  bool ok = bounds.front() == 0 && bounds.back() == total;
  for (size_t i = 1; ok && i < bounds.size(); ++i) ok = bounds[i] >= bounds[i - 1];
  if (!ok)
    throw Error("cu_seqlens must rise from 0 to the row length " + std::to_string(total) +
                " (the cumulative sample lengths of a packed row)");
  return bounds;
}

}  // namespace

std::vector<int64_t> packed_segment_bounds(const at::Tensor& cu_seqlens, int64_t total) {
  if (cu_seqlens.dim() != 1 || cu_seqlens.numel() < 2)
    throw Error("cu_seqlens must be a 1-D tensor of at least 2 sequence boundaries");
  at::Tensor host = cu_seqlens.to(at::kCPU, at::kLong).contiguous();
  const int64_t* p = host.data_ptr<int64_t>();
  return checked(std::vector<int64_t>(p, p + host.numel()), total);
}

std::vector<int64_t> packed_segment_bounds(const AttentionSpec& spec, int64_t total) {
  if (spec.cu_seqlens_host.empty()) return packed_segment_bounds(spec.cu_seqlens, total);
  return checked(spec.cu_seqlens_host, total);
}

bool can_attend_per_segment(const AttentionSpec& spec, int64_t batch, int64_t tq, int64_t tk) {
  return spec.cu_seqlens.defined() && spec.q_offset == 0 && tq == tk && batch == 1;
}

at::Tensor attention_per_segment(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionSpec& spec) {
  const int64_t t = q.size(2);
  if (!can_attend_per_segment(spec, q.size(0), t, k.size(2)))
    throw Error("per-segment attention needs a packed batch of one row without a KV cache");
  const std::vector<int64_t> bounds = packed_segment_bounds(spec, t);
  AttentionSpec one = spec;  // each segment: an ordinary causal sequence of its own
  one.cu_seqlens = at::Tensor();
  one.cu_seqlens_host.clear();
  std::vector<at::Tensor> outs;
  outs.reserve(bounds.size() - 1);
  for (size_t s = 0; s + 1 < bounds.size(); ++s) {
    const int64_t start = bounds[s], len = bounds[s + 1] - bounds[s];
    if (len == 0) continue;
    if (spec.key_padding_mask.defined()) one.key_padding_mask = spec.key_padding_mask.narrow(1, start, len);
    outs.push_back(attention(q.narrow(2, start, len), k.narrow(2, start, len), v.narrow(2, start, len), one));
  }
  return outs.size() == 1 ? outs[0] : at::cat(outs, 2);
}

}  // namespace axl::kernels
