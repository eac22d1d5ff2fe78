#include "axl/peft/oft.h"

#include "axl/core/torch_compat.h"
#include "axl/peft/attach_targets.h"
#include "axl/peft/lora.h"
#include "axl/peft/modules_to_save.h"
#include "axl/peft/oft_layer.h"
#include "axl/peft/oft_legacy_layer.h"

namespace axl::peft {

int64_t nearest_divisor(int64_t in_features, int64_t value) {
  if (value >= in_features) return in_features;
  int64_t higher = value;
  while (higher <= in_features && in_features % higher != 0) ++higher;
  int64_t lower = value;
  while (lower > 1 && in_features % lower != 0) --lower;
  return (value - lower) <= (higher - value) ? lower : higher;
}

namespace {

std::shared_ptr<AdapterLayer> make_layer(const OftConfig& c, const models::LinearSlot& slot, at::Generator& gen,
                                         const at::Device& device) {
  if (c.legacy) {
    const int64_t out = slot.base->out_features();
    const int64_t b = (out + c.r - 1) / c.r;
    at::Tensor oft_r = at::zeros({c.block_share ? 1 : c.r, b, b}, at::kFloat);
    return std::make_shared<LegacyOftLayer>(oft_r.to(device).requires_grad_(true), c.r, c.coft, c.eps,
                                            c.module_dropout);
  }
  const int64_t in = slot.base->in_features();
  OftSettings s;
  if (c.r == 0) {
    s.block_size = in % c.oft_block_size != 0 || c.oft_block_size > in ? nearest_divisor(in, c.oft_block_size)
                                                                        : c.oft_block_size;
    s.blocks = in / s.block_size;
  } else {
    s.blocks = in % c.r != 0 || c.r > in ? nearest_divisor(in, c.r) : c.r;
    s.block_size = in / s.blocks;
  }
  s.block_share = c.block_share;
  s.coft = c.coft;
  s.eps = c.eps;
  s.use_cayley_neumann = c.use_cayley_neumann;
  s.neumann_terms = c.num_cayley_neumann_terms;
  s.module_dropout = c.module_dropout;
  at::Tensor w = at::zeros({c.block_share ? 1 : s.blocks, s.block_size * (s.block_size - 1) / 2}, at::kFloat);
  if (!c.init_weights) w.normal_(0.0, 0.1, gen);
  return std::make_shared<OftLayer>(w.to(device).requires_grad_(true), s);
}

}  // namespace

Adapter attach_oft(models::CausalLM& model, const OftConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<OftConfig>(config_in);
  TargetModules& targets = config->target_modules ? *config->target_modules : config->target_modules.emplace();
  if (targets.kind == TargetModules::Kind::List && targets.names.empty())
    targets.names = default_lora_targets(model.config.model_type);
  Adapter adapter;
  adapter.config = config;
  at::Generator gen = compat::make_cpu_generator(seed);
  // GPT-2's Conv1D layers are [out, in] slots here like any linear layer; PEFT 0.19.1 itself
  // refuses Conv1D targets for OFT (see docs/adapters.md).
  attach_to_targets(model, adapter, targets, "OFT",
                    [&](models::LinearSlot& slot) { return make_layer(*config, slot, gen, model.device()); });
  attach_modules_to_save(model, adapter, config->modules_to_save, "OFT");
  return adapter;
}

}  // namespace axl::peft
