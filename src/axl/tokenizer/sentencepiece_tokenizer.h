#pragma once
// sentencepiece .model files through libsentencepiece, with transformers' LlamaTokenizer
// (legacy=true) semantics: special tokens in the text are cut out first, each remaining chunk
// is encoded by sentencepiece on its own, BOS is added per add_bos_token (default true) and
// EOS per add_eos_token (default false).
#include <memory>
#include <string>
#include <vector>

#include "axl/tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace axl::tokenizer {

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& model_path, TokenizerConfig config);
  ~SentencePieceTokenizer() override;

  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = true) const override;
  Encoding encode_with_offsets(std::string_view text, bool add_special_tokens = true) const override;
  std::string decode(const std::vector<TokenId>& ids, bool skip_special_tokens = false) const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::string id_to_token(TokenId id) const override;
  size_t vocab_size() const override;
  bool is_special(TokenId id) const override;
  size_t add_tokens(const std::vector<AddedToken>& tokens) override;
  std::vector<AddedToken> added_tokens() const override;
  const std::string& model_path() const { return model_path_; }

 private:
  const AddedToken* added_by_id(TokenId id) const;
  void insert_added(const AddedToken& t);  // t.id set: into added_ and the cut-out list
  void encode_into(std::string_view text, bool add_special_tokens, Encoding& out, bool with_offsets) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::vector<std::pair<std::string, TokenId>> special_pieces_;  // cut out of the text, longest first
  bool add_bos_ = true, add_eos_ = false;
  std::string model_path_;
  // Tokens added after loading (ids past the model's pieces, or pieces given added-token
  // flags); cut out of the text like the special pieces.
  std::vector<AddedToken> added_;
};

}  // namespace axl::tokenizer
