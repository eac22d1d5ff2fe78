// Prefix tuning and prompt tuning (virtual tokens): PEFT's fixtures through the shared method
// checks, the saved format, prefix_projection's saved table, the vocabulary initialisations,
// padding, generation with a KV cache, gradient checkpointing, and the six hf-tiny families.
#include "tests/peft/method_fixture.h"

#include <fstream>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/models/generation.h"
#include "axl/peft/method_registry.h"
#include "axl/peft/prefix_tuning.h"
#include "axl/peft/prompt_tuning.h"
#include "axl/train/activation_checkpoint.h"

namespace {

using axl::models::CausalLM;
using axl::models::ForwardInput;
using axl::test::max_abs_diff;

const char* kFamilies[] = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                           "GemmaForCausalLM", "Phi3ForCausalLM",    "GPT2LMHeadModel"};

axl::peft::Adapter attach(CausalLM& model, const nlohmann::json& j, uint64_t seed = 3) {
  return axl::peft::attach_adapter(model, j, "test", seed);
}

nlohmann::json prefix_json(int64_t tokens = 4) { return {{"peft_type", "PREFIX_TUNING"}, {"num_virtual_tokens", tokens}}; }
nlohmann::json prompt_json(int64_t tokens = 4) { return {{"peft_type", "PROMPT_TUNING"}, {"num_virtual_tokens", tokens}}; }

at::Tensor forward_logits(const CausalLM& model, const at::Tensor& ids, const at::Tensor& mask = {},
                          const at::Tensor& positions = {}) {
  ForwardInput in;
  in.input_ids = ids;
  in.attention_mask = mask;
  in.position_ids = positions;
  return model.forward(in).logits;
}

void expect_parity(const char* method) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::methods_folder(llama, method);
  axl::test::expect_fixture_parity(f, method, 1, /*mergeable=*/false);
}

TEST(VirtualTokenFixtures, PrefixTuningMatchesPeft) { expect_parity("prefix_tuning"); }
TEST(VirtualTokenFixtures, PromptTuningMatchesPeft) { expect_parity("prompt_tuning"); }

TEST(VirtualTokenFixtures, PromptTuningReturnsLogitsForTheVirtualPositions) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  CausalLM model = axl::models::load_causal_lm(llama);
  auto adapter = axl::peft::load_adapter(model, llama + "/methods/prompt_tuning");
  at::NoGradGuard ng;
  const at::Tensor ids = at::arange(1, 33, at::kLong).view({2, 16});
  EXPECT_EQ(forward_logits(model, ids).sizes(), (std::vector<int64_t>{2, 20, 256}));
  // Merging is refused with a clear error; the adapter keeps working.
  EXPECT_THROW(adapter.merge(), axl::Error);
  // Deactivated: the plain base; active again: the same adapted logits.
  const at::Tensor adapted = forward_logits(model, ids);
  adapter.deactivate();
  EXPECT_EQ(forward_logits(model, ids).size(1), 16);
  adapter.activate();
  EXPECT_TRUE(at::equal(forward_logits(model, ids), adapted));
}

// The config we write is PEFT 0.19.1's field set, and the 0.12 fixture's form reads.
TEST(VirtualTokenConfig, WritesPeft0191Fields) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  CausalLM model = axl::models::load_causal_lm(llama);
  {
    auto adapter = attach(model, prefix_json());
    const nlohmann::json expected = nlohmann::json::parse(R"({
      "auto_mapping": null, "base_model_name_or_path": "", "encoder_hidden_size": 32, "inference_mode": true,
      "init_weights": null, "modules_to_save": null, "num_attention_heads": 2, "num_layers": 2,
      "num_transformer_submodules": 1, "num_virtual_tokens": 4, "peft_type": "PREFIX_TUNING",
      "peft_version": "0.19.1", "prefix_projection": false, "revision": null, "task_type": "CAUSAL_LM",
      "token_dim": 32})");
    EXPECT_EQ(adapter.config->to_json(), expected);
    EXPECT_EQ(adapter.state_dict().at("prompt_embeddings").sizes(), (std::vector<int64_t>{4, 128}));
  }
  {
    auto adapter = attach(model, prompt_json());
    const nlohmann::json expected = nlohmann::json::parse(R"({
      "auto_mapping": null, "base_model_name_or_path": "", "inference_mode": true, "modules_to_save": null,
      "num_attention_heads": 4, "num_layers": 2, "num_transformer_submodules": 1, "num_virtual_tokens": 4,
      "peft_type": "PROMPT_TUNING", "peft_version": "0.19.1", "prompt_tuning_init": "RANDOM",
      "prompt_tuning_init_text": null, "revision": null, "task_type": "CAUSAL_LM", "token_dim": 64,
      "tokenizer_kwargs": null, "tokenizer_name_or_path": null})");
    EXPECT_EQ(adapter.config->to_json(), expected);
  }
  EXPECT_THROW(attach(model, {{"peft_type", "PREFIX_TUNING"}}), axl::Error);  // no num_virtual_tokens
  EXPECT_THROW(attach(model, {{"peft_type", "PROMPT_TUNING"}, {"num_virtual_tokens", 4}, {"token_dim", 32}}),
               axl::Error);
  EXPECT_THROW(attach(model, {{"peft_type", "PROMPT_TUNING"}, {"num_virtual_tokens", 4}, {"prompt_tuning_init", "TEXT"}}),
               axl::Error);  // no text
}

// A fresh adapter is PEFT's: N(0, 1) tables of the right shape, every value trainable.
TEST(VirtualTokenConfig, FreshTablesAreStandardNormal) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  CausalLM model = axl::models::load_causal_lm(llama);
  auto adapter = attach(model, prefix_json(64));
  at::Tensor t = adapter.shared_tensors.at("prompt_embeddings");
  EXPECT_TRUE(t.requires_grad());
  EXPECT_EQ(t.scalar_type(), at::kFloat);
  EXPECT_NEAR(t.mean().item<double>(), 0.0, 0.05);
  EXPECT_NEAR(t.std().item<double>(), 1.0, 0.05);
  EXPECT_EQ(adapter.trainable_count(), 64 * 128);
  adapter.detach();
  auto zero = attach(model, {{"peft_type", "PREFIX_TUNING"}, {"num_virtual_tokens", 4}, {"init_weights", "zero"}});
  EXPECT_EQ(zero.shared_tensors.at("prompt_embeddings").abs().sum().item<double>(), 0.0);
}

// prefix_projection trains an embedding through an MLP; the saved file holds the table it
// computes (as PEFT saves it), which loads back to identical logits.
TEST(VirtualTokenConfig, PrefixProjectionSavesTheComputedTable) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  CausalLM model = axl::models::load_causal_lm(llama);
  auto adapter = attach(model, {{"peft_type", "PREFIX_TUNING"}, {"num_virtual_tokens", 4}, {"prefix_projection", true},
                                {"encoder_hidden_size", 24}});
  auto trainable = adapter.trainable();
  ASSERT_EQ(trainable.size(), 5u);
  EXPECT_EQ(trainable.at("prompt_encoder.embedding.weight").sizes(), (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(trainable.at("prompt_encoder.transform.0.weight").sizes(), (std::vector<int64_t>{24, 32}));
  EXPECT_EQ(trainable.at("prompt_encoder.transform.2.weight").sizes(), (std::vector<int64_t>{128, 24}));
  const at::Tensor ids = at::arange(3, 27, at::kLong).view({2, 12});
  at::Tensor loss = axl::models::causal_lm_loss(forward_logits(model, ids), ids);
  loss.backward();
  for (auto& [k, t] : trainable) EXPECT_TRUE(t.grad().defined() && t.grad().abs().sum().item<double>() > 0) << k;

  at::NoGradGuard ng;
  const at::Tensor adapted = forward_logits(model, ids);
  const std::string dir = axl::test::scratch_dir("prefix_projection");
  axl::peft::save_adapter(adapter, dir);
  auto saved = axl::load_safetensors(dir + "/adapter_model.safetensors");
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved.at("prompt_embeddings").sizes(), (std::vector<int64_t>{4, 128}));
  EXPECT_EQ(axl::read_json_file(dir + "/adapter_config.json")["prefix_projection"], true);
  CausalLM fresh = axl::models::load_causal_lm(llama);
  auto loaded = axl::peft::load_adapter(fresh, dir);
  EXPECT_LE(max_abs_diff(forward_logits(fresh, ids), adapted), 1e-6);
}

// SAMPLE_VOCAB and TEXT copy rows of the input embeddings (TEXT's ids repeated to P).
TEST(VirtualTokenConfig, PromptInitFromTheVocabulary) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  CausalLM model = axl::models::load_causal_lm(llama);
  {
    auto a = attach(model, {{"peft_type", "PROMPT_TUNING"}, {"num_virtual_tokens", 5}, {"prompt_tuning_init", "TEXT"},
                            {"prompt_tuning_init_text", "hi"}, {"prompt_tuning_init_token_ids", {7, 9}}});
    const at::Tensor expected = model.embed.index_select(0, at::tensor(std::vector<int64_t>{7, 9, 7, 9, 7}, at::kLong));
    EXPECT_TRUE(at::equal(a.shared_tensors.at("prompt_embeddings").detach(), expected));
  }
  {
    auto a = attach(model, {{"peft_type", "PROMPT_TUNING"}, {"num_virtual_tokens", 6}, {"prompt_tuning_init", "SAMPLE_VOCAB"}});
    const at::Tensor table = a.shared_tensors.at("prompt_embeddings").detach();
    for (int64_t i = 0; i < table.size(0); ++i) {
      const at::Tensor diff = (model.embed - table[i]).abs().sum(1);
      EXPECT_EQ(diff.min().item<double>(), 0.0) << "row " << i << " is no vocabulary embedding";
    }
  }
}

// Padding: a padded row's real positions give the unpadded row's logits (right padding for
// both; left padding with explicit position ids for prefix tuning, which shifts them by P).
TEST(VirtualTokenMasks, PaddedRowsMatchUnpaddedOnes) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  for (const auto& j : {prefix_json(), prompt_json()}) {
    CausalLM model = axl::models::load_causal_lm(llama);
    auto adapter = attach(model, j);
    const int64_t p = j["peft_type"] == "PROMPT_TUNING" ? 4 : 0;  // logits positions in front
    at::NoGradGuard ng;
    const at::Tensor row = at::arange(5, 15, at::kLong).view({1, 10});
    const at::Tensor alone = forward_logits(model, row);
    const at::Tensor pad = at::zeros({1, 3}, at::kLong);
    const at::Tensor mask = at::cat({at::ones({1, 10}, at::kLong), at::zeros({1, 3}, at::kLong)}, 1);
    const at::Tensor right = forward_logits(model, at::cat({row, pad}, 1), mask);
    EXPECT_LE(max_abs_diff(right.narrow(1, 0, p + 10), alone), 1e-5) << j.dump();
    if (p == 0) {
      const at::Tensor lmask = mask.flip({1});
      const at::Tensor positions = (lmask.cumsum(1) - 1).clamp_min(0);
      const at::Tensor left = forward_logits(model, at::cat({pad, row}, 1), lmask, positions);
      EXPECT_LE(max_abs_diff(left.narrow(1, 3, 10), alone), 1e-5) << "left padding";
    }
  }
}

// Greedy generation with the KV cache (the prefix / prompt in its first positions) gives what
// a full recompute without a cache gives, token for token.
TEST(VirtualTokenGeneration, CachedGreedyEqualsRecompute) {
  for (const char* family : {"LlamaForCausalLM", "GPT2LMHeadModel", "GemmaForCausalLM"}) {
    AXL_REQUIRE_FIXTURE(dir, std::string("hf-tiny/") + family);
    for (const auto& j : {prefix_json(3), prompt_json(3)}) {
      CausalLM model = axl::models::load_causal_lm(dir);
      auto adapter = attach(model, j, 5);
      axl::models::GenerateOptions go;
      go.max_new_tokens = 12;
      go.stop_at_eos = false;
      const std::vector<int64_t> prompt = {1, 17, 42, 99};
      const std::vector<int64_t> cached = axl::models::generate(model, prompt, go);
      at::NoGradGuard ng;
      std::vector<int64_t> ids = prompt, recomputed;
      for (int i = 0; i < go.max_new_tokens; ++i) {
        at::Tensor logits = forward_logits(model, at::tensor(ids, at::kLong).view({1, -1}));
        const int64_t next = logits[0][logits.size(1) - 1].argmax().item<int64_t>();
        recomputed.push_back(next);
        ids.push_back(next);
      }
      EXPECT_EQ(cached, recomputed) << family << " " << j["peft_type"];
      // The adapter matters (the tiny Gemma's greedy ids do not change, its logits do).
      const at::Tensor prompt_ids = at::tensor(prompt, at::kLong).view({1, -1});
      const at::Tensor adapted = forward_logits(model, prompt_ids);
      adapter.detach();
      const at::Tensor base = forward_logits(model, prompt_ids);
      EXPECT_GT(max_abs_diff(adapted[0][adapted.size(1) - 1], base[0][base.size(1) - 1]), 1e-3)
          << family << " " << j["peft_type"] << ": the adapter changed nothing";
    }
  }
}

// Gradient checkpointing passes the prefix keys/values as explicit inputs: the table's
// gradient is the plain run's (prefix and prompt tuning).
TEST(VirtualTokenCheckpointing, TableGradientEqualsThePlainRun) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  for (const auto& j : {prefix_json(), prompt_json()}) {
    CausalLM model = axl::models::load_causal_lm(llama);
    auto adapter = attach(model, j);
    at::Tensor table = adapter.shared_tensors.at("prompt_embeddings");
    const at::Tensor ids = at::arange(3, 27, at::kLong).view({2, 12});
    at::Tensor mask = at::ones_like(ids);
    mask[1].narrow(0, 9, 3).zero_();
    auto grad = [&](bool checkpointing) {
      ForwardInput in;
      in.input_ids = ids;
      in.attention_mask = mask;
      if (checkpointing) in.layer_runner = axl::train::checkpoint_every_layer(model);
      axl::models::causal_lm_loss(model.forward(in).logits, ids.masked_fill(mask.eq(0), -100)).backward();
      at::Tensor g = table.grad().clone();
      table.mutable_grad().reset();
      return g;
    };
    const at::Tensor plain = grad(false), ckpt = grad(true);
    EXPECT_GT(plain.abs().sum().item<double>(), 0.0);
    EXPECT_LE(max_abs_diff(plain, ckpt), 1e-6) << j["peft_type"];
    std::printf("%s: checkpointed vs plain table gradient max abs diff %.3g\n",
                j["peft_type"].get<std::string>().c_str(), max_abs_diff(plain, ckpt));
  }
}

// Every hf-tiny family: finite logits that differ from the base, an exact save/load round
// trip, the base back after detach; bf16 bases keep float32 tables.
TEST(VirtualTokenFamilies, AllSixArchitectures) {
  for (const char* family : kFamilies) {
    AXL_REQUIRE_FIXTURE(dir, std::string("hf-tiny/") + family);
    for (const auto& j : {prefix_json(), prompt_json()}) {
      const std::string what = std::string(family) + " " + j["peft_type"].get<std::string>();
      CausalLM model = axl::models::load_causal_lm(dir);
      const at::Tensor ids = at::arange(2, 20, at::kLong).view({2, 9});
      at::NoGradGuard ng;
      const at::Tensor base = forward_logits(model, ids);
      at::Tensor adapted;
      const std::string saved = axl::test::scratch_dir("virtual_family");
      {
        auto adapter = attach(model, j);
        adapted = forward_logits(model, ids);
        EXPECT_TRUE(at::isfinite(adapted).all().item<bool>()) << what;
        const at::Tensor real = adapted.narrow(1, adapted.size(1) - 9, 9);
        EXPECT_GT(max_abs_diff(real, base), 1e-3) << what;
        axl::peft::save_adapter(adapter, saved);
      }
      EXPECT_TRUE(at::equal(forward_logits(model, ids), base)) << what << ": base not restored";
      CausalLM fresh = axl::models::load_causal_lm(dir);
      auto loaded = axl::peft::load_adapter(fresh, saved);
      EXPECT_TRUE(at::equal(forward_logits(fresh, ids), adapted)) << what << ": round trip";

      axl::models::LoadOptions lo;
      lo.dtype = at::kBFloat16;
      CausalLM half = axl::models::load_causal_lm(dir, lo);
      auto on_half = axl::peft::load_adapter(half, saved);
      EXPECT_EQ(on_half.shared_tensors.at("prompt_embeddings").scalar_type(), at::kFloat) << what;
      const at::Tensor h = forward_logits(half, ids);
      EXPECT_EQ(h.scalar_type(), at::kBFloat16) << what;
      EXPECT_LE(max_abs_diff(h, adapted), 0.25) << what << ": bf16 far from float32";
    }
  }
}

}  // namespace
