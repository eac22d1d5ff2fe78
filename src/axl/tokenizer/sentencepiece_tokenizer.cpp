#include "axl/tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>

#include "axl/core/error.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path, TokenizerConfig config)
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
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
    encode_chunk(chunk, pos);
    add(hit->second, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + hit->first.size()));
    pos += hit->first.size();
    chunk = pos;
  }
  encode_chunk(chunk, text.size());
  if (add_special_tokens && add_eos_ && special_.eos_id) add(*special_.eos_id, 0, 0);
  if (!with_offsets) return;
  utf8::CharOffsets chars(text);
  for (size_t i = 0; i < out.ids.size(); ++i) {
    out.tokens.push_back(sp_->IdToPiece(out.ids[i]));
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
  int id = sp_->PieceToId(std::string(token));
  if (id == sp_->unk_id() && sp_->IdToPiece(id) != token) return std::nullopt;
  return id;
}

std::string SentencePieceTokenizer::id_to_token(TokenId id) const {
  if (id < 0 || id >= sp_->GetPieceSize())
    throw Error("tokenizer: token id " + std::to_string(id) + " is out of range (vocab size " +
                std::to_string(sp_->GetPieceSize()) + ")");
  return sp_->IdToPiece(id);
}

size_t SentencePieceTokenizer::vocab_size() const { return static_cast<size_t>(sp_->GetPieceSize()); }

bool SentencePieceTokenizer::is_special(TokenId id) const {
  if (id < 0 || id >= sp_->GetPieceSize()) return false;
  if (sp_->IsControl(id) || sp_->IsUnknown(id)) return true;
  for (const auto& s : special_pieces_)
    if (s.second == id) return true;
  return false;
}

}  // namespace axl::tokenizer
