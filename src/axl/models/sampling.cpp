#include "axl/models/sampling.h"

#include <limits>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"

namespace axl::models {

Sampler::Sampler(const SamplingOptions& opts) : opts_(opts), gen_(compat::make_cpu_generator(opts.seed)) {
  if (opts.temperature < 0) throw Error("--temperature must be >= 0");
  if (opts.top_p <= 0 || opts.top_p > 1) throw Error("--top-p must be in (0, 1]");
  if (opts.top_k < 0) throw Error("--top-k must be >= 0");
  if (opts.repetition_penalty <= 0) throw Error("--repetition-penalty must be > 0");
}

int64_t Sampler::next(const at::Tensor& logits_in, const std::vector<int64_t>& history) {
  at::Tensor logits = logits_in.detach().to(at::kCPU, at::kFloat).contiguous().clone();
  const int64_t vocab = logits.size(0);
  float* l = logits.data_ptr<float>();
  if (opts_.repetition_penalty != 1.0) {
    std::vector<bool> seen(static_cast<std::size_t>(vocab), false);
    for (int64_t id : history)
      if (id >= 0 && id < vocab) seen[static_cast<std::size_t>(id)] = true;
    const float p = static_cast<float>(opts_.repetition_penalty);
    for (int64_t i = 0; i < vocab; ++i)
      if (seen[static_cast<std::size_t>(i)]) l[i] = l[i] < 0 ? l[i] * p : l[i] / p;
  }
  if (opts_.temperature == 0.0) return logits.argmax().item<int64_t>();

  logits.div_(opts_.temperature);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  if (opts_.top_k > 0 && opts_.top_k < vocab) {
    float kth = std::get<0>(at::topk(logits, opts_.top_k)).min().item<float>();
    logits.masked_fill_(logits.lt(kth), neg_inf);
  }
  if (opts_.top_p < 1.0) {
    // Keep the smallest set of most likely tokens whose probability reaches top_p.
    auto [sorted, order] = at::sort(logits, /*dim=*/0, /*descending=*/false);
    at::Tensor cum = at::softmax(sorted, 0).cumsum(0);
    at::Tensor remove_sorted = cum.le(1.0 - opts_.top_p);
    remove_sorted[vocab - 1] = false;
    at::Tensor remove = at::zeros_like(remove_sorted).scatter(0, order, remove_sorted);
    logits.masked_fill_(remove, neg_inf);
  }
  at::Tensor probs = at::softmax(logits, 0);
  return at::multinomial(probs, 1, false, gen_).item<int64_t>();
}

}  // namespace axl::models
