#pragma once
// Incremental detokenization for streaming generated text: each new id re-decodes the ids
// generated so far and hands out only the text not yet emitted. Text that ends in an
// incomplete byte sequence (decoded as U+FFFD) is held back until the next id completes it,
// so multi-byte characters split across byte-fallback tokens print whole.
#include <algorithm>
#include <string>
#include <vector>

#include "axl/tokenizer/tokenizer.h"

namespace axl::tokenizer {

class TextStreamer {
 public:
  explicit TextStreamer(const Tokenizer& tok, bool skip_special_tokens = true)
      : tok_(tok), skip_special_(skip_special_tokens) {}

  // The new text that `id` makes printable (possibly empty).
  std::string put(TokenId id) {
    ids_.push_back(id);
    std::string text = tok_.decode(ids_, skip_special_);
    static const std::string kReplacement = "\xEF\xBF\xBD";
    bool incomplete = text.size() >= kReplacement.size() &&
                      text.compare(text.size() - kReplacement.size(), kReplacement.size(), kReplacement) == 0;
    if (incomplete) return {};
    return take_new(text);
  }

  // Whatever is still held back (call once at the end).
  std::string flush() { return take_new(tok_.decode(ids_, skip_special_)); }

 private:
  std::string take_new(const std::string& text) {
    // Decoding a longer sequence normally extends the shorter one's text; if a decoder
    // rewrote earlier text, only what lies past the emitted length is new.
    std::string out = text.size() > emitted_ ? text.substr(emitted_) : std::string();
    emitted_ = std::max(emitted_, text.size());
    return out;
  }

  const Tokenizer& tok_;
  bool skip_special_;
  std::vector<TokenId> ids_;
  std::size_t emitted_ = 0;
};

}  // namespace axl::tokenizer
