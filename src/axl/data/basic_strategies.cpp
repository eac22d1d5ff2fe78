#include "axl/data/basic_strategies.h"

#include "axl/core/error.h"
#include "axl/data/hf_tokenize.h"

namespace axl::data {
namespace {

using Json = nlohmann::ordered_json;

// Raw text, trained everywhere: tokenized with max_length = sequence_len * 64 (EOS added),
// then cut into sequence_len pieces (Axolotl's completion strategy).
class CompletionStrategy : public PromptStrategy {
 public:
  CompletionStrategy(std::string field, const config::Config& cfg, const tokenizer::Tokenizer& tok)
      : field_(std::move(field)), tok_(tok), sequence_len_(static_cast<size_t>(cfg.sequence_len)),
        max_length_(static_cast<size_t>(cfg.sequence_len) * 64) {}
  std::string name() const override { return "completion"; }
  void tokenize(const Json& row, std::vector<TokenizedSample>& out) const override {
    std::vector<TokenId> ids = axolotl_tokenize(tok_, required_string(row, field_), max_length_, true, false);
    for (size_t i = 0; i < ids.size(); i += sequence_len_) {
      std::vector<TokenId> piece(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                 ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + sequence_len_)));
      out.push_back(TokenizedSample{piece, piece});
    }
  }

 private:
  std::string field_;
  const tokenizer::Tokenizer& tok_;
  size_t sequence_len_, max_length_;
};

// Template-free segments: each text tokenized without special tokens; trained when its
// label is true (or train_on_inputs).
class InputOutputStrategy : public PromptStrategy {
 public:
  InputOutputStrategy(const config::Config& cfg, const tokenizer::Tokenizer& tok)
      : tok_(tok), train_on_inputs_(cfg.train_on_inputs) {}
  std::string name() const override { return "input_output"; }
  void tokenize(const Json& row, std::vector<TokenizedSample>& out) const override {
    if (!row.contains("segments") || !row["segments"].is_array())
      throw Error("input_output rows need a 'segments' list of {label, text}");
    TokenizedSample s;
    for (const auto& seg : row["segments"]) {
      if (!seg.is_object() || !seg.contains("text") || !seg["text"].is_string() || !seg.contains("label"))
        throw Error("each segment needs 'text' (a string) and 'label' (true/false)");
      std::vector<TokenId> ids = tok_.encode(seg["text"].get<std::string>(), false);
      const bool trained = (seg["label"].is_boolean() && seg["label"].get<bool>()) || train_on_inputs_;
      s.input_ids.insert(s.input_ids.end(), ids.begin(), ids.end());
      if (trained)
        s.labels.insert(s.labels.end(), ids.begin(), ids.end());
      else
        s.labels.insert(s.labels.end(), ids.size(), kIgnoreIndex);
    }
    out.push_back(std::move(s));
  }

 private:
  const tokenizer::Tokenizer& tok_;
  bool train_on_inputs_;
};

// Pretraining text: windows of sequence_len - 1 tokens (special tokens included) that
// overlap by stride = min(256, (sequence_len - 1) / 2), each followed by EOS; no masking.
class PretrainStrategy : public PromptStrategy {
 public:
  PretrainStrategy(std::string column, const config::Config& cfg, const tokenizer::Tokenizer& tok)
      : column_(std::move(column)), tok_(tok), max_length_(static_cast<size_t>(cfg.sequence_len)) {
    if (max_length_ < 4) throw Error("pretrain: sequence_len must be at least 4");
  }
  std::string name() const override { return "pretrain"; }
  void tokenize(const Json& row, std::vector<TokenizedSample>& out) const override {
    const std::string text = required_string(row, column_);
    std::vector<TokenId> full = tok_.encode(text, true), plain = tok_.encode(text, false);
    const size_t added = full.size() - plain.size();
    size_t prefix = 0;
    while (prefix < added && !std::equal(plain.begin(), plain.end(), full.begin() + static_cast<std::ptrdiff_t>(prefix)))
      ++prefix;
    const size_t window = max_length_ - 1;
    const size_t content = window > added ? window - added : 1;
    const size_t stride = std::min<size_t>(256, (max_length_ - 1) / 2);
    const size_t step = content > stride ? content - stride : 1;
    const std::optional<TokenId> eos = tok_.special_tokens().eos_id;
    for (size_t begin = 0;; begin += step) {
      size_t end = std::min(plain.size(), begin + content);
      std::vector<TokenId> ids(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(prefix));
      ids.insert(ids.end(), plain.begin() + static_cast<std::ptrdiff_t>(begin), plain.begin() + static_cast<std::ptrdiff_t>(end));
      ids.insert(ids.end(), full.end() - static_cast<std::ptrdiff_t>(added - prefix), full.end());
      if (eos) ids.push_back(*eos);
      out.push_back(TokenizedSample{ids, ids});
      if (end >= plain.size()) break;
    }
  }

 private:
  std::string column_;
  const tokenizer::Tokenizer& tok_;
  size_t max_length_;
};

std::vector<TokenId> id_list(const Json& v, const char* what) {
  if (!v.is_array()) throw Error(std::string("'") + what + "' must be a list of token ids");
  std::vector<TokenId> ids;
  ids.reserve(v.size());
  for (const auto& x : v) {
    if (!x.is_number_integer()) throw Error(std::string("'") + what + "' must hold integers");
    ids.push_back(x.get<TokenId>());
  }
  return ids;
}

class PretokenizedStrategy : public PromptStrategy {
 public:
  std::string name() const override { return "pre-tokenized"; }
  void tokenize(const Json& row, std::vector<TokenizedSample>& out) const override {
    if (!row.contains("input_ids")) throw Error("pre-tokenized rows (empty type:) need 'input_ids'");
    TokenizedSample s;
    s.input_ids = id_list(row["input_ids"], "input_ids");
    s.labels = row.contains("labels") ? id_list(row["labels"], "labels") : s.input_ids;
    if (s.labels.size() != s.input_ids.size())
      throw Error("'labels' has " + std::to_string(s.labels.size()) + " ids but 'input_ids' has " +
                  std::to_string(s.input_ids.size()));
    out.push_back(std::move(s));
  }
};

}  // namespace

std::unique_ptr<PromptStrategy> make_completion_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                         const tokenizer::Tokenizer& tok) {
  return std::make_unique<CompletionStrategy>(ds.field.value_or("text"), cfg, tok);
}
std::unique_ptr<PromptStrategy> make_input_output_strategy(const config::Config& cfg, const tokenizer::Tokenizer& tok) {
  return std::make_unique<InputOutputStrategy>(cfg, tok);
}
std::unique_ptr<PromptStrategy> make_pretrain_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                       const tokenizer::Tokenizer& tok) {
  return std::make_unique<PretrainStrategy>(ds.text_column.value_or("text"), cfg, tok);
}
std::unique_ptr<PromptStrategy> make_pretokenized_strategy() { return std::make_unique<PretokenizedStrategy>(); }

}  // namespace axl::data
