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
        ,MethodCase{"dora", "lora_r: 8\nlora_alpha: 16\nlora_dropout: 0.05\nlora_target_linear: true", 0.5}
        ,MethodCase{"adalora",
                   "lora_r: 8\nlora_alpha: 16\nlora_target_linear: true\n"
                   "peft:\n  target_r: 4\n  tinit: 5\n  tfinal: 10\n  deltaT: 5\n  orth_reg_weight: 0.1",
                   0.6}
        ,MethodCase{"oft", "lora_target_linear: true\npeft:\n  oft_block_size: 16\n  module_dropout: 0.1", 0.5}
        ,MethodCase{"boft", "lora_target_linear: true\npeft:\n  boft_block_size: 4\n  boft_dropout: 0.1", 0.5}
        ,MethodCase{"vera", "lora_r: 32\nlora_dropout: 0.05\nlora_target_linear: true\npeft:\n  d_initial: 0.1", 0.5}
        ,MethodCase{"prefix_tuning", "peft:\n  num_virtual_tokens: 8", 0.7}
        ,MethodCase{"prompt_tuning",
                   "peft:\n  num_virtual_tokens: 8\n  prompt_tuning_init: TEXT\n"
                   "  prompt_tuning_init_text: Once upon a time",
                   0.8}
        ,MethodCase{"ia3",
                   "lora_target_modules:\n  - k_proj\n  - v_proj\n  - down_proj\n"
                   "peft:\n  feedforward_modules: [down_proj]",
                   0.5}
        ,MethodCase{"loha",
                   "lora_r: 8\nlora_alpha: 16\nlora_target_linear: true\n"
                   "peft:\n  rank_dropout: 0.05\n  module_dropout: 0.05",
                   0.3}
        ,MethodCase{"lokr",
                   "lora_r: 8\nlora_alpha: 8\nlora_target_linear: true\n"
                   "peft:\n  decompose_both: true\n  rank_dropout: 0.05\n  rank_dropout_scale: true",
                   0.3}
        // (more methods here)
        ),
    case_name);

}  // namespace
