#include "axl/data/prepare.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include "axl/core/error.h"
#include "axl/data/config_tokens.h"

namespace axl::data {

std::vector<TokenizedSample> tokenize_rows(const std::vector<Row>& rows, const PromptStrategy& strategy, int threads) {
  const size_t n = rows.size();
  std::vector<std::vector<TokenizedSample>> per_row(n);
  size_t workers = threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
  workers = std::max<size_t>(1, std::min(workers, n));
  constexpr size_t kBlock = 32;  // rows handed out at a time: small enough to balance long rows
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  size_t error_row = SIZE_MAX;
  std::string error_message;

  auto work = [&] {
    for (;;) {
      const size_t begin = next.fetch_add(kBlock);
      if (begin >= n) return;
      const size_t end = std::min(n, begin + kBlock);
      for (size_t i = begin; i < end; ++i) {
        try {
          strategy.tokenize(rows[i].value, per_row[i]);
        } catch (const std::exception& e) {
          // Keep the first failing row (by index) so the message does not depend on timing.
          std::lock_guard<std::mutex> lock(error_mutex);
          if (i < error_row) {
            error_row = i;
            error_message = rows[i].where + ": " + strategy.name() + ": " + e.what();
          }
          next.store(n);
          return;
        }
      }
    }
  };
  if (workers == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (size_t w = 0; w < workers; ++w) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }
  if (error_row != SIZE_MAX) throw Error(error_message);

  std::vector<TokenizedSample> out;
  size_t total = 0;
  for (const auto& r : per_row) total += r.size();
  out.reserve(total);
  for (auto& r : per_row)
    for (auto& s : r) out.push_back(std::move(s));
  return out;
}

void apply_length_rules(std::vector<TokenizedSample>& samples, const LengthRules& rules, TokenizedStore& store,
                        DatasetStats& stats, const std::string& where) {
  const size_t min_len = rules.min_sample_len ? rules.min_sample_len : 2;  // Axolotl: `or 2`
  const std::string& how = rules.excess_length_strategy;
  if (how != "drop" && how != "truncate" && how != "raise")
    throw Error(where + ": excess_length_strategy must be drop, truncate or raise (got '" + how + "')");
  for (size_t i = 0; i < samples.size(); ++i) {
    TokenizedSample& s = samples[i];
    if (s.input_ids.size() < min_len) {
      ++stats.dropped_short;
      continue;
    }
    if (s.input_ids.size() > rules.sequence_len) {
      if (how == "raise")
        throw Error(where + ": sample " + std::to_string(i) + " has " + std::to_string(s.input_ids.size()) +
                    " tokens, over sequence_len " + std::to_string(rules.sequence_len) +
                    " (excess_length_strategy: raise; use drop or truncate to go on)");
      if (how == "drop") {
        ++stats.dropped_long;
        continue;
      }
      s.input_ids.resize(rules.sequence_len);
      s.labels.resize(rules.sequence_len);
      ++stats.truncated;
    }
    ++stats.kept;
    stats.tokens += s.input_ids.size();
    for (TokenId l : s.labels) stats.trainable_tokens += l != kIgnoreIndex;
    store.append(s.input_ids, s.labels);
  }
}

std::vector<size_t> seeded_permutation(size_t n, uint64_t seed) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  uint64_t state = seed;
  auto next = [&state] {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[next() % i]);
  return p;
}

std::pair<std::vector<size_t>, std::vector<size_t>> split_indices(size_t n, double val_size, uint64_t seed) {
  size_t n_val = val_size < 1.0 ? static_cast<size_t>(std::ceil(val_size * static_cast<double>(n)))
                                : static_cast<size_t>(val_size);
  if (val_size > 0 && n_val >= n)
    throw Error("val_set_size " + std::to_string(val_size) + " leaves no training samples out of " + std::to_string(n));
  std::vector<size_t> perm = seeded_permutation(n, seed);
  std::vector<size_t> val(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(n_val));
  std::vector<size_t> train(perm.begin() + static_cast<std::ptrdiff_t>(n_val), perm.end());
  return {train, val};
}

namespace {

TokenizedStore load_entries(const std::vector<config::DatasetConfig>& entries, const config::Config& cfg,
                            const tokenizer::Tokenizer& tok, const PrepareOptions& options, const char* role,
                            std::vector<DatasetStats>& all_stats) {
  LengthRules rules;
  rules.sequence_len = static_cast<size_t>(cfg.sequence_len);
  rules.min_sample_len = static_cast<size_t>(std::max<int64_t>(0, cfg.min_sample_len));
  rules.excess_length_strategy = cfg.excess_length_strategy;
  TokenizedStore store;
  for (const auto& ds : entries) {
    const std::string where = ds.where.empty() ? ds.path : ds.where;
    std::unique_ptr<PromptStrategy> strategy = make_prompt_strategy(ds, cfg, tok);
    std::vector<Row> rows = read_dataset_rows(ds);
    if (rows.empty()) throw Error(where + ": dataset " + ds.path + " has no rows");
    DatasetStats stats;
    stats.path = ds.path;
    stats.type = strategy->name();
    stats.split_role = role;
    stats.rows = rows.size();
    std::vector<TokenizedSample> samples = tokenize_rows(rows, *strategy, options.threads);
    stats.samples = samples.size();
    apply_length_rules(samples, rules, store, stats, where);
    all_stats.push_back(stats);
  }
  return store;
}

TokenizedStore select(const TokenizedStore& from, const std::vector<size_t>& indices) {
  TokenizedStore out(from.sequence_names());
  for (size_t i : indices) out.append_record(from, i);
  return out;
}

}  // namespace

PreparedData prepare_datasets(const config::Config& cfg, const tokenizer::Tokenizer& tok, const PrepareOptions& options) {
  if (cfg.datasets.empty())
    throw Error(cfg.source_file + ": no `datasets:` to prepare" +
                (cfg.pretraining_dataset.empty() ? "" : " (pretraining_dataset is streamed while training; nothing to preprocess)"));
  check_config_tokens(cfg, tok);  // config tokens must be matched as added tokens in the text
  PreparedData out;
  TokenizedStore merged = load_entries(cfg.datasets, cfg, tok, options, "train", out.stats);
  const uint64_t seed = static_cast<uint64_t>(cfg.seed);
  const bool shuffle = options.shuffle && cfg.shuffle_merged_datasets;
  auto ordered = [shuffle](std::vector<size_t> idx) {
    if (!shuffle) std::sort(idx.begin(), idx.end());
    return idx;
  };
  if (!cfg.test_datasets.empty()) {
    out.validation = load_entries(cfg.test_datasets, cfg, tok, options, "test", out.stats);
    out.train = select(merged, ordered(seeded_permutation(merged.size(), seed)));
  } else if (cfg.val_set_size > 0) {
    if (merged.size() < 2) throw Error(cfg.source_file + ": val_set_size needs at least 2 samples");
    auto [train, val] = split_indices(merged.size(), cfg.val_set_size, seed);
    out.train = select(merged, ordered(std::move(train)));
    out.validation = select(merged, val);
  } else {
    out.train = select(merged, ordered(seeded_permutation(merged.size(), seed)));
  }
  return out;
}

std::string tokenizer_dir_for(const config::Config& cfg) {
  std::string dir = !cfg.tokenizer_dir.dir.empty() ? cfg.tokenizer_dir.dir : cfg.model.dir;
  if (dir.empty()) dir = cfg.tokenizer_config.empty() ? cfg.base_model : cfg.tokenizer_config;
  return dir;
}

}  // namespace axl::data
