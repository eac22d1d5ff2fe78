#include "axl/data/dataset_files.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "axl/core/error.h"

namespace axl::data {
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the dataset file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 1-based line of byte `offset` in `text`.
size_t line_of(const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

std::string parse_error_reason(const nlohmann::json::parse_error& e) {
  // nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...";
  // keep the part after the last ": " that describes the problem.
  std::string w = e.what();
  size_t p = w.find("syntax error");
  return p == std::string::npos ? w : w.substr(p);
}

// Calls fn(line_no, line) for each '\n'-separated line (1-based numbers, no trailing empty line).
template <typename Fn>
void for_each_line(const std::string& text, Fn fn) {
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    fn(++line_no, std::string_view(text.data() + pos, end - pos));
    pos = end + 1;
  }
}

std::vector<Row> read_json_lines(const std::string& path, const std::string& text) {
  std::vector<Row> rows;
  for_each_line(text, [&](size_t line_no, std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    Row row;
    row.where = path + ":" + std::to_string(line_no);
    try {
      row.value = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(row.where + ": malformed JSON line (" + parse_error_reason(e) + ")");
    }
    if (!row.value.is_object()) throw Error(row.where + ": expected a JSON object per line");
    rows.push_back(std::move(row));
  });
  return rows;
}

std::vector<Row> read_json_array(const std::string& path, const std::string& text) {
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ":" + std::to_string(line_of(text, e.byte == 0 ? 0 : e.byte - 1)) + ": malformed JSON (" +
                parse_error_reason(e) + ")");
  }
  std::vector<Row> rows;
  rows.reserve(doc.size());
  size_t i = 0;
  for (auto& v : doc) {
    if (!v.is_object()) throw Error(path + ": element " + std::to_string(i) + " of the JSON array is not an object");
    rows.push_back(Row{std::move(v), path + " row " + std::to_string(i)});
    ++i;
  }
  return rows;
}

std::vector<Row> read_text_lines(const std::string& path, const std::string& text) {
  std::vector<Row> rows;
  for_each_line(text, [&](size_t line_no, std::string_view view) {
    std::string line(view);
    if (!line.empty() && line.back() == '\r') line.pop_back();  // HF's text reader drops \r\n
    Row row;
    row.value = nlohmann::ordered_json::object();
    row.value["text"] = std::move(line);
    row.where = path + ":" + std::to_string(line_no);
    rows.push_back(std::move(row));
  });
  return rows;
}

bool parse_bound(const std::string& s, size_t n, size_t& out) {
  if (s.empty()) return false;
  bool percent = s.back() == '%';
  std::string num = percent ? s.substr(0, s.size() - 1) : s;
  if (num.empty()) throw Error("bad number in split");
  size_t used = 0;
  long long v = std::stoll(num, &used);
  if (used != num.size()) throw Error("bad number in split");
  long long nn = static_cast<long long>(n);
  if (percent) v = static_cast<long long>(std::nearbyint(static_cast<double>(nn) * static_cast<double>(v) / 100.0));  // Python round(): half to even
  if (v < 0) v += nn;  // python-style negative index
  out = static_cast<size_t>(std::clamp(v, 0LL, nn));
  return true;
}

}  // namespace

std::string reader_for(const std::string& path, const std::string& ds_type) {
  if (!ds_type.empty()) return ds_type;
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".json" || ext == ".jsonl") return "json";
  if (ext == ".txt" || ext == ".text") return "text";
  return "";
}

std::vector<Row> read_rows_from_file(const std::string& path, const std::string& ds_type) {
  std::string kind = reader_for(path, ds_type);
  if (kind.empty())
    throw Error(path + ": unsupported dataset file type (use .json, .jsonl or .txt, or set ds_type: json|text)");
  std::string text = read_all(path);
  if (kind == "text") return read_text_lines(path, text);
  if (kind != "json") throw Error(path + ": ds_type '" + kind + "' is not supported here (json or text)");
  size_t first = text.find_first_not_of(" \t\r\n");
  const bool lines_by_name = fs::path(path).extension() == ".jsonl";
  if (!lines_by_name && first != std::string::npos && text[first] == '[') return read_json_array(path, text);
  return read_json_lines(path, text);
}

std::pair<size_t, size_t> split_range(const std::string& split, size_t n) {
  if (split.empty()) return {0, n};
  size_t open = split.find('[');
  std::string name = split.substr(0, open);
  if (name != "train")
    throw Error("split '" + split + "': local files have only a 'train' split (e.g. train, train[:20%], train[10:100])");
  if (open == std::string::npos) return {0, n};
  if (split.back() != ']') throw Error("split '" + split + "': expected train[START:END]");
  std::string inner = split.substr(open + 1, split.size() - open - 2);
  size_t colon = inner.find(':');
  try {
    if (colon == std::string::npos) {  // train[10]: one row, train[10%]: HF reads it as [:10%]? keep it a slice end
      size_t end = n;
      parse_bound(inner, n, end);
      return {0, end};
    }
    size_t begin = 0, end = n;
    parse_bound(inner.substr(0, colon), n, begin);
    parse_bound(inner.substr(colon + 1), n, end);
    if (end < begin) end = begin;
    return {begin, end};
  } catch (const Error&) {
    throw Error("split '" + split + "': expected train[START:END] with numbers or percentages");
  } catch (const std::exception&) {
    throw Error("split '" + split + "': expected train[START:END] with numbers or percentages");
  }
}

std::vector<std::string> dataset_file_list(const config::DatasetConfig& ds) {
  const std::string where = ds.where.empty() ? ds.path : ds.where;
  std::string ds_type = ds.ds_type.value_or("");
  std::vector<std::string> files;
  if (!ds.data_files.empty()) {
    for (const auto& f : ds.data_files) {
      fs::path p(f);
      if (p.is_relative() && fs::is_directory(ds.path)) p = fs::path(ds.path) / p;
      files.push_back(p.string());
    }
  } else if (fs::is_directory(ds.path)) {
    for (const auto& entry : fs::directory_iterator(ds.path))
      if (entry.is_regular_file() && !reader_for(entry.path().string(), ds_type).empty())
        files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Error(where + ": folder " + ds.path + " holds no .json, .jsonl or .txt files");
  } else if (fs::is_regular_file(ds.path)) {
    files.push_back(ds.path);
  } else {
    throw Error(where + ": dataset path '" + ds.path + "' is not a local file or folder (hub datasets are not supported)");
  }
  for (const auto& f : files)
    if (!fs::is_regular_file(f)) throw Error(where + ": data file '" + f + "' does not exist");
  return files;
}

std::vector<Row> read_dataset_rows(const config::DatasetConfig& ds) {
  const std::string where = ds.where.empty() ? ds.path : ds.where;
  const std::string ds_type = ds.ds_type.value_or("");
  std::vector<Row> rows;
  for (const auto& f : dataset_file_list(ds)) {
    std::vector<Row> part = read_rows_from_file(f, ds_type);
    rows.insert(rows.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  if (ds.split) {
    std::pair<size_t, size_t> r;
    try {
      r = split_range(*ds.split, rows.size());
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
    rows = std::vector<Row>(std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(r.first)),
                            std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(r.second)));
  }
  return rows;
}

}  // namespace axl::data
