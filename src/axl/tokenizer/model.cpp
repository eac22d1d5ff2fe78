#include "axl/tokenizer/model.h"

#include "axl/core/error.h"
#include "axl/tokenizer/json_util.h"

namespace axl::tokenizer {

void Model::add_token(std::string_view token, int32_t id) {
  if (id < 0) throw Error("tokenizer.json: model vocab: negative id for '" + std::string(token) + "'");
  if (static_cast<size_t>(id) >= tokens_.size()) {
    tokens_.resize(id + 1);
    has_.resize(id + 1, false);
  }
  tokens_[id] = token;
  has_[id] = true;
  ids_.set(token, id);
}

std::unique_ptr<Model> make_model(const nlohmann::json& j, bool byte_level, const BpeTables* bpe) {
  if (j.is_null()) throw Error("tokenizer.json: \"model\" is missing");
  std::string type;
  if (j.is_object() && !j.contains("type")) {
    // Old files omit the type; HF guesses it from the fields.
    if (j.contains("merges")) type = "BPE";
    else if (j.contains("vocab") && j["vocab"].is_array()) type = "Unigram";
    else if (j.contains("vocab")) type = "WordPiece";
  } else {
    type = component_type(j, "model");
  }
  if (type == "BPE") return make_bpe_model(j, byte_level, bpe);
  if (type == "Unigram") return make_unigram_model(j);
  if (type == "WordPiece") return make_wordpiece_model(j);
  throw Error("tokenizer.json: model type '" + type + "' is not supported");
}

}  // namespace axl::tokenizer
