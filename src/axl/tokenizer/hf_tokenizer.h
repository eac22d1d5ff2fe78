#pragma once
// The tokenizer.json pipeline: added tokens -> normalizer -> pre-tokenizer -> model ->
// post-processor, and decoder for the way back. Matches HF tokenizers 0.22 on ids, tokens,
// offsets and decoded text.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/added_vocabulary.h"
#include "axl/tokenizer/decoders.h"
#include "axl/tokenizer/model.h"
#include "axl/tokenizer/normalizers.h"
#include "axl/tokenizer/post_processors.h"
#include "axl/tokenizer/pre_tokenizers.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::tokenizer {

class HfTokenizer : public Tokenizer {
 public:
  // `j` is the parsed tokenizer.json; `config` what sits beside it; `bpe` a BPE model's vocab
  // and merges when they were read apart from `j` (TokenizerJsonFile).
  HfTokenizer(const nlohmann::json& j, TokenizerConfig config, const BpeTables* bpe = nullptr);
  static std::unique_ptr<HfTokenizer> from_file(const std::string& path, TokenizerConfig config);

  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = true) const override;
  Encoding encode_with_offsets(std::string_view text, bool add_special_tokens = true) const override;
  Encoding encode_offsets(std::string_view text, bool add_special_tokens = true) const override;
  std::string decode(const std::vector<TokenId>& ids, bool skip_special_tokens = false) const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::string id_to_token(TokenId id) const override;
  size_t vocab_size() const override { return id_text_.size(); }
  bool is_special(TokenId id) const override {
    return id >= 0 && static_cast<size_t>(id) < special_flag_.size() && special_flag_[id];
  }
  size_t add_tokens(const std::vector<AddedToken>& tokens) override;
  std::vector<AddedToken> added_tokens() const override;
  // tokenizer.json as loaded (re-read from its file), with "added_tokens" as they are now.
  nlohmann::json to_json() const;

 private:
  // Rebuilds the added-token tries and the id tables from added_ and model_.
  void index_added_tokens();
  void run(std::string_view text, bool add_special_tokens, bool track, RawEncoding& out) const;
  Encoding encode_tracked(std::string_view text, bool add_special_tokens, bool with_tokens) const;
  const std::string* text_of(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < id_text_.size() ? id_text_[id] : nullptr;
  }

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  std::unordered_map<std::string, int32_t> added_ids_;
  std::vector<const std::string*> id_text_;  // id -> token string (added tokens first)
  std::vector<bool> special_flag_;
  std::string source_path_;  // the tokenizer.json read (to_json re-reads it rather than keep it all)
};

}  // namespace axl::tokenizer
