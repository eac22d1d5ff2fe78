#include "axl/data/stream_source.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "axl/core/error.h"
#include "axl/data/dataset_files.h"
#include "axl/data/streaming_encode_strategy.h"

namespace axl::data {
namespace fs = std::filesystem;

namespace {

bool has_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// data_files with glob patterns expanded (sorted per pattern, as the datasets library does);
// without data_files the entry's file or folder (dataset_files.h).
std::vector<std::string> entry_files(const config::DatasetConfig& ds, const std::string& where) {
  if (ds.data_files.empty()) return dataset_file_list(ds);
  std::vector<std::string> files;
  for (const auto& f : ds.data_files) {
    fs::path p(f);
    if (p.is_relative() && fs::is_directory(ds.path)) p = fs::path(ds.path) / p;
    if (!has_glob(f)) {
      if (!fs::is_regular_file(p)) throw Error(where + ": data file '" + p.string() + "' does not exist");
      files.push_back(p.string());
      continue;
    }
    glob_t g{};
    const int rc = glob(p.c_str(), 0, nullptr, &g);
    std::vector<std::string> matched(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    if (rc != 0 || matched.empty()) throw Error(where + ": data_files pattern '" + p.string() + "' matches no file");
    std::sort(matched.begin(), matched.end());
    files.insert(files.end(), matched.begin(), matched.end());
  }
  return files;
}

uint64_t file_size(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) throw Error(path + ": cannot read the dataset file");
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

std::string RowLayout::describe() const {
  std::string s = std::string(concatenate ? "packed " : "one sample per row ") + std::to_string(capacity);
  if (restart_positions) s += " restart-positions";
  if (pad_tokens_unattended) s += " pad-unattended";
  s += " samples " + std::to_string(min_sample_len) + ".." +
       (max_sample_len == SIZE_MAX ? std::string("any") : std::to_string(max_sample_len));
  return s;
}

StreamIdentity StreamSource::identity() const {
  StreamIdentity id;
  for (const auto& f : files) {
    id.files.push_back(f.path);
    id.sizes.push_back(file_size(f.path));
  }
  id.layout = layout.describe();
  return id;
}

bool is_streaming(const config::Config& cfg) { return !cfg.pretraining_dataset.empty() || cfg.streaming; }

TokenId stream_pad_id(const tokenizer::Tokenizer& tok) {
  const auto& sp = tok.special_tokens();
  return sp.pad_id ? *sp.pad_id : sp.eos_id ? *sp.eos_id : 0;
}

StreamSource make_stream_source(const config::Config& cfg, const tokenizer::Tokenizer& tok) {
  const bool pretraining = !cfg.pretraining_dataset.empty();
  const std::vector<config::DatasetConfig>& entries = pretraining ? cfg.pretraining_dataset : cfg.datasets;
  if (entries.empty()) throw Error(cfg.source_file + ": streaming needs `datasets:` or `pretraining_dataset:`");
  const auto seq_len = static_cast<size_t>(cfg.sequence_len);
  StreamSource src;
  RowLayout& l = src.layout;
  l.pad_id = stream_pad_id(tok);
  if (cfg.sample_packing) {
    l.capacity = static_cast<size_t>(cfg.micro_batch_size) * seq_len;
    l.restart_positions = pretraining ? cfg.pretrain_multipack_attn : true;
    l.min_sample_len = 2;  // process_pretraining_datasets_for_packing drops [0, 2) and (sequence_len, ...)
    l.max_sample_len = seq_len;
  } else {
    l.capacity = seq_len;
    l.restart_positions = false;
    src.rows_per_micro_batch = static_cast<size_t>(cfg.micro_batch_size);
    if (pretraining) {
      l.concatenate = cfg.pretraining_sample_concatenation.value_or(false);
      l.pad_tokens_unattended = l.concatenate;
    } else {
      l.concatenate = false;
      l.min_sample_len = static_cast<size_t>(std::max<int64_t>(1, cfg.min_sample_len));
      l.max_sample_len = seq_len;
    }
  }
  for (size_t e = 0; e < entries.size(); ++e) {
    const config::DatasetConfig& ds = entries[e];
    const std::string where = ds.where.empty() ? ds.path : ds.where;
    if (ds.split && *ds.split != "train")
      throw Error(where + ": split '" + *ds.split + "': a streamed dataset is read whole (use split: train)");
    StreamEntry entry;
    entry.where = where;
    entry.skip = static_cast<uint64_t>(ds.skip.value_or(0));
    if (pretraining && !cfg.sample_packing) {
      if (ds.type != "pretrain")
        throw Error(where + ": unpacked streaming pretraining reads text (type: pretrain); set sample_packing: true "
                            "to stream type '" + ds.type + "'");
      entry.strategy = make_streaming_encode_strategy(ds.text_column.value_or("text"), seq_len, l.concatenate, tok, l.pad_id);
    } else {
      entry.strategy = make_prompt_strategy(ds, cfg, tok);
    }
    const std::string ds_type = ds.ds_type.value_or("");
    bool first = true;
    for (const auto& path : entry_files(ds, where)) {
      const std::string kind = reader_for(path, ds_type);
      if (kind != "json" && kind != "text")
        throw Error(where + ": " + path + ": cannot stream this file type (use .jsonl or .txt, or set ds_type: json|text)");
      src.files.push_back(StreamFile{path, kind == "json", e, first});
      first = false;
    }
    src.entries.push_back(std::move(entry));
  }
  return src;
}

}  // namespace axl::data
