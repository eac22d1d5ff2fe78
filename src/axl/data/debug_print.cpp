#include "axl/data/debug_print.h"

namespace axl::data {

std::string format_sample_debug(const tokenizer::Tokenizer& tok, TokenSpan input_ids, TokenSpan labels, bool color) {
  static const char* kRed = "\x1b[31m";
  static const char* kGreen = "\x1b[32m";
  static const char* kYellow = "\x1b[33m";
  static const char* kReset = "\x1b[0m";
  std::string out;
  for (size_t i = 0; i < input_ids.size(); ++i) {
    const TokenId id = input_ids[i];
    const TokenId label = i < labels.size() ? labels[i] : kIgnoreIndex;
    std::string text = tok.decode({id}, false);
    // Keep one line per sample readable: show control characters escaped.
    std::string shown;
    for (char c : text) {
      if (c == '\n') shown += "\\n";
      else if (c == '\t') shown += "\\t";
      else if (c == '\r') shown += "\\r";
      else shown += c;
    }
    if (color) out += label == kIgnoreIndex ? kRed : label == 0 ? kYellow : kGreen;
    out += shown + "(" + std::to_string(label) + ", " + std::to_string(id) + ")";
    if (color) out += kReset;
    out += ' ';
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace axl::data
