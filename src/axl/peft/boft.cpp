#include "axl/peft/boft.h"

#include <cstdio>

#include "axl/core/error.h"
#include "axl/core/shape_string.h"
#include "axl/core/torch_compat.h"
#include "axl/peft/attach_targets.h"
#include "axl/peft/boft_layer.h"
#include "axl/peft/lora.h"
#include "axl/peft/modules_to_save.h"

namespace axl::peft {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::shared_ptr<AdapterLayer> make_layer(const BoftConfig& c, const models::LinearSlot& slot, at::Generator& gen,
                                         const at::Device& device) {
  const int64_t in = slot.base->in_features(), out = slot.base->out_features();
  const int64_t divisor = c.boft_block_size != 0 ? c.boft_block_size : c.boft_block_num;
  if (in % divisor != 0)
    throw Error("BOFT: in_features of " + slot.name + " (" + std::to_string(in) + ") is not divisible by " +
                (c.boft_block_size != 0 ? "boft_block_size (" : "boft_block_num (") + std::to_string(divisor) + ")");
  const int64_t size = c.boft_block_size != 0 ? c.boft_block_size : in / c.boft_block_num;
  const int64_t num = in / size;
  at::Tensor r = at::zeros({1, num, size, size}, at::kFloat);
  at::Tensor s = at::ones({out, 1}, at::kFloat);
  if (!c.init_weights) {
    r.normal_(0.0, 0.1, gen);
    s.normal_(1.0, 0.1, gen);
  }
  return std::make_shared<BoftLayer>(r.to(device).requires_grad_(true), s.to(device).requires_grad_(true),
                                     c.boft_dropout);
}

}  // namespace

Adapter attach_boft(models::CausalLM& model, const BoftConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<BoftConfig>(config_in);
  TargetModules& targets = config->target_modules ? *config->target_modules : config->target_modules.emplace();
  if (targets.kind == TargetModules::Kind::List && targets.names.empty())
    targets.names = default_lora_targets(model.config.model_type);
  if (config->boft_n_butterfly_factor > 1)
    std::fprintf(stderr, "BOFT: boft_n_butterfly_factor %lld is built as 1, as PEFT builds it without its CUDA extension\n",
                 static_cast<long long>(config->boft_n_butterfly_factor));
  Adapter adapter;
  adapter.config = config;
  at::Generator gen = compat::make_cpu_generator(seed);
  attach_to_targets(model, adapter, targets, "BOFT",
                    [&](models::LinearSlot& slot) { return make_layer(*config, slot, gen, model.device()); });
  attach_modules_to_save(model, adapter, config->modules_to_save, "BOFT");
  return adapter;
}

void upgrade_stored_boft(std::map<std::string, at::Tensor>& stored) {
  for (auto it = stored.begin(); it != stored.end();) {
    const std::string& key = it->first;
    const at::Tensor& t = it->second;
    if (ends_with(key, ".boft_R") && (t.dim() != 4 || t.size(0) != 1))
      throw Error("BOFT tensor '" + key + "' has shape " + shape_string(t.sizes()) +
                  ": more than one butterfly factor (written by PEFT with its CUDA extension) is not supported; "
                  "PEFT on the CPU cannot load it either");
    if (!ends_with(key, ".boft_P")) {
      ++it;
      continue;
    }
    const bool identity = t.dim() == 3 && t.size(0) == 1 && t.size(1) == t.size(2) &&
                          at::equal(t[0].to(at::kFloat), at::eye(t.size(1), at::kFloat));
    if (!identity)
      throw Error("BOFT tensor '" + key + "' (shape " + shape_string(t.sizes()) +
                  ") is not the identity permutation of one butterfly factor; only factor 1 is supported");
    it = stored.erase(it);
  }
}

}  // namespace axl::peft
