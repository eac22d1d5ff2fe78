#include "axl/peft/vera.h"

#include <algorithm>
#include <cmath>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/peft/attach_targets.h"
#include "axl/peft/lora.h"
#include "axl/peft/modules_to_save.h"
#include "axl/peft/vera_layer.h"

namespace axl::peft {

namespace {

// torch.nn.init.kaiming_uniform_ with gain sqrt(2) on fan_in = size(1), from `gen`; the bound
// computed in the same order as PEFT so the float32 draws match bit for bit.
at::Tensor kaiming_uniform(int64_t rows, int64_t cols, at::Generator& gen) {
  const double gain = std::sqrt(2.0);
  const double std_dev = gain / std::sqrt(static_cast<double>(cols));
  const double bound = std::sqrt(3.0) * std_dev;
  return at::empty({rows, cols}, at::kFloat).uniform_(-bound, bound, gen);
}

}  // namespace

std::pair<at::Tensor, at::Tensor> vera_projections(int64_t r, int64_t max_in, int64_t max_out, int64_t key) {
  at::Generator gen = compat::make_cpu_generator(static_cast<uint64_t>(key));
  at::Tensor a = kaiming_uniform(r, max_in, gen);
  at::Tensor b = kaiming_uniform(max_out, r, gen);
  return {a, b};
}

Adapter attach_vera(models::CausalLM& model, const VeraConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<VeraConfig>(config_in);
  TargetModules& targets = config->target_modules ? *config->target_modules : config->target_modules.emplace();
  if (targets.kind == TargetModules::Kind::List && targets.names.empty())
    targets.names = default_lora_targets(model.config.model_type);
  // PEFT turns fan_in_fan_out on for GPT-2's Conv1D layers (our slots are [out, in] anyway).
  if (model.config.is_gpt2()) config->fan_in_fan_out = true;

  int64_t max_in = 0, max_out = 0;
  for (models::LinearSlot* slot : model.slots()) {
    if (!targets.matches(slot->name, slot == &model.lm_head)) continue;
    max_in = std::max(max_in, slot->base->in_features());
    max_out = std::max(max_out, slot->base->out_features());
  }
  if (max_in == 0)
    throw Error("VeRA: target_modules " + targets.to_json().dump() + " matched no linear module of this " +
                model.config.model_type + " model");
  auto [vera_a, vera_b] = vera_projections(config->r, max_in, max_out, config->projection_prng_key);
  vera_a = vera_a.to(model.device());
  vera_b = vera_b.to(model.device());

  Adapter adapter;
  adapter.config = config;
  if (config->save_projection) {
    adapter.shared_tensors["base_model.vera_A"] = vera_a;
    adapter.shared_tensors["base_model.vera_B"] = vera_b;
  }
  at::Generator gen = compat::make_cpu_generator(seed);
  attach_to_targets(model, adapter, targets, "VeRA", [&](models::LinearSlot& slot) {
    at::Tensor lambda_b = at::ones({slot.base->out_features()}, at::kFloat);
    at::Tensor lambda_d = at::randn({config->r}, gen, at::kFloat);
    if (config->init_weights) {
      lambda_b.zero_();
      lambda_d.fill_(config->d_initial);
    }
    return std::make_shared<VeraLayer>(vera_a, vera_b, lambda_d.to(model.device()).requires_grad_(true),
                                       lambda_b.to(model.device()).requires_grad_(true), slot.base->in_features(),
                                       config->vera_dropout);
  });
  attach_modules_to_save(model, adapter, config->modules_to_save, "VeRA");
  return adapter;
}

}  // namespace axl::peft
