#include "axl/data/prepared_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/data/chat_template_strategy.h"
#include "axl/data/content_hash.h"
#include "axl/data/dataset_files.h"
#include "axl/data/tokenized_store_file.h"

namespace fs = std::filesystem;

namespace axl::data {

namespace {

using Json = nlohmann::ordered_json;

template <class T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// Every option of a dataset entry except `where` (its place in the YAML changes nothing).
Json dataset_options(const config::DatasetConfig& ds) {
  Json j;
  j["path"] = ds.path;
  j["type"] = ds.type;
  if (ds.user_type) {
    const auto& u = *ds.user_type;
    j["user_type"] = {{"system_prompt", opt(u.system_prompt)}, {"system_format", opt(u.system_format)},
                      {"field_system", opt(u.field_system)}, {"field_instruction", opt(u.field_instruction)},
                      {"field_input", opt(u.field_input)}, {"field_output", opt(u.field_output)},
                      {"format", opt(u.format)}, {"no_input_format", opt(u.no_input_format)}};
  }
  j["data_files"] = ds.data_files;
  j["split"] = opt(ds.split);
  j["name"] = opt(ds.name);
  j["ds_type"] = opt(ds.ds_type);
  j["revision"] = opt(ds.revision);
  j["conversation"] = opt(ds.conversation);
  j["chat_template"] = opt(ds.chat_template);
  j["chat_template_jinja"] = opt(ds.chat_template_jinja);
  j["field"] = opt(ds.field);
  j["field_human"] = opt(ds.field_human);
  j["field_model"] = opt(ds.field_model);
  j["field_messages"] = opt(ds.field_messages);
  j["field_tools"] = opt(ds.field_tools);
  j["field_thinking"] = opt(ds.field_thinking);
  j["template_thinking_key"] = opt(ds.template_thinking_key);
  j["message_field_training"] = opt(ds.message_field_training);
  j["message_field_training_detail"] = opt(ds.message_field_training_detail);
  j["text_column"] = opt(ds.text_column);
  j["input_format"] = opt(ds.input_format);
  j["message_property_mappings"] = ds.message_property_mappings;
  j["roles"] = ds.roles;
  j["roles_to_train"] = opt(ds.roles_to_train);
  j["train_on_eos"] = opt(ds.train_on_eos);
  j["train_on_eot"] = opt(ds.train_on_eot);
  j["drop_system_message"] = opt(ds.drop_system_message);
  j["split_thinking"] = opt(ds.split_thinking);
  j["train_on_inputs"] = ds.train_on_inputs;
  return j;
}

Json dataset_inputs(const config::DatasetConfig& ds, const config::Config& cfg,
                    const tokenizer::TokenizerConfig& tokenizer_config) {
  Json j = dataset_options(ds);
  Json files = Json::array();
  for (const auto& f : dataset_file_list(ds))
    files.push_back({{"file", f}, {"bytes", fs::file_size(f)}, {"sha256", sha256_file_hex(f)}});
  j["files"] = files;
  // The template text itself, so a changed named template or jinja file changes the key.
  if (ds.type.rfind("chat_template", 0) == 0 || ds.type.rfind("sharegpt", 0) == 0) {
    try {
      j["chat_template_source_sha256"] = sha256_hex(chat_template_source(ds, cfg, tokenizer_config));
    } catch (const std::exception&) {
      j["chat_template_source_sha256"] = nullptr;  // preparing reports the error itself
    }
  }
  return j;
}

// The files a tokenizer is read from (weights and model configs change nothing).
bool is_tokenizer_file(const fs::path& p) {
  const std::string name = p.filename().string(), ext = p.extension().string();
  return name.rfind("tokenizer", 0) == 0 || name == "special_tokens_map.json" || name == "added_tokens.json" ||
         name == "vocab.json" || name == "vocab.txt" || name == "merges.txt" || name.rfind("chat_template", 0) == 0 ||
         ext == ".model" || ext == ".tiktoken";
}

// `path` is the tokenizer folder, or its tokenizer file (whose folder gives the configuration).
Json tokenizer_inputs(const std::string& path) {
  Json files = Json::object();
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  if (!dir.empty() && fs::is_directory(dir, ec)) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && (is_tokenizer_file(e.path()) || e.path() == fs::path(path))) paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) files[p.filename().string()] = sha256_file_hex(p.string());
  }
  return {{"dir", path}, {"files", files}};
}

// The tokenizer configuration (chat template, special tokens) without loading the tokenizer;
// an unreadable one leaves it empty: preparing then reports the error itself.
tokenizer::TokenizerConfig tokenizer_config_for(const std::string& path) {
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  try {
    return tokenizer::load_tokenizer_config(dir.empty() ? fs::path(".") : dir);
  } catch (const std::exception&) {
    return {};
  }
}

Json stats_to_json(const DatasetStats& s) {
  return {{"path", s.path}, {"type", s.type}, {"split_role", s.split_role}, {"rows", s.rows},
          {"samples", s.samples}, {"dropped_long", s.dropped_long}, {"dropped_short", s.dropped_short},
          {"truncated", s.truncated}, {"kept", s.kept}, {"tokens", s.tokens}, {"trainable_tokens", s.trainable_tokens}};
}

DatasetStats stats_from_json(const nlohmann::json& j) {
  DatasetStats s;
  s.path = j.at("path").get<std::string>();
  s.type = j.at("type").get<std::string>();
  s.split_role = j.at("split_role").get<std::string>();
  s.rows = j.at("rows").get<size_t>();
  s.samples = j.at("samples").get<size_t>();
  s.dropped_long = j.at("dropped_long").get<size_t>();
  s.dropped_short = j.at("dropped_short").get<size_t>();
  s.truncated = j.at("truncated").get<size_t>();
  s.kept = j.at("kept").get<size_t>();
  s.tokens = j.at("tokens").get<size_t>();
  s.trainable_tokens = j.at("trainable_tokens").get<size_t>();
  return s;
}

std::string unique_suffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(rd());
}

// Moves a damaged folder out of the way (atomically) and deletes it. Another process may have
// done so already; that is fine.
void discard_folder(const std::string& root, const std::string& key) {
  const fs::path dir = fs::path(root) / key, aside = fs::path(root) / (".stale-" + key + "-" + unique_suffix());
  std::error_code ec;
  fs::rename(dir, aside, ec);
  if (!ec) fs::remove_all(aside, ec);
}

// Temporary and discarded folders an interrupted preparer left behind (older than an hour, so
// never one that a live preparer is still writing).
void remove_leftovers(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  const time_t now = ::time(nullptr);
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) != 0 && name.rfind(".stale-", 0) != 0) continue;
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0 && now - st.st_mtime > 3600) fs::remove_all(e.path(), ec);
  }
}

}  // namespace

Json prepared_cache_inputs(const config::Config& cfg, const PrepareOptions& options, uint32_t format_version) {
  Json j;
  j["format_version"] = format_version;
  j["store_format_version"] = kTokenizedStoreFormatVersion;
  j["sequence_len"] = cfg.sequence_len;
  j["min_sample_len"] = cfg.min_sample_len;
  j["excess_length_strategy"] = cfg.excess_length_strategy;
  j["train_on_inputs"] = cfg.train_on_inputs;
  j["val_set_size"] = cfg.val_set_size;
  j["seed"] = cfg.seed;
  j["shuffle_merged_datasets"] = options.shuffle && cfg.shuffle_merged_datasets;
  j["chat_template"] = opt(cfg.chat_template);
  j["chat_template_jinja"] = opt(cfg.chat_template_jinja);
  j["chat_template_kwargs"] = cfg.chat_template_kwargs;
  j["default_system_message"] = opt(cfg.default_system_message);
  j["eot_tokens"] = cfg.eot_tokens;
  const auto& st = cfg.special_tokens;
  j["special_tokens"] = {{"bos_token", opt(st.bos_token)}, {"eos_token", opt(st.eos_token)},
                         {"pad_token", opt(st.pad_token)}, {"unk_token", opt(st.unk_token)},
                         {"additional_special_tokens", st.additional_special_tokens}};
  j["tokens"] = cfg.tokens;
  // The tokenizer files and the config tokens above fix the tokenizer (its vocab size too).
  const std::string tokenizer_path = tokenizer_dir_for(cfg);
  j["tokenizer"] = tokenizer_inputs(tokenizer_path);
  const tokenizer::TokenizerConfig tokenizer_config = tokenizer_config_for(tokenizer_path);
  Json train = Json::array(), test = Json::array();
  for (const auto& ds : cfg.datasets) train.push_back(dataset_inputs(ds, cfg, tokenizer_config));
  for (const auto& ds : cfg.test_datasets) test.push_back(dataset_inputs(ds, cfg, tokenizer_config));
  j["datasets"] = train;
  j["test_datasets"] = test;
  return j;
}

std::string prepared_cache_key(const Json& inputs) { return sha256_hex(inputs.dump()); }

std::string prepared_cache_root(const config::Config& cfg) {
  return cfg.dataset_prepared_path && !cfg.dataset_prepared_path->empty() ? *cfg.dataset_prepared_path
                                                                          : kDefaultPreparedPath;
}

PreparedData load_prepared_cache(const std::string& dir, const std::string& key) {
  const std::string manifest_path = dir + "/manifest.json";
  nlohmann::json manifest;
  {
    std::ifstream in(manifest_path, std::ios::binary);
    if (!in) throw Error(manifest_path + ": missing");
    try {
      manifest = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw Error(manifest_path + ": unreadable (" + e.what() + ")");
    }
  }
  PreparedData out;
  try {
    if (manifest.at("format_version").get<uint32_t>() != kPreparedCacheFormatVersion)
      throw Error(manifest_path + ": another cache format version");
    if (manifest.at("key").get<std::string>() != key) throw Error(manifest_path + ": holds another key");
    for (const auto& s : manifest.at("stats")) out.stats.push_back(stats_from_json(s));
    out.train = read_tokenized_store(dir + "/train.bin");
    out.validation = read_tokenized_store(dir + "/validation.bin");
    if (out.train.size() != manifest.at("train_records").get<size_t>() ||
        out.validation.size() != manifest.at("validation_records").get<size_t>())
      throw Error(manifest_path + ": record counts differ from the stored arrays");
  } catch (const nlohmann::json::exception& e) {
    throw Error(manifest_path + ": incomplete (" + e.what() + ")");
  }
  return out;
}

std::string publish_prepared_cache(const std::string& root, const std::string& key, const Json& inputs,
                                   const PreparedData& data, bool* published_here) {
  if (published_here) *published_here = false;
  const fs::path final_dir = fs::path(root) / key;
  const fs::path tmp = fs::path(root) / (".tmp-" + key + "-" + unique_suffix());
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) throw Error(tmp.string() + ": cannot create (" + ec.message() + ")");
  try {
    write_tokenized_store((tmp / "train.bin").string(), data.train);
    write_tokenized_store((tmp / "validation.bin").string(), data.validation);
    Json manifest;
    manifest["format_version"] = kPreparedCacheFormatVersion;
    manifest["key"] = key;
    manifest["train_records"] = data.train.size();
    manifest["validation_records"] = data.validation.size();
    Json stats = Json::array();
    for (const auto& s : data.stats) stats.push_back(stats_to_json(s));
    manifest["stats"] = stats;
    manifest["inputs"] = inputs;
    write_file_atomic((tmp / "manifest.json").string(), manifest.dump(2) + "\n");
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  // rename(2) of a folder onto an existing non-empty one fails: exactly one preparer wins.
  if (std::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    const int err = errno;
    fs::remove_all(tmp, ec);
    if (err != EEXIST && err != ENOTEMPTY)
      throw Error(final_dir.string() + ": cannot publish the dataset cache (" + std::strerror(err) + ")");
  } else if (published_here) {
    *published_here = true;
  }
  return final_dir.string();
}

PreparedData prepare_datasets_cached(const config::Config& cfg, const tokenizer::Tokenizer& tok,
                                     const PrepareOptions& options, const CacheOptions& cache, CacheOutcome* outcome) {
  return prepare_datasets_cached(
      cfg, [&tok]() -> const tokenizer::Tokenizer& { return tok; }, options, cache, outcome);
}

PreparedData prepare_datasets_cached(const config::Config& cfg,
                                     const std::function<const tokenizer::Tokenizer&()>& tokenizer,
                                     const PrepareOptions& options, const CacheOptions& cache, CacheOutcome* outcome) {
  auto log = [&](const std::string& line) {
    if (cache.log) cache.log(line);
  };
  CacheOutcome local;
  CacheOutcome& oc = outcome ? *outcome : local;
  oc = CacheOutcome{};
  if (!cache.use_cache) return prepare_datasets(cfg, tokenizer(), options);

  const Json inputs = prepared_cache_inputs(cfg, options);
  oc.key = prepared_cache_key(inputs);
  const std::string root = prepared_cache_root(cfg);
  oc.dir = (fs::path(root) / oc.key).string();
  bool damaged = false;
  std::error_code exists_ec;
  if (fs::exists(oc.dir, exists_ec) && !cache.rebuild) {
    try {
      PreparedData hit = load_prepared_cache(oc.dir, oc.key);
      oc.status = CacheOutcome::Status::Hit;
      log("dataset cache: reusing " + oc.dir);
      return hit;
    } catch (const Error& e) {
      log(std::string("warning: dataset cache is damaged, ") + (cache.write ? "rebuilding it: " : "not using it: ") +
          e.what());
      damaged = true;
    }
  }
  PreparedData built = prepare_datasets(cfg, tokenizer(), options);
  if (!cache.write) return built;
  remove_leftovers(root);
  if (damaged || cache.rebuild) discard_folder(root, oc.key);
  try {
    bool mine = false;
    publish_prepared_cache(root, oc.key, inputs, built, &mine);
    // A concurrent preparer may have won the rename: check what is in place now.
    load_prepared_cache(oc.dir, oc.key);
    oc.status = damaged ? CacheOutcome::Status::Rebuilt : CacheOutcome::Status::Built;
    log("dataset cache: wrote " + oc.dir + (mine ? "" : " (a concurrent preparer published the same first)"));
  } catch (const Error& e) {
    oc.status = CacheOutcome::Status::Uncached;
    log(std::string("warning: dataset cache not written: ") + e.what());
  }
  return built;
}

}  // namespace axl::data
