// Several adapters on one base (AdapterSet) and PEFT's add_weighted_adapter, on the hf-tiny
// Llama's LoRA fixtures: lora/ ("first", scaling 2) and methods/lora_rslora/ ("second", rsLoRA
// scaling 4), both r 4 on the same seven projections. The weighted combinations are compared
// with the live PEFT (tests/peers/refs-peft-weighted.sh).
#include <cstdlib>
#include <set>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/peft/adapter_set.h"
#include "axl/peft/lora_layer.h"
#include "axl/peft/weighted_adapter.h"
#include "tests/peft/method_fixture.h"

namespace {

using axl::test::logits_for;
using axl::test::max_abs_diff;

struct Tiny {
  std::string dir, first, second, saved;  // model, the two adapters, the modules_to_save one
  at::Tensor ids;
  explicit Tiny(const std::string& llama)
      : dir(llama), first(llama + "/lora"), second(llama + "/methods/lora_rslora"),
        saved(llama + "/methods/lora_modules_to_save"),
        ids(axl::load_safetensors(llama + "/reference.safetensors").at("input_ids")) {}
};

// The logits of `adapter_dir` loaded alone on a fresh base.
at::Tensor alone(const Tiny& t, const std::string& adapter_dir) {
  auto model = axl::models::load_causal_lm(t.dir);
  auto adapter = axl::peft::load_adapter(model, adapter_dir);
  at::NoGradGuard ng;
  return logits_for(model, t.ids);
}

TEST(AdapterSet, SwitchDisableEnableRemove) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  Tiny t(llama);
  const at::Tensor want_first = alone(t, t.first), want_second = alone(t, t.second),
                   want_saved = alone(t, t.saved);
  auto model = axl::models::load_causal_lm(t.dir);
  at::NoGradGuard ng;
  const at::Tensor base = logits_for(model, t.ids);
  {
    axl::peft::AdapterSet set(model);
    set.load(t.first, "default");
    set.load(t.second, "second");
    set.load(t.saved, "third");  // modules_to_save: lm_head swapped in and out with it
    EXPECT_EQ(set.active(), std::vector<std::string>{"default"});  // later loads start inactive
    EXPECT_TRUE(set.get("default").active());
    EXPECT_FALSE(set.get("second").active());
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), want_first));
    set.set_active("second");
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), want_second));
    set.set_active("third");
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), want_saved));

    set.disable();
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), base)) << "disabled adapters must leave the base bit-exact";
    set.set_active("second");  // remembered while disabled
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), base));
    set.enable();
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), want_second));

    // Deleting the only active adapter activates the first remaining name.
    set.remove("second");
    EXPECT_EQ(set.names(), (std::vector<std::string>{"default", "third"}));
    EXPECT_EQ(set.active(), std::vector<std::string>{"default"});
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), want_first));

    EXPECT_THROW(set.load(t.second, "third"), axl::Error);  // name taken
    EXPECT_THROW(set.set_active("nope"), axl::Error);
    EXPECT_THROW(set.load(llama + "/nope", "x"), axl::Error);
    EXPECT_TRUE(at::equal(logits_for(model, t.ids), want_first)) << "a failed load must change nothing";
  }
  EXPECT_TRUE(at::equal(logits_for(model, t.ids), base)) << "base not restored when the set goes";
}

TEST(AdapterSet, TwoActiveLorasAddTheirDeltas) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  Tiny t(llama);
  auto model = axl::models::load_causal_lm(t.dir);
  at::NoGradGuard ng;
  const at::Tensor base = logits_for(model, t.ids);
  axl::peft::AdapterSet set(model);
  set.load(t.first, "first");
  set.load(t.second, "second");
  set.set_active(std::vector<std::string>{"first", "second"});
  const at::Tensor both = logits_for(model, t.ids);

  // The merged weight of every slot is W + delta_1 + delta_2, and gives the same logits.
  auto* slot = set.get("first").layers.front().slot;
  const at::Tensor w = slot->base->dense_weight().clone();
  auto delta = [&](const char* name) {
    for (auto& a : set.get(name).layers)
      if (a.slot == slot) return dynamic_cast<axl::peft::LoraLayer&>(*a.layer).delta_weight();
    return at::Tensor();
  };
  const at::Tensor want_w = w + delta("first") + delta("second");
  set.merge();
  EXPECT_LE(max_abs_diff(slot->base->dense_weight(), want_w), 1e-6);
  EXPECT_LE(max_abs_diff(logits_for(model, t.ids), both), 1e-4);
  EXPECT_THROW(set.set_active("first"), axl::Error);  // merged: unmerge first
  set.unmerge();
  EXPECT_TRUE(at::equal(slot->base->dense_weight(), w));
  EXPECT_TRUE(at::equal(logits_for(model, t.ids), both)) << "unmerge is not exact";

  // The deltas add: both - base = (first - base) + (second - base) up to float rounding, and
  // cat with weights 1, 1 is exactly that sum in one adapter.
  set.set_active("first");
  const at::Tensor first = logits_for(model, t.ids);
  set.set_active("second");
  const at::Tensor second = logits_for(model, t.ids);
  EXPECT_GT(max_abs_diff(both, first), 1e-2);
  axl::peft::WeightedAdapterOptions cat;
  cat.combination_type = "cat";
  axl::peft::add_weighted_adapter(set, {"first", "second"}, {1.0, 1.0}, "sum", cat);
  set.set_active("sum");
  EXPECT_LE(max_abs_diff(logits_for(model, t.ids), both), 1e-4);
  // One adapter with weight 1 (always linear) reproduces it.
  axl::peft::add_weighted_adapter(set, {"first"}, {1.0}, "copy");
  set.set_active("copy");
  EXPECT_LE(max_abs_diff(logits_for(model, t.ids), first), 1e-4);
  set.disable();
  EXPECT_TRUE(at::equal(logits_for(model, t.ids), base));
  (void)second;
}

TEST(AdapterSet, SavesAsPeftSavePretrained) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  Tiny t(llama);
  auto model = axl::models::load_causal_lm(t.dir);
  at::NoGradGuard ng;
  axl::peft::AdapterSet set(model);
  set.load(t.first);  // "default"
  set.load(t.second, "other");
  const std::string dir = axl::test::scratch_dir("adapter_set_save");
  set.save(dir);
  EXPECT_TRUE(std::filesystem::exists(dir + "/adapter_model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/other/adapter_config.json"));
  EXPECT_TRUE(at::equal(alone(t, dir), alone(t, t.first)));
  EXPECT_TRUE(at::equal(alone(t, dir + "/other"), alone(t, t.second)));
  const std::string only = axl::test::scratch_dir("adapter_set_save_selected");
  set.save(only, {"other"});
  EXPECT_FALSE(std::filesystem::exists(only + "/adapter_model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(only + "/other/adapter_model.safetensors"));
}

// A method that is not LoRA, for the refusal (no real method needed).
class OtherConfig : public axl::peft::AdapterConfig {
 public:
  std::string peft_type() const override { return "IA3"; }
  nlohmann::json to_json() const override { return {{"peft_type", "IA3"}}; }
};

TEST(WeightedAdapter, RefusesBadInput) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  Tiny t(llama);
  auto model = axl::models::load_causal_lm(t.dir);
  axl::peft::AdapterSet set(model);
  set.load(t.first, "a");
  set.load(t.second, "b");
  set.load(t.saved, "c");
  set.attach("other", [](axl::models::CausalLM&) {
    axl::peft::Adapter a;
    a.config = std::make_shared<OtherConfig>();
    return a;
  });
  auto expect_error = [&](const std::vector<std::string>& names, const std::vector<double>& w, const std::string& type,
                          const std::string& want) {
    axl::peft::WeightedAdapterOptions o;
    o.combination_type = type;
    try {
      axl::peft::add_weighted_adapter(set, names, w, "new", o);
      ADD_FAILURE() << "no error for " << want;
    } catch (const axl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  expect_error({"a", "b"}, {0.7}, "linear", "1 weights for 2 adapters");
  expect_error({"a", "other"}, {0.7, 0.3}, "linear", "is IA3; only LoRA");
  expect_error({"a", "nope"}, {0.7, 0.3}, "linear", "no adapter named 'nope'");
  expect_error({"a", "b"}, {0.7, 0.3}, "ties", "not supported");
  EXPECT_FALSE(set.contains("new"));
  EXPECT_EQ(axl::peft::default_combination_type(set, {"a", "b"}), "linear");
}

// Our add_weighted_adapter against PEFT's, case by case (tensors, logits, config).
TEST(WeightedAdapter, MatchesLivePeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  const std::string dir = peer ? std::string(peer) + "/peft-weighted" : std::string();
  if (dir.empty() || !std::filesystem::exists(dir + "/reference.safetensors")) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << dir;
    GTEST_SKIP() << "peer reference peft-weighted not generated (set AXL_PEER_FIXTURES)";
  }
  Tiny t(llama);
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  ASSERT_TRUE(at::equal(ref.at("input_ids"), t.ids));
  auto model = axl::models::load_causal_lm(t.dir);
  at::NoGradGuard ng;
  axl::peft::AdapterSet set(model);
  set.load(t.first, "first");
  set.load(t.second, "second");
  EXPECT_LE(max_abs_diff(logits_for(model, t.ids), ref.at("logits_first")), 1e-4);
  set.set_active(std::vector<std::string>{"first", "second"});
  const double e_both = max_abs_diff(logits_for(model, t.ids), ref.at("logits_both"));
  EXPECT_LE(e_both, 1e-4) << "two active adapters vs PEFT's set_adapter([first, second])";

  struct Case {
    std::string name, type;
    std::vector<double> weights;
    std::optional<int64_t> svd_rank;
    std::optional<double> svd_clamp;
  };
  const std::vector<double> w{0.7, 0.3};
  const std::vector<Case> cases = {{"linear", "linear", w, std::nullopt, std::nullopt},
                                   {"cat", "cat", w, std::nullopt, std::nullopt},
                                   {"svd", "svd", w, std::nullopt, std::nullopt},
                                   {"svd_rank3_clamp", "svd", w, 3, 0.95},
                                   {"linear_negative", "linear", {0.7, -0.3}, std::nullopt, std::nullopt}};
  for (const auto& c : cases) {
    axl::peft::WeightedAdapterOptions o;
    o.combination_type = c.type;
    o.svd_rank = c.svd_rank;
    o.svd_clamp = c.svd_clamp;
    axl::peft::Adapter& ours = axl::peft::add_weighted_adapter(set, {"first", "second"}, c.weights, c.name, o);
    set.set_active(c.name);
    const double e_logits = max_abs_diff(logits_for(model, t.ids), ref.at("logits_" + c.name));
    EXPECT_LE(e_logits, 1e-4) << c.name;
    EXPECT_GT(max_abs_diff(ref.at("logits_" + c.name), ref.at("logits_base")), 1e-2) << c.name;

    // Tensors: A and B themselves, except svd, whose singular vectors' signs are free: B A.
    auto theirs = axl::load_safetensors(dir + "/" + c.name + "/adapter_model.safetensors");
    auto mine = ours.state_dict();
    EXPECT_EQ(mine.size(), theirs.size()) << c.name;
    double e_tensors = 0;
    for (auto& [key, tensor] : mine) {
      ASSERT_TRUE(theirs.count(key)) << c.name << ": PEFT has no " << key;
      if (c.type != "svd") {
        e_tensors = std::max(e_tensors, max_abs_diff(tensor, theirs.at(key)));
      } else if (key.find("lora_A") != std::string::npos) {
        const std::string b_key = key.substr(0, key.find("lora_A")) + "lora_B.weight";
        e_tensors = std::max(e_tensors, max_abs_diff(at::matmul(mine.at(b_key), tensor),
                                                     at::matmul(theirs.at(b_key), theirs.at(key))));
      }
    }
    EXPECT_LE(e_tensors, 1e-4) << c.name;

    // The config PEFT writes for the new adapter: r, lora_alpha, the union of the targets.
    auto want = axl::read_json_file(dir + "/" + c.name + "/adapter_config.json");
    auto got = ours.config->to_json();
    EXPECT_EQ(got["r"], want["r"]) << c.name;
    EXPECT_EQ(got["lora_alpha"], want["lora_alpha"]) << c.name;
    EXPECT_EQ(got["use_rslora"], want["use_rslora"]) << c.name;
    EXPECT_EQ(got["rank_pattern"], want["rank_pattern"]) << c.name;
    EXPECT_EQ(got["target_modules"].get<std::set<std::string>>(), want["target_modules"].get<std::set<std::string>>())
        << c.name;
    std::printf("weighted %-16s r %d: logits %.2e, %s %.2e\n", c.name.c_str(), want["r"].get<int>(), e_logits,
                c.type == "svd" ? "B A" : "A, B", e_tensors);
  }
  std::printf("two active adapters vs PEFT: %.2e\n", e_both);
}

}  // namespace
