// Every method's adapter as `axolotl train` saves it, loaded by the live PEFT 0.19.1 +
// transformers (tests/peers/refs-peft-methods.sh): our load_adapter on the same files gives
// PeftModel's logits, and our merge gives merge_and_unload's. One test per method, so a method
// that fails to train, or that PEFT refuses, shows alone with its reason.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/peft/method_fixture.h"

namespace {

struct PeerMethod {
  std::string name;       // the folder (and the `adapter:` the YAML names, rslora/dora via flags)
  std::string peft_type;  // what adapter_config.json must say
  std::string config_key; // a field that must be set (true / non-empty) in the saved config; "" none
};

std::string method_name(const testing::TestParamInfo<PeerMethod>& info) { return info.param.name; }

// gtest names a failing case by this instead of a byte dump.
void PrintTo(const PeerMethod& c, std::ostream* os) { *os << c.name; }

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string tail(const std::string& text, std::size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

class MethodPeer : public testing::TestWithParam<PeerMethod> {};

TEST_P(MethodPeer, TrainedAdapterGivesLivePeftLogits) {
  const PeerMethod& m = GetParam();
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  const std::string root = peer ? std::string(peer) + "/peft-methods" : std::string();
  const std::string dir = root + "/" + m.name;
  if (root.empty() || !std::filesystem::exists(dir + "/train.rc")) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << dir;
    GTEST_SKIP() << "peer reference peft-methods/" << m.name << " not generated (set AXL_PEER_FIXTURES)";
  }
  // The method's own failures, each with the reason the generator recorded.
  const std::string rc = read_text(dir + "/train.rc");
  ASSERT_EQ(rc.substr(0, rc.find('\n')), "0")
      << "axolotl train failed for " << m.name << ":\n" << tail(read_text(dir + "/train.log"), 1500);
  const auto peft = nlohmann::json::parse(read_text(dir + "/peft.json"));
  ASSERT_TRUE(peft.value("ok", false)) << "the live PEFT could not use our " << m.name << " adapter: "
                                       << peft.value("error", std::string("?")) << "\n"
                                       << peft.value("traceback", std::string());
  EXPECT_EQ(peft.at("peft_type").get<std::string>(), m.peft_type);
  if (!m.config_key.empty()) {
    const auto& v = peft.at("config").value(m.config_key, nlohmann::json());
    EXPECT_TRUE(v.is_boolean() ? v.get<bool>() : !v.empty()) << m.config_key << " not set in the saved config";
  }

  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  const at::Tensor ids = ref.at("input_ids");
  auto model = axl::models::load_causal_lm(root + "/base");
  at::NoGradGuard no_grad;
  const double e_base = axl::test::max_abs_diff(axl::test::logits_for(model, ids), ref.at("base_logits"));
  auto adapter = axl::peft::load_adapter(model, dir + "/adapter");
  adapter.set_training(false);
  EXPECT_EQ(adapter.config->peft_type(), m.peft_type);
  const at::Tensor ours = axl::test::logits_for(model, ids);
  const double e_adapter = axl::test::max_abs_diff(ours, ref.at("peft_logits"));
  EXPECT_EQ(ours.sizes(), ref.at("peft_logits").sizes());
  EXPECT_LE(e_base, 1e-4) << "base model";
  EXPECT_LE(e_adapter, 1e-4) << "our " << m.name << " vs PeftModel";
  // Training must have moved the adapter off PEFT's (mostly no-op) initialisation, or the
  // comparison says little.
  EXPECT_GT(peft.value("moved", 0.0), 1e-3) << "the trained adapter barely changes the logits";

  const bool peft_merges = ref.count("merged_logits") > 0;
  EXPECT_EQ(adapter.config->can_merge(), peft_merges) << "we and PEFT disagree on whether " << m.name << " merges";
  double e_merged = -1;
  if (peft_merges && adapter.config->can_merge()) {
    adapter.merge();
    e_merged = axl::test::max_abs_diff(axl::test::logits_for(model, ids), ref.at("merged_logits"));
    EXPECT_LE(e_merged, 1e-4) << "our merge vs PEFT's merge_and_unload";
    adapter.unmerge();
  }
  char merged_text[32] = "n/a";
  if (e_merged >= 0) std::snprintf(merged_text, sizeof merged_text, "%.2e", e_merged);
  std::printf("peer %-13s %-13s moves logits %.3f; ours vs PeftModel %.2e; merged vs merge_and_unload %s\n",
              m.name.c_str(), m.peft_type.c_str(), peft.value("moved", 0.0), e_adapter, merged_text);
}

// The methods tests/peers/refs-peft-methods.sh trains (keep the two lists alike).
INSTANTIATE_TEST_SUITE_P(Methods, MethodPeer,
                         testing::Values(PeerMethod{"lora", "LORA", ""},
                                         PeerMethod{"rslora", "LORA", "use_rslora"},
                                         PeerMethod{"dora", "LORA", "use_dora"},
                                         PeerMethod{"ia3", "IA3", "feedforward_modules"},
                                         PeerMethod{"loha", "LOHA", ""},
                                         PeerMethod{"lokr", "LOKR", "decompose_both"},
                                         PeerMethod{"oft", "OFT", ""},
                                         PeerMethod{"boft", "BOFT", ""},
                                         PeerMethod{"vera", "VERA", "save_projection"},
                                         PeerMethod{"adalora", "ADALORA", "rank_pattern"},
                                         PeerMethod{"prefix_tuning", "PREFIX_TUNING", ""},
                                         PeerMethod{"prompt_tuning", "PROMPT_TUNING", ""}),
                         method_name);

}  // namespace
