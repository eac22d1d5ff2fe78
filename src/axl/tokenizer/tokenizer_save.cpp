// save_tokenizer: the files transformers 5 reads back with the added tokens in place.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/tokenizer/hf_tokenizer.h"
#include "axl/tokenizer/sentencepiece_tokenizer.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::tokenizer {

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json added_token_json(const AddedToken& t) {
  return {{"content", t.content}, {"lstrip", t.lstrip}, {"normalized", t.normalized},
          {"rstrip", t.rstrip},   {"single_word", t.single_word}, {"special", t.special}};
}

// Special tokens added beyond bos/eos/pad/unk (Axolotl's additional_special_tokens).
std::vector<std::string> extra_special_tokens(const Tokenizer& tok) {
  const SpecialTokens& s = tok.special_tokens();
  std::vector<std::string> out;
  for (const AddedToken& t : tok.additions()) {
    if (!t.special || t.content == s.bos || t.content == s.eos || t.content == s.pad || t.content == s.unk) continue;
    if (std::find(out.begin(), out.end(), t.content) == out.end()) out.push_back(t.content);
  }
  return out;
}

void put_role(nlohmann::json& j, const char* key, const std::optional<std::string>& value) {
  if (value) j[key] = *value;
}

}  // namespace

void save_tokenizer(const Tokenizer& tok, const fs::path& dir) {
  fs::create_directories(dir);
  if (const auto* hf = dynamic_cast<const HfTokenizer*>(&tok)) {
    write_file_atomic((dir / "tokenizer.json").string(), hf->to_json().dump(2) + "\n");
  } else if (const auto* sp = dynamic_cast<const SentencePieceTokenizer*>(&tok)) {
    if (fs::absolute(sp->model_path()).lexically_normal() != fs::absolute(dir / "tokenizer.model").lexically_normal())
      write_file_atomic((dir / "tokenizer.model").string(), read_bytes(sp->model_path()));
  } else {
    throw Error("tokenizer: this tokenizer kind cannot be saved");
  }

  const SpecialTokens& s = tok.special_tokens();
  const std::vector<std::string> extra = extra_special_tokens(tok);
  nlohmann::json cfg = tok.config().raw.is_object() ? tok.config().raw : nlohmann::json::object();
  put_role(cfg, "bos_token", s.bos);
  put_role(cfg, "eos_token", s.eos);
  put_role(cfg, "pad_token", s.pad);
  put_role(cfg, "unk_token", s.unk);
  nlohmann::json decoder = nlohmann::json::object();
  for (const AddedToken& t : tok.added_tokens()) decoder[std::to_string(t.id)] = added_token_json(t);
  cfg["added_tokens_decoder"] = decoder;
  if (!extra.empty()) {
    // transformers 5 writes "extra_special_tokens"; a 4.x config may hold the older name.
    const char* key = cfg.contains("additional_special_tokens") && cfg["additional_special_tokens"].is_array()
                          ? "additional_special_tokens"
                          : "extra_special_tokens";
    nlohmann::json list = cfg.contains(key) && cfg[key].is_array() ? cfg[key] : nlohmann::json::array();
    for (const auto& e : extra)
      if (std::find(list.begin(), list.end(), nlohmann::json(e)) == list.end()) list.push_back(e);
    cfg[key] = list;
  }
  write_file_atomic((dir / "tokenizer_config.json").string(), cfg.dump(2) + "\n");

  nlohmann::json map = nlohmann::json::object();
  put_role(map, "bos_token", s.bos);
  put_role(map, "eos_token", s.eos);
  put_role(map, "pad_token", s.pad);
  put_role(map, "unk_token", s.unk);
  if (!extra.empty()) map["additional_special_tokens"] = extra;
  write_file_atomic((dir / "special_tokens_map.json").string(), map.dump(2) + "\n");
}

}  // namespace axl::tokenizer
