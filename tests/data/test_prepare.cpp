// The pipeline around the strategies: length rules and their counts, min_sample_len, the
// seeded validation split, parallel == serial tokenization, and prepare_datasets end to end.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "../fixtures.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/data/prepare.h"

namespace {

using axl::data::DatasetStats;
using axl::data::LengthRules;
using axl::data::TokenizedSample;
using axl::data::TokenizedStore;

std::vector<TokenizedSample> samples_of_lengths(std::vector<size_t> lengths) {
  std::vector<TokenizedSample> out;
  for (size_t n : lengths) {
    TokenizedSample s;
    for (size_t i = 0; i < n; ++i) {
      s.input_ids.push_back(static_cast<int32_t>(i + 1));
      s.labels.push_back(i % 2 ? static_cast<int32_t>(i + 1) : axl::data::kIgnoreIndex);
    }
    out.push_back(s);
  }
  return out;
}

TEST(TokenizedStore, FlatLayout) {
  TokenizedStore store;
  store.append({1, 2, 3}, {-100, 2, 3});
  store.append({}, {});
  store.append({7}, {7});
  ASSERT_EQ(store.size(), 3u);
  EXPECT_EQ(store.input_ids(0).to_vector(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(store.labels(1).empty());
  EXPECT_EQ(store.labels(2).to_vector(), (std::vector<int32_t>{7}));
  EXPECT_EQ(store.tokens(0), (std::vector<int32_t>{1, 2, 3, 7}));
  EXPECT_EQ(store.offsets(1), (std::vector<uint64_t>{0, 3, 3, 4}));
  EXPECT_EQ(store.sequence_index("labels"), 1u);
  EXPECT_THROW(store.sequence_index("chosen"), axl::Error);
  TokenizedStore pref({"prompt", "chosen", "rejected"});
  std::vector<int32_t> a{1}, b{2, 3}, c{4};
  pref.append({&a, &b, &c});
  EXPECT_EQ(pref.sequence(0, 1).to_vector(), b);
}

TEST(LengthRules, DropTruncateRaiseAndMinLength) {
  LengthRules rules;
  rules.sequence_len = 4;
  rules.min_sample_len = 2;
  {
    auto s = samples_of_lengths({1, 2, 4, 5, 9, 3});
    TokenizedStore store;
    DatasetStats st;
    axl::data::apply_length_rules(s, rules, store, st, "x");
    EXPECT_EQ(store.size(), 3u);
    EXPECT_EQ(st.dropped_long, 2u);
    EXPECT_EQ(st.dropped_short, 1u);
    EXPECT_EQ(st.truncated, 0u);
    EXPECT_EQ(st.tokens, 9u);
    EXPECT_EQ(st.trainable_tokens, 1u + 2u + 1u);
  }
  {
    rules.excess_length_strategy = "truncate";
    auto s = samples_of_lengths({1, 2, 4, 5, 9, 3});
    TokenizedStore store;
    DatasetStats st;
    axl::data::apply_length_rules(s, rules, store, st, "x");
    EXPECT_EQ(store.size(), 5u);
    EXPECT_EQ(st.truncated, 2u);
    EXPECT_EQ(st.dropped_short, 1u);
    EXPECT_EQ(store.input_ids(3).size(), 4u);
    EXPECT_EQ(store.labels(3).size(), 4u);
  }
  {
    rules.excess_length_strategy = "raise";
    auto s = samples_of_lengths({2, 5});
    TokenizedStore store;
    DatasetStats st;
    try {
      axl::data::apply_length_rules(s, rules, store, st, "cfg.yml:3:3");
      FAIL() << "no error";
    } catch (const axl::Error& e) {
      EXPECT_NE(std::string(e.what()).find("cfg.yml:3:3: sample 1 has 5 tokens, over sequence_len 4"), std::string::npos);
    }
  }
  {
    rules.excess_length_strategy = "drop";
    rules.min_sample_len = 4;
    auto s = samples_of_lengths({3, 4});
    TokenizedStore store;
    DatasetStats st;
    axl::data::apply_length_rules(s, rules, store, st, "x");
    EXPECT_EQ(store.size(), 1u);
    EXPECT_EQ(st.dropped_short, 1u);
  }
}

TEST(Split, DeterministicBySeed) {
  auto a = axl::data::split_indices(101, 0.1, 42);
  auto b = axl::data::split_indices(101, 0.1, 42);
  auto c = axl::data::split_indices(101, 0.1, 7);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.second.size(), 11u);  // ceil(10.1)
  EXPECT_EQ(a.first.size(), 90u);
  std::vector<size_t> all = a.first;
  all.insert(all.end(), a.second.begin(), a.second.end());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i);
  EXPECT_EQ(axl::data::split_indices(50, 5, 1).second.size(), 5u);
  EXPECT_THROW(axl::data::split_indices(5, 5, 1), axl::Error);
  // Pinned values: the split must not change across platforms or releases.
  EXPECT_EQ(axl::data::seeded_permutation(6, 42), (std::vector<size_t>{4, 3, 0, 2, 5, 1}));
}

TEST(Tokenize, ParallelEqualsSerial) {
  AXL_REQUIRE_FIXTURE(alpaca, "datasets/alpaca/llamafactory_alpaca_en_demo.json");
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/llama3");
  auto tok = axl::tokenizer::load_tokenizer(tokdir);
  axl::config::Config cfg;
  axl::config::DatasetConfig ds;
  ds.path = alpaca;
  ds.type = "alpaca";
  ds.split = "train[:300]";
  auto strategy = axl::data::make_prompt_strategy(ds, cfg, *tok);
  auto rows = axl::data::read_dataset_rows(ds);
  auto serial = axl::data::tokenize_rows(rows, *strategy, 1);
  auto parallel = axl::data::tokenize_rows(rows, *strategy, 7);
  ASSERT_EQ(serial.size(), 300u);
  ASSERT_EQ(parallel.size(), serial.size());
  for (size_t i = 0; i < serial.size(); ++i) {
    EXPECT_EQ(serial[i].input_ids, parallel[i].input_ids) << i;
    EXPECT_EQ(serial[i].labels, parallel[i].labels) << i;
  }
}

TEST(Prepare, EndToEndCountsSplitAndErrors) {
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/qwen3");
  std::string dir = axl::test::scratch_dir("data-prepare");
  std::ofstream(dir + "/a.jsonl") << "{\"instruction\": \"Add 2 and 2.\", \"output\": \"4\"}\n"
                                  << "{\"instruction\": \"Name a colour.\", \"input\": \"warm\", \"output\": \"Red\"}\n"
                                  << "{\"instruction\": \"" << std::string(400, 'x') << "\", \"output\": \"long\"}\n"
                                  << "{\"instruction\": \"Say yes.\", \"output\": \"Yes\"}\n";
  std::ofstream(dir + "/empty.jsonl") << "\n";
  std::string yaml = "base_model: " + tokdir + "\nsequence_len: 64\nval_set_size: 0.25\nseed: 3\n" +
                     "datasets:\n  - path: " + dir + "/a.jsonl\n    type: alpaca\n" +
                     "micro_batch_size: 1\ngradient_accumulation_steps: 1\nlearning_rate: 0.0001\n";
  axl::config::LoadOptions opts;
  opts.resolve_models = false;
  auto cfg = axl::config::load_config_text(yaml, "t.yml", opts).config;
  auto tok = axl::tokenizer::load_tokenizer(tokdir);
  auto p1 = axl::data::prepare_datasets(cfg, *tok);
  ASSERT_EQ(p1.stats.size(), 1u);
  EXPECT_EQ(p1.stats[0].rows, 4u);
  EXPECT_EQ(p1.stats[0].dropped_long, 1u);
  EXPECT_EQ(p1.stats[0].kept, 3u);
  EXPECT_EQ(p1.train.size(), 2u);
  EXPECT_EQ(p1.validation.size(), 1u);
  auto p2 = axl::data::prepare_datasets(cfg, *tok, {2, true});
  EXPECT_EQ(p1.validation.input_ids(0).to_vector(), p2.validation.input_ids(0).to_vector());

  cfg.excess_length_strategy = "truncate";
  auto p3 = axl::data::prepare_datasets(cfg, *tok);
  EXPECT_EQ(p3.stats[0].truncated, 1u);
  EXPECT_EQ(p3.train.size() + p3.validation.size(), 4u);

  cfg.datasets[0].path = dir + "/empty.jsonl";
  try {
    axl::data::prepare_datasets(cfg, *tok);
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("has no rows"), std::string::npos) << e.what();
  }
}

}  // namespace
