#pragma once
// A compiled PCRE2 pattern (UTF + UCP, JIT) standing in for the Oniguruma regexes of HF
// tokenizers. Match data and the JIT stack are per thread, so one Regex is shared by all
// encode threads without locks.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace axl::tokenizer {

class Regex {
 public:
  // `what` names the pattern's owner in error messages.
  Regex(const std::string& pattern, const std::string& what);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls on_match(begin, end) for each non-overlapping match, left to right. `text` must be
  // valid UTF-8. An empty match advances by one code point.
  template <class F>
  void for_each_match(std::string_view text, F&& on_match) const {
    size_t pos = 0;
    size_t b, e;
    while (pos <= text.size() && find(text, pos, b, e)) {
      if (e > b) on_match(b, e);
      if (e > b) {
        pos = e;
      } else {
        if (b >= text.size()) break;
        pos = b + 1;
        while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      }
    }
  }

  // The first match at or after `start`; false when there is none.
  bool find(std::string_view text, size_t start, size_t& begin, size_t& end) const;

 private:
  void* code_;  // pcre2_code_8*
  bool jit_;
};

}  // namespace axl::tokenizer
