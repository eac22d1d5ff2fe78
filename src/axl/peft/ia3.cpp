#include "axl/peft/ia3.h"

#include "axl/core/torch_compat.h"
#include "axl/peft/attach_targets.h"
#include "axl/peft/modules_to_save.h"

namespace axl::peft {

at::Tensor Ia3Layer::forward(const at::Tensor& x, const models::LinearSlot&, const BaseFn& base) {
  const at::Tensor scale = ia3_l.flatten();
  if (feedforward) return base((x.to(ia3_l.scalar_type()) * scale).to(x.scalar_type()));
  const at::Tensor y = base(x);
  return (y * scale).to(y.scalar_type());
}

at::Tensor Ia3Layer::merged_weight(const at::Tensor& weight) const {
  // ia3_l is [1, in] or [out, 1]: it broadcasts over W's columns or rows.
  return (weight.to(at::kFloat) * ia3_l.to(weight.device(), at::kFloat)).to(weight.scalar_type());
}

at::Tensor Ia3Layer::merged_bias(const at::Tensor& bias) const {
  if (feedforward) return bias;
  return (bias.to(at::kFloat) * ia3_l.to(bias.device(), at::kFloat).reshape(bias.sizes())).to(bias.scalar_type());
}

Adapter attach_ia3(models::CausalLM& model, const Ia3Config& config_in, uint64_t seed) {
  auto config = std::make_shared<Ia3Config>(config_in);
  const TargetModules& targets =
      targets_or_defaults(config->target_modules, [&] { return default_ia3_targets(model.config.model_type); });
  if (!config->feedforward_modules)
    config->feedforward_modules = FeedforwardModules{default_ia3_feedforward(model.config.model_type), {}};
  // PEFT turns fan_in_fan_out on for GPT-2's Conv1D layers; our slots hold [out, in] anyway.
  config->fan_in_fan_out = model.config.is_gpt2();

  Adapter adapter;
  adapter.config = config;
  at::Generator gen = compat::make_cpu_generator(seed);
  attach_to_targets(model, adapter, targets, "IA3", [&](models::LinearSlot& slot) {
    const bool ff = config->feedforward_modules->matches(slot.name);
    at::Tensor l = ff ? at::empty({1, slot.base->in_features()}, at::kFloat)
                      : at::empty({slot.base->out_features(), 1}, at::kFloat);
    if (config->init_ia3_weights) l.fill_(1.0);
    else l.normal_(0.0, 1.0, gen);
    return std::make_shared<Ia3Layer>(l.to(model.device()).requires_grad_(true), ff);
  });
  attach_modules_to_save(model, adapter, config->modules_to_save, "IA3");
  return adapter;
}

}  // namespace axl::peft
