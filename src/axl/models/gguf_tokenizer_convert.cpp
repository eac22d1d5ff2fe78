#include "axl/models/gguf_tokenizer_convert.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <utility>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"

namespace axl::models {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum TokenType : int64_t { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6 };

const char* const GPT2_RE = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
const char* const LLAMA3_RE =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const QWEN2_RE =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const QWEN35_RE =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const GPT4O_RE =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const TEKKEN_RE =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const BLOOM_RE = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

// How llama.cpp splits text before byte-level BPE, per tokenizer.ggml.pre. Each regex is applied
// in turn to the pieces the previous one left, keeping matches and the text between them as
// separate pieces: exactly a tokenizers Split(pattern, "Isolated") step. Where llama.cpp
// rewrites a regex for std::regex, the tokenizer.json original is used (same matches).
struct PreTokenizerSpec {
  std::vector<std::string> names;
  std::vector<std::string> regexes;
  bool ignore_merges = false;  // a whole piece that is in the vocabulary is one token
  bool clean_spaces = true;    // llama.cpp's clean_spaces = clean_up_tokenization_spaces
  bool add_bos = false;        // llama.cpp's default when tokenizer.ggml.add_bos_token is absent
};

const std::vector<PreTokenizerSpec>& pre_tokenizer_specs() {
  static const std::vector<PreTokenizerSpec> specs = {
      {{"default"},
       {R"([\p{P}\$\+<=>\^~\|]+)", GPT2_RE, R"(\p{N}+)", "[0-9][0-9][0-9]"}, false, true, false},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
       {LLAMA3_RE}, true, true, true},
      {{"dbrx", "smaug-bpe", "chatglm-bpe"}, {LLAMA3_RE}, false, true, false},
      {{"glm4", "glm5"}, {LLAMA3_RE}, true, true, false},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
        "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais",
        "exaone4"},
       {GPT2_RE}, false, true, false},
      {{"trillion", "granite-docling"}, {GPT2_RE}, false, false, false},
      {{"smollm", "command-r"}, {R"(\p{N})", GPT2_RE}, false, false, false},
      {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"},
       {R"(\p{N})", GPT2_RE}, false, true, false},
      {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", GPT2_RE, "[0-9][0-9][0-9]"}, false, true, false},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open"}, {QWEN2_RE}, false, false, false},
      {{"stablelm2", "megrez"}, {QWEN2_RE}, false, true, false},
      {{"qwen35"}, {QWEN35_RE}, false, false, false},
      {{"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, {GPT4O_RE}, false, false, false},
      {{"tekken"}, {TEKKEN_RE}, true, false, true},
      {{"bloom", "gpt3-finnish"}, {BLOOM_RE}, false, true, false},
      {{"poro-chat"}, {BLOOM_RE}, false, false, false},
      {{"viking"}, {BLOOM_RE, R"(\p{N})"}, false, false, false},
      {{"deepseek-coder"},
       {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[一-龥ࠀ-一가-퟿]+", R"(\p{N})"}, false, false, false},
      {{"deepseek-v3", "hunyuan-dense", "joyai-llm"},
       {R"(\p{N}{1,3})", "[一-龥぀-ゟ゠-ヿ]+",
        R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
       false, false, false},
  };
  return specs;
}

const PreTokenizerSpec* find_pre_tokenizer(const std::string& name) {
  for (const auto& s : pre_tokenizer_specs())
    if (std::find(s.names.begin(), s.names.end(), name) != s.names.end()) return &s;
  return nullptr;
}

}  // namespace

std::optional<std::string> gguf_pre_tokenizer_name(const std::vector<std::string>& regexes, bool ignore_merges,
                                                   bool clean_spaces) {
  const PreTokenizerSpec* regex_match = nullptr;
  for (const auto& s : pre_tokenizer_specs()) {
    if (s.regexes != regexes) continue;
    if (s.ignore_merges == ignore_merges && s.clean_spaces == clean_spaces) return s.names.front();
    if (!regex_match) regex_match = &s;
  }
  if (regex_match) return regex_match->names.front();
  return std::nullopt;
}

namespace {

std::string known_pre_tokenizers() {
  std::string out;
  for (const auto& s : pre_tokenizer_specs())
    for (const auto& n : s.names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Byte offsets of the code point boundaries of valid UTF-8 `s` (0 and size() included).
std::vector<std::size_t> code_point_starts(const std::string& s) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  out.push_back(s.size());
  return out;
}

// The tokenizer.* metadata, read and checked once.
struct GgufVocab {
  std::string src;  // file name, for errors
  std::string model, pre;
  std::vector<std::string> tokens;
  std::vector<int64_t> types;  // empty when the GGUF has none
  std::vector<double> scores;  // empty when the GGUF has none
  std::vector<std::string> merges;
  std::optional<int64_t> bos, eos, unk, pad;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
  std::optional<std::string> chat_template;
};

const GgufValue& array_of(const GgufFile& f, const std::string& key, GgufValueType elem, const char* what) {
  const GgufValue* v = f.find(key);
  if (!v) throw Error(f.path() + ": metadata key '" + key + "' is missing");
  const bool ints = elem == GgufValueType::INT32;
  const bool floats = elem == GgufValueType::FLOAT32;
  bool ok = v->is_array() && v->elem_type == elem;
  if (v->is_array() && ints) {  // any integer element type will do for token types
    const auto t = v->elem_type;
    ok = t == GgufValueType::INT8 || t == GgufValueType::UINT8 || t == GgufValueType::INT16 ||
         t == GgufValueType::UINT16 || t == GgufValueType::INT32 || t == GgufValueType::UINT32 ||
         t == GgufValueType::INT64 || t == GgufValueType::UINT64;
  }
  if (v->is_array() && floats)
    ok = v->elem_type == GgufValueType::FLOAT32 || v->elem_type == GgufValueType::FLOAT64;
  if (!ok)
    throw Error(f.path() + ": metadata key '" + key + "' must be an array of " + what + ", got " +
                gguf_value_type_name(v->type) +
                (v->is_array() ? std::string(" of ") + gguf_value_type_name(v->elem_type) : std::string()));
  return *v;
}

std::optional<bool> optional_bool(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::BOOL)
    throw Error(f.path() + ": metadata key '" + key + "' must be a bool, got " + gguf_value_type_name(v->type));
  return v->u64 != 0;
}

GgufVocab read_vocab(const GgufFile& f) {
  GgufVocab v;
  v.src = f.path();
  const std::string t = "tokenizer.ggml.";
  v.model = f.get_string(t + "model");
  v.pre = f.find(t + "pre") ? f.get_string(t + "pre") : "";
  v.tokens = array_of(f, t + "tokens", GgufValueType::STRING, "strings").strs;
  if (v.tokens.empty()) throw Error(v.src + ": tokenizer.ggml.tokens is empty");
  const std::size_t n = v.tokens.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!valid_utf8(v.tokens[i]))
      throw Error(v.src + ": token " + std::to_string(i) + " of tokenizer.ggml.tokens is not valid UTF-8");
    if (v.tokens[i].empty()) v.tokens[i] = "[EMPTY_" + std::to_string(i) + "]";  // as llama.cpp does
  }
  if (f.find(t + "token_type")) {
    const GgufValue& a = array_of(f, t + "token_type", GgufValueType::INT32, "integers");
    if (a.array_size() != n)
      throw Error(v.src + ": tokenizer.ggml.token_type has " + std::to_string(a.array_size()) +
                  " entries for " + std::to_string(n) + " tokens");
    if (!a.i64s.empty()) v.types = a.i64s;
    else v.types.assign(a.u64s.begin(), a.u64s.end());
  }
  if (f.find(t + "scores")) {
    const GgufValue& a = array_of(f, t + "scores", GgufValueType::FLOAT32, "floats");
    if (a.array_size() != n)
      throw Error(v.src + ": tokenizer.ggml.scores has " + std::to_string(a.array_size()) +
                  " entries for " + std::to_string(n) + " tokens");
    v.scores = a.f64s;
  }
  if (f.find(t + "merges")) v.merges = array_of(f, t + "merges", GgufValueType::STRING, "strings").strs;
  auto id = [&](const std::string& key) -> std::optional<int64_t> {
    if (!f.find(key)) return std::nullopt;
    const int64_t i = f.get_int(key);
    // llama.cpp writes -1 (as uint32 0xFFFFFFFF in some files) for "none".
    if (i < 0 || i == 0xFFFFFFFFLL) return std::nullopt;
    if (i >= static_cast<int64_t>(n))
      throw Error(v.src + ": metadata key '" + key + "' is " + std::to_string(i) + ", outside the " +
                  std::to_string(n) + "-token vocabulary");
    return i;
  };
  v.bos = id(t + "bos_token_id");
  v.eos = id(t + "eos_token_id");
  v.unk = id(t + "unknown_token_id");
  v.pad = id(t + "padding_token_id");
  v.add_bos = optional_bool(f, t + "add_bos_token");
  v.add_eos = optional_bool(f, t + "add_eos_token");
  v.add_space_prefix = optional_bool(f, t + "add_space_prefix");
  if (f.find("tokenizer.chat_template")) v.chat_template = f.get_string("tokenizer.chat_template");
  return v;
}

ojson added_token(int64_t id, const std::string& content, bool special) {
  return ojson{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
               {"rstrip", false}, {"normalized", false}, {"special", special}};
}

// CONTROL and UNKNOWN tokens are special (llama.cpp matches them only when parsing special
// tokens), USER_DEFINED ones are added but not special (llama.cpp always matches them). Without
// token types, the bos/eos/unk/pad ids are the special ones.
ojson added_tokens(const GgufVocab& v) {
  ojson out = ojson::array();
  const int64_t n = static_cast<int64_t>(v.tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    bool special = false, user = false;
    if (!v.types.empty()) {
      special = v.types[i] == CONTROL || v.types[i] == UNKNOWN;
      user = v.types[i] == USER_DEFINED;
    } else {
      special = i == v.bos || i == v.eos || i == v.unk || i == v.pad;
    }
    if (special || user) out.push_back(added_token(i, v.tokens[i], special));
  }
  return out;
}

// Token -> id in id order. A repeated token keeps its first place and its last id (as a JSON
// object read by tokenizers, or llama.cpp's token_to_id, would). ordered_json's own insert
// searches linearly, quadratic for 150k tokens, so entries are appended to its vector directly.
ojson vocab_object(const GgufVocab& v) {
  std::unordered_map<std::string, std::size_t> slot;
  std::vector<std::pair<const std::string*, std::size_t>> entries;
  for (std::size_t i = 0; i < v.tokens.size(); ++i) {
    auto [it, fresh] = slot.emplace(v.tokens[i], entries.size());
    if (fresh) entries.emplace_back(&v.tokens[i], i);
    else entries[it->second].second = i;
  }
  ojson vocab = ojson::object();
  auto& items = static_cast<ojson::object_t::Container&>(vocab.get_ref<ojson::object_t&>());
  items.reserve(entries.size());
  for (const auto& [tok, id] : entries) items.emplace_back(*tok, ojson(id));
  return vocab;
}

// bos/eos added by the post-processor, in the form transformers writes (TemplateProcessing).
ojson template_processing(const GgufVocab& v, bool add_bos, bool add_eos) {
  auto piece = [](const std::string& id, int type) { return ojson{{"Sequence", {{"id", id}, {"type_id", type}}}}; };
  auto special = [](const std::string& tok, int type) { return ojson{{"SpecialToken", {{"id", tok}, {"type_id", type}}}}; };
  ojson single = ojson::array(), pair = ojson::array(), specials = ojson::object();
  for (int seq = 0; seq < 2; ++seq) {
    ojson& out = seq == 0 ? single : pair;
    for (int part = 0; part <= seq; ++part) {
      if (add_bos) out.push_back(special(v.tokens[*v.bos], part));
      out.push_back(piece(part == 0 ? "A" : "B", part));
      if (add_eos) out.push_back(special(v.tokens[*v.eos], part));
    }
  }
  for (const auto& [on, id] : {std::pair{add_bos, v.bos}, std::pair{add_eos, v.eos}})
    if (on) specials[v.tokens[*id]] = {{"id", v.tokens[*id]}, {"ids", {*id}}, {"tokens", {v.tokens[*id]}}};
  return ojson{{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

ojson byte_level(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return ojson{{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space},
               {"trim_offsets", trim_offsets}, {"use_regex", use_regex}};
}

ojson bpe_model(const GgufVocab& v, ojson merges, const ojson& unk, bool fuse_unk, bool byte_fallback,
                bool ignore_merges) {
  return ojson{{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", unk},
               {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
               {"fuse_unk", fuse_unk}, {"byte_fallback", byte_fallback}, {"ignore_merges", ignore_merges},
               {"vocab", vocab_object(v)}, {"merges", std::move(merges)}};
}

ojson tokenizer_json(ojson added, ojson normalizer, ojson pre, ojson post, ojson decoder, ojson model) {
  return ojson{{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr},
               {"added_tokens", std::move(added)}, {"normalizer", std::move(normalizer)},
               {"pre_tokenizer", std::move(pre)}, {"post_processor", std::move(post)},
               {"decoder", std::move(decoder)}, {"model", std::move(model)}};
}

struct Built {
  ojson tokenizer;
  bool add_bos = false, add_eos = false, clean_spaces = false, legacy_spm = false;
};

Built gpt2_tokenizer(const GgufVocab& v, std::vector<std::string>& notes) {
  std::string pre = v.pre;
  if (pre.empty()) {
    notes.push_back(v.src + ": tokenizer.ggml.pre is missing; using llama.cpp's 'default' pre-tokenizer, "
                    "as llama.cpp does (tokenization may differ from the original model)");
    pre = "default";
  }
  const PreTokenizerSpec* spec = find_pre_tokenizer(pre);
  if (!spec)
    throw Error(v.src + ": tokenizer.ggml.pre '" + pre + "' is not a pre-tokenizer we can convert; "
                "known: " + known_pre_tokenizers());
  if (v.merges.empty()) throw Error(v.src + ": tokenizer.ggml.merges is missing or empty (a gpt2 BPE vocabulary needs it)");

  std::unordered_map<std::string, std::size_t> ids;
  for (std::size_t i = 0; i < v.tokens.size(); ++i) ids[v.tokens[i]] = i;
  ojson merges = ojson::array();
  for (std::size_t i = 0; i < v.merges.size(); ++i) {
    const std::string& m = v.merges[i];
    // The separator is the first space after the first byte, as llama.cpp reads it.
    const std::size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (sp == std::string::npos)
      throw Error(v.src + ": merge " + std::to_string(i) + " of tokenizer.ggml.merges ('" + m +
                  "') is not two tokens separated by a space");
    std::string a = m.substr(0, sp), b = m.substr(sp + 1);
    if (!ids.count(a) || !ids.count(b) || !ids.count(a + b))
      throw Error(v.src + ": merge " + std::to_string(i) + " of tokenizer.ggml.merges ('" + m +
                  "') names a token that is not in tokenizer.ggml.tokens");
    merges.push_back({std::move(a), std::move(b)});
  }

  ojson splits = ojson::array();
  for (const auto& re : spec->regexes)
    splits.push_back({{"type", "Split"}, {"pattern", {{"Regex", re}}}, {"behavior", "Isolated"}, {"invert", false}});
  splits.push_back(byte_level(false, true, false));

  Built b;
  b.add_bos = v.add_bos.value_or(spec->add_bos);
  b.add_eos = v.add_eos.value_or(false);
  if (b.add_bos && !v.bos) throw Error(v.src + ": tokenizer.ggml.add_bos_token is set but there is no bos_token_id");
  if (b.add_eos && !v.eos) throw Error(v.src + ": tokenizer.ggml.add_eos_token is set but there is no eos_token_id");
  b.clean_spaces = spec->clean_spaces;
  ojson post = byte_level(true, false, true);
  if (b.add_bos || b.add_eos)
    post = ojson{{"type", "Sequence"}, {"processors", {post, template_processing(v, b.add_bos, b.add_eos)}}};
  b.tokenizer = tokenizer_json(added_tokens(v), nullptr, ojson{{"type", "Sequence"}, {"pretokenizers", splits}},
                               post, byte_level(true, true, true),
                               bpe_model(v, std::move(merges), nullptr, false, false, spec->ignore_merges));
  return b;
}

// Merges for a sentencepiece vocabulary, derived from the scores the way transformers' GGUF
// loader derives them: for every token (in first-occurrence order), each split into two tokens
// of the vocabulary, ordered by the halves' scores (descending, stable), then all of them
// ordered by the whole token's score (descending, stable). Splits are at code points.
ojson spm_merges(const GgufVocab& v) {
  std::unordered_map<std::string, double> score;  // a repeated token keeps its last score
  std::vector<const std::string*> order;
  for (std::size_t i = 0; i < v.tokens.size(); ++i) {
    if (!score.count(v.tokens[i])) order.push_back(&v.tokens[i]);
    score[v.tokens[i]] = v.scores[i];
  }
  struct Merge {
    std::string left, right;
    double score;
  };
  std::vector<Merge> all;
  for (const std::string* tok : order) {
    std::vector<Merge> local;
    const auto starts = code_point_starts(*tok);
    for (std::size_t k = 1; k + 1 < starts.size(); ++k) {
      std::string l = tok->substr(0, starts[k]), r = tok->substr(starts[k]);
      if (score.count(l) && score.count(r)) local.push_back({std::move(l), std::move(r), score[*tok]});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      const double al = score[a.left], bl = score[b.left];
      if (al != bl) return al > bl;
      return score[a.right] > score[b.right];
    });
    for (auto& m : local) all.push_back(std::move(m));
  }
  std::stable_sort(all.begin(), all.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  ojson merges = ojson::array();
  for (auto& m : all) merges.push_back({std::move(m.left), std::move(m.right)});
  return merges;
}

Built llama_tokenizer(const GgufVocab& v) {
  if (v.scores.empty())
    throw Error(v.src + ": tokenizer.ggml.scores is missing (a llama/sentencepiece vocabulary needs it)");
  const bool prefix = v.add_space_prefix.value_or(true);
  ojson norm_steps = ojson::array();
  if (prefix) norm_steps.push_back({{"type", "Prepend"}, {"prepend", "▁"}});
  norm_steps.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}});
  ojson dec_steps = ojson::array();
  dec_steps.push_back({{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}});
  dec_steps.push_back({{"type", "ByteFallback"}});
  dec_steps.push_back({{"type", "Fuse"}});
  if (prefix) dec_steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});

  Built b;
  b.add_bos = v.add_bos.value_or(true);  // llama.cpp's default for sentencepiece vocabularies
  b.add_eos = v.add_eos.value_or(false);
  if (b.add_bos && !v.bos) throw Error(v.src + ": tokenizer.ggml.add_bos_token is set but there is no bos_token_id");
  if (b.add_eos && !v.eos) throw Error(v.src + ": tokenizer.ggml.add_eos_token is set but there is no eos_token_id");
  b.legacy_spm = true;
  const ojson unk = v.unk ? ojson(v.tokens[*v.unk]) : ojson(nullptr);
  b.tokenizer = tokenizer_json(added_tokens(v), ojson{{"type", "Sequence"}, {"normalizers", norm_steps}}, nullptr,
                               template_processing(v, b.add_bos, b.add_eos),
                               ojson{{"type", "Sequence"}, {"decoders", dec_steps}},
                               bpe_model(v, spm_merges(v), unk, true, true, false));
  return b;
}

}  // namespace

std::optional<HfTokenizerFiles> hf_tokenizer_from_gguf(const GgufFile& f) {
  if (!f.find("tokenizer.ggml.model") && !f.find("tokenizer.ggml.tokens")) return std::nullopt;
  const GgufVocab v = read_vocab(f);
  HfTokenizerFiles out;
  Built b;
  if (v.model == "gpt2") {
    b = gpt2_tokenizer(v, out.notes);
  } else if (v.model == "llama") {
    b = llama_tokenizer(v);
  } else {
    throw Error(v.src + ": tokenizer.ggml.model '" + v.model + "' cannot be converted; supported: "
                "gpt2 (byte-level BPE) and llama (sentencepiece)");
  }
  out.tokenizer = std::move(b.tokenizer);

  ojson& cfg = out.tokenizer_config;
  cfg["add_bos_token"] = b.add_bos;
  cfg["add_eos_token"] = b.add_eos;
  ojson decoder = ojson::object();
  for (const auto& t : out.tokenizer["added_tokens"]) {
    ojson entry = t;
    entry.erase("id");
    decoder[std::to_string(t["id"].get<int64_t>())] = entry;
  }
  cfg["added_tokens_decoder"] = decoder;
  for (const auto& [name, id] : {std::pair{"bos_token", v.bos}, std::pair{"eos_token", v.eos},
                                 std::pair{"unk_token", v.unk}, std::pair{"pad_token", v.pad}}) {
    if (!id) continue;
    cfg[name] = v.tokens[*id];
    out.special_tokens_map[name] = {{"content", v.tokens[*id]}, {"lstrip", false}, {"normalized", false},
                                    {"rstrip", false}, {"single_word", false}};
  }
  if (out.special_tokens_map.is_null()) out.special_tokens_map = ojson::object();
  if (v.chat_template) cfg["chat_template"] = *v.chat_template;
  cfg["clean_up_tokenization_spaces"] = b.clean_spaces;
  if (b.legacy_spm) {
    cfg["legacy"] = true;
    cfg["add_prefix_space"] = v.add_space_prefix.value_or(true);
  }
  const std::string arch = f.find("general.architecture") ? f.get_string("general.architecture") : "";
  const int64_t ctx = arch.empty() ? 0 : f.get_int_or(arch + ".context_length", 0);
  if (ctx > 0) cfg["model_max_length"] = ctx;
  // Not GPT2Tokenizer / LlamaTokenizer: transformers 5 rebuilds those classes' pre-tokenizer
  // and normalizer from its own defaults (checked: the smollm digit split and the legacy
  // sentencepiece prefix are lost). PreTrainedTokenizerFast (v4) / TokenizersBackend (v5)
  // takes tokenizer.json as written, as transformers does for Llama 3.
  cfg["tokenizer_class"] = "PreTrainedTokenizerFast";
  return out;
}

std::vector<std::string> write_hf_tokenizer_files(const HfTokenizerFiles& files, const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw Error(out_dir + ": cannot create folder: " + ec.message());
  const fs::path out(out_dir);
  write_file_atomic((out / "tokenizer.json").string(), files.tokenizer.dump(2) + "\n");
  write_file_atomic((out / "tokenizer_config.json").string(), files.tokenizer_config.dump(2) + "\n");
  write_file_atomic((out / "special_tokens_map.json").string(), files.special_tokens_map.dump(2) + "\n");
  return files.notes;
}

std::vector<std::string> write_gguf_tokenizer(const GgufFile& f, const std::string& out_dir) {
  auto files = hf_tokenizer_from_gguf(f);
  if (!files) return {f.path() + " has no tokenizer (no tokenizer.ggml.* metadata); no tokenizer files written"};
  return write_hf_tokenizer_files(*files, out_dir);
}

std::vector<std::string> convert_gguf_tokenizer(const std::string& input, const std::string& out_dir) {
  if (out_dir.empty()) throw Error("convert gguf: --out is required");
  auto f = GgufFile::open(input);
  auto files = hf_tokenizer_from_gguf(*f);
  if (!files)
    throw Error(f->path() + " has no tokenizer (no tokenizer.ggml.* metadata), so --tokenizer-only has nothing to write");
  return write_hf_tokenizer_files(*files, out_dir);
}

}  // namespace axl::models
