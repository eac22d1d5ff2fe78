#include "axl/peft/loha.h"

#include <cmath>

#include "axl/core/torch_compat.h"
#include "axl/peft/attach_targets.h"
#include "axl/peft/lora.h"
#include "axl/peft/modules_to_save.h"

namespace axl::peft {

at::Tensor drop_delta_rows(const at::Tensor& delta, double rank_dropout, bool rescale) {
  at::Tensor keep = (at::rand({delta.size(0)}, delta.options()) > rank_dropout).to(delta.scalar_type());
  if (rescale) keep = keep / keep.mean();
  return delta * keep.view({-1, 1});
}

bool keep_module(double module_dropout) {
  return module_dropout <= 0 || at::rand({1}, at::kFloat).item<double>() > module_dropout;
}

void kaiming_uniform_like_linear(at::Tensor& t, at::Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(t.size(1)));
  t.uniform_(-bound, bound, gen);
}

LohaLayer::LohaLayer(at::Tensor w1a, at::Tensor w1b, at::Tensor w2a, at::Tensor w2b, double scaling,
                     double rank_dropout, double module_dropout)
    : w1_a(std::move(w1a)), w1_b(std::move(w1b)), w2_a(std::move(w2a)), w2_b(std::move(w2b)), scaling(scaling),
      rank_dropout(rank_dropout), module_dropout(module_dropout) {}

at::Tensor LohaLayer::delta_weight() const {
  return at::matmul(w1_a, w1_b) * at::matmul(w2_a, w2_b) * scaling;
}

at::Tensor LohaLayer::forward(const at::Tensor& x, const models::LinearSlot&, const BaseFn& base) {
  at::Tensor y = base(x);
  if (training_ && !keep_module(module_dropout)) return y;
  at::Tensor delta = delta_weight();
  if (training_ && rank_dropout > 0) delta = drop_delta_rows(delta, rank_dropout, /*rescale=*/true);
  return (y + at::linear(x.to(delta.scalar_type()), delta)).to(x.scalar_type());
}

std::vector<std::pair<std::string, at::Tensor*>> LohaLayer::tensors() {
  return {{"hada_w1_a", &w1_a}, {"hada_w1_b", &w1_b}, {"hada_w2_a", &w2_a}, {"hada_w2_b", &w2_b}};
}

at::Tensor LohaLayer::merged_weight(const at::Tensor& weight) const {
  return (weight.to(at::kFloat) + delta_weight().to(weight.device(), at::kFloat)).to(weight.scalar_type());
}

Adapter attach_loha(models::CausalLM& model, const LohaConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<LohaConfig>(config_in);
  // PEFT's LoHa table is LoRA's.
  const auto defaults = [&] { return default_lora_targets(model.config.model_type); };
  Adapter adapter;
  adapter.config = config;
  at::Generator gen = compat::make_cpu_generator(seed);
  attach_to_targets(model, adapter, targets_or_defaults(config->target_modules, defaults), "LoHa", [&](models::LinearSlot& slot) {
    const int64_t r = config->rank_for(slot.name);
    const int64_t out = slot.base->out_features(), in = slot.base->in_features();
    at::Tensor w1a = at::empty({out, r}), w1b = at::empty({r, in}), w2a = at::empty({out, r}),
               w2b = at::empty({r, in});
    kaiming_uniform_like_linear(w1a, gen);
    kaiming_uniform_like_linear(w1b, gen);
    kaiming_uniform_like_linear(w2a, gen);
    if (config->init_weights) w2b.zero_();  // dW = 0 at the start
    else kaiming_uniform_like_linear(w2b, gen);
    auto ready = [&](at::Tensor t) { return t.to(model.device()).requires_grad_(true); };
    return std::make_shared<LohaLayer>(ready(w1a), ready(w1b), ready(w2a), ready(w2b),
                                       config->scaling_for(slot.name), config->rank_dropout,
                                       config->module_dropout);
  });
  attach_modules_to_save(model, adapter, config->modules_to_save, "LoHa");
  return adapter;
}

}  // namespace axl::peft
