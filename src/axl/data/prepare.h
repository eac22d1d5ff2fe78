#pragma once
// From a Config to tokenized train/validation stores: read each `datasets:` entry, tokenize
// its rows with its prompt strategy on worker threads (output in row order whatever the
// thread count), apply excess_length_strategy and min_sample_len, then split validation off
// by seed (val_set_size) or tokenize test_datasets. No caching yet.
#include <cstddef>
#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/data/dataset_files.h"
#include "axl/data/prompt_strategy.h"
#include "axl/data/tokenized_store.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::data {

struct DatasetStats {
  std::string path, type, split_role;  // split_role: "train" or "test"
  size_t rows = 0, samples = 0;        // samples: after the strategy (completion may split rows)
  size_t dropped_long = 0, dropped_short = 0, truncated = 0;
  size_t kept = 0, tokens = 0, trainable_tokens = 0;  // after the length rules
};

struct LengthRules {
  size_t sequence_len = 512;
  size_t min_sample_len = 2;
  std::string excess_length_strategy = "drop";  // drop, truncate, raise
};

// Tokenizes `rows` with `strategy` on `threads` workers (0 = all cores). Row errors are
// axl::Error naming the row's file:line. The result is identical for any thread count.
std::vector<TokenizedSample> tokenize_rows(const std::vector<Row>& rows, const PromptStrategy& strategy, int threads = 0);

// Applies the length rules to `samples`, appending the kept ones to `store` and counting in
// `stats` (dropped_long, dropped_short, truncated, kept, tokens, trainable_tokens).
// "raise" throws axl::Error naming `where` on the first over-long sample.
void apply_length_rules(std::vector<TokenizedSample>& samples, const LengthRules& rules, TokenizedStore& store,
                        DatasetStats& stats, const std::string& where);

// A seeded split of n records: (train indices, validation indices), both in shuffled order as
// HF's train_test_split(shuffle=True) gives them. val_size < 1 is a fraction (rounded up),
// >= 1 a count. Deterministic for a seed on every platform.
std::pair<std::vector<size_t>, std::vector<size_t>> split_indices(size_t n, double val_size, uint64_t seed);

// A seeded permutation of 0..n-1 (Fisher-Yates over splitmix64).
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed);

struct PreparedData {
  TokenizedStore train, validation;
  std::vector<DatasetStats> stats;
};

struct PrepareOptions {
  int threads = 0;
  bool shuffle = true;  // shuffle_merged_datasets (train only); the preprocess report keeps row order
};

// The tokenizer folder a config uses: tokenizer_config, else the base model's folder (resolved
// through the Hugging Face cache by the config loader).
std::string tokenizer_dir_for(const config::Config& cfg);

PreparedData prepare_datasets(const config::Config& cfg, const tokenizer::Tokenizer& tok,
                              const PrepareOptions& options = {});

}  // namespace axl::data
