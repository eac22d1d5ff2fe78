#pragma once
// UTF-8 helpers shared by the tokenizer pipeline: decoding one code point, encoding one,
// Unicode character classes with the meaning Rust's `char` methods give them (HF tokenizers is
// Rust), lossy decoding like Rust's String::from_utf8_lossy, and byte -> code point offsets.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace axl::tokenizer::utf8 {

// Length of the sequence that starts with byte `lead` (1 for an invalid lead byte).
inline size_t seq_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at s[i] (which must be valid UTF-8) and advances i past it.
inline char32_t next(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = seq_len(c);
  if (n == 1 || i + n > s.size()) {
    ++i;
    return c;
  }
  char32_t cp = n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

void append(std::string& out, char32_t cp);
std::string encode(char32_t cp);

// Offset of the first invalid byte, or npos when `s` is valid UTF-8.
size_t find_invalid(std::string_view s);

// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes U+FFFD.
std::string lossy(std::string_view bytes);

// Character classes as Rust defines them.
bool is_whitespace(char32_t c);     // White_Space property
bool is_alphanumeric(char32_t c);   // Alphabetic or Nd/Nl/No
bool is_numeric(char32_t c);        // Nd/Nl/No
bool is_punctuation(char32_t c);    // ASCII punctuation or a P* category (HF's is_punc)

// Full lowercase mapping of one code point (context free, like Rust's char::to_lowercase).
void append_lowercase(std::string& out, char32_t c);

// Converts byte offsets in `text` to code point offsets: a start maps to the code point that
// holds it, an end to one past the code point that holds its last byte (as HF does).
class CharOffsets {
 public:
  explicit CharOffsets(std::string_view text);
  std::pair<uint32_t, uint32_t> convert(uint32_t begin, uint32_t end) const;

 private:
  std::vector<uint32_t> char_of_byte_;  // empty when the text is all ASCII (identity)
};

}  // namespace axl::tokenizer::utf8
