#include "axl/tokenizer/tokenizer_json_file.h"

#include <limits>

#include <simdjson.h>

#include "axl/core/error.h"

namespace axl::tokenizer {

namespace dom = simdjson::dom;

struct TokenizerJsonFile::Document {
  dom::parser parser;
  dom::element root;
};

namespace {

nlohmann::json to_nlohmann(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      nlohmann::json a = nlohmann::json::array();
      for (dom::element v : dom::array(e)) a.push_back(to_nlohmann(v));
      return a;
    }
    case dom::element_type::OBJECT: {
      nlohmann::json o = nlohmann::json::object();
      for (dom::key_value_pair kv : dom::object(e)) o[std::string(kv.key)] = to_nlohmann(kv.value);
      return o;
    }
    case dom::element_type::INT64: {
      const int64_t v = int64_t(e);
      // nlohmann keeps non-negative integers unsigned; so do we, for identical values.
      return v >= 0 ? nlohmann::json(static_cast<uint64_t>(v)) : nlohmann::json(v);
    }
    case dom::element_type::UINT64: return uint64_t(e);
    case dom::element_type::DOUBLE: return double(e);
    case dom::element_type::STRING: return std::string(std::string_view(e));
    case dom::element_type::BOOL: return bool(e);
    case dom::element_type::NULL_VALUE: return nullptr;
  }
  return nullptr;
}

bool is_bpe_model(dom::object model) {
  std::string_view type;
  if (model["type"].get(type) == simdjson::SUCCESS) return type == "BPE";
  return model["merges"].error() == simdjson::SUCCESS;  // untyped old files: HF guesses from the fields
}

// The vocab and merges as views; false on any entry the BPE model would reject (its own
// reading of the JSON then names it).
bool read_tables(dom::object model, BpeTables& t) {
  dom::object vocab;
  dom::array merges;
  if (model["vocab"].get(vocab) || model["merges"].get(merges)) return false;
  t.vocab.reserve(vocab.size());
  for (dom::key_value_pair kv : vocab) {
    int64_t id;
    if (kv.value.get(id) || id > std::numeric_limits<int32_t>::max() || id < std::numeric_limits<int32_t>::min())
      return false;
    t.vocab.emplace_back(kv.key, static_cast<int32_t>(id));
  }
  t.merges.reserve(merges.size());
  for (dom::element m : merges) {
    std::string_view s, a, b;
    dom::array pair;
    if (m.get(s) == simdjson::SUCCESS) {
      const size_t sp = s.find(' ');
      if (sp == std::string_view::npos) return false;
      t.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.get(pair) == simdjson::SUCCESS && pair.size() == 2 && pair.at(0).get(a) == simdjson::SUCCESS &&
               pair.at(1).get(b) == simdjson::SUCCESS) {
      t.merges.emplace_back(a, b);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

TokenizerJsonFile::TokenizerJsonFile(const std::string& path) : doc_(std::make_unique<Document>()) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text)) throw Error(path + ": cannot open");
  if (auto err = doc_->parser.parse(text).get(doc_->root))
    throw Error(path + ": invalid JSON: " + simdjson::error_message(err));
  dom::object top, model;
  if (doc_->root.get(top) || top["model"].get(model) || !is_bpe_model(model) || !read_tables(model, bpe_)) {
    bpe_ = BpeTables{};
    json_ = to_nlohmann(doc_->root);
    return;
  }
  has_bpe_ = true;
  json_ = nlohmann::json::object();
  for (dom::key_value_pair kv : top) {
    if (kv.key != "model") {
      json_[std::string(kv.key)] = to_nlohmann(kv.value);
      continue;
    }
    nlohmann::json m = nlohmann::json::object();
    for (dom::key_value_pair f : model) {
      if (f.key == "vocab") m["vocab"] = nlohmann::json::object();
      else if (f.key == "merges") m["merges"] = nlohmann::json::array();
      else m[std::string(f.key)] = to_nlohmann(f.value);
    }
    json_["model"] = std::move(m);
  }
}

TokenizerJsonFile::~TokenizerJsonFile() = default;

}  // namespace axl::tokenizer
