// `tokens:` new to the vocabulary, end to end on stories260K: the data is tokenized with the
// extended tokenizer, the embeddings and tied head grow, lora_modules_to_save trains the new
// rows, and the output folder (tokenizer + adapter) loads in live PEFT + transformers with our
// logits (tests/peers/refs-resize.sh).
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/core/tensor_io.h"
#include "axl/models/llama2c_convert.h"
#include "axl/models/loader.h"
#include "axl/models/resize_embeddings.h"
#include "axl/peft/adapter_io.h"
#include "axl/train/trainer.h"
#include "tests/fixtures.h"

namespace {

const char* kToken = "<|persona|>";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct RunFolder {
  std::string dir, yaml;
};

RunFolder make_setup(const std::string& src) {
  RunFolder s;
  s.dir = axl::test::scratch_dir("new-tokens");
  const std::string fix = axl::test::fixtures_dir() + "/llama2c-stories260K";
  axl::models::convert_llama2c({src, fix + "/tok512.model", s.dir + "/stories"});
  {
    std::ofstream data(s.dir + "/persona.jsonl");
    for (int i = 0; i < 24; ++i)
      data << "{\"text\": \"" << kToken << " Lily is kind. " << kToken << " Tom likes the park.\"}\n";
  }
  s.yaml = "base_model: " + s.dir + "/stories\ndatasets:\n  - path: " + s.dir +
           "/persona.jsonl\n    type: completion\nsequence_len: 64\nseed: 7\nadapter: lora\nlora_r: 4\n"
           "lora_alpha: 8\nlora_target_modules: [q_proj, v_proj]\nmicro_batch_size: 4\n"
           "gradient_accumulation_steps: 1\nmax_steps: 6\nlearning_rate: 0.01\noptimizer: adamw_torch\n"
           "lr_scheduler: constant\nlogging_steps: 1\nsave_strategy: 'no'\noutput_dir: " + s.dir + "/out\n" +
           "tokens: [\"" + kToken + "\"]\n";
  return s;
}

TEST(NewTokens, LoraWithModulesToSaveTrainsTheNewRowsAndSavesThem) {
  AXL_REQUIRE_FIXTURE(src, "llama2c-stories260K/stories260K.bin");
  at::set_num_threads(1);
  const RunFolder s = make_setup(src);
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;

  // Axolotl refuses new tokens with an adapter that would not train the embeddings.
  auto bad = axl::config::load_config_text(s.yaml, "new-tokens.yml").config;
  try {
    axl::train::prepare_run(bad, opts);
    FAIL() << "expected an error";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("`lora_modules_to_save` not properly set when adding new tokens. Please "
                                         "include [`embed_tokens`, `lm_head`] in `lora_modules_to_save`."),
              std::string::npos)
        << e.what();
  }

  auto cfg = axl::config::load_config_text(s.yaml + "lora_modules_to_save: [embed_tokens, lm_head]\n",
                                           "new-tokens.yml").config;
  auto run = axl::train::prepare_run(cfg, opts);
  ASSERT_EQ(run->tokenizer->vocab_size(), 513u);
  ASSERT_EQ(run->tokenizer->token_to_id(kToken), 512);
  ASSERT_EQ(run->model.embed.size(0), 513);
  EXPECT_EQ(run->model.config.vocab_size, 513);
  // The data holds the new token as one id (BOS, <|persona|>, ...).
  const auto first = run->data.train.input_ids(0).to_vector();
  EXPECT_EQ(std::count(first.begin(), first.end(), 512), 2) << first.size();
  ASSERT_TRUE(run->adapter && run->adapter->saved_embedding);
  EXPECT_EQ(run->adapter->saved_modules.size(), 1u);  // lm_head, untied from the embeddings as PEFT does
  const at::Tensor embed_before = run->adapter->saved_embedding->weight.detach().clone();
  const at::Tensor head_before = run->adapter->saved_modules[0].weight.detach().clone();

  axl::train::train(*run, opts);
  const at::Tensor embed_after = run->adapter->saved_embedding->weight.detach();
  const at::Tensor head_after = run->adapter->saved_modules[0].weight.detach();
  const double moved_embed = (embed_after[512] - embed_before[512]).abs().max().item<double>();
  const double moved_head = (head_after[512] - head_before[512]).abs().max().item<double>();
  std::printf("new token row moved: embed %.4f, head %.4f\n", moved_embed, moved_head);
  EXPECT_GT(moved_embed, 1e-3);
  EXPECT_GT(moved_head, 1e-3);

  // The output folder: extended tokenizer files and the adapter with 513-row copies.
  const std::string out = s.dir + "/out";
  auto saved_tok = axl::tokenizer::load_tokenizer(out);
  EXPECT_EQ(saved_tok->vocab_size(), 513u);
  EXPECT_EQ(saved_tok->encode(std::string(kToken) + " Lily"), run->tokenizer->encode(std::string(kToken) + " Lily"));
  const auto tc = nlohmann::json::parse(read_text(out + "/tokenizer_config.json"));
  EXPECT_EQ(tc["added_tokens_decoder"]["512"]["content"], kToken);
  const auto tensors = axl::load_safetensors(out + "/adapter_model.safetensors");
  ASSERT_TRUE(tensors.count("base_model.model.model.embed_tokens.weight"));
  ASSERT_TRUE(tensors.count("base_model.model.lm_head.weight"));
  EXPECT_EQ(tensors.at("base_model.model.model.embed_tokens.weight").size(0), 513);
  EXPECT_TRUE(at::equal(tensors.at("base_model.model.model.embed_tokens.weight"), embed_after));

  // Our load_adapter grows a fresh base first, then gives the trained model's logits.
  auto fresh = axl::models::load_causal_lm(s.dir + "/stories");
  auto adapter = axl::peft::load_adapter(fresh, out);
  EXPECT_EQ(fresh.embed.size(0), 513);
  at::NoGradGuard ng;
  run->adapter->set_training(false);
  axl::models::ForwardInput in;
  in.input_ids = at::tensor(std::vector<int64_t>{1, 512, 346, 512}, at::kLong).view({1, 4});
  const double diff = (fresh.forward(in).logits - run->model.forward(in).logits).abs().max().item<double>();
  EXPECT_LE(diff, 1e-5);
}

TEST(NewTokens, OurOutputLoadsInLivePeftAndTransformers) {
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  const std::string dir = peer ? std::string(peer) + "/resize" : std::string();
  if (dir.empty() || !std::filesystem::exists(dir + "/reference.safetensors")) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference resize/reference.safetensors";
    GTEST_SKIP() << "peer reference resize not generated (set AXL_PEER_FIXTURES)";
  }
  // transformers read our saved tokenizer: same ids and len as ours.
  const auto reloaded = nlohmann::json::parse(read_text(dir + "/reloaded.json"));
  const auto refs = nlohmann::json::parse(read_text(dir + "/tokenizers.json"));
  auto tok = axl::tokenizer::load_tokenizer(dir + "/lora");
  EXPECT_EQ(tok->vocab_size(), reloaded["len"].get<size_t>());
  EXPECT_EQ(tok->token_to_id(kToken), reloaded["new_token_id"].get<int32_t>());
  for (size_t i = 0; i < refs["texts"].size(); ++i)
    EXPECT_EQ(tok->encode(refs["texts"][i].get<std::string>()), reloaded["ids"][i].get<std::vector<int32_t>>()) << i;

  // PeftModel on the resized base with our adapter gives our logits.
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  auto model = axl::models::load_causal_lm(dir + "/base");
  auto adapter = axl::peft::load_adapter(model, dir + "/lora");
  at::NoGradGuard ng;
  axl::models::ForwardInput in;
  in.input_ids = ref.at("input_ids");
  const double diff = (model.forward(in).logits - ref.at("logits")).abs().max().item<double>();
  std::printf("peer resize: ours vs PeftModel on the resized base %.2e\n", diff);
  EXPECT_LE(diff, 1e-4);
  EXPECT_EQ(ref.at("input_ids")[0][1].item<int64_t>(), 512);  // the new token is in the input
}

}  // namespace
