#pragma once
// Reading a dataset's rows from local files, as `datasets.load_dataset` sees them for Axolotl:
// a JSON array (.json), JSON Lines (.jsonl, or a .json that is not an array), plain text
// (.txt: one row {"text": line} per line), or a folder of such files. `split` slices rows
// like HF's `train[:20%]`, `train[10:100]`, `train[50%:]`.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/config/config.h"

namespace axl::data {

struct Row {
  nlohmann::ordered_json value;  // one JSON object
  std::string where;             // "file:line" for messages
};

// The reader a file needs: `ds_type` when set, else by extension "json" (.json, .jsonl) or
// "text" (.txt, .text); "" for another extension.
std::string reader_for(const std::string& path, const std::string& ds_type = "");

// Rows of one file. `ds_type` ("json", "text" or empty: by extension) picks the reader.
// Malformed JSON throws axl::Error naming file:line.
std::vector<Row> read_rows_from_file(const std::string& path, const std::string& ds_type = "");

// The files a `datasets:` entry reads, in reading order (path, a folder's files sorted, or
// data_files). Throws axl::Error naming the entry when one is missing.
std::vector<std::string> dataset_file_list(const config::DatasetConfig& ds);

// Rows of a `datasets:` entry: path (file or folder), data_files, ds_type and split.
std::vector<Row> read_dataset_rows(const config::DatasetConfig& ds);

// Applies an HF split spec to `n` rows: returns [begin, end). Throws axl::Error for a bad spec.
std::pair<size_t, size_t> split_range(const std::string& split, size_t n);

}  // namespace axl::data
