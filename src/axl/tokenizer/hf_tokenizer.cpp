#include "axl/tokenizer/hf_tokenizer.h"

#include <algorithm>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/tokenizer/tokenizer_json_file.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

namespace {
const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}
}  // namespace

HfTokenizer::HfTokenizer(const nlohmann::json& j, TokenizerConfig config, const BpeTables* bpe) {
  if (!j.is_object()) throw Error("tokenizer.json: must be a JSON object");
  config_ = std::move(config);
  normalizer_ = make_normalizer(field(j, "normalizer"));
  pre_tokenizer_ = make_pre_tokenizer(field(j, "pre_tokenizer"));
  model_ = make_model(field(j, "model"), pre_tokenizer_ && pre_tokenizer_->byte_level(), bpe);
  post_processor_ = make_post_processor(field(j, "post_processor"));
  decoder_ = make_decoder(field(j, "decoder"));
  // "truncation" / "padding" are ignored: encode() returns whole sequences and the data
  // pipeline truncates and pads.

  const auto& added = field(j, "added_tokens");
  if (!added.is_null() && !added.is_array()) throw Error("tokenizer.json: \"added_tokens\" must be an array");
  if (added.is_array())
    for (const auto& a : added) added_.add(parse_added_token(a));
  index_added_tokens();

  SpecialTokens defaults;
  const auto& unk = field(field(j, "model"), "unk_token");
  if (unk.is_string()) defaults.unk = unk.get<std::string>();
  resolve_special_tokens(defaults);
}

void HfTokenizer::index_added_tokens() {
  added_.build([&](const std::string& content) {
    if (!normalizer_) return content;
    PreTokenized pt;
    pt.text = content;
    pt.pieces.push_back({0, static_cast<uint32_t>(content.size()), -1});
    normalizer_->normalize(pt);
    std::string out;
    for (const Piece& p : pt.pieces) out.append(pt.view(p));
    return out;
  });

  size_t limit = model_->id_limit();
  for (const auto& t : added_.tokens()) limit = std::max(limit, static_cast<size_t>(t.id) + 1);
  id_text_.assign(limit, nullptr);
  special_flag_.assign(limit, false);
  added_ids_.clear();
  for (size_t id = 0; id < model_->id_limit(); ++id) id_text_[id] = model_->id_to_token(static_cast<int32_t>(id));
  for (const auto& t : added_.tokens()) {
    id_text_[t.id] = &t.content;
    special_flag_[t.id] = t.special;
    added_ids_.emplace(t.content, t.id);
  }
}

size_t HfTokenizer::add_tokens(const std::vector<AddedToken>& tokens) {
  size_t fresh = 0;
  for (AddedToken t : tokens) {
    if (t.content.empty()) continue;
    if (auto known = token_to_id(t.content)) {
      t.id = *known;
    } else {
      t.id = static_cast<int32_t>(id_text_.size());
      id_text_.push_back(nullptr);  // reserves the id until the tables are rebuilt below
      ++fresh;
    }
    added_.add_or_replace(t);
    added_ids_[t.content] = t.id;
    additions_.push_back(t);
  }
  index_added_tokens();
  return fresh;
}

std::vector<AddedToken> HfTokenizer::added_tokens() const {
  std::vector<AddedToken> out = added_.tokens();
  std::stable_sort(out.begin(), out.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  return out;
}

nlohmann::json HfTokenizer::to_json() const {
  if (source_path_.empty()) throw Error("tokenizer: cannot save a tokenizer.json that was not loaded from a file");
  nlohmann::json j = read_json_file(source_path_);
  nlohmann::json added = nlohmann::json::array();
  for (const AddedToken& t : added_tokens())
    added.push_back({{"id", t.id}, {"content", t.content}, {"single_word", t.single_word}, {"lstrip", t.lstrip},
                     {"rstrip", t.rstrip}, {"normalized", t.normalized}, {"special", t.special}});
  j["added_tokens"] = added;
  return j;
}

std::unique_ptr<HfTokenizer> HfTokenizer::from_file(const std::string& path, TokenizerConfig config) {
  const TokenizerJsonFile file(path);
  try {
    auto tok = std::make_unique<HfTokenizer>(file.json(), std::move(config), file.bpe());
    tok->source_path_ = path;
    return tok;
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

void HfTokenizer::run(std::string_view text, bool add_special_tokens, bool track, RawEncoding& out) const {
  size_t bad = utf8::find_invalid(text);
  if (bad != std::string_view::npos)
    throw Error("tokenizer: input text is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  PreTokenized pt;
  pt.text.assign(text.data(), text.size());
  pt.track = track;
  pt.pieces.push_back({0, static_cast<uint32_t>(text.size()), -1});
  added_.split(pt, false);
  if (normalizer_) normalizer_->normalize(pt);
  added_.split(pt, true);
  if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pt);

  out.ids.clear();
  out.offsets.clear();
  out.texts.clear();
  out.ids.reserve(text.size() / 3 + 4);
  std::vector<ModelToken> toks;
  for (const Piece& p : pt.pieces) {
    if (p.is_added()) {
      out.ids.push_back(p.added_id);
      if (track) {
        out.offsets.push_back(pt.original(p.begin, p.end));
        out.texts.emplace_back(pt.view(p));
      }
      continue;
    }
    toks.clear();
    model_->tokenize(pt.view(p), toks);
    for (const ModelToken& t : toks) {
      out.ids.push_back(t.id);
      if (track) {
        out.offsets.push_back(pt.original(p.begin + t.begin, p.begin + t.end));
        out.texts.emplace_back(t.literal ? pt.view(p).substr(t.begin, t.end - t.begin) : std::string_view());
      }
    }
  }
  if (!track) out.offsets.assign(out.ids.size(), Span{0, 0});
  if (post_processor_)
    post_processor_->process(out, add_special_tokens, [this](int32_t id) { return text_of(id); });
}

std::vector<TokenId> HfTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  RawEncoding raw;
  run(text, add_special_tokens, false, raw);
  return std::move(raw.ids);
}

Encoding HfTokenizer::encode_with_offsets(std::string_view text, bool add_special_tokens) const {
  return encode_tracked(text, add_special_tokens, true);
}

Encoding HfTokenizer::encode_offsets(std::string_view text, bool add_special_tokens) const {
  return encode_tracked(text, add_special_tokens, false);
}

Encoding HfTokenizer::encode_tracked(std::string_view text, bool add_special_tokens, bool with_tokens) const {
  RawEncoding raw;
  run(text, add_special_tokens, true, raw);
  Encoding e;
  e.ids = std::move(raw.ids);
  utf8::CharOffsets chars(text);
  if (with_tokens) e.tokens.reserve(e.ids.size());
  e.offsets.reserve(e.ids.size());
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (with_tokens) {
      const std::string* t = text_of(e.ids[i]);
      if (i < raw.texts.size() && !raw.texts[i].empty()) e.tokens.push_back(std::move(raw.texts[i]));
      else e.tokens.push_back(t ? *t : std::string());
    }
    e.offsets.push_back(chars.convert(raw.offsets[i].begin, raw.offsets[i].end));
  }
  return e;
}

std::string HfTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (TokenId id : ids) {
    const std::string* t = text_of(id);
    if (!t) continue;  // unknown ids are skipped, as HF does
    if (skip_special_tokens && is_special(id)) continue;
    tokens.push_back(*t);
  }
  if (!decoder_) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  decoder_->decode_chain(tokens);
  std::string out;
  for (auto& t : tokens) out += t;
  return out;
}

std::optional<TokenId> HfTokenizer::token_to_id(std::string_view token) const {
  auto it = added_ids_.find(std::string(token));
  if (it != added_ids_.end()) return it->second;
  int32_t id = model_->token_to_id(token);
  if (id >= 0) return id;
  return std::nullopt;
}

std::string HfTokenizer::id_to_token(TokenId id) const {
  const std::string* t = text_of(id);
  if (!t) throw Error("tokenizer: token id " + std::to_string(id) + " is out of range (vocab size " +
                      std::to_string(vocab_size()) + ")");
  return *t;
}

}  // namespace axl::tokenizer
