// The data position in checkpoints, end to end on stories260K: each checkpoint's
// trainer_state.json holds where the data stands, a resume continues from it (bit-exact
// against a straight run, mid-epoch), a position for other data is refused, and the resumed run
// reads the prepared-dataset cache the first run wrote.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "axl/core/error.h"
#include "axl/train/train_state.h"
#include "axl/train/trainer.h"
#include "tests/train/stories_model.h"

namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(DataPosition, CheckpointsSaveItAndResumeUsesIt) {
  const axl::test::StoriesModel* s = axl::test::stories_model("stories-data-position");
  if (!s) GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  // 32 train records, 4 per micro-batch: 8 micro-batches per epoch; 2 per step: 4 steps per
  // epoch. Checkpoint 3 is in the middle of the first epoch; the resume crosses into the second.
  const std::string extra = "adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_dropout: 0.0\nlora_target_linear: true\n"
                            "max_steps: 6\nsave_steps: 3\neval_strategy: \"no\"\n"
                            "dataset_prepared_path: " + s->dir + "/prepared\n";
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  const std::string a = s->dir + "/straight";
  auto straight = axl::train::prepare_run(axl::test::stories_config(*s, a, extra), opts);
  EXPECT_FALSE(straight->data.train.is_mapped());  // prepared now, and cached
  ASSERT_EQ(straight->data.train.size(), 32u);
  axl::train::train(*straight, opts);

  const auto pos = axl::train::TrainState::load(a + "/checkpoint-3/trainer_state.json").data_position;
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->epoch, 0);
  EXPECT_EQ(pos->micro_batch, 6);
  EXPECT_EQ(pos->seed, 7u);
  EXPECT_EQ(pos->records, 32u);
  EXPECT_EQ(pos->micro_batches_per_epoch, 8u);
  EXPECT_TRUE(read_json(a + "/checkpoint-3/trainer_state.json")["stateful_callbacks"]["AxolotlCppResume"]["attributes"]
                  .contains("data_position"));

  // Resumed mid-epoch: the same adapter as the straight run, bit for bit; the data comes
  // from the cache the first run wrote.
  const std::string b = s->dir + "/resumed";
  auto resumed = axl::train::prepare_run(
      axl::test::stories_config(*s, b, extra + "resume_from_checkpoint: " + a + "/checkpoint-3\n"), opts);
  EXPECT_TRUE(resumed->data.train.is_mapped());
  EXPECT_EQ(axl::train::train(*resumed, opts).steps, 3);
  auto want = straight->adapter->state_dict();
  for (auto& [name, t] : resumed->adapter->state_dict()) EXPECT_TRUE(at::equal(t, want.at(name))) << name;

  // The saved position is what the resume follows: moved back to the epoch's start, the
  // resumed run trains on other batches and ends elsewhere.
  const std::string moved = s->dir + "/moved-checkpoint";
  fs::copy(a + "/checkpoint-3", moved, fs::copy_options::recursive);
  auto state = read_json(moved + "/trainer_state.json");
  state["stateful_callbacks"]["AxolotlCppResume"]["attributes"]["data_position"]["micro_batch"] = 0;
  std::ofstream(moved + "/trainer_state.json") << state.dump();
  auto shifted = axl::train::prepare_run(
      axl::test::stories_config(*s, s->dir + "/shifted", extra + "resume_from_checkpoint: " + moved + "\n"), opts);
  axl::train::train(*shifted, opts);
  bool differs = false;
  for (auto& [name, t] : shifted->adapter->state_dict()) differs |= !at::equal(t, want.at(name));
  EXPECT_TRUE(differs);

  // A position saved for other data (here: more training records) is refused.
  state["stateful_callbacks"]["AxolotlCppResume"]["attributes"]["data_position"]["records"] = 33;
  std::ofstream(moved + "/trainer_state.json") << state.dump();
  auto other = axl::train::prepare_run(
      axl::test::stories_config(*s, s->dir + "/other", extra + "resume_from_checkpoint: " + moved + "\n"), opts);
  try {
    axl::train::train(*other, opts);
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("33 training samples, this run has 32"), std::string::npos) << e.what();
  }
}

}  // namespace
