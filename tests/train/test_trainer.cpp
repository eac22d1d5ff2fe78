// The batcher (padding, masks, seeded per-epoch order) and the training loop end to end on
// llama2.c's stories260K: LoRA learns a new character name, the saved adapter reloads to the
// same logits, and a short full fine-tune saves a loadable model.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/models/llama2c_convert.h"
#include "axl/models/loader.h"
#include "axl/peft/adapter_io.h"
#include "axl/train/batcher.h"
#include "axl/train/trainer.h"
#include "axl/train/train_state.h"
#include "tests/train/stories_model.h"
#include "tests/fixtures.h"

namespace {

using axl::train::Batcher;
using axl::train::BatcherOptions;

axl::data::TokenizedStore five_records() {
  axl::data::TokenizedStore store;
  for (int i = 0; i < 5; ++i) {
    std::vector<int32_t> ids, labels;
    for (int j = 0; j <= i; ++j) {
      ids.push_back(100 * (i + 1) + j);
      labels.push_back(j == 0 ? -100 : 100 * (i + 1) + j);
    }
    store.append(ids, labels);
  }
  return store;
}

TEST(Batcher, PadsToTheLongestWithMaskedLabels) {
  auto store = five_records();
  BatcherOptions o;
  o.micro_batch_size = 2;
  o.pad_id = 7;
  Batcher b(store, o);
  EXPECT_EQ(b.micro_batches_per_epoch(), 3u);
  auto mb = b.make_batch({0, 3});  // lengths 1 and 4
  ASSERT_EQ(mb.input_ids.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(mb.input_ids[0][0].item<int64_t>(), 100);
  for (int j = 1; j < 4; ++j) {
    EXPECT_EQ(mb.input_ids[0][j].item<int64_t>(), 7);
    EXPECT_EQ(mb.labels[0][j].item<int64_t>(), -100);
    EXPECT_EQ(mb.attention_mask[0][j].item<int64_t>(), 0);
  }
  EXPECT_EQ(mb.attention_mask[0][0].item<int64_t>(), 1);
  EXPECT_EQ(mb.labels[0][0].item<int64_t>(), -100);  // the record's own mask is kept
  EXPECT_EQ(mb.attention_mask[1].sum().item<int64_t>(), 4);
  EXPECT_EQ(mb.input_ids[1][3].item<int64_t>(), 403);
  EXPECT_EQ(mb.labels[1][3].item<int64_t>(), 403);
}

TEST(Batcher, SeededShuffleCoversEveryRecordOncePerEpoch) {
  auto store = five_records();
  BatcherOptions o;
  o.micro_batch_size = 2;
  o.seed = 3;
  Batcher a(store, o), b(store, o);
  std::vector<std::vector<size_t>> orders;
  for (int64_t epoch = 0; epoch < 4; ++epoch) {
    auto order = a.epoch_order(epoch);
    EXPECT_EQ(order, b.epoch_order(epoch));  // deterministic
    std::set<size_t> seen(order.begin(), order.end());
    EXPECT_EQ(seen.size(), 5u);
    EXPECT_EQ(*seen.rbegin(), 4u);
    orders.push_back(order);
    // The micro-batches of the epoch hold exactly those records, in that order.
    std::vector<int64_t> firsts;
    for (size_t i = 0; i < a.micro_batches_per_epoch(); ++i) {
      auto mb = a.micro_batch(epoch, i);
      for (int64_t r = 0; r < mb.input_ids.size(0); ++r) firsts.push_back(mb.input_ids[r][0].item<int64_t>());
    }
    ASSERT_EQ(firsts.size(), 5u);
    for (size_t k = 0; k < 5; ++k) EXPECT_EQ(firsts[k], 100 * static_cast<int64_t>(order[k] + 1));
  }
  std::set<std::vector<size_t>> distinct(orders.begin(), orders.end());
  EXPECT_GT(distinct.size(), 1u);  // reshuffled across epochs
  o.seed = 4;
  Batcher c(store, o);
  bool differs = false;
  for (int64_t epoch = 0; epoch < 4; ++epoch) differs |= c.epoch_order(epoch) != orders[static_cast<size_t>(epoch)];
  EXPECT_TRUE(differs);
  o.shuffle = false;
  EXPECT_EQ(Batcher(store, o).epoch_order(2), (std::vector<size_t>{0, 1, 2, 3, 4}));
}

using Scratch = axl::test::StoriesModel;
const Scratch* scratch() { return axl::test::stories_model("stories-train"); }

axl::config::Config config_for(const Scratch& s, const std::string& out, const std::string& extra) {
  return axl::test::stories_config(s, out, extra);
}

TEST(Trainer, LoraLearnsANewNameAndSavesAReloadableAdapter) {
  const Scratch* s = scratch();
  if (!s) GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  const std::string out = s->dir + "/lora-out";
  auto cfg = config_for(*s, out, "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_target_linear: true\n"
                                 "max_steps: 30\neval_steps: 10\n");
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto run = axl::train::prepare_run(cfg, opts);
  EXPECT_EQ(run->data.train.size(), 32u);
  EXPECT_EQ(run->data.validation.size(), 8u);
  auto summary = axl::train::train(*run, opts);
  EXPECT_EQ(summary.steps, 30);
  EXPECT_LT(summary.last_loss, 0.5 * summary.first_loss) << summary.first_loss << " -> " << summary.last_loss;
  ASSERT_TRUE(summary.eval_loss_before && summary.eval_loss_after);
  EXPECT_LT(*summary.eval_loss_after, 0.5 * *summary.eval_loss_before);

  for (const char* f : {"adapter_model.safetensors", "adapter_config.json", "trainer_state.json", "metrics.jsonl",
                        "config.yml", "tokenizer.model"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  auto state = axl::train::TrainState::load(out + "/trainer_state.json");
  EXPECT_EQ(state.global_step, 30);
  ASSERT_TRUE(state.best_metric.has_value());
  EXPECT_NEAR(*state.best_metric, *summary.eval_loss_after, 1e-9);
  int eval_lines = 0, step_lines = 0;
  std::ifstream metrics(out + "/metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    auto j = nlohmann::json::parse(line);
    eval_lines += j.contains("eval_loss");
    step_lines += j.contains("loss");
  }
  EXPECT_EQ(eval_lines, 4);  // before training, steps 10, 20, 30
  EXPECT_EQ(step_lines, 6);  // every 5 steps

  // The saved adapter on a fresh base model gives the in-memory model's logits.
  auto batch = axl::train::Batcher(run->data.validation, {}).make_batch({0, 1});
  run->adapter->set_training(false);
  axl::models::ForwardInput in;
  in.input_ids = batch.input_ids;
  in.attention_mask = batch.attention_mask;
  at::NoGradGuard no_grad;
  at::Tensor want = run->model.forward(in).logits;
  auto fresh = axl::models::load_causal_lm(s->model);
  auto loaded = axl::peft::load_adapter(fresh, out);
  at::Tensor got = fresh.forward(in).logits;
  EXPECT_LE((got - want).abs().max().item<double>(), 1e-5);
  auto adapter_json = nlohmann::json::parse(std::ifstream(out + "/adapter_config.json"));
  EXPECT_EQ(adapter_json["base_model_name_or_path"], s->model);
  EXPECT_EQ(adapter_json["r"], 8);
}

TEST(Trainer, FullFineTuneSavesALoadableModel) {
  const Scratch* s = scratch();
  if (!s) GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  const std::string out = s->dir + "/full-out";
  auto cfg = config_for(*s, out, "max_steps: 4\nsave_steps: 2\nsave_total_limit: 1\nlearning_rate: 0.001\n");
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto run = axl::train::prepare_run(cfg, opts);
  auto summary = axl::train::train(*run, opts);
  EXPECT_EQ(summary.steps, 4);
  EXPECT_TRUE(std::filesystem::exists(out + "/checkpoint-2/model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(out + "/checkpoint-2/optimizer.safetensors"));
  auto saved = axl::models::load_causal_lm(out);
  auto base = axl::models::load_causal_lm(s->model);
  // The saved weights are the trained ones: equal to the run's, different from the base.
  EXPECT_TRUE(at::equal(saved.embed, run->model.embed));
  EXPECT_FALSE(at::equal(saved.embed, base.embed));
}

TEST(Trainer, ResumeFromACheckpointContinuesExactly) {
  const Scratch* s = scratch();
  if (!s) GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  // Dropout on, so the saved RNG state matters; 6 steps over 4-step epochs crosses an epoch.
  const std::string lora = "adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_dropout: 0.1\nlora_target_linear: true\n"
                           "max_steps: 6\nsave_steps: 3\neval_steps: 3\n";
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  const std::string a = s->dir + "/straight", b = s->dir + "/resumed";
  auto straight = axl::train::prepare_run(config_for(*s, a, lora), opts);
  axl::train::train(*straight, opts);
  ASSERT_TRUE(std::filesystem::exists(a + "/checkpoint-3/rng_state.safetensors"));

  auto resumed = axl::train::prepare_run(config_for(*s, b, lora + "resume_from_checkpoint: " + a + "/checkpoint-3\n"), opts);
  auto summary = axl::train::train(*resumed, opts);
  EXPECT_EQ(summary.steps, 3);  // only the remaining steps ran
  auto want = straight->adapter->state_dict();
  auto got = resumed->adapter->state_dict();
  ASSERT_EQ(want.size(), got.size());
  for (auto& [name, t] : want) EXPECT_TRUE(at::equal(t, got.at(name))) << name;
  EXPECT_EQ(axl::train::TrainState::load(b + "/trainer_state.json").global_step, 6);

  auto bad = axl::train::prepare_run(config_for(*s, b, lora + "resume_from_checkpoint: " + s->dir + "\n"), opts);
  EXPECT_THROW(axl::train::train(*bad, opts), axl::Error);
}

}  // namespace
