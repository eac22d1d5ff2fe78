// `axolotl merge-lora` for every fixture adapter on the hf-tiny Llama: the merged folder, loaded
// as a plain model, gives PEFT's merge_and_unload logits (merged_logits, or the adapter's own
// logits where the fixture has no merged ones) within 1e-4; prefix and prompt tuning, which
// PEFT cannot merge either, fail with one clear message, exit status 2 and no output folder.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "tests/peft/method_fixture.h"

namespace {

struct MergeCase {
  std::string name;      // test name
  std::string folder;    // the adapter, relative to hf-tiny/LlamaForCausalLM
  std::string ref_file;  // holds the reference logits, relative to the same folder
  std::string key;       // PEFT's merged logits (or the adapter's logits); "" when it must fail
};

std::string case_name(const testing::TestParamInfo<MergeCase>& info) { return info.param.name; }

// gtest names a failing case by this instead of a byte dump.
void PrintTo(const MergeCase& c, std::ostream* os) { *os << c.name; }

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class MergeCli : public testing::TestWithParam<MergeCase> {};

TEST_P(MergeCli, MergedFolderGivesPeftMergedLogits) {
  const MergeCase& c = GetParam();
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  const char* b = std::getenv("AXL_BUILD_DIR");
  const std::string bin = b ? std::string(b) + "/bin/axolotl" : std::string();
  if (bin.empty() || !std::filesystem::exists(bin)) GTEST_SKIP() << "AXL_BUILD_DIR not set";
  const std::string adapter = llama + "/" + c.folder;
  ASSERT_TRUE(std::filesystem::exists(adapter + "/adapter_config.json")) << adapter;
  const std::string scratch = axl::test::scratch_dir("merge_cli_" + c.name);
  const std::string out = scratch + "/merged", err = scratch + "/stderr.txt";
  const std::string cmd = bin + " merge-lora --model " + llama + " --adapter " + adapter + " --out " + out + " 2> " + err;
  const int status = std::system(cmd.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const std::string message = read_text(err);

  if (c.key.empty()) {
    // Must refuse, as a user error naming merging (not an unknown peft_type or a crash).
    EXPECT_EQ(code, 2) << cmd << "\n" << message;
    EXPECT_FALSE(std::filesystem::exists(out)) << "a folder was written for an unmergeable adapter";
    std::string text = lower(message);
    EXPECT_NE(text.find("error"), std::string::npos) << message;
    for (std::size_t p; (p = text.find("merge-lora")) != std::string::npos;) text.erase(p, 10);
    EXPECT_NE(text.find("merg"), std::string::npos) << "the message should say it cannot be merged: " << message;
    EXPECT_EQ(text.find("not supported"), std::string::npos) << "the method is not loadable yet: " << message;
    std::printf("merge-lora %-22s refused (exit %d): %s", c.name.c_str(), code, message.c_str());
    return;
  }

  ASSERT_EQ(code, 0) << cmd << "\n" << message;
  const auto ref = axl::load_safetensors(llama + "/" + c.ref_file);
  const at::Tensor ids = axl::load_safetensors(llama + "/reference.safetensors").at("input_ids");
  auto merged = axl::models::load_causal_lm(out);
  at::NoGradGuard no_grad;
  const at::Tensor logits = axl::test::logits_for(merged, ids);
  const double e = axl::test::max_abs_diff(logits, ref.at(c.key));
  EXPECT_LE(e, 1e-4) << "merge-lora of " << c.folder << " vs " << c.key;
  // Where PEFT's merged logits exist, the adapter's own logits must agree too.
  double e_adapter = -1;
  if (ref.count("logits") && c.key == "merged_logits") {
    e_adapter = axl::test::max_abs_diff(logits, ref.at("logits"));
    EXPECT_LE(e_adapter, 1e-4) << "merge-lora of " << c.folder << " vs the adapter's logits";
  }
  char adapter_text[32] = "n/a";
  if (e_adapter >= 0) std::snprintf(adapter_text, sizeof adapter_text, "%.2e", e_adapter);
  std::printf("merge-lora %-22s vs %-13s %.2e (vs adapter logits %s)\n", c.name.c_str(), c.key.c_str(), e,
              adapter_text);
}

MergeCase parent(const std::string& m) { return {m, m, "reference.safetensors", m + "_logits"}; }
MergeCase method(const std::string& m) {
  return {m, "methods/" + m, "methods/" + m + "/reference.safetensors", "merged_logits"};
}
MergeCase unmergeable(const std::string& m) { return {m, "methods/" + m, "", ""}; }

INSTANTIATE_TEST_SUITE_P(Fixtures, MergeCli,
                         testing::Values(parent("lora"), parent("dora"), parent("ia3"), method("lora_rslora"),
                                         method("loha"), method("lokr"), method("oft"), method("boft"),
                                         method("vera"), method("adalora"), method("lora_modules_to_save"),
                                         unmergeable("prefix_tuning"), unmergeable("prompt_tuning")),
                         case_name);

}  // namespace
