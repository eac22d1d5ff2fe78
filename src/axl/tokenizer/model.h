#pragma once
// tokenizer.json "model": BPE, Unigram or WordPiece. A model turns one pre-tokenized word into
// tokens whose byte ranges are relative to that word.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/flat_maps.h"

namespace axl::tokenizer {

struct ModelToken {
  int32_t id;
  uint32_t begin, end;   // bytes of the word
  bool literal = false;  // its token string is the word's text, not the vocab entry (Unigram unk)
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the tokens of `word` to `out`. Safe to call from many threads at once.
  virtual void tokenize(std::string_view word, std::vector<ModelToken>& out) const = 0;
  int32_t token_to_id(std::string_view token) const { return ids_.find(token); }  // -1: none
  const std::string* id_to_token(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < tokens_.size() && has_[id] ? &tokens_[id] : nullptr;
  }
  size_t id_limit() const { return tokens_.size(); }  // max id + 1

 protected:
  void add_token(std::string_view token, int32_t id);
  StringIdMap ids_;
  std::vector<std::string> tokens_;
  std::vector<bool> has_;
};

// A BPE model's two big tables as views (vocab in file order, merges in rank order), read
// straight from the file so that 128k tokens and 280k merges never become nlohmann::json
// values (that alone took most of a Llama 3 load). The views outlive only the model's build.
struct BpeTables {
  std::vector<std::pair<std::string_view, int32_t>> vocab;
  std::vector<std::pair<std::string_view, std::string_view>> merges;
};

// `byte_level`: the pre-tokenizer has a ByteLevel step, so BPE works on raw bytes.
// `bpe`: a BPE model's vocab and merges, when read apart from `j` (whose own are then ignored).
std::unique_ptr<Model> make_model(const nlohmann::json& j, bool byte_level, const BpeTables* bpe = nullptr);

std::unique_ptr<Model> make_bpe_model(const nlohmann::json& j, bool byte_level, const BpeTables* bpe = nullptr);
std::unique_ptr<Model> make_unigram_model(const nlohmann::json& j);
std::unique_ptr<Model> make_wordpiece_model(const nlohmann::json& j);

}  // namespace axl::tokenizer
