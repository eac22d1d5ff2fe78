// Every PEFT method trains from YAML (`adapter: <method>` plus a `peft:` block): 50 steps on
// the converted stories260K with a falling loss, and the saved adapter loads back (our
// load_adapter) with identical logits. The live PEFT loading each of them is checked by
// tests/peft/test_methods_peer.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "axl/peft/adapter_io.h"
#include "axl/models/loader.h"
#include "axl/train/trainer.h"
#include "tests/train/stories_model.h"

namespace {

struct MethodCase {
  std::string adapter;  // the YAML adapter: value
  std::string yaml;     // the method's keys (lora_*, peft: block)
  double max_final_ratio;  // last logged loss / first logged loss must be at most this
};

std::string case_name(const testing::TestParamInfo<MethodCase>& info) { return info.param.adapter; }

class AdapterMethodTraining : public testing::TestWithParam<MethodCase> {};

TEST_P(AdapterMethodTraining, FiftyStepsLowerTheLossAndTheAdapterReloads) {
  const MethodCase& c = GetParam();
  const auto* s = axl::test::stories_model("adapter_methods");
  if (!s) GTEST_SKIP() << "no stories260K fixture";
  const std::string out = s->dir + "/out-" + c.adapter;
  auto cfg = axl::test::stories_config(
      *s, out, "adapter: " + c.adapter + "\n" + c.yaml + "\nmax_steps: 50\nsave_strategy: 'no'\nval_set_size: 0\n");
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto run = axl::train::prepare_run(cfg, opts);
  ASSERT_TRUE(run->adapter);
  const auto summary = axl::train::train(*run, opts);
  std::printf("%s: %lld trainable values, loss %.4f -> %.4f\n", c.adapter.c_str(),
              static_cast<long long>(run->adapter->trainable_count()), summary.first_loss, summary.last_loss);
  EXPECT_EQ(summary.steps, 50);
  EXPECT_LT(summary.last_loss, summary.first_loss * c.max_final_ratio);

  // The saved adapter on a fresh base gives the trained model's logits exactly.
  run->adapter->set_training(false);
  at::NoGradGuard no_grad;
  axl::models::ForwardInput in;
  in.input_ids = at::arange(1, 33, at::kLong).view({2, 16});
  const at::Tensor trained = run->model.forward(in).logits;
  auto fresh = axl::models::load_causal_lm(s->model);
  auto loaded = axl::peft::load_adapter(fresh, out);
  EXPECT_EQ(loaded.config->peft_type(), run->adapter->config->peft_type());
  EXPECT_TRUE(at::equal(fresh.forward(in).logits, trained));
}

// Each method's entry: what a user would write. Methods register here as they land.
INSTANTIATE_TEST_SUITE_P(
    Methods, AdapterMethodTraining,
    testing::Values(
        MethodCase{"lora", "lora_r: 8\nlora_alpha: 16\nlora_target_linear: true", 0.5}
        // (more methods here)
        ),
    case_name);

}  // namespace
