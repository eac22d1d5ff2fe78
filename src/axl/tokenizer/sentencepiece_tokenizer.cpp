#include "axl/tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstdlib>

#include "axl/core/error.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path, TokenizerConfig config)
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()), model_path_(model_path) {
  config_ = std::move(config);
  auto st = sp_->Load(model_path);
  if (!st.ok()) throw Error(model_path + ": not a sentencepiece model: " + st.ToString());
  add_bos_ = config_.add_bos_token.value_or(true);
  add_eos_ = config_.add_eos_token.value_or(false);

  SpecialTokens defaults;
  auto piece = [&](int id) -> std::optional<std::string> {
    if (id < 0 || id >= sp_->GetPieceSize()) return std::nullopt;
    return sp_->IdToPiece(id);
  };
  defaults.bos = piece(sp_->bos_id());
  defaults.eos = piece(sp_->eos_id());
  defaults.unk = piece(sp_->unk_id());
  defaults.pad = piece(sp_->pad_id());
  resolve_special_tokens(defaults);
  // The slow tokenizer never lets sentencepiece see its special tokens: they are split off.
  for (const auto& s : {special_.bos, special_.eos, special_.unk, special_.pad})
    if (s && !s->empty()) {
      auto id = token_to_id(*s);
      if (id) special_pieces_.push_back({*s, *id});
    }
  std::sort(special_pieces_.begin(), special_pieces_.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  // Tokens added before saving (tokenizer_config.json "added_tokens_decoder", as transformers
  // writes it): those past the model's pieces, or ordinary pieces flagged as added, come back.
  auto dec = config_.raw.find("added_tokens_decoder");
  if (dec != config_.raw.end() && dec->is_object()) {
    for (const auto& [key, v] : dec->items()) {
      if (!v.is_object() || !v.contains("content") || !v["content"].is_string()) continue;
      AddedToken t;
      t.content = v["content"].get<std::string>();
      t.special = v.value("special", false);
      t.id = std::atoi(key.c_str());
      const bool control = t.id < sp_->GetPieceSize() && (sp_->IsControl(t.id) || sp_->IsUnknown(t.id));
      if (!control && t.id >= 0) insert_added(t);
    }
    resolve_special_tokens(defaults);  // a pad/bos/eos/unk may be one of them
  }
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

void SentencePieceTokenizer::encode_into(std::string_view text, bool add_special_tokens, Encoding& out,
                                         bool with_offsets) const {
  size_t bad = utf8::find_invalid(text);
  if (bad != std::string_view::npos)
    throw Error("tokenizer: input text is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  std::vector<std::pair<uint32_t, uint32_t>> byte_offsets;
  auto add = [&](TokenId id, uint32_t b, uint32_t e) {
    out.ids.push_back(id);
    byte_offsets.push_back({b, e});
  };
  if (add_special_tokens && add_bos_ && special_.bos_id) add(*special_.bos_id, 0, 0);
  // transformers 5 runs the converted (fast) tokenizer: spaces right before a cut-out token
  // stay as "▁" pieces, where sentencepiece alone would drop them as trailing whitespace.
  const int space_id = sp_->PieceToId("\xe2\x96\x81");
  auto encode_before_token = [&](size_t b, size_t e, auto&& encode) {
    size_t t = e;
    while (t > b && text[t - 1] == ' ') --t;
    encode(b, t);
    if (space_id != sp_->unk_id())
      for (size_t i = t; i < e; ++i) add(space_id, static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1));
    else
      encode(t, e);
  };
  auto encode_chunk = [&](size_t b, size_t e) {
    if (e <= b) return;
    sentencepiece::ImmutableSentencePieceText spt;
    auto st = sp_->Encode(text.substr(b, e - b), spt.mutable_proto());
    if (!st.ok()) throw Error("tokenizer: sentencepiece encode failed: " + st.ToString());
    for (size_t i = 0; i < spt.pieces_size(); ++i) {
      auto p = spt.pieces(static_cast<int>(i));
      add(static_cast<TokenId>(p.id()), static_cast<uint32_t>(b + p.begin()), static_cast<uint32_t>(b + p.end()));
    }
  };
  size_t chunk = 0;
  for (size_t pos = 0; pos < text.size();) {
    const std::pair<std::string, TokenId>* hit = nullptr;
    for (const auto& sp : special_pieces_)
      if (text.compare(pos, sp.first.size(), sp.first) == 0) {
        hit = &sp;
        break;
      }
    if (!hit) {
      ++pos;
      continue;
    }
    encode_before_token(chunk, pos, encode_chunk);
    add(hit->second, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + hit->first.size()));
    pos += hit->first.size();
    chunk = pos;
  }
  encode_chunk(chunk, text.size());
  if (add_special_tokens && add_eos_ && special_.eos_id) add(*special_.eos_id, 0, 0);
  if (!with_offsets) return;
  utf8::CharOffsets chars(text);
  for (size_t i = 0; i < out.ids.size(); ++i) {
    out.tokens.push_back(id_to_token(out.ids[i]));
    out.offsets.push_back(chars.convert(byte_offsets[i].first, byte_offsets[i].second));
  }
}

std::vector<TokenId> SentencePieceTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  Encoding e;
  encode_into(text, add_special_tokens, e, false);
  return std::move(e.ids);
}

Encoding SentencePieceTokenizer::encode_with_offsets(std::string_view text, bool add_special_tokens) const {
  Encoding e;
  encode_into(text, add_special_tokens, e, true);
  return e;
}

std::string SentencePieceTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special_tokens) const {
  // Runs of ordinary ids go through sentencepiece (which drops the dummy-prefix space of a
  // run's first piece); special tokens are written as their text unless skipped.
  std::string out;
  std::vector<int> run;
  auto flush = [&]() {
    if (run.empty()) return;
    std::string s;
    auto st = sp_->Decode(run, &s);
    if (!st.ok()) throw Error("tokenizer: sentencepiece decode failed: " + st.ToString());
    out += s;
    run.clear();
  };
  for (TokenId id : ids) {
    if (const AddedToken* t = added_by_id(id)) {
      flush();
      if (!(skip_special_tokens && t->special)) out += t->content;
      continue;
    }
    if (id < 0 || id >= sp_->GetPieceSize()) continue;
    if (is_special(id)) {
      flush();
      if (!skip_special_tokens) out += sp_->IdToPiece(id);
      continue;
    }
    run.push_back(id);
  }
  flush();
  return out;
}

std::optional<TokenId> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& t : added_)
    if (t.content == token) return t.id;
  int id = sp_->PieceToId(std::string(token));
  if (id == sp_->unk_id() && sp_->IdToPiece(id) != token) return std::nullopt;
  return id;
}

std::string SentencePieceTokenizer::id_to_token(TokenId id) const {
  if (const AddedToken* t = added_by_id(id)) return t->content;
  if (id < 0 || id >= sp_->GetPieceSize())
    throw Error("tokenizer: token id " + std::to_string(id) + " is out of range (vocab size " +
                std::to_string(sp_->GetPieceSize()) + ")");
  return sp_->IdToPiece(id);
}

size_t SentencePieceTokenizer::vocab_size() const {
  size_t n = static_cast<size_t>(sp_->GetPieceSize());
  for (const AddedToken& t : added_) n = std::max(n, static_cast<size_t>(t.id) + 1);
  return n;
}

const AddedToken* SentencePieceTokenizer::added_by_id(TokenId id) const {
  for (const AddedToken& t : added_)
    if (t.id == id) return &t;
  return nullptr;
}

size_t SentencePieceTokenizer::add_tokens(const std::vector<AddedToken>& tokens) {
  size_t fresh = 0;
  for (AddedToken t : tokens) {
    if (t.content.empty()) continue;
    if (auto known = token_to_id(t.content)) {
      t.id = *known;
    } else {
      t.id = static_cast<TokenId>(vocab_size());
      ++fresh;
    }
    additions_.push_back(t);
    insert_added(t);
  }
  return fresh;
}

void SentencePieceTokenizer::insert_added(const AddedToken& t) {
  {
    bool replaced = false;
    for (AddedToken& old : added_)
      if (old.content == t.content) {
        old = t;
        replaced = true;
      }
    if (!replaced) added_.push_back(t);
    // Matched in the raw text, leftmost and then longest first, like the special pieces.
    special_pieces_.erase(std::remove_if(special_pieces_.begin(), special_pieces_.end(),
                                         [&](const auto& p) { return p.first == t.content; }),
                          special_pieces_.end());
    special_pieces_.push_back({t.content, t.id});
    std::stable_sort(special_pieces_.begin(), special_pieces_.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
}

std::vector<AddedToken> SentencePieceTokenizer::added_tokens() const {
  // The control pieces the slow tokenizer splits off (transformers lists them as added
  // special tokens), then the additions.
  std::vector<AddedToken> out;
  for (const auto& [content, id] : special_pieces_) {
    if (added_by_id(id)) continue;
    AddedToken t;
    t.content = content;
    t.id = id;
    t.special = true;
    out.push_back(t);
  }
  out.insert(out.end(), added_.begin(), added_.end());
  std::stable_sort(out.begin(), out.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  return out;
}

bool SentencePieceTokenizer::is_special(TokenId id) const {
  if (const AddedToken* t = added_by_id(id)) return t->special;
  if (id < 0 || id >= sp_->GetPieceSize()) return false;
  if (sp_->IsControl(id) || sp_->IsUnknown(id)) return true;
  for (const auto& s : special_pieces_)
    if (s.second == id) return true;
  return false;
}

}  // namespace axl::tokenizer
