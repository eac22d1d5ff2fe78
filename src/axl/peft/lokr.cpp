#include "axl/peft/lokr.h"

#include "axl/core/torch_compat.h"
#include "axl/peft/attach_targets.h"
#include "axl/peft/loha.h"
#include "axl/peft/lora.h"
#include "axl/peft/modules_to_save.h"

namespace axl::peft {

std::pair<int64_t, int64_t> lokr_factorization(int64_t dimension, int64_t factor) {
  if (factor > 0 && dimension % factor == 0) return {factor, dimension / factor};
  if (factor == -1) factor = dimension;
  // Walk the divisors upwards until m passes n or the factor. PEFT also stops when the sum
  // exceeds that of (1, dimension), which no divisor pair does; kept for the same results.
  const int64_t length = 1 + dimension;
  int64_t m = 1, n = dimension;
  while (m < n) {
    int64_t next = m + 1;
    while (dimension % next != 0) ++next;
    const int64_t next_n = dimension / next;
    if (next + next_n > length || next > factor) break;
    m = next;
    n = next_n;
  }
  if (m > n) std::swap(m, n);
  return {m, n};
}

LokrLayer::LokrLayer(Factors factors, double scaling, double rank_dropout, bool rank_dropout_scale,
                     double module_dropout)
    : f(std::move(factors)), scaling(scaling), rank_dropout(rank_dropout), rank_dropout_scale(rank_dropout_scale),
      module_dropout(module_dropout) {}

at::Tensor LokrLayer::delta_weight() const {
  const at::Tensor w1 = f.w1.defined() ? f.w1 : at::matmul(f.w1_a, f.w1_b);
  const at::Tensor w2 = f.w2.defined() ? f.w2 : at::matmul(f.w2_a, f.w2_b);
  return at::kron(w1, w2) * scaling;
}

at::Tensor LokrLayer::forward(const at::Tensor& x, const models::LinearSlot&, const BaseFn& base) {
  at::Tensor y = base(x);
  if (training_ && !keep_module(module_dropout)) return y;
  at::Tensor delta = delta_weight();
  if (training_ && rank_dropout > 0) delta = drop_delta_rows(delta, rank_dropout, rank_dropout_scale);
  return (y + at::linear(x.to(delta.scalar_type()), delta)).to(x.scalar_type());
}

std::vector<std::pair<std::string, at::Tensor*>> LokrLayer::tensors() {
  std::vector<std::pair<std::string, at::Tensor*>> out;
  for (auto& [name, t] : {std::pair<const char*, at::Tensor*>{"lokr_w1", &f.w1}, {"lokr_w1_a", &f.w1_a},
                          {"lokr_w1_b", &f.w1_b}, {"lokr_w2", &f.w2}, {"lokr_w2_a", &f.w2_a}, {"lokr_w2_b", &f.w2_b}})
    if (t->defined()) out.emplace_back(name, t);
  return out;
}

at::Tensor LokrLayer::merged_weight(const at::Tensor& weight) const {
  return (weight.to(at::kFloat) + delta_weight().to(weight.device(), at::kFloat)).to(weight.scalar_type());
}

namespace {

// PEFT's three initialisations: Default makes w1 zero (dW = 0), Lycoris makes w2 (or w2_b)
// zero instead, Random leaves every factor Kaiming-uniform.
LokrLayer::Factors init_factors(int64_t a, int64_t b, int64_t c, int64_t d, int64_t r, bool full_w1, bool full_w2,
                                LokrInit init, at::Generator& gen) {
  LokrLayer::Factors f;
  if (full_w1) {
    f.w1 = at::empty({a, c});
  } else {
    f.w1_a = at::empty({a, r});
    f.w1_b = at::empty({r, c});
  }
  if (full_w2) {
    f.w2 = at::empty({b, d});
  } else {
    f.w2_a = at::empty({b, r});
    f.w2_b = at::empty({r, d});
  }
  // In PEFT's order: w1 (or w1_a, w1_b), then w2 (or w2_a, w2_b).
  for (at::Tensor* t : {&f.w1, &f.w1_a, &f.w1_b, &f.w2, &f.w2_a, &f.w2_b})
    if (t->defined()) kaiming_uniform_like_linear(*t, gen);
  if (init == LokrInit::Default) (full_w1 ? f.w1 : f.w1_a).zero_();
  if (init == LokrInit::Lycoris) (full_w2 ? f.w2 : f.w2_b).zero_();
  return f;
}

}  // namespace

Adapter attach_lokr(models::CausalLM& model, const LokrConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<LokrConfig>(config_in);
  // PEFT's LoKr table is LoRA's.
  const auto defaults = [&] { return default_lora_targets(model.config.model_type); };
  Adapter adapter;
  adapter.config = config;
  at::Generator gen = compat::make_cpu_generator(seed);
  attach_to_targets(model, adapter, targets_or_defaults(config->target_modules, defaults), "LoKr", [&](models::LinearSlot& slot) {
    const int64_t r = config->rank_for(slot.name);
    const auto [a, b] = lokr_factorization(slot.base->out_features(), config->decompose_factor);
    const auto [c, d] = lokr_factorization(slot.base->in_features(), config->decompose_factor);
    // PEFT's rule, r < max / 2 in real division: a factor is low-rank only when that saves.
    const bool full_w1 = !(config->decompose_both && 2 * r < std::max(a, c));
    const bool full_w2 = !(2 * r < std::max(b, d));
    LokrLayer::Factors f = init_factors(a, b, c, d, r, full_w1, full_w2, config->init, gen);
    for (at::Tensor* t : {&f.w1, &f.w1_a, &f.w1_b, &f.w2, &f.w2_a, &f.w2_b})
      if (t->defined()) *t = t->to(model.device()).requires_grad_(true);
    return std::make_shared<LokrLayer>(std::move(f), config->scaling_for(slot.name), config->rank_dropout,
                                       config->rank_dropout_scale, config->module_dropout);
  });
  attach_modules_to_save(model, adapter, config->modules_to_save, "LoKr");
  return adapter;
}

}  // namespace axl::peft
