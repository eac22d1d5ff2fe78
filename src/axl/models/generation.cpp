#include "axl/models/generation.h"

#include <algorithm>
#include <c10/core/InferenceMode.h>

#include "axl/core/error.h"

namespace axl::models {

std::vector<int64_t> generate(const CausalLM& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& opts,
                              const std::function<void(int64_t)>& on_token) {
  if (prompt.empty()) throw Error("generate: the prompt is empty (give at least one id, e.g. BOS)");
  for (int64_t id : prompt)
    if (id < 0 || id >= model.config.vocab_size)
      throw Error("generate: prompt id " + std::to_string(id) + " is outside the vocabulary [0, " +
                  std::to_string(model.config.vocab_size) + ")");
  if (opts.max_new_tokens < 0) throw Error("--max-new-tokens must be >= 0");
  c10::InferenceMode guard;
  const std::vector<int64_t>& eos = opts.eos_ids.empty() ? model.config.eos_token_ids : opts.eos_ids;
  Sampler sampler(opts.sampling);

  // Virtual tokens (prefix / prompt tuning) sit in the cache's first positions; the real ones
  // continue after them.
  const int64_t virtual_count = model.virtual_tokens ? model.virtual_tokens->count() : 0;
  const int64_t total = static_cast<int64_t>(prompt.size()) + opts.max_new_tokens + virtual_count;
  if (model.config.learned_positions && total > model.config.max_position_embeddings)
    throw Error("generate: " + std::to_string(total) + " positions" +
                (virtual_count ? " (" + std::to_string(virtual_count) + " of them virtual tokens)" : std::string()) +
                " exceed the model's " + std::to_string(model.config.max_position_embeddings));
  KVCache cache = model.make_cache(1, std::max<int64_t>(total, 1));
  auto ids_opts = at::TensorOptions().dtype(at::kLong).device(model.device());

  std::vector<int64_t> history = prompt, out;
  at::Tensor input = at::tensor(prompt, at::kLong).view({1, -1}).to(model.device());
  for (int64_t step = 0; step < opts.max_new_tokens; ++step) {
    ForwardInput in;
    in.input_ids = input;
    in.cache = &cache;
    at::Tensor h = model.hidden(in);
    at::Tensor logits = model.logits_from_hidden(h.narrow(1, h.size(1) - 1, 1)).view({-1});
    int64_t id = sampler.next(logits, history);
    out.push_back(id);
    history.push_back(id);
    if (on_token) on_token(id);
    if (opts.stop_at_eos && std::find(eos.begin(), eos.end(), id) != eos.end()) break;
    input = at::full({1, 1}, id, ids_opts);
  }
  return out;
}

}  // namespace axl::models
