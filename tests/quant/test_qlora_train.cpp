// `adapter: qlora` + `load_in_4bit` (and `adapter: lora` + `load_in_8bit`) through the real
// trainer: stories260K converted from llama2.c, a small completion dataset, falling loss.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "axl/config/load_config.h"
#include "axl/models/llama2c_convert.h"
#include "axl/quant/quantized_linear.h"
#include "axl/train/trainer.h"
#include "tests/fixtures.h"

namespace {

void write_stories(const std::string& path, int n) {
  const char* names[] = {"Lily", "Tom", "Sue", "Ben"};
  const char* things[] = {"ball", "kite", "cake", "hat", "box"};
  std::ofstream f(path);
  for (int i = 0; i < n; ++i)
    f << "{\"text\": \"Once upon a time, " << names[i % 4] << " found a red " << things[i % 5] << ". "
      << names[i % 4] << " was very happy and played with the " << things[i % 5] << " all day.\"}\n";
}

}  // namespace

TEST(QloraTrain, QuantizedBaseTrainsStories260K) {
  AXL_REQUIRE_FIXTURE(src, "llama2c-stories260K/stories260K.bin");
  at::set_num_threads(1);
  const std::string dir = axl::test::scratch_dir("qlora-train");
  const std::string fix = axl::test::fixtures_dir() + "/llama2c-stories260K";
  axl::models::convert_llama2c({src, fix + "/tok512.model", dir + "/stories"});
  write_stories(dir + "/data.jsonl", 48);
  struct Case {
    const char* name;
    const char* keys;
  };
  const Case cases[] = {
      {"qlora nf4+dq", "adapter: qlora\nload_in_4bit: true\n"},
      {"qlora fp4", "adapter: qlora\nload_in_4bit: true\nbnb_config_kwargs:\n  bnb_4bit_quant_type: fp4\n"
                    "  bnb_4bit_use_double_quant: false\n  bnb_4bit_compute_dtype: float32\n"},
      {"lora int8", "adapter: lora\nload_in_8bit: true\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string yaml = "base_model: " + dir + "/stories\ndatasets:\n  - path: " + dir +
                             "/data.jsonl\n    type: completion\nsequence_len: 64\nseed: 5\n" + c.keys +
                             "lora_r: 8\nlora_alpha: 16\nlora_dropout: 0.0\nlora_target_linear: true\n"
                             "micro_batch_size: 8\ngradient_accumulation_steps: 1\nlearning_rate: 0.01\n"
                             "optimizer: adamw_torch\nlr_scheduler: constant\nmax_steps: 16\nlogging_steps: 4\n"
                             "save_strategy: 'no'\noutput_dir: " + dir + "/out\n";
    auto cfg = axl::config::load_config_text(yaml, "qlora.yml").config;
    axl::train::TrainerOptions opts;
    opts.log_to_stderr = false;
    auto run = axl::train::prepare_run(cfg, opts);
    int quantized = 0;
    for (auto* slot : run->model.slots())
      if (std::dynamic_pointer_cast<axl::quant::QuantizedBase>(slot->base)) ++quantized;
    EXPECT_EQ(quantized, 5 * 7);  // every projection of the 5 layers; the tied head stays dense
    const auto summary = axl::train::train(*run, opts);
    std::printf("{\"train\":\"stories260K %s\",\"steps\":%lld,\"first_loss\":%.4f,\"last_loss\":%.4f}\n", c.name,
                static_cast<long long>(summary.steps), summary.first_loss, summary.last_loss);
    EXPECT_EQ(summary.steps, 16);
    EXPECT_LT(summary.last_loss, summary.first_loss * 0.7) << summary.first_loss << " -> " << summary.last_loss;
  }
}
