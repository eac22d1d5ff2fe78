// TrainState <-> trainer_state.json, and the metrics JSONL writer.
#include <gtest/gtest.h>

#include <fstream>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/train/metrics_log.h"
#include "axl/train/train_state.h"
#include "tests/fixtures.h"

namespace {

using axl::train::TrainState;

TEST(TrainState, EvalLossTracksBestAndPatience) {
  TrainState s;
  s.global_step = 10;
  EXPECT_TRUE(s.record_eval_loss(2.0, "checkpoint-10"));
  s.global_step = 20;
  EXPECT_FALSE(s.record_eval_loss(2.5));
  EXPECT_FALSE(s.record_eval_loss(2.0));
  EXPECT_EQ(s.early_stopping_patience_counter, 2);
  s.global_step = 30;
  EXPECT_TRUE(s.record_eval_loss(1.5));
  EXPECT_EQ(s.early_stopping_patience_counter, 0);
  EXPECT_EQ(*s.best_global_step, 30);
  EXPECT_DOUBLE_EQ(*s.best_metric, 1.5);
  EXPECT_EQ(*s.best_model_checkpoint, "checkpoint-10");
}

TEST(TrainState, JsonRoundTripWithHfFieldNames) {
  TrainState s;
  s.global_step = 42;
  s.epoch = 1.75;
  s.micro_step = 3;
  s.scheduler_steps = 41;
  s.num_input_tokens_seen = 123456;
  s.max_steps = 100;
  s.logging_steps = 5;
  s.best_metric = 0.625;
  s.best_global_step = 40;
  s.early_stopping_patience_counter = 1;
  s.log_history.push_back({{"loss", 1.25}, {"learning_rate", 1e-4}, {"grad_norm", 0.5}, {"step", 42}, {"epoch", 1.75}});
  std::string path = axl::test::scratch_dir("train-state") + "/trainer_state.json";
  s.save(path);
  auto j = axl::read_json_file(path);
  for (const char* key : {"global_step", "epoch", "log_history", "best_metric", "best_global_step",
                          "best_model_checkpoint", "max_steps", "num_train_epochs", "logging_steps",
                          "eval_steps", "save_steps", "train_batch_size", "total_flos",
                          "num_input_tokens_seen", "is_world_process_zero", "stateful_callbacks"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["global_step"], 42);
  EXPECT_EQ(j["stateful_callbacks"]["EarlyStoppingCallback"]["attributes"]["early_stopping_patience_counter"], 1);
  TrainState r = TrainState::load(path);
  EXPECT_EQ(r.global_step, 42);
  EXPECT_DOUBLE_EQ(r.epoch, 1.75);
  EXPECT_EQ(r.micro_step, 3);
  EXPECT_EQ(r.scheduler_steps, 41);
  EXPECT_EQ(r.num_input_tokens_seen, 123456);
  EXPECT_DOUBLE_EQ(*r.best_metric, 0.625);
  EXPECT_EQ(*r.best_global_step, 40);
  EXPECT_FALSE(r.best_model_checkpoint.has_value());
  EXPECT_EQ(r.early_stopping_patience_counter, 1);
  ASSERT_EQ(r.log_history.size(), 1u);
  EXPECT_DOUBLE_EQ(r.log_history[0]["loss"].get<double>(), 1.25);
}

TEST(TrainState, ReadsAnHfTrainerState) {
  // The shape transformers writes (no axolotl-cpp extras): scheduler steps follow global_step.
  std::string path = axl::test::scratch_dir("hf-state") + "/trainer_state.json";
  std::ofstream(path) << R"({"best_metric": null, "best_model_checkpoint": null, "epoch": 0.5,
    "eval_steps": 500, "global_step": 7, "is_hyper_param_search": false, "log_history":
    [{"epoch": 0.5, "grad_norm": 1.5, "learning_rate": 2e-05, "loss": 2.25, "step": 5}],
    "logging_steps": 5, "max_steps": 14, "num_train_epochs": 1, "save_steps": 7,
    "total_flos": 1.0, "train_batch_size": 2, "trial_name": null, "trial_params": null})";
  TrainState s = TrainState::load(path);
  EXPECT_EQ(s.global_step, 7);
  EXPECT_EQ(s.scheduler_steps, 7);
  EXPECT_EQ(s.max_steps, 14);
  EXPECT_FALSE(s.best_metric.has_value());
  EXPECT_EQ(s.log_history.at(0)["step"], 5);
}

TEST(TrainState, BadFileIsAnAxlError) {
  std::string path = axl::test::scratch_dir("bad-state") + "/trainer_state.json";
  std::ofstream(path) << R"({"epoch": 1})";
  EXPECT_THROW(TrainState::load(path), axl::Error);
}

TEST(MetricsLog, OneJsonObjectPerLine) {
  std::string path = axl::test::scratch_dir("metrics") + "/metrics.jsonl";
  {
    axl::train::MetricsLog log(path);
    axl::train::StepRecord r;
    r.step = 1;
    r.loss = 2.5;
    r.learning_rate = 1e-4;
    r.grad_norm = 0.75;
    r.tokens = 100;
    r.tokens_per_s = 1000.0;
    r.memory_bytes = 4096;
    log.write(r);
    r.step = 2;
    r.grad_norm.reset();
    r.skipped = true;
    log.write(r);
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["step"], 1);
  EXPECT_DOUBLE_EQ(rows[0]["loss"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(rows[0]["grad_norm"].get<double>(), 0.75);
  EXPECT_EQ(rows[0]["memory_bytes"], 4096);
  EXPECT_TRUE(rows[1]["grad_norm"].is_null());
  EXPECT_TRUE(rows[1]["skipped"].get<bool>());
  EXPECT_THROW(axl::train::MetricsLog("/nonexistent-dir/x.jsonl"), axl::Error);
}

}  // namespace
