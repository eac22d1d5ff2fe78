#pragma once
// The one tokenizer interface the rest of axolotl-cpp uses (data prep, CLI, generation).
// Two implementations: HF tokenizer.json (fast-tokenizer pipeline, matching `tokenizers`
// 0.22 exactly) and sentencepiece .model files (LlamaTokenizer semantics). No libtorch here:
// encode_batch's worker threads only fill plain vectors.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "axl/tokenizer/added_token.h"
#include "axl/tokenizer/tokenizer_config.h"

namespace axl::tokenizer {

using TokenId = int32_t;

struct Encoding {
  std::vector<TokenId> ids;
  std::vector<std::string> tokens;  // vocabulary strings of `ids`
  // [begin, end) of each token in the input, in Unicode code points (what HF's Python and
  // Node bindings report; not bytes, not UTF-16 units). Special tokens added by the
  // post-processor have (0, 0).
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
};

struct SpecialTokens {
  std::optional<std::string> bos, eos, pad, unk;
  std::optional<TokenId> bos_id, eos_id, pad_id, unk_id;
};

class Tokenizer {
 public:
  virtual ~Tokenizer();

  // `text` must be valid UTF-8 (axl::Error otherwise). add_special_tokens applies the
  // post-processor's template (tokenizer.json) or BOS/EOS per add_bos_token/add_eos_token
  // (sentencepiece). Thread-safe.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = true) const = 0;
  virtual Encoding encode_with_offsets(std::string_view text, bool add_special_tokens = true) const = 0;
  // ids and offsets only (`tokens` left empty): what label masking needs, without a string per token.
  virtual Encoding encode_offsets(std::string_view text, bool add_special_tokens = true) const {
    return encode_with_offsets(text, add_special_tokens);
  }
  // Encodes on `threads` std::threads (0 = all cores); results keep the input order.
  std::vector<std::vector<TokenId>> encode_batch(const std::vector<std::string>& texts,
                                                 bool add_special_tokens = true, int threads = 0) const;

  virtual std::string decode(const std::vector<TokenId>& ids, bool skip_special_tokens = false) const = 0;
  virtual std::optional<TokenId> token_to_id(std::string_view token) const = 0;
  virtual std::string id_to_token(TokenId id) const = 0;  // axl::Error when out of range
  // Largest id + 1, added tokens included (the embedding rows a model needs at least).
  virtual size_t vocab_size() const = 0;
  // True for special added tokens (skipped by decode(..., skip_special_tokens = true)).
  virtual bool is_special(TokenId id) const = 0;

  // Adds tokens as HF's add_tokens / add_special_tokens do (the `id` fields are ignored): a
  // token already added takes the new flags and keeps its id, one in the model's vocabulary
  // keeps the vocabulary id, any other gets the next free id (vocab_size() grows). Later
  // encodes cut them out of the text. Returns how many ids are new. Not thread-safe.
  virtual size_t add_tokens(const std::vector<AddedToken>& tokens) = 0;
  // Every added token (loaded and added), by id.
  virtual std::vector<AddedToken> added_tokens() const = 0;
  // Makes `content` (already in the vocabulary) the "bos", "eos", "pad" or "unk" token.
  void set_special_token(const std::string& role, const std::string& content);
  // Tokens given to add_tokens since loading, in call order (empty: the files on disk are current).
  const std::vector<AddedToken>& additions() const { return additions_; }

  const SpecialTokens& special_tokens() const { return special_; }
  const TokenizerConfig& config() const { return config_; }

 protected:
  // Fills special_ from config_ (resolving ids with token_to_id); call at the end of loading.
  void resolve_special_tokens(const SpecialTokens& defaults);
  SpecialTokens special_;
  TokenizerConfig config_;
  std::vector<AddedToken> additions_;
};

// A model folder, a tokenizer.json or a sentencepiece .model file, found as transformers
// finds it: tokenizer.json first (fast tokenizer), else tokenizer.model (sentencepiece).
// tokenizer_config.json / special_tokens_map.json / chat_template.jinja are read from the
// same folder when present.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir_or_file);

// Writes the tokenizer files transformers reads into `dir` (created if need be), with every
// added token: tokenizer.json (or the sentencepiece tokenizer.model), tokenizer_config.json
// ("added_tokens_decoder", the special tokens) and special_tokens_map.json. Files are replaced
// atomically.
void save_tokenizer(const Tokenizer& tok, const std::filesystem::path& dir);

}  // namespace axl::tokenizer
