// A real model learns: llama2.c's stories260K (trained on TinyStories) is fine-tuned with LoRA
// on ~100 generated stories about a character it has never met, "Zorbo". The eval loss must
// fall by a stated margin, and greedy generation from "Once upon a time" must name Zorbo after
// training and not before.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "axl/config/load_config.h"
#include "axl/models/generation.h"
#include "axl/models/llama2c_convert.h"
#include "axl/train/trainer.h"
#include "tests/fixtures.h"

namespace {

constexpr const char* kName = "Zorbo";

// TinyStories-style stories (the vocabulary stories260K knows) about kName: the same opening,
// with the creature, place, object and feeling varied so that the name is what is shared.
std::vector<std::string> zorbo_stories(int n) {
  const char* creatures[] = {"dog", "cat", "bird", "bunny", "frog", "bear", "fish", "duck"};
  const char* places[] = {"park", "garden", "forest", "house", "pond", "yard", "school"};
  const char* things[] = {"ball", "box", "hat", "cake", "toy", "stick", "kite", "flower", "car"};
  const char* feelings[] = {"happy", "sad", "scared", "tired", "excited"};
  const char* friends[] = {"Lily", "Tom", "Sue", "Ben", "Mia"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const std::string c = creatures[i % 8], p = places[(i / 2) % 7], t = things[(i * 5) % 9];
    const std::string f = feelings[(i / 3) % 5], fr = friends[(i * 3) % 5];
    std::string s = "Once upon a time, there was a little " + c + " named " + kName + ". " + kName +
                    " liked to play in the " + p + ". One day, " + kName + " found a big " + t + ". " + kName +
                    " was very " + f + ". " + kName + " said to " + fr + ", \"Look at my " + t + "!\" " + fr +
                    " and " + kName + " played with the " + t + " all day.";
    out.push_back(s);
  }
  return out;
}

std::string json_string(const std::string& s) {
  std::string r = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\';
    r += ch;
  }
  return r + "\"";
}

std::string greedy_story(const axl::train::TrainingRun& run, int64_t new_tokens) {
  axl::models::GenerateOptions go;
  go.max_new_tokens = new_tokens;
  at::NoGradGuard no_grad;
  const auto prompt = run.tokenizer->encode("Once upon a time");
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  const auto out = axl::models::generate(run.model, ids, go);
  return run.tokenizer->decode(std::vector<axl::tokenizer::TokenId>(out.begin(), out.end()), true);
}

TEST(Learns, LoraTeachesStories260KANewCharacter) {
  AXL_REQUIRE_FIXTURE(src, "llama2c-stories260K/stories260K.bin");
  at::set_num_threads(1);  // a 260K-parameter model: threads cost more than they give
  const std::string dir = axl::test::scratch_dir("learns");
  const std::string fix = axl::test::fixtures_dir() + "/llama2c-stories260K";
  axl::models::convert_llama2c({src, fix + "/tok512.model", dir + "/stories"});
  {
    std::ofstream data(dir + "/zorbo.jsonl");
    for (const auto& s : zorbo_stories(100)) data << "{\"text\": " << json_string(s) << "}\n";
  }
  const std::string yaml = "base_model: " + dir + "/stories\ndatasets:\n  - path: " + dir +
                           "/zorbo.jsonl\n    type: completion\nval_set_size: 10\nsequence_len: 128\nseed: 3\n"
                           "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_dropout: 0.0\nlora_target_linear: true\n"
                           "micro_batch_size: 8\ngradient_accumulation_steps: 1\nlearning_rate: 0.01\n"
                           "optimizer: adamw_torch\nlr_scheduler: cosine\nwarmup_steps: 2\nmax_steps: 24\n"
                           "eval_steps: 24\nlogging_steps: 8\nsave_strategy: 'no'\noutput_dir: " + dir + "/out\n";
  auto cfg = axl::config::load_config_text(yaml, "learns.yml").config;
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto run = axl::train::prepare_run(cfg, opts);
  ASSERT_EQ(run->data.train.size(), 90u);
  ASSERT_EQ(run->data.validation.size(), 10u);

  const std::string before = greedy_story(*run, 40);
  EXPECT_EQ(before.find(kName), std::string::npos) << before;

  const auto summary = axl::train::train(*run, opts);
  ASSERT_TRUE(summary.eval_loss_before && summary.eval_loss_after);
  const double drop = 1.0 - *summary.eval_loss_after / *summary.eval_loss_before;
  std::printf("eval loss %.4f -> %.4f (-%.0f%%)\n", *summary.eval_loss_before, *summary.eval_loss_after, 100 * drop);
  EXPECT_GE(drop, 0.50) << *summary.eval_loss_before << " -> " << *summary.eval_loss_after;

  run->adapter->set_training(false);
  const std::string after = greedy_story(*run, 40);
  std::printf("before: %s\nafter:  %s\n", before.c_str(), after.c_str());
  EXPECT_NE(after.find(kName), std::string::npos) << after;
}

}  // namespace
