#pragma once
// The prepared-dataset cache: prepare_datasets' result kept on disk under
// `dataset_prepared_path` (default `last_run_prepared`, as Axolotl) in a folder named by a
// SHA-256 key over everything that changes the result: each data file's contents, each
// dataset's options, the tokenizer's files and config tokens, the chat templates, the length
// and split settings and the format version. A folder holds train.bin and validation.bin
// (tokenized_store_file.h, read back memory-mapped) and manifest.json (the key's inputs in
// readable form and the per-dataset counts).
//
// Safety: a folder is written beside under a temporary name and renamed into place, so a
// reader never sees half of one; of two processes preparing the same key at once, the one
// that loses the rename uses the winner's. A damaged folder (bad checksum, truncated file,
// unreadable manifest) is moved aside and rebuilt with a one-line warning.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "axl/config/config.h"
#include "axl/data/prepare.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::data {

// Bump when tokenization or the stored layout changes in a way the inputs do not show.
constexpr uint32_t kPreparedCacheFormatVersion = 1;
constexpr const char* kDefaultPreparedPath = "last_run_prepared";

// The key's inputs, canonical and readable (what manifest.json records). They need no loaded
// tokenizer (its files are hashed), so a cache hit never loads one.
nlohmann::ordered_json prepared_cache_inputs(const config::Config& cfg, const PrepareOptions& options,
                                             uint32_t format_version = kPreparedCacheFormatVersion);
// SHA-256 hex of the inputs' compact dump.
std::string prepared_cache_key(const nlohmann::ordered_json& inputs);
// dataset_prepared_path, else kDefaultPreparedPath.
std::string prepared_cache_root(const config::Config& cfg);

struct CacheOutcome {
  enum class Status { Hit, Built, Rebuilt, Uncached };
  Status status = Status::Uncached;
  std::string key, dir;
};

struct CacheOptions {
  bool use_cache = true;  // false: prepare without reading or writing a cache
  bool write = true;      // false: reuse a matching cache but never write one
  bool rebuild = false;   // true: prepare again and replace a matching cache
  // Info and warning lines ("dataset cache: ..."); nullptr: silent.
  std::function<void(const std::string&)> log;
};

// prepare_datasets through the cache: loads a matching, intact cache (the stores then view
// its memory-mapped files), else prepares and publishes one. A cache that cannot be written
// (read-only folder) is a warning, not an error.
PreparedData prepare_datasets_cached(const config::Config& cfg, const tokenizer::Tokenizer& tok,
                                     const PrepareOptions& options = {}, const CacheOptions& cache = {},
                                     CacheOutcome* outcome = nullptr);
// The same with the tokenizer loaded on demand: `tokenizer` is called only when the datasets
// must be prepared (no matching cache), so a cache hit skips loading it.
PreparedData prepare_datasets_cached(const config::Config& cfg,
                                     const std::function<const tokenizer::Tokenizer&()>& tokenizer,
                                     const PrepareOptions& options = {}, const CacheOptions& cache = {},
                                     CacheOutcome* outcome = nullptr);

// The pieces, for tests and tools. load_prepared_cache throws axl::Error when `dir` is damaged
// or holds another key; publish_prepared_cache returns the folder now holding `key` (its own
// or a concurrent winner's).
PreparedData load_prepared_cache(const std::string& dir, const std::string& key);
std::string publish_prepared_cache(const std::string& root, const std::string& key,
                                   const nlohmann::ordered_json& inputs, const PreparedData& data,
                                   bool* published_here = nullptr);

}  // namespace axl::data
