#include "axl/data/streaming_encode_strategy.h"

#include "axl/core/error.h"
#include "axl/data/hf_tokenize.h"

namespace axl::data {
namespace {

class StreamingEncodeStrategy : public PromptStrategy {
 public:
  StreamingEncodeStrategy(std::string column, size_t sequence_len, bool concatenate, const tokenizer::Tokenizer& tok,
                          TokenId pad_id)
      : column_(std::move(column)), max_length_(sequence_len - 2), concatenate_(concatenate), tok_(tok), pad_id_(pad_id) {
    if (sequence_len < 4) throw Error("streaming pretraining: sequence_len must be at least 4");
    if (concatenate && !tok.special_tokens().eos_id)
      throw Error("streaming pretraining with pretraining_sample_concatenation needs a tokenizer with an EOS token");
  }
  std::string name() const override { return "pretrain (streaming)"; }
  void tokenize(const nlohmann::ordered_json& row, std::vector<TokenizedSample>& out) const override {
    TokenizedSample s;
    s.input_ids = encode_truncated(tok_, required_string(row, column_), max_length_);
    s.labels = s.input_ids;
    if (concatenate_) {
      s.input_ids.push_back(*tok_.special_tokens().eos_id);
      s.input_ids.push_back(pad_id_);
      s.labels.push_back(*tok_.special_tokens().eos_id);
      s.labels.push_back(kIgnoreIndex);
    }
    out.push_back(std::move(s));
  }

 private:
  std::string column_;
  size_t max_length_;
  bool concatenate_;
  const tokenizer::Tokenizer& tok_;
  TokenId pad_id_;
};

}  // namespace

std::unique_ptr<PromptStrategy> make_streaming_encode_strategy(const std::string& text_column, size_t sequence_len,
                                                               bool concatenate, const tokenizer::Tokenizer& tok,
                                                               TokenId pad_id) {
  return std::make_unique<StreamingEncodeStrategy>(text_column, sequence_len, concatenate, tok, pad_id);
}

}  // namespace axl::data
