#pragma once
// tokenizer.json read with simdjson. A Llama 3 file is 9 MB, almost all of it the BPE vocab
// (128k entries) and merges (280k); as nlohmann::json values those took ~0.6 s to build and free.
// Here they stay views into the parsed document and only the small rest becomes nlohmann::json.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/model.h"

namespace axl::tokenizer {

class TokenizerJsonFile {
 public:
  // Throws axl::Error "PATH: cannot open" or "PATH: invalid JSON: ...".
  explicit TokenizerJsonFile(const std::string& path);
  ~TokenizerJsonFile();

  // The whole file, except that a BPE model's "vocab" and "merges" are left empty when bpe()
  // holds them.
  const nlohmann::json& json() const { return json_; }
  // The BPE model's tables (views valid while this object lives), or null: not a BPE model, or
  // tables with a malformed entry, which json() then keeps for the model to report.
  const BpeTables* bpe() const { return has_bpe_ ? &bpe_ : nullptr; }

 private:
  struct Document;
  std::unique_ptr<Document> doc_;
  nlohmann::json json_;
  BpeTables bpe_;
  bool has_bpe_ = false;
};

}  // namespace axl::tokenizer
