// Optimizers against torch.optim (same inputs, 4 steps), parameter groups, state save/load.
#include <gtest/gtest.h>

#include "axl/core/error.h"
#include "axl/core/tensor_io.h"
#include "axl/train/optimizer.h"
#include "tests/train/peer_refs.h"

namespace {

using axl::train::NamedParam;
using axl::train::Optimizer;
using axl::train::OptimizerKind;
using axl::train::OptimizerOptions;

const char* kNames[] = {"model.layers.0.mlp.up_proj.weight", "model.layers.0.self_attn.q_proj.bias",
                        "model.layers.0.input_layernorm.weight"};

TEST(ParamGroups, HfDecayRule) {
  using axl::train::hf_excludes_from_decay;
  EXPECT_FALSE(hf_excludes_from_decay("model.layers.0.mlp.up_proj.weight"));
  EXPECT_FALSE(hf_excludes_from_decay("model.embed_tokens.weight"));
  EXPECT_TRUE(hf_excludes_from_decay("model.layers.0.self_attn.q_proj.bias"));
  EXPECT_TRUE(hf_excludes_from_decay("model.layers.0.input_layernorm.weight"));
  EXPECT_TRUE(hf_excludes_from_decay("model.norm.weight"));
  EXPECT_TRUE(hf_excludes_from_decay("model.layers.0.self_attn.q_norm.weight"));
  EXPECT_FALSE(hf_excludes_from_decay("model.normalizer.weight"));
}

TEST(Optimizer, TwoGroupsAndNames) {
  OptimizerOptions o;
  o.weight_decay = 0.1;
  std::vector<NamedParam> ps = axl::train::with_decay_flags(
      {{kNames[0], at::zeros({2}), true}, {kNames[1], at::zeros({2}), true}, {kNames[2], at::zeros({2}), true}});
  Optimizer opt(ps, o);
  ASSERT_EQ(opt.groups().size(), 2u);
  EXPECT_EQ(opt.groups()[0].params.size(), 1u);
  EXPECT_DOUBLE_EQ(opt.groups()[0].weight_decay, 0.1);
  EXPECT_DOUBLE_EQ(opt.groups()[1].weight_decay, 0.0);
  EXPECT_EQ(axl::train::optimizer_kind_from_name("adamw_torch_fused"), OptimizerKind::AdamWFused);
  EXPECT_THROW(axl::train::optimizer_kind_from_name("lomo"), axl::Error);
}

struct OptRun {
  std::vector<NamedParam> params;
  std::unique_ptr<Optimizer> opt;
};

OptRun make_run(const std::map<std::string, at::Tensor>& ref, OptimizerKind kind) {
  OptimizerOptions o;
  o.kind = kind;
  o.lr = 1e-2;
  o.weight_decay = 0.1;
  o.beta1 = 0.9;
  o.beta2 = 0.95;
  o.eps = 1e-8;
  if (kind == OptimizerKind::SGD) o.momentum = 0.9;
  OptRun r;
  for (const char* n : kNames) r.params.push_back({n, ref.at(std::string("init.") + n).clone(), true});
  r.params = axl::train::with_decay_flags(r.params);
  r.opt = std::make_unique<Optimizer>(r.params, o);
  return r;
}

void set_grads(OptRun& r, const std::map<std::string, at::Tensor>& ref, int k) {
  for (auto& p : r.params) p.tensor.mutable_grad() = ref.at("grad." + std::to_string(k) + "." + p.name).clone();
}

class OptimizerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimizerParity, MatchesTorchOptimEveryStep) {
  AXL_REQUIRE_TRAIN_REF(path, "optimizers.safetensors");
  auto ref = axl::load_safetensors(path);
  const std::string name = GetParam();
  OptRun r = make_run(ref, axl::train::optimizer_kind_from_name(name));
  double worst = 0;
  for (int k = 0; k < 4; ++k) {
    set_grads(r, ref, k);
    r.opt->step();
    for (auto& p : r.params) {
      at::Tensor want = ref.at(name + "." + std::to_string(k) + "." + p.name);
      double e = (p.tensor - want).abs().max().item<double>();
      worst = std::max(worst, e);
      // The fused kernel and the op-for-op paths are the ones torch runs: bit-identical.
      EXPECT_TRUE(at::equal(p.tensor, want)) << p.name << " step " << k << " max err " << e;
    }
  }
  for (const char* n : kNames) {
    const auto& s = r.opt->state().at(n);
    EXPECT_EQ(s.step, 4);
    if (ref.count(name + ".exp_avg." + n)) {
      EXPECT_TRUE(at::equal(s.exp_avg, ref.at(name + ".exp_avg." + n)));
      EXPECT_TRUE(at::equal(s.exp_avg_sq, ref.at(name + ".exp_avg_sq." + n)));
    }
    if (ref.count(name + ".momentum_buffer." + n)) {
      EXPECT_TRUE(at::equal(s.momentum_buffer, ref.at(name + ".momentum_buffer." + n)));
    }
  }
  std::printf("optimizer %s: 4 steps, max abs error vs torch.optim %.3g\n", name.c_str(), worst);
}

INSTANTIATE_TEST_SUITE_P(Kinds, OptimizerParity,
                         ::testing::Values("adamw_torch_fused", "adamw_torch", "adam", "sgd"));

// Two steps, save, two more steps in a fresh optimizer loaded from the files == four steps.
TEST(Optimizer, SaveLoadResumesExactly) {
  for (OptimizerKind kind : {OptimizerKind::AdamWFused, OptimizerKind::AdamW, OptimizerKind::SGD}) {
    std::map<std::string, at::Tensor> ref;
    auto g = axl::compat::make_cpu_generator(3);
    for (const char* n : kNames) ref[std::string("init.") + n] = at::randn({4, 3}, g);
    for (int k = 0; k < 4; ++k)
      for (const char* n : kNames) ref["grad." + std::to_string(k) + "." + n] = at::randn({4, 3}, g);
    OptRun full = make_run(ref, kind);
    for (int k = 0; k < 4; ++k) set_grads(full, ref, k), full.opt->step();

    OptRun first = make_run(ref, kind);
    for (int k = 0; k < 2; ++k) set_grads(first, ref, k), first.opt->step();
    std::string prefix = axl::test::scratch_dir("optim-" + axl::train::optimizer_kind_name(kind)) + "/optimizer";
    first.opt->save(prefix);

    std::map<std::string, at::Tensor> resumed_init;
    for (auto& p : first.params) resumed_init["init." + p.name] = p.tensor.clone();
    for (auto& [k, v] : ref) {
      if (k.rfind("grad.", 0) == 0) resumed_init[k] = v;
    }
    OptRun second = make_run(resumed_init, kind);
    second.opt->load(prefix);
    for (int k = 2; k < 4; ++k) set_grads(second, ref, k), second.opt->step();
    for (size_t i = 0; i < full.params.size(); ++i)
      EXPECT_TRUE(at::equal(full.params[i].tensor, second.params[i].tensor))
          << axl::train::optimizer_kind_name(kind) << " " << full.params[i].name;
  }
}

TEST(Optimizer, LoadRejectsMismatchedState) {
  std::map<std::string, at::Tensor> ref;
  for (const char* n : kNames) ref[std::string("init.") + n] = at::ones({2});
  for (const char* n : kNames) ref[std::string("grad.0.") + n] = at::ones({2});
  OptRun a = make_run(ref, OptimizerKind::AdamW);
  set_grads(a, ref, 0);
  a.opt->step();
  std::string prefix = axl::test::scratch_dir("optim-bad") + "/optimizer";
  a.opt->save(prefix);
  OptRun sgd = make_run(ref, OptimizerKind::SGD);
  EXPECT_THROW(sgd.opt->load(prefix), axl::Error);
  for (const char* n : kNames) ref[std::string("init.") + n] = at::ones({3});
  OptRun wrong = make_run(ref, OptimizerKind::AdamW);
  EXPECT_THROW(wrong.opt->load(prefix), axl::Error);
}

}  // namespace
