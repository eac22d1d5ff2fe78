#include "axl/models/gguf_vocab.h"

#include <filesystem>
#include <map>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/models/gguf_tokenizer_convert.h"
#include "axl/tokenizer/sentencepiece_vocab.h"
#include "axl/tokenizer/tokenizer_config.h"

namespace axl::models {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum TokenType : int32_t { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6 };

// The split ByteLevel(use_regex = true) applies: GPT-2's regex, as tokenizers writes it.
const char* const kByteLevelRegex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

struct Vocab {
  std::string model, pre;
  std::vector<std::string> tokens;
  std::vector<float> scores;  // llama only
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // gpt2 only
  std::map<std::string, int32_t> ids;
  bool default_add_bos = false;
};

// Grows the list to `n` tokens, new ones [PAD{i}] (UNUSED), as convert_hf_to_gguf pads.
void grow(Vocab& v, int64_t n) {
  while (static_cast<int64_t>(v.tokens.size()) < n) {
    v.tokens.push_back("[PAD" + std::to_string(v.tokens.size()) + "]");
    v.types.push_back(UNUSED);
    v.scores.push_back(-1000.0f);
  }
}

void set_token(Vocab& v, int64_t id, const std::string& text, int32_t type, float score = 0.0f) {
  grow(v, id + 1);
  v.tokens[id] = text;
  v.types[id] = type;
  v.scores[id] = score;
}

void pad_to(Vocab& v, int64_t vocab_size, const std::string& where) {
  if (static_cast<int64_t>(v.tokens.size()) > vocab_size)
    throw Error(where + " has " + std::to_string(v.tokens.size()) + " tokens but the model's embedding has only " +
                std::to_string(vocab_size) + " rows (config.json vocab_size)");
  grow(v, vocab_size);
  if (v.model == "gpt2") v.scores.clear();
}

std::vector<std::string> split_regexes(const json& pre, const std::string& where) {
  std::vector<std::string> out;
  auto one = [&](const json& step) {
    const std::string type = step.value("type", "");
    if (type == "Split" && step.contains("pattern") && step["pattern"].contains("Regex") &&
        step.value("behavior", "") == "Isolated" && !step.value("invert", false)) {
      out.push_back(step["pattern"]["Regex"].get<std::string>());
    } else if (type == "ByteLevel") {
      if (step.value("add_prefix_space", false))
        throw Error(where + ": ByteLevel with add_prefix_space has no llama.cpp pre-tokenizer");
      if (step.value("use_regex", true)) out.push_back(kByteLevelRegex);
    } else {
      throw Error(where + ": pre-tokenizer step '" + step.dump() + "' has no llama.cpp equivalent");
    }
  };
  if (pre.is_null()) return out;
  if (pre.value("type", "") == "Sequence") {
    for (const auto& step : pre["pretokenizers"]) one(step);
  } else {
    one(pre);
  }
  return out;
}

bool is_byte_level(const json& tok) {
  auto has = [](const json& j) {
    if (!j.is_object()) return false;
    if (j.value("type", "") == "ByteLevel") return true;
    for (const char* list : {"pretokenizers", "decoders"})
      if (j.contains(list))
        for (const auto& s : j[list])
          if (s.value("type", "") == "ByteLevel") return true;
    return false;
  };
  return has(tok.value("pre_tokenizer", json())) || has(tok.value("decoder", json()));
}

// tokenizer.json's own default for BOS: its post-processor's single template starts with it.
bool template_adds_bos(const json& post, const std::optional<std::string>& bos) {
  if (!post.is_object() || !bos) return false;
  if (post.value("type", "") == "Sequence") {
    for (const auto& p : post["processors"])
      if (template_adds_bos(p, bos)) return true;
    return false;
  }
  if (post.value("type", "") != "TemplateProcessing" || !post.contains("single") || post["single"].empty()) return false;
  const json& first = post["single"][0];
  return first.contains("SpecialToken") && first["SpecialToken"].value("id", "") == *bos;
}

std::string merge_string(const json& m, const std::string& where) {
  if (m.is_string()) return m.get<std::string>();
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
    return m[0].get<std::string>() + " " + m[1].get<std::string>();
  throw Error(where + ": a merge is neither \"a b\" nor [a, b]: " + m.dump());
}

void add_json_tokens(Vocab& v, const json& tok, const std::string& where, bool byte_fallback) {
  const json& model = tok["model"];
  if (!model.contains("vocab") || !model["vocab"].is_object()) throw Error(where + ": model.vocab is missing");
  const auto n_merges = static_cast<float>(model.value("merges", json::array()).size());
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) throw Error(where + ": token '" + text + "' has no valid id");
    const bool byte = byte_fallback && text.size() == 6 && text.rfind("<0x", 0) == 0 && text.back() == '>';
    // Unmerged pieces score below every merge (their score never decides a merge).
    set_token(v, id.get<int64_t>(), text, byte ? BYTE : NORMAL, -n_merges - static_cast<float>(id.get<int64_t>()));
  }
  for (const auto& t : tok.value("added_tokens", json::array())) {
    const int64_t id = t.value("id", int64_t{-1});
    if (id < 0) throw Error(where + ": an added token has no id");
    set_token(v, id, t.value("content", ""), t.value("special", false) ? CONTROL : USER_DEFINED, 0.0f);
  }
  for (std::size_t i = 0; i < v.tokens.size(); ++i) v.ids.emplace(v.tokens[i], static_cast<int32_t>(i));
}

Vocab gpt2_vocab(const json& tok, const tokenizer::TokenizerConfig& cfg, const std::string& where) {
  Vocab v;
  v.model = "gpt2";
  add_json_tokens(v, tok, where, false);
  for (const auto& m : tok["model"].value("merges", json::array())) v.merges.push_back(merge_string(m, where));
  if (v.merges.empty()) throw Error(where + ": a byte-level BPE tokenizer.json without merges");
  const auto regexes = split_regexes(tok.value("pre_tokenizer", json()), where);
  const bool clean = cfg.raw.is_object() && cfg.raw.value("clean_up_tokenization_spaces", false);
  const auto pre = gguf_pre_tokenizer_name(regexes, tok["model"].value("ignore_merges", false), clean);
  if (!pre)
    throw Error(where + ": its pre-tokenizer regexes match none of llama.cpp's tokenizer.ggml.pre "
                "pre-tokenizers, so llama.cpp would split text differently");
  v.pre = *pre;
  v.default_add_bos = template_adds_bos(tok.value("post_processor", json()), cfg.bos_token);
  return v;
}

// Sentencepiece-style BPE in tokenizer.json: a merged token scores minus its merge's rank.
Vocab llama_vocab_from_json(const json& tok, const std::string& where) {
  Vocab v;
  v.model = "llama";
  v.pre = "default";
  add_json_tokens(v, tok, where, true);
  const json& merges = tok["model"].value("merges", json::array());
  for (std::size_t r = 0; r < merges.size(); ++r) {
    std::string m = merge_string(merges[r], where);
    const std::size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) throw Error(where + ": merge '" + m + "' is not two tokens");
    const auto it = v.ids.find(m.substr(0, sp) + m.substr(sp + 1));
    if (it != v.ids.end() && v.types[it->second] == NORMAL) v.scores[it->second] = -static_cast<float>(r);
  }
  if (auto unk = tok["model"].value("unk_token", json()); unk.is_string())
    if (auto it = v.ids.find(unk.get<std::string>()); it != v.ids.end()) v.types[it->second] = UNKNOWN;
  v.default_add_bos = true;  // llama.cpp's default for sentencepiece vocabularies
  return v;
}

Vocab llama_vocab_from_model(const std::string& path) {
  Vocab v;
  v.model = "llama";
  v.pre = "default";
  const auto pieces = tokenizer::read_sentencepiece_pieces(path);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    using K = tokenizer::SentencePiecePiece::Kind;
    const K k = pieces[i].kind;
    const int32_t type = k == K::Unknown ? UNKNOWN : k == K::Control ? CONTROL : k == K::Unused ? UNUSED
                       : k == K::Byte ? BYTE : NORMAL;
    set_token(v, static_cast<int64_t>(i), pieces[i].piece, type, pieces[i].score);
  }
  for (std::size_t i = 0; i < v.tokens.size(); ++i) v.ids.emplace(v.tokens[i], static_cast<int32_t>(i));
  v.default_add_bos = true;
  return v;
}

}  // namespace

std::vector<std::string> add_gguf_vocab(GgufWriter& w, const std::string& model_dir, int64_t vocab_size,
                                        int64_t config_bos_id, const std::vector<int64_t>& config_eos_ids) {
  const fs::path dir(model_dir);
  const fs::path tj = dir / "tokenizer.json", spm = dir / "tokenizer.model";
  const tokenizer::TokenizerConfig cfg = tokenizer::load_tokenizer_config(dir);
  std::vector<std::string> notes;
  Vocab v;
  if (fs::is_regular_file(tj)) {
    const json tok = read_json_file(tj.string());
    const std::string where = tj.string();
    if (!tok.is_object() || !tok.contains("model") || tok["model"].value("type", "") != "BPE")
      throw Error(where + ": only BPE tokenizers (byte-level, or sentencepiece-style with byte_fallback) can be "
                  "exported to GGUF");
    if (is_byte_level(tok)) {
      v = gpt2_vocab(tok, cfg, where);
    } else if (fs::is_regular_file(spm)) {
      v = llama_vocab_from_model(spm.string());
    } else if (tok["model"].value("byte_fallback", false)) {
      v = llama_vocab_from_json(tok, where);
      notes.push_back("sentencepiece scores derived from " + where + "'s merge order (no tokenizer.model)");
    } else {
      throw Error(where + ": a BPE tokenizer that is neither byte-level nor byte_fallback has no llama.cpp vocabulary type");
    }
  } else if (fs::is_regular_file(spm)) {
    v = llama_vocab_from_model(spm.string());
  } else {
    throw Error(model_dir + " has no tokenizer (tokenizer.json or tokenizer.model); llama.cpp needs the vocabulary "
                "inside the GGUF");
  }
  pad_to(v, vocab_size, model_dir + "'s tokenizer");

  auto id_of = [&](const std::optional<std::string>& text, int64_t fallback) -> std::optional<uint32_t> {
    if (text) {
      const auto it = v.ids.find(*text);
      if (it != v.ids.end()) return static_cast<uint32_t>(it->second);
    }
    if (fallback >= 0 && fallback < vocab_size) return static_cast<uint32_t>(fallback);
    return std::nullopt;
  };
  w.add_string("tokenizer.ggml.model", v.model);
  w.add_string("tokenizer.ggml.pre", v.pre);
  w.add_strings("tokenizer.ggml.tokens", v.tokens);
  if (v.model == "llama") w.add_f32s("tokenizer.ggml.scores", v.scores);
  w.add_i32s("tokenizer.ggml.token_type", v.types);
  if (v.model == "gpt2") w.add_strings("tokenizer.ggml.merges", v.merges);
  if (auto id = id_of(cfg.bos_token, config_bos_id)) w.add_u32("tokenizer.ggml.bos_token_id", *id);
  if (auto id = id_of(cfg.eos_token, config_eos_ids.empty() ? -1 : config_eos_ids.front()))
    w.add_u32("tokenizer.ggml.eos_token_id", *id);
  if (auto id = id_of(cfg.unk_token, -1)) w.add_u32("tokenizer.ggml.unknown_token_id", *id);
  if (auto id = id_of(cfg.pad_token, -1)) w.add_u32("tokenizer.ggml.padding_token_id", *id);
  w.add_bool("tokenizer.ggml.add_bos_token", cfg.add_bos_token.value_or(v.default_add_bos));
  w.add_bool("tokenizer.ggml.add_eos_token", cfg.add_eos_token.value_or(false));
  if (cfg.chat_template) w.add_string("tokenizer.chat_template", *cfg.chat_template);
  return notes;
}

}  // namespace axl::models
