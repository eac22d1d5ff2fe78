// Our input_ids/labels against the real Axolotl 0.19.0's, sample by sample, for every case of
// tests/peers/data_axolotl.py (alpaca styles, user-defined, completion, input_output and
// chat_template over ShareGPT/messages fixtures, llama3 and qwen3 tokenizers).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../fixtures.h"
#include "axl/config/load_config.h"
#include "axl/data/prepare.h"

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

std::string peer_dir() {
  const char* p = std::getenv("AXL_PEER_FIXTURES");
  return p ? std::string(p) + "/data" : std::string();
}

TEST(AxolotlParity, EverySampleMatchesAxolotl) {
  const std::string dir = peer_dir();
  if (dir.empty() || !std::filesystem::exists(dir + "/cases.json")) {
    if (axl::test::fixtures_required()) FAIL() << "missing Axolotl data references " << dir << "/cases.json";
    GTEST_SKIP() << "Axolotl data references not generated (scripts/make-peer-refs.sh; set AXL_PEER_FIXTURES)";
  }
  AXL_REQUIRE_FIXTURE(fixtures, "tokenizers/llama3/tokenizer.json");
  const std::string fix = axl::test::fixtures_dir();
  const std::string out = dir.substr(0, dir.size() - 5);
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(dir + "/cases.json"));
  std::map<std::string, std::unique_ptr<axl::tokenizer::Tokenizer>> tokenizers;
  size_t all_equal = 0, all_total = 0;
  for (const auto& c : manifest["cases"]) {
    const std::string name = c["name"];
    const std::string yaml = replace_all(replace_all(c["yaml"].get<std::string>(), "@FIXTURES@", fix), "@OUT@", out);
    axl::config::LoadOptions opts;
    opts.resolve_models = false;
    axl::config::Config cfg = axl::config::load_config_text(yaml, name + ".yml", opts).config;
    auto& tok = tokenizers[cfg.base_model];
    if (!tok) tok = axl::tokenizer::load_tokenizer(cfg.base_model);
    auto strategy = axl::data::make_prompt_strategy(cfg.datasets.at(0), cfg, *tok);
    auto rows = axl::data::read_dataset_rows(cfg.datasets.at(0));
    auto ours = axl::data::tokenize_rows(rows, *strategy, 0);

    std::ifstream ref(dir + "/" + name + ".jsonl");
    std::string line;
    size_t i = 0, equal = 0;
    std::string first_diff;
    while (std::getline(ref, line)) {
      nlohmann::json r = nlohmann::json::parse(line);
      auto ids = r["input_ids"].get<std::vector<int32_t>>();
      auto labels = r["labels"].get<std::vector<int32_t>>();
      if (i < ours.size() && ours[i].input_ids == ids && ours[i].labels == labels) {
        ++equal;
      } else if (first_diff.empty()) {
        std::ostringstream os;
        os << "sample " << i;
        if (i < ours.size()) {
          size_t k = 0;
          while (k < ids.size() && k < ours[i].input_ids.size() && ids[k] == ours[i].input_ids[k] &&
                 labels[k] == ours[i].labels[k])
            ++k;
          os << ": first difference at token " << k << " (axolotl " << ids.size() << " tokens, ours "
             << ours[i].input_ids.size() << ")";
          if (k < ids.size() && k < ours[i].input_ids.size())
            os << " axolotl id/label " << ids[k] << "/" << labels[k] << " ours " << ours[i].input_ids[k] << "/"
               << ours[i].labels[k];
        } else {
          os << ": we made no such sample";
        }
        first_diff = os.str();
      }
      ++i;
    }
    EXPECT_EQ(i, c["samples"].get<size_t>()) << name;
    EXPECT_EQ(ours.size(), i) << name << ": sample count";
    EXPECT_EQ(equal, i) << name << ": " << first_diff;
    std::cout << "[parity] " << name << ": " << equal << "/" << i << " samples equal\n";
    all_equal += equal;
    all_total += i;
  }
  std::cout << "[parity] all cases: " << all_equal << "/" << all_total << " samples equal\n";
  EXPECT_GT(all_total, 0u);
}

}  // namespace
