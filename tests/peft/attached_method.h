#pragma once
// Checks for a method on a model without a PEFT fixture: attach it fresh from a config JSON,
// perturb its trainable tensors (PEFT's initialisation is usually a no-op), then finite and
// changed logits, an identical save/load round trip, merged logits = adapter logits and an
// exact unmerge, and the base model back after detach.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "axl/core/tensor_io.h"
#include "axl/core/torch_compat.h"
#include "axl/peft/method_registry.h"
#include "tests/peft/method_fixture.h"

namespace axl::test {

// Replaces (or with `add`, adds to) every trainable tensor whose key contains `part` by
// scale * N(0, 1), seeded.
inline void perturb_adapter(peft::Adapter& adapter, const std::string& part, double scale, uint64_t seed,
                            bool add = false) {
  at::NoGradGuard ng;
  at::Generator gen = compat::make_cpu_generator(seed);
  for (auto& [key, t] : adapter.trainable()) {
    if (key.find(part) == std::string::npos) continue;
    const at::Tensor noise = (at::randn(t.sizes(), gen) * scale).to(t.device());
    if (add) t.add_(noise);
    else t.copy_(noise);
  }
}

struct AttachedErrors {
  double changed = 0;   // max |adapter logits - base logits|
  double merged = -1;   // max |merged - adapter logits|; < 0: the method cannot merge
  std::string saved;    // where the adapter was saved (PEFT can load it from there)
};

inline AttachedErrors check_attached_method(const std::string& model_dir, const nlohmann::json& config,
                                            const std::string& perturb_part, double perturb_scale,
                                            const std::string& name, bool perturb_add = false) {
  AttachedErrors e;
  models::CausalLM model = models::load_causal_lm(model_dir);
  const at::Tensor ids = load_safetensors(model_dir + "/reference.safetensors").at("input_ids");
  at::NoGradGuard ng;
  const at::Tensor base = logits_for(model, ids);
  {
    peft::Adapter adapter = peft::attach_adapter(model, config, name, /*seed=*/3);
    adapter.set_training(false);
    perturb_adapter(adapter, perturb_part, perturb_scale, 5, perturb_add);
    const at::Tensor adapted = logits_for(model, ids);
    EXPECT_TRUE(at::isfinite(adapted).all().item<bool>()) << name;
    e.changed = max_abs_diff(adapted, base);

    e.saved = scratch_dir("attached_" + name);
    peft::save_adapter(adapter, e.saved);
    {
      models::CausalLM fresh = models::load_causal_lm(model_dir);
      peft::Adapter again = peft::load_adapter(fresh, e.saved);
      EXPECT_TRUE(at::equal(logits_for(fresh, ids), adapted)) << "save/load round trip of " << name;
    }
    if (adapter.config->can_merge()) {
      adapter.merge();
      e.merged = max_abs_diff(logits_for(model, ids), adapted);
      adapter.unmerge();
      EXPECT_TRUE(at::equal(logits_for(model, ids), adapted)) << "unmerge is not exact for " << name;
    }
  }
  EXPECT_TRUE(at::equal(logits_for(model, ids), base)) << "base not restored after detach (" << name << ")";
  return e;
}

}  // namespace axl::test
