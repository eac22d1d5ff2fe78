// AdaLoRA: PEFT's fixture (logits, loss with the orthogonal regularisation, 42 gradients, merge,
// `axolotl forward --grads`), its config file form, the rank allocator (hand-worked and against
// PEFT's own), and a short training run that prunes ranks, saves PEFT's resized form and resumes exactly.
#include "tests/peft/method_fixture.h"

#include <cmath>
#include <filesystem>
#include <memory>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/peft/adalora_config.h"
#include "axl/peft/adalora_layer.h"
#include "axl/peft/adalora_rank_allocator.h"
#include "axl/peft/method_registry.h"

namespace {

using axl::peft::AdaLoraConfig;
using axl::peft::AdaLoraLayer;
using axl::peft::RankAllocator;
using axl::test::max_abs_diff;

at::Tensor flags(std::vector<int64_t> v) { return at::tensor(v, at::kLong).to(at::kBool); }

TEST(AdaLoraFixture, MatchesPeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::methods_folder(llama, "adalora");
  axl::test::expect_fixture_parity(f, "adalora", 42);
  // The regularisation alone: orth_reg_weight 0.5 x PEFT's orth_reg_loss.
  auto model = axl::models::load_causal_lm(llama);
  auto adapter = axl::peft::load_adapter(model, f.adapter_dir);
  const double reg = adapter.regularization_loss().item<double>();
  EXPECT_NEAR(reg, 0.5 * f.ref.at("orth_reg_loss").item<double>(), 1e-5);
  at::NoGradGuard ng;
  const at::Tensor ce = axl::models::causal_lm_loss(axl::test::logits_for(model, f.input_ids), f.input_ids);
  EXPECT_NEAR(ce.item<double>(), f.ref.at("ce_loss").item<double>(), 1e-5);
}

TEST(AdaLoraConfigJson, WritesPeftFieldsAndReadsItsRankPattern) {
  nlohmann::json j = {{"peft_type", "ADALORA"}, {"init_r", 6}, {"target_r", 3}, {"lora_alpha", 12},
                      {"tinit", 2}, {"tfinal", 3}, {"deltaT", 2}, {"total_step", 20},
                      {"target_modules", {"q_proj"}},
                      {"rank_pattern", {{"model.layers.0.self_attn.q_proj.lora_E", {true, false, true, true, false, false}}}}};
  AdaLoraConfig c = AdaLoraConfig::from_json(j, "cfg.json");
  EXPECT_EQ(c.init_r, 6);
  EXPECT_EQ(c.target_r, 3);
  EXPECT_EQ(*c.total_step, 20);
  ASSERT_TRUE(c.rank_pattern);
  EXPECT_EQ(c.rank_pattern->at("model.layers.0.self_attn.q_proj"),
            std::vector<bool>({true, false, true, true, false, false}));
  const nlohmann::json out = c.to_json();
  // PEFT 0.19.1's field set for an AdaLoraConfig (LoRA's plus the schedule).
  std::vector<std::string> keys;
  for (auto it = out.begin(); it != out.end(); ++it) keys.push_back(it.key());
  const std::vector<std::string> expected = {
      "alora_invocation_tokens", "alpha_pattern", "arrow_config", "auto_mapping", "base_model_name_or_path",
      "beta1", "beta2", "bias", "corda_config", "deltaT", "ensure_weight_tying", "eva_config", "exclude_modules",
      "fan_in_fan_out", "inference_mode", "init_lora_weights", "init_r", "layer_replication", "layers_pattern",
      "layers_to_transform", "loftq_config", "lora_alpha", "lora_bias", "lora_dropout", "lora_ga_config",
      "megatron_config", "megatron_core", "modules_to_save", "orth_reg_weight", "peft_type", "peft_version",
      "qalora_group_size", "r", "rank_pattern", "revision", "target_modules", "target_parameters", "target_r",
      "task_type", "tfinal", "tinit", "total_step", "trainable_token_indices", "use_bdlora", "use_dora",
      "use_qalora", "use_rslora"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(out["peft_type"], "ADALORA");
  EXPECT_EQ(out["r"], 8);
  EXPECT_EQ(out["rank_pattern"]["model.layers.0.self_attn.q_proj.lora_E"][1], false);
  EXPECT_EQ(AdaLoraConfig::from_json(out, "again").to_json(), out);

  auto fails_with = [](nlohmann::json bad, const std::string& needle) {
    try {
      AdaLoraConfig::from_json(bad, "cfg.json");
      ADD_FAILURE() << bad.dump() << " accepted";
    } catch (const axl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  fails_with({{"use_dora", true}}, "DoRA");
  fails_with({{"total_step", 10}, {"tinit", 6}, {"tfinal", 4}}, "budgeting phase");
  fails_with({{"total_step", 0}}, "total_step");
  fails_with({{"init_r", 2}, {"rank_pattern", {{"m.q_proj.lora_E", {true}}}}}, "init_r is 2");
  fails_with({{"rank_pattern", {{"m.q_proj", {true}}}}}, "lora_E");
}

// Scores worked out by hand: values 1, gradients g, one update: EMA ipt (1-b1) g, uncertainty
// (1-b2) b1 g, so a triplet scores 3 (1-b1)(1-b2) b1 g^2 and the smallest g go first.
TEST(AdaLoraRankAllocator, BudgetScheduleAndMaskingByHand) {
  axl::peft::RankSchedule s;
  s.target_r = 1;
  s.tinit = 0;
  s.tfinal = 0;
  s.deltaT = 1;
  s.total_step = 2;
  std::vector<axl::peft::AdaLoraTriplet> t;
  auto make = [](double g0, double g1) {
    axl::peft::AdaLoraTriplet x;
    x.a = at::ones({2, 1});
    x.e = at::ones({2, 1});
    x.b = at::ones({1, 2});
    const at::Tensor g = at::tensor({g0, g1}, at::kFloat);
    x.a.mutable_grad() = g.view({2, 1}).clone();
    x.e.mutable_grad() = g.view({2, 1}).clone();
    x.b.mutable_grad() = g.view({1, 2}).clone();
    return x;
  };
  t.push_back(make(1, 2));
  t.back().name = "p";
  t.push_back(make(4, 3));
  t.back().name = "q";
  RankAllocator alloc(s, t);
  EXPECT_EQ(alloc.initial_budget(), 4);
  EXPECT_EQ(alloc.target_budget(), 2);
  // step 1: 1 - 1/2 = 0.5 -> int(2 * 0.125 + 2) = 2, masked (deltaT 1).
  EXPECT_EQ(alloc.budget_schedule(1), (std::pair<int64_t, bool>(2, true)));
  auto p1 = alloc.step(1, {});
  ASSERT_TRUE(p1);
  EXPECT_TRUE(at::equal(p1->at("p"), flags({0, 0})));
  EXPECT_TRUE(at::equal(p1->at("q"), flags({1, 1})));
  EXPECT_TRUE(at::equal(t[0].e, at::zeros({2, 1})));  // the live E is masked
  EXPECT_TRUE(at::equal(t[1].e, at::ones({2, 1})));
  // step 2 = total_step - tfinal: the final allocation, same scores.
  auto p2 = alloc.step(2, *p1);
  ASSERT_TRUE(p2);
  EXPECT_TRUE(at::equal(p2->at("q"), flags({1, 1})));
  EXPECT_TRUE(alloc.state().empty());  // importances reset, as PEFT does
  // Later steps re-apply the fixed pattern.
  t[0].e.fill_(5);
  EXPECT_FALSE(alloc.step(3, *p2));
  EXPECT_TRUE(at::equal(t[0].e, at::zeros({2, 1})));

  // A longer schedule: init 16 -> target 8 between tinit 1 and total 8 - tfinal 2.
  s.target_r = 2;
  s.tinit = 1;
  s.tfinal = 2;
  s.total_step = 8;
  s.deltaT = 2;
  std::vector<axl::peft::AdaLoraTriplet> four(4);
  for (auto& x : four) x = {"m", at::zeros({4, 3}), at::zeros({4, 1}), at::zeros({3, 4})};
  RankAllocator longer(s, four);
  EXPECT_EQ(longer.budget_schedule(1), (std::pair<int64_t, bool>(16, false)));
  EXPECT_EQ(longer.budget_schedule(2), (std::pair<int64_t, bool>(12, true)));   // int(8 * 0.8^3 + 8)
  EXPECT_EQ(longer.budget_schedule(3), (std::pair<int64_t, bool>(9, false)));   // int(8 * 0.6^3 + 8)
  EXPECT_EQ(longer.budget_schedule(6), (std::pair<int64_t, bool>(8, true)));
  EXPECT_EQ(longer.budget_schedule(7), (std::pair<int64_t, bool>(8, true)));
}

// PEFT's own RankAllocator on the same seeded inputs (tests/peers/refs-adalora.sh).
TEST(AdaLoraRankAllocator, MatchesPeftStepByStep) {
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  const std::string file = peer ? std::string(peer) + "/adalora/allocator.safetensors" : std::string();
  if (file.empty() || !std::filesystem::exists(file)) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << file;
    GTEST_SKIP() << "peer reference adalora not generated (set AXL_PEER_FIXTURES)";
  }
  auto ref = axl::load_safetensors(file);
  axl::peft::RankSchedule s;  // as adalora_reference.py configures PEFT
  s.target_r = 2;
  s.tinit = 2;
  s.tfinal = 3;
  s.deltaT = 2;
  s.beta1 = 0.8;
  s.beta2 = 0.7;
  s.total_step = 10;
  std::vector<axl::peft::AdaLoraTriplet> t;
  for (const std::string m : {"m0", "m1", "m2"})
    t.push_back({m, ref.at("step1." + m + ".lora_A").clone(), ref.at("step1." + m + ".lora_E").clone(),
                 ref.at("step1." + m + ".lora_B").clone()});
  RankAllocator alloc(s, t);
  RankAllocator::Pattern current;
  int masked_steps = 0;
  for (int step = 1; step <= 10; ++step) {
    const std::string p = "step" + std::to_string(step) + ".";
    for (auto& x : t) {
      for (auto [part, tensor] : {std::pair<std::string, at::Tensor>{"A", x.a}, {"E", x.e}, {"B", x.b}}) {
        tensor.copy_(ref.at(p + x.name + ".lora_" + part));
        tensor.mutable_grad() = ref.at(p + x.name + ".grad_" + part).clone();
      }
    }
    if (auto pattern = alloc.step(step, current)) current = *pattern;
    for (auto& x : t) {
      SCOPED_TRACE(p + x.name);
      EXPECT_TRUE(at::equal(x.e, ref.at(p + x.name + ".E_after")));
      const bool has = ref.count(p + x.name + ".kept") > 0;
      EXPECT_EQ(has, current.count(x.name) > 0);
      if (has && current.count(x.name)) {
        EXPECT_TRUE(at::equal(current.at(x.name).to(at::kByte), ref.at(p + x.name + ".kept")));
        masked_steps += at::logical_not(current.at(x.name)).any().item<bool>() ? 1 : 0;
      }
    }
  }
  EXPECT_GT(masked_steps, 0);
}

// A short training run on hf-tiny through the hooks (SGD, the regularised loss): the allocator
// prunes to target_r per layer, the saved adapter has PEFT's resized tensors and rank_pattern and
// loads back with identical logits; a resume from training_state() continues bit for bit.
struct AdaRun {
  axl::models::CausalLM model;
  axl::peft::Adapter adapter;
};

// On the heap: the adapter points into the model's slots, which must not move.
std::unique_ptr<AdaRun> start_run(const std::string& llama) {
  auto r = std::make_unique<AdaRun>(AdaRun{axl::models::load_causal_lm(llama), {}});
  nlohmann::json j = {{"peft_type", "ADALORA"}, {"init_r", 4}, {"target_r", 2}, {"lora_alpha", 8},
                      {"tinit", 2}, {"tfinal", 2}, {"deltaT", 1}, {"target_modules", "all-linear"}};
  r->adapter = axl::peft::attach_adapter(r->model, j, "test", 4);
  r->adapter.set_training(true);
  r->adapter.hooks->on_train_begin(10);  // total_step from the run
  return r;
}

void train_step(AdaRun& r, int64_t step, const at::Tensor& ids) {
  at::Tensor loss = axl::models::causal_lm_loss(axl::test::logits_for(r.model, ids), ids) +
                    r.adapter.regularization_loss();
  loss.backward();
  std::vector<at::Tensor> live;  // the full tensors (trainable() gives the kept rows once pruned)
  for (auto& l : r.adapter.layers) {
    auto* al = dynamic_cast<AdaLoraLayer*>(l.layer.get());
    live.insert(live.end(), {al->lora_a, al->lora_e, al->lora_b});
  }
  {
    at::NoGradGuard ng;
    for (auto& t : live) t.sub_(t.grad() * 0.5);
  }
  r.adapter.hooks->after_optimizer_step(step);
  for (auto& t : live) t.mutable_grad().reset();
}

TEST(AdaLoraTraining, PrunesSavesResizedAndResumesExactly) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  const at::Tensor ids = at::arange(5, 37, at::kLong).remainder(250).view({2, 16});
  auto ap = start_run(llama);
  AdaRun& a = *ap;
  auto* cfg = dynamic_cast<AdaLoraConfig*>(a.adapter.config.get());
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->total_step, 10);
  std::map<std::string, at::Tensor> snapshot_state, snapshot_live;
  for (int64_t step = 1; step <= 10; ++step) {
    train_step(a, step, ids);
    if (step == 5) {
      snapshot_state = a.adapter.hooks->training_state();
      for (auto& l : a.adapter.layers) {
        auto* al = dynamic_cast<AdaLoraLayer*>(l.layer.get());
        snapshot_live[l.slot->name + "A"] = al->lora_a.detach().clone();
        snapshot_live[l.slot->name + "E"] = al->lora_e.detach().clone();
        snapshot_live[l.slot->name + "B"] = al->lora_b.detach().clone();
      }
    }
  }
  ASSERT_TRUE(cfg->rank_pattern);
  int64_t kept = 0, fewer = 0;
  for (const auto& [m, flags] : *cfg->rank_pattern) {
    int64_t k = 0;
    for (bool f : flags) k += f;
    kept += k;
    fewer += k < 4;
  }
  EXPECT_EQ(kept, 2 * 14);  // the target budget
  EXPECT_GT(fewer, 0);

  a.adapter.set_training(false);
  at::Tensor trained;
  {
    at::NoGradGuard ng;
    trained = axl::test::logits_for(a.model, ids);
  }
  const std::string dir = axl::test::scratch_dir("adalora_trained");
  axl::peft::save_adapter(a.adapter, dir);
  const nlohmann::json saved_cfg = axl::read_json_file(dir + "/adapter_config.json");
  EXPECT_EQ(saved_cfg["rank_pattern"].size(), 14u);
  EXPECT_EQ(saved_cfg["total_step"], 10);
  auto saved = axl::load_safetensors(dir + "/adapter_model.safetensors");
  for (const auto& [m, flags] : *cfg->rank_pattern) {
    int64_t k = 0;
    for (bool f : flags) k += f;
    EXPECT_EQ(saved.at(std::string(axl::peft::kSavedPrefix) + m + ".lora_E").size(0), k) << m;
    EXPECT_EQ(saved.at(std::string(axl::peft::kSavedPrefix) + m + ".lora_B").size(1), k) << m;
  }
  {
    auto fresh = axl::models::load_causal_lm(llama);
    auto loaded = axl::peft::load_adapter(fresh, dir);
    at::NoGradGuard ng;
    EXPECT_TRUE(at::equal(axl::test::logits_for(fresh, ids), trained));
    EXPECT_TRUE(std::isfinite(loaded.regularization_loss().item<double>()));
  }

  // Resume at step 5 from the live tensors and training_state(): the same end state.
  auto bp = start_run(llama);
  AdaRun& b = *bp;
  {
    at::NoGradGuard ng;
    for (auto& l : b.adapter.layers) {
      auto* bl = dynamic_cast<AdaLoraLayer*>(l.layer.get());
      bl->lora_a.copy_(snapshot_live.at(l.slot->name + "A"));
      bl->lora_e.copy_(snapshot_live.at(l.slot->name + "E"));
      bl->lora_b.copy_(snapshot_live.at(l.slot->name + "B"));
    }
  }
  b.adapter.hooks->load_training_state(snapshot_state);
  for (int64_t step = 6; step <= 10; ++step) train_step(b, step, ids);
  auto* bcfg = dynamic_cast<AdaLoraConfig*>(b.adapter.config.get());
  ASSERT_TRUE(bcfg->rank_pattern);
  EXPECT_EQ(*bcfg->rank_pattern, *cfg->rank_pattern);
  for (size_t i = 0; i < a.adapter.layers.size(); ++i) {
    auto* al = dynamic_cast<AdaLoraLayer*>(a.adapter.layers[i].layer.get());
    auto* bl = dynamic_cast<AdaLoraLayer*>(b.adapter.layers[i].layer.get());
    EXPECT_TRUE(at::equal(al->lora_e, bl->lora_e)) << a.adapter.layers[i].slot->name;
    EXPECT_TRUE(at::equal(al->lora_a, bl->lora_a)) << a.adapter.layers[i].slot->name;
  }
}

}  // namespace
