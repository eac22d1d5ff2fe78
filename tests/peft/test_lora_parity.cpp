// LoRA against PEFT's fixtures: for every hf-tiny model the adapter's logits, loss and every
// lora_A/lora_B gradient match reference.safetensors (<= 1e-4); a saved-then-reloaded adapter
// gives identical logits; merge matches, unmerge restores exactly; `axolotl forward --adapter
// --grads` and `axolotl merge-lora` write the same figures. Also the methods/ LoRA variants
// (rsLoRA, modules_to_save).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/core/tensor_io.h"
#include "axl/models/loader.h"
#include "axl/peft/adapter_io.h"
#include "tests/fixtures.h"

namespace {

using axl::models::CausalLM;

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

at::Tensor logits_of(const CausalLM& model, const at::Tensor& ids) {
  axl::models::ForwardInput in;
  in.input_ids = ids;
  return model.forward(in).logits;
}

std::string build_dir() {
  const char* b = std::getenv("AXL_BUILD_DIR");
  return b ? std::string(b) : std::string();
}

struct Errors {
  double logits = 0, loss = 0, grads = 0;
  std::size_t grad_count = 0;
};

// Forward + one backward with labels = input_ids; compares with the reference's keys.
Errors check_adapter(CausalLM& model, axl::peft::Adapter& adapter, const at::Tensor& ids,
                     const std::map<std::string, at::Tensor>& ref, const std::string& logits_key,
                     const std::string& loss_key) {
  Errors e;
  at::Tensor logits = logits_of(model, ids);
  at::Tensor loss = axl::models::causal_lm_loss(logits, ids);
  e.logits = max_abs(logits.detach(), ref.at(logits_key));
  e.loss = std::abs(loss.item<double>() - ref.at(loss_key).item<double>());
  loss.backward();
  auto trainable = adapter.trainable();
  for (const auto& [key, t] : ref) {
    if (key.rfind("base_model.model.", 0) != 0) continue;
    auto it = trainable.find(key);
    EXPECT_NE(it, trainable.end()) << "reference gradient " << key << " has no trainable tensor";
    if (it == trainable.end()) continue;
    EXPECT_TRUE(it->second.grad().defined()) << key;
    if (!it->second.grad().defined()) continue;
    e.grads = std::max(e.grads, max_abs(it->second.grad(), t));
    ++e.grad_count;
  }
  EXPECT_EQ(e.grad_count, trainable.size()) << "every trainable tensor has a reference gradient";
  return e;
}

class LoraFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraFixture, LogitsLossAndGradientsMatchPeft) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  CausalLM model = axl::models::load_causal_lm(dir);
  axl::peft::Adapter adapter = axl::peft::load_adapter(model, dir + "/lora");
  const std::size_t expect = GetParam() == "Phi3ForCausalLM" || GetParam() == "GPT2LMHeadModel" ? 8 : 14;
  EXPECT_EQ(adapter.layers.size(), expect);
  Errors e = check_adapter(model, adapter, ref.at("input_ids"), ref, "lora_logits", "lora_loss");
  EXPECT_LE(e.logits, 1e-4);
  EXPECT_LE(e.loss, 1e-4);
  EXPECT_LE(e.grads, 1e-4);
  EXPECT_EQ(e.grad_count, 2 * expect);
  if (GetParam() == "LlamaForCausalLM") {
    EXPECT_EQ(adapter.trainable_count(), 8192);
  }
  // Only adapter tensors train.
  for (const auto& [name, t] : model.named_tensors()) EXPECT_FALSE(t.requires_grad()) << name;
  std::printf("lora %s: logits %.2e loss %.2e grads %.2e (%zu tensors)\n", GetParam().c_str(), e.logits,
              e.loss, e.grads, e.grad_count);
}

TEST_P(LoraFixture, SavedAdapterReloadsIdentically) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  const at::Tensor ids = ref.at("input_ids");
  std::string out = axl::test::scratch_dir("lora_resave_" + GetParam());
  at::Tensor first;
  {
    CausalLM model = axl::models::load_causal_lm(dir);
    axl::peft::Adapter adapter = axl::peft::load_adapter(model, dir + "/lora");
    at::NoGradGuard ng;
    first = logits_of(model, ids);
    axl::peft::save_adapter(adapter, out);
  }
  // The same tensors under the same names as PEFT's file, bit for bit.
  auto theirs = axl::load_safetensors(dir + "/lora/adapter_model.safetensors");
  auto ours = axl::load_safetensors(out + "/adapter_model.safetensors");
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& [k, t] : theirs) {
    ASSERT_TRUE(ours.count(k)) << k;
    EXPECT_TRUE(at::equal(ours.at(k), t)) << k;
  }
  auto cfg = axl::read_json_file(out + "/adapter_config.json");
  auto fixture_cfg = axl::read_json_file(dir + "/lora/adapter_config.json");
  for (const char* key : {"r", "lora_alpha", "lora_dropout", "fan_in_fan_out", "init_lora_weights", "bias",
                          "peft_type", "task_type", "use_rslora", "use_dora", "inference_mode"})
    EXPECT_EQ(cfg.at(key), fixture_cfg.at(key)) << key;
  auto sorted = [](nlohmann::json j) {
    auto v = j.get<std::vector<std::string>>();
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(cfg.at("target_modules")), sorted(fixture_cfg.at("target_modules")));

  CausalLM model = axl::models::load_causal_lm(dir);
  axl::peft::Adapter again = axl::peft::load_adapter(model, out);
  at::NoGradGuard ng;
  EXPECT_TRUE(at::equal(logits_of(model, ids), first));
}

TEST_P(LoraFixture, MergeMatchesAndUnmergeRestoresExactly) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  const at::Tensor ids = ref.at("input_ids");
  CausalLM model = axl::models::load_causal_lm(dir);
  at::NoGradGuard ng;
  at::Tensor base = logits_of(model, ids);
  std::vector<at::Tensor> weights_before;
  for (const auto& [n, t] : model.named_tensors()) weights_before.push_back(t.clone());
  {
    axl::peft::Adapter adapter = axl::peft::load_adapter(model, dir + "/lora");
    at::Tensor unmerged = logits_of(model, ids);
    adapter.merge();
    double e_merge = max_abs(logits_of(model, ids), ref.at("lora_logits"));
    EXPECT_LE(e_merge, 1e-4);
    adapter.unmerge();
    EXPECT_TRUE(at::equal(logits_of(model, ids), unmerged));
    adapter.merge();
    std::printf("merge %s: logits vs PEFT %.2e\n", GetParam().c_str(), e_merge);
  }  // the adapter leaves (unmerging first): the base model is back, bit for bit
  EXPECT_TRUE(at::equal(logits_of(model, ids), base));
  auto after = model.named_tensors();
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(at::equal(after[i].second, weights_before[i]));
}

TEST_P(LoraFixture, ForwardAndMergeCommands) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  std::string bin = build_dir() + "/bin/axolotl";
  if (build_dir().empty() || !std::filesystem::exists(bin)) GTEST_SKIP() << "AXL_BUILD_DIR not set";
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  std::string out = axl::test::scratch_dir("lora_cli_" + GetParam());
  std::string cmd = bin + " forward --model " + dir + " --adapter " + dir + "/lora --input " + dir +
                    "/reference.safetensors --out " + out + "/f.safetensors --grads " + out + "/g.safetensors";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto f = axl::load_safetensors(out + "/f.safetensors");
  auto g = axl::load_safetensors(out + "/g.safetensors");
  EXPECT_LE(max_abs(f.at("logits"), ref.at("lora_logits")), 1e-4);
  EXPECT_LE(max_abs(f.at("loss"), ref.at("lora_loss")), 1e-4);
  std::size_t n = 0;
  for (const auto& [k, t] : ref)
    if (k.rfind("base_model.model.", 0) == 0) {
      ASSERT_TRUE(g.count(k)) << k;
      EXPECT_LE(max_abs(g.at(k), t), 1e-4) << k;
      ++n;
    }
  EXPECT_EQ(g.size(), n);

  cmd = bin + " merge-lora --model " + dir + " --adapter " + dir + "/lora --out " + out + "/merged 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_TRUE(std::filesystem::exists(out + "/merged/config.json"));
  CausalLM merged = axl::models::load_causal_lm(out + "/merged");
  at::NoGradGuard ng;
  double e = max_abs(logits_of(merged, ref.at("input_ids")), ref.at("lora_logits"));
  EXPECT_LE(e, 1e-4);
  std::printf("merge-lora %s: merged folder logits vs PEFT %.2e\n", GetParam().c_str(), e);
}

INSTANTIATE_TEST_SUITE_P(Models, LoraFixture,
                         ::testing::Values("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                                           "GemmaForCausalLM", "Phi3ForCausalLM", "GPT2LMHeadModel"));

// methods/: rsLoRA scaling and LoRA with a trainable lm_head copy (modules_to_save).
class LoraMethods : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraMethods, MatchPeft) {
  AXL_REQUIRE_FIXTURE(base, "hf-tiny/LlamaForCausalLM");
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM/methods/" + GetParam());
  auto base_ref = axl::load_safetensors(base + "/reference.safetensors");
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  CausalLM model = axl::models::load_causal_lm(base);
  axl::peft::Adapter adapter = axl::peft::load_adapter(model, dir);
  Errors e = check_adapter(model, adapter, base_ref.at("input_ids"), ref, "logits", "loss");
  EXPECT_LE(e.logits, 1e-4);
  EXPECT_LE(e.loss, 1e-4);
  EXPECT_LE(e.grads, 1e-4);
  EXPECT_EQ(e.grad_count, GetParam() == "lora_rslora" ? 28u : 9u);
  EXPECT_EQ(adapter.trainable_count(), GetParam() == "lora_rslora" ? 8192 : 18176);
  at::NoGradGuard ng;
  adapter.merge();
  double e_merge = max_abs(logits_of(model, base_ref.at("input_ids")), ref.at("merged_logits"));
  EXPECT_LE(e_merge, 1e-4);
  std::printf("lora %s: logits %.2e loss %.2e grads %.2e (%zu tensors) merged %.2e\n", GetParam().c_str(),
              e.logits, e.loss, e.grads, e.grad_count, e_merge);
}

INSTANTIATE_TEST_SUITE_P(Variants, LoraMethods, ::testing::Values("lora_rslora", "lora_modules_to_save"));

TEST(LoraLoad, OtherPeftTypesFailNamingTheType) {
  AXL_REQUIRE_FIXTURE(base, "hf-tiny/LlamaForCausalLM");
  // A peft_type no method implements, in an otherwise valid LoRA folder.
  const std::string dir = axl::test::scratch_dir("unknown_peft_type");
  nlohmann::json j = axl::read_json_file(base + "/lora/adapter_config.json");
  j["peft_type"] = "NOT_A_METHOD";
  std::ofstream(dir + "/adapter_config.json") << j.dump(2);
  std::filesystem::copy_file(base + "/lora/adapter_model.safetensors", dir + "/adapter_model.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  CausalLM model = axl::models::load_causal_lm(base);
  try {
    axl::peft::load_adapter(model, dir);
    ADD_FAILURE() << "an unknown peft_type loaded";
  } catch (const axl::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("\"NOT_A_METHOD\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("adapter_config.json"), std::string::npos) << msg;
  }
  // Nothing stays attached after a failed load.
  for (auto* slot : model.slots()) EXPECT_TRUE(slot->adapters.empty()) << slot->name;
}

TEST(LoraLoad, MissingOrExtraTensorsFailNamingThem) {
  AXL_REQUIRE_FIXTURE(base, "hf-tiny/LlamaForCausalLM");
  std::string out = axl::test::scratch_dir("lora_bad_tensors");
  auto tensors = axl::load_safetensors(base + "/lora/adapter_model.safetensors");
  const std::string victim = "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight";
  at::Tensor kept = tensors.at(victim);
  tensors.erase(victim);
  std::filesystem::copy_file(base + "/lora/adapter_config.json", out + "/adapter_config.json");
  axl::save_safetensors(out + "/adapter_model.safetensors", tensors);
  CausalLM model = axl::models::load_causal_lm(base);
  try {
    axl::peft::load_adapter(model, out);
    ADD_FAILURE() << "loaded without " << victim;
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find(victim), std::string::npos) << e.what();
  }
  tensors[victim] = kept;
  tensors["base_model.model.model.layers.0.mlp.up_proj.lora_magnitude_vector"] = at::ones({128});
  axl::save_safetensors(out + "/adapter_model.safetensors", tensors);
  try {
    axl::peft::load_adapter(model, out);
    ADD_FAILURE() << "loaded an unknown tensor";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("lora_magnitude_vector"), std::string::npos) << e.what();
  }
}

}  // namespace
