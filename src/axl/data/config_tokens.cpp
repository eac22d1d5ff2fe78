#include "axl/data/config_tokens.h"

#include <algorithm>

#include "axl/core/error.h"
#include "axl/data/prepare.h"

namespace axl::data {

namespace {

tokenizer::AddedToken raw_token(const std::string& content, bool special) {
  tokenizer::AddedToken t;
  t.content = content;
  t.special = special;
  return t;  // lstrip, rstrip, single_word, normalized: false, as Axolotl adds them
}

bool saves_embeddings(const config::Config& cfg) {
  auto has = [&](const char* name) {
    return std::find(cfg.lora_modules_to_save.begin(), cfg.lora_modules_to_save.end(), name) !=
           cfg.lora_modules_to_save.end();
  };
  return has("embed_tokens") && has("lm_head");
}

}  // namespace

size_t apply_config_tokens(const config::Config& cfg, tokenizer::Tokenizer& tok) {
  const bool adapter = !cfg.adapter.empty();
  // Axolotl checks `tokens` up front (loaders/utils.py check_model_config), whether or not
  // they are new to the vocabulary.
  if (adapter && !cfg.tokens.empty() && !saves_embeddings(cfg))
    throw Error(cfg.source_file +
                ": `lora_modules_to_save` not properly set when adding new tokens. Please include "
                "[`embed_tokens`, `lm_head`] in `lora_modules_to_save`.");
  size_t fresh = 0;
  const auto& st = cfg.special_tokens;
  const std::pair<const char*, const std::optional<std::string>*> roles[] = {
      {"bos", &st.bos_token}, {"eos", &st.eos_token}, {"pad", &st.pad_token}, {"unk", &st.unk_token}};
  for (const auto& [role, value] : roles) {
    if (!*value) continue;
    // Axolotl's test for a new special token: not the current one, and more than two pieces.
    const auto& current = std::string(role) == "bos"   ? tok.special_tokens().bos
                          : std::string(role) == "eos" ? tok.special_tokens().eos
                          : std::string(role) == "pad" ? tok.special_tokens().pad
                                                       : tok.special_tokens().unk;
    if (adapter && std::string(role) != "pad" && current != **value && tok.encode(**value, false).size() > 2 &&
        !saves_embeddings(cfg))
      throw Error(cfg.source_file +
                  ": Please set lora_modules_to_save to [`embed_tokens`, `lm_head`] when using an adapter "
                  "and changing the special tokens.");
    fresh += tok.add_tokens({raw_token(**value, true)});
    tok.set_special_token(role, **value);
  }
  std::vector<tokenizer::AddedToken> plain;
  for (const auto& t : cfg.tokens) plain.push_back(raw_token(t, false));
  if (!plain.empty()) fresh += tok.add_tokens(plain);
  std::vector<tokenizer::AddedToken> extra;
  for (const auto& t : st.additional_special_tokens) extra.push_back(raw_token(t, true));
  if (!extra.empty()) fresh += tok.add_tokens(extra);
  return fresh;
}

std::unique_ptr<tokenizer::Tokenizer> load_config_tokenizer(const config::Config& cfg) {
  auto tok = tokenizer::load_tokenizer(tokenizer_dir_for(cfg));
  apply_config_tokens(cfg, *tok);
  return tok;
}

void check_config_tokens(const config::Config& cfg, const tokenizer::Tokenizer& tok) {
  std::vector<std::string> wanted = cfg.tokens;
  for (const auto* v : {&cfg.special_tokens.bos_token, &cfg.special_tokens.eos_token, &cfg.special_tokens.pad_token,
                        &cfg.special_tokens.unk_token})
    if (*v) wanted.push_back(**v);
  wanted.insert(wanted.end(), cfg.special_tokens.additional_special_tokens.begin(),
                cfg.special_tokens.additional_special_tokens.end());
  for (const auto& t : wanted) {
    const auto& added = tok.additions();
    bool found = std::any_of(added.begin(), added.end(), [&](const auto& a) { return a.content == t; });
    if (!found)
      throw Error(cfg.source_file + ": token '" + t +
                  "' from special_tokens/tokens was not added to the tokenizer (load it with "
                  "data::load_config_tokenizer)");
  }
}

}  // namespace axl::data
