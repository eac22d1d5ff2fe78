#include "axl/peft/lora.h"

#include <cmath>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/models/weight_names.h"
#include "axl/peft/dora_layer.h"
#include "axl/peft/lora_layer.h"
#include "axl/peft/modules_to_save.h"
#include "axl/quant/loftq.h"

namespace axl::peft {

std::vector<std::string> default_lora_targets(const std::string& model_type) {
  if (model_type == "phi3") return {"qkv_proj"};
  if (model_type == "gpt2") return {"c_attn"};
  if (model_type == "llama" || model_type == "mistral" || model_type == "qwen2" || model_type == "qwen3" ||
      model_type == "gemma" || model_type == "gemma2")
    return {"q_proj", "v_proj"};
  throw Error("LoRA: no default target_modules for model_type '" + model_type + "'; set target_modules");
}

namespace {

// PEFT's initialisations. nn.Linear's default (kaiming_uniform with a = sqrt(5)) is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void init_lora(at::Tensor& a, at::Tensor& b, LoraInit init, int64_t r, at::Generator& gen) {
  const double bound_a = 1.0 / std::sqrt(static_cast<double>(a.size(1)));
  switch (init) {
    case LoraInit::Default:
      a.uniform_(-bound_a, bound_a, gen);
      b.zero_();
      break;
    case LoraInit::Random:
      a.uniform_(-bound_a, bound_a, gen);
      b.uniform_(-1.0 / std::sqrt(static_cast<double>(r)), 1.0 / std::sqrt(static_cast<double>(r)), gen);
      break;
    case LoraInit::Gaussian:
      a.normal_(0.0, 1.0 / static_cast<double>(r), gen);
      b.zero_();
      break;
    case LoraInit::Loftq: break;  // attach_lora runs quant::apply_loftq instead
  }
}

}  // namespace

std::string embedding_module_path(const models::CausalLM& model) {
  std::string name = models::weight_names_for(model.config).embed;
  const std::string suffix = ".weight";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    name.resize(name.size() - suffix.size());
  return name;
}

Adapter attach_lora(models::CausalLM& model, const LoraConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<LoraConfig>(config_in);
  TargetModules& targets = config->target_modules ? *config->target_modules : config->target_modules.emplace();
  if (targets.kind == TargetModules::Kind::List && targets.names.empty())
    targets.names = default_lora_targets(model.config.model_type);
  // PEFT turns fan_in_fan_out on (with a warning) for GPT-2's Conv1D layers.
  if (model.config.is_gpt2()) config->fan_in_fan_out = true;

  Adapter adapter;
  adapter.config = config;
  at::Generator gen = compat::make_cpu_generator(seed);
  for (models::LinearSlot* slot : model.slots()) {
    if (!targets.matches(slot->name, slot == &model.lm_head)) continue;
    const int64_t r = config->rank_for(slot->name);
    at::Tensor a, b;
    if (config->init == LoraInit::Loftq) {
      // LoftQ: the base becomes the quantized Q and B A starts at the SVD of W - Q.
      quant::LoftqResult f = quant::apply_loftq(*slot, {config->loftq_bits, r, config->loftq_iter});
      a = f.lora_a;
      b = f.lora_b;
    } else {
      a = at::empty({r, slot->base->in_features()}, at::kFloat);
      b = at::empty({slot->base->out_features(), r}, at::kFloat);
      init_lora(a, b, config->init, r, gen);
    }
    a = a.to(model.device()).requires_grad_(true);
    b = b.to(model.device()).requires_grad_(true);
    std::shared_ptr<LoraLayer> layer;
    if (config->use_dora) {
      auto dora = std::make_shared<DoraLayer>(a, b, at::Tensor(), config->scaling_for(slot->name), config->lora_dropout);
      // PEFT's start: m = ||W + s B A|| per row, so the fresh adapter is plain LoRA.
      dora->magnitude = dora->weight_norm(slot->base->dense_weight()).requires_grad_(true);
      layer = dora;
    } else {
      layer = std::make_shared<LoraLayer>(a, b, config->scaling_for(slot->name), config->lora_dropout);
    }
    slot->adapters.push_back(layer);
    adapter.layers.push_back({slot, layer, nullptr, at::Tensor()});
  }
  if (adapter.layers.empty())
    throw Error("LoRA: target_modules " + targets.to_json().dump() + " matched no linear module of this " +
                model.config.model_type + " model");

  attach_modules_to_save(model, adapter, config->modules_to_save, "LoRA");
  return adapter;
}

}  // namespace axl::peft
