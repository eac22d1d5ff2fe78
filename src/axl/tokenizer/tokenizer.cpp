#include "axl/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "axl/core/error.h"
#include "axl/core/worker_pool.h"
#include "axl/tokenizer/hf_tokenizer.h"
#include "axl/tokenizer/sentencepiece_tokenizer.h"

namespace axl::tokenizer {

Tokenizer::~Tokenizer() = default;

std::vector<std::vector<TokenId>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                          bool add_special_tokens, int threads) const {
  std::vector<std::vector<TokenId>> out(texts.size());
  size_t n = threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
  n = std::min(n, texts.size());
  if (n <= 1) {
    for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], add_special_tokens);
    return out;
  }
  // Workers of the persistent pool (their word caches stay warm across batches) take small
  // chunks from a shared counter; the pool rethrows the first error here.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  const size_t chunk = 16;
  WorkerPool::shared().run(n, [&](size_t) {
    try {
      for (size_t b; !failed && (b = next.fetch_add(chunk)) < texts.size();)
        for (size_t i = b; i < std::min(b + chunk, texts.size()); ++i) out[i] = encode(texts[i], add_special_tokens);
    } catch (...) {
      failed = true;
      throw;
    }
  });
  return out;
}

void Tokenizer::resolve_special_tokens(const SpecialTokens& defaults) {
  special_.bos = config_.bos_token ? config_.bos_token : defaults.bos;
  special_.eos = config_.eos_token ? config_.eos_token : defaults.eos;
  special_.pad = config_.pad_token ? config_.pad_token : defaults.pad;
  special_.unk = config_.unk_token ? config_.unk_token : defaults.unk;
  auto id_of = [&](const std::optional<std::string>& s) -> std::optional<TokenId> {
    return s ? token_to_id(*s) : std::nullopt;
  };
  special_.bos_id = id_of(special_.bos);
  special_.eos_id = id_of(special_.eos);
  special_.pad_id = id_of(special_.pad);
  special_.unk_id = id_of(special_.unk);
}

void Tokenizer::set_special_token(const std::string& role, const std::string& content) {
  std::optional<std::string>* slot = role == "bos"   ? &config_.bos_token
                                     : role == "eos" ? &config_.eos_token
                                     : role == "pad" ? &config_.pad_token
                                     : role == "unk" ? &config_.unk_token
                                                     : nullptr;
  if (!slot) throw Error("tokenizer: unknown special token role '" + role + "' (bos, eos, pad or unk)");
  if (!token_to_id(content)) throw Error("tokenizer: " + role + "_token '" + content + "' is not in the vocabulary");
  *slot = content;
  const SpecialTokens current = special_;
  resolve_special_tokens(current);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir_or_file) {
  namespace fs = std::filesystem;
  if (!fs::exists(dir_or_file)) throw Error(dir_or_file.string() + ": no such tokenizer file or folder");
  fs::path dir = fs::is_directory(dir_or_file) ? dir_or_file : dir_or_file.parent_path();
  if (dir.empty()) dir = ".";
  fs::path file = dir_or_file;
  if (fs::is_directory(dir_or_file)) {
    if (fs::exists(dir / "tokenizer.json")) file = dir / "tokenizer.json";
    else if (fs::exists(dir / "tokenizer.model")) file = dir / "tokenizer.model";
    else throw Error(dir.string() + ": no tokenizer.json or tokenizer.model in this folder");
  }
  TokenizerConfig config = load_tokenizer_config(dir);
  if (file.extension() == ".json") return HfTokenizer::from_file(file.string(), std::move(config));
  if (file.extension() == ".model") return std::make_unique<SentencePieceTokenizer>(file.string(), std::move(config));
  throw Error(file.string() + ": not a tokenizer (expected tokenizer.json or a sentencepiece .model)");
}

}  // namespace axl::tokenizer
