#pragma once
// A freshly attached adapter of any method on any hf-tiny architecture: attach from a config
// JSON, perturb every trainable tensor (PEFT's initialisations are no-ops), then check finite
// logits that differ from the base, a gradient for every trainable tensor, the save/load round
// trip (identical logits), merge parity and an exact unmerge. With AXL_TEST_KEEP_ADAPTERS set
// to a folder, the saved adapter and its logits are kept there under `tag` (for checking them
// in the live PEFT by hand).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "axl/core/tensor_io.h"
#include "axl/core/torch_compat.h"
#include "axl/peft/method_registry.h"
#include "tests/peft/method_fixture.h"

namespace axl::test {

struct FreshErrors {
  double changed = 0;  // max |adapter logits - base logits|
  double merged = INFINITY;
};

inline FreshErrors check_fresh_adapter(const std::string& model_dir, const nlohmann::json& config,
                                       const std::string& tag, double noise = 0.05) {
  FreshErrors e;
  models::CausalLM model = models::load_causal_lm(model_dir);
  at::Generator gen = compat::make_cpu_generator(42);
  const at::Tensor ids = at::randint(model.config.vocab_size, {2, 12}, gen, at::kLong);
  const at::Tensor base_logits = [&] {
    at::NoGradGuard ng;
    return logits_for(model, ids);
  }();
  {
    peft::Adapter adapter = peft::attach_adapter(model, config, tag, /*seed=*/3);
    {
      at::NoGradGuard ng;
      EXPECT_TRUE(at::equal(logits_for(model, ids), base_logits) ||
                  max_abs_diff(logits_for(model, ids), base_logits) < 1e-5)
          << tag << ": a fresh adapter changes the model";
      for (auto& [key, t] : adapter.trainable()) t.add_(at::randn(t.sizes(), gen, t.options()) * noise);
    }
    at::Tensor logits = logits_for(model, ids);
    EXPECT_TRUE(at::isfinite(logits).all().item<bool>()) << tag;
    models::causal_lm_loss(logits, ids).backward();
    for (auto& [key, t] : adapter.trainable())
      EXPECT_TRUE(t.grad().defined() && at::isfinite(t.grad()).all().item<bool>()) << tag << ": no gradient for " << key;

    at::NoGradGuard ng;
    const at::Tensor adapted = logits_for(model, ids);
    e.changed = max_abs_diff(adapted, base_logits);
    const char* keep = std::getenv("AXL_TEST_KEEP_ADAPTERS");
    const std::string saved = keep ? std::string(keep) + "/" + tag : scratch_dir("fresh_" + tag);
    peft::save_adapter(adapter, saved);
    if (keep) save_safetensors(saved + "/logits.safetensors", {{"input_ids", ids}, {"logits", adapted}}, {});
    {
      models::CausalLM fresh = models::load_causal_lm(model_dir);
      peft::Adapter again = peft::load_adapter(fresh, saved);
      EXPECT_TRUE(at::equal(logits_for(fresh, ids), adapted)) << tag << ": save/load round trip";
    }
    adapter.merge();
    e.merged = max_abs_diff(logits_for(model, ids), adapted);
    adapter.unmerge();
    EXPECT_TRUE(at::equal(logits_for(model, ids), adapted)) << tag << ": unmerge is not exact";
  }
  at::NoGradGuard ng;
  EXPECT_TRUE(at::equal(logits_for(model, ids), base_logits)) << tag << ": base not restored after detach";
  return e;
}

}  // namespace axl::test
