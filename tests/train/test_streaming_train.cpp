// Training from a streamed pretraining_dataset on stories260K: the loss falls, checkpoints
// keep the stream position, a resumed run continues from it bit for bit (the stream loops
// past the end of the file, as Axolotl's iterable dataset does under max_steps), and a
// position saved for other files is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/train/train_state.h"
#include "axl/train/trainer.h"
#include "tests/train/stories_model.h"

namespace {

namespace fs = std::filesystem;

// About ten packed rows of 128 tokens per pass over the file.
std::string write_stories(const std::string& dir) {
  const std::string path = dir + "/stories.jsonl";
  std::ofstream out(path);
  const char* names[] = {"Lily", "Tom", "Mia", "Ben", "Zorbix"};
  const char* things[] = {"ball", "cat", "tree", "cake", "box", "dog"};
  for (int i = 0; i < 30; ++i)
    out << "{\"text\": \"Once upon a time, there was a kid named " << names[i % 5] << ". " << names[i % 5]
        << " had a big " << things[i % 6] << ". " << names[i % 5] << " loved the " << things[i % 6]
        << " very much.\", \"n\": " << i << "}\n";
  return path;
}

axl::config::Config stream_config(const axl::test::StoriesModel& s, const std::string& data, const std::string& out,
                                  const std::string& extra = "") {
  const std::string yaml = "base_model: " + s.model + "\npretraining_dataset:\n  - path: " + data +
                           "\n    type: pretrain\n    text_column: text\nstreaming: true\nsample_packing: true\n"
                           "pretrain_multipack_attn: true\nsequence_len: 128\nmicro_batch_size: 1\n"
                           "gradient_accumulation_steps: 2\nmax_steps: 8\nsave_steps: 4\nlearning_rate: 0.01\n"
                           "optimizer: adamw_torch\nlr_scheduler: constant\nseed: 7\nadapter: lora\nlora_r: 4\n"
                           "lora_alpha: 8\nlora_dropout: 0.0\nlora_target_linear: true\noutput_dir: " + out + "\n" + extra;
  return axl::config::load_config_text(yaml, "stream-train.yml").config;
}

TEST(StreamingTrain, LossFallsCheckpointsKeepThePositionAndResumeContinuesFromIt) {
  const axl::test::StoriesModel* s = axl::test::stories_model("stories-streaming");
  if (!s) GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  // The model folder is shared by the train tests of this process: a folder of our own.
  const std::string root = s->dir + "/streaming";
  fs::create_directories(root);
  const std::string data = write_stories(root);
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  const std::string a = root + "/straight";
  auto straight = axl::train::prepare_run(stream_config(*s, data, a), opts);
  EXPECT_EQ(straight->data.train.size(), 0u);  // nothing prepared ahead
  const auto summary = axl::train::train(*straight, opts);
  EXPECT_EQ(summary.steps, 8);
  EXPECT_GT(summary.tokens, 0);
  EXPECT_LT(summary.last_loss, summary.first_loss - 0.1) << summary.first_loss << " -> " << summary.last_loss;

  // Step 4 of 2 one-row micro-batches: 8 rows taken; the final state has looped past the end.
  const auto mid = axl::train::TrainState::load(a + "/checkpoint-4/trainer_state.json").stream_position;
  ASSERT_TRUE(mid);
  EXPECT_EQ(mid->position.rows, 8u);
  EXPECT_EQ(mid->identity.files, std::vector<std::string>{data});
  const auto end = axl::train::TrainState::load(a + "/trainer_state.json").stream_position;
  ASSERT_TRUE(end);
  EXPECT_EQ(end->position.rows, 16u);
  EXPECT_GE(end->position.pass, 1u) << "16 rows should need a second pass over the file";

  // Resumed from checkpoint-4: the same adapter as the straight run, bit for bit.
  const std::string b = root + "/resumed";
  auto resumed = axl::train::prepare_run(stream_config(*s, data, b, "resume_from_checkpoint: " + a + "/checkpoint-4\n"), opts);
  EXPECT_EQ(axl::train::train(*resumed, opts).steps, 4);
  const auto want = straight->adapter->state_dict();
  for (auto& [name, t] : resumed->adapter->state_dict()) EXPECT_TRUE(at::equal(t, want.at(name))) << name;

  // The saved position is what the resume follows: moved back to the stream's start, the
  // resumed run trains on other rows and ends elsewhere.
  const std::string moved = root + "/moved-checkpoint";
  fs::copy(a + "/checkpoint-4", moved, fs::copy_options::recursive);
  auto state = axl::read_json_file(moved + "/trainer_state.json");
  auto& pos = state["stateful_callbacks"]["AxolotlCppResume"]["attributes"]["stream_position"];
  pos["position"] = axl::data::StreamPosition{}.to_json();
  std::ofstream(moved + "/trainer_state.json") << state.dump();
  auto shifted = axl::train::prepare_run(stream_config(*s, data, root + "/shifted", "resume_from_checkpoint: " + moved + "\n"), opts);
  axl::train::train(*shifted, opts);
  bool differs = false;
  for (auto& [name, t] : shifted->adapter->state_dict()) differs |= !at::equal(t, want.at(name));
  EXPECT_TRUE(differs);

  // A position saved for another file (here: another size) is refused.
  pos["identity"]["sizes"][0] = 12345;
  std::ofstream(moved + "/trainer_state.json") << state.dump();
  auto other = axl::train::prepare_run(stream_config(*s, data, root + "/other", "resume_from_checkpoint: " + moved + "\n"), opts);
  try {
    axl::train::train(*other, opts);
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("stream position is for other data"));
    EXPECT_THAT(e.what(), testing::HasSubstr("12345 bytes"));
  }
}

}  // namespace
