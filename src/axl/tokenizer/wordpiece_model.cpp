// WordPiece: greedy longest-match-first from the left; pieces after the first carry the
// continuing_subword_prefix ("##"). A word that cannot be covered, or is longer than
// max_input_chars_per_word characters, is one unknown token.
#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/model.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

namespace {

class WordPieceModel : public Model {
 public:
  explicit WordPieceModel(const nlohmann::json& j) {
    const std::string what = "tokenizer.json: model WordPiece";
    auto vit = j.find("vocab");
    if (vit == j.end() || !vit->is_object()) throw Error(what + ": \"vocab\" must be an object");
    ids_.reserve(vit->size());
    for (auto it = vit->begin(); it != vit->end(); ++it) {
      if (!it.value().is_number_integer()) throw Error(what + ": vocab entry '" + it.key() + "' has no integer id");
      add_token(it.key(), it.value().get<int32_t>());
    }
    std::string unk = json_string_or(j, "unk_token", "[UNK]");
    unk_id_ = ids_.find(unk);
    prefix_ = json_string_or(j, "continuing_subword_prefix", "##");
    if (j.contains("max_input_chars_per_word") && j["max_input_chars_per_word"].is_number_integer())
      max_chars_ = j["max_input_chars_per_word"].get<size_t>();
  }

  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    if (word.empty()) return;
    auto unk = [&]() {
      if (unk_id_ < 0) throw Error("tokenizer.json: model WordPiece: the unk_token is not in the vocab");
      out.push_back({unk_id_, 0, static_cast<uint32_t>(word.size())});
    };
    size_t chars = 0;
    for (size_t i = 0; i < word.size(); utf8::next(word, i)) ++chars;
    if (chars > max_chars_) return unk();
    size_t first = out.size();
    std::string key;
    for (size_t start = 0; start < word.size();) {
      int32_t found = -1;
      size_t end = word.size();
      while (end > start) {
        key.assign(start > 0 ? prefix_ : std::string());
        key.append(word.substr(start, end - start));
        found = ids_.find(key);
        if (found >= 0) break;
        do --end;
        while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
      }
      if (found < 0) {
        out.resize(first);
        return unk();
      }
      out.push_back({found, static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
      start = end;
    }
  }

 private:
  int32_t unk_id_ = -1;
  std::string prefix_;
  size_t max_chars_ = 100;
};

}  // namespace

std::unique_ptr<Model> make_wordpiece_model(const nlohmann::json& j) { return std::make_unique<WordPieceModel>(j); }

}  // namespace axl::tokenizer
