#include "axl/tokenizer/byte_level.h"

#include <array>

#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer::byte_level {

namespace {
struct Table {
  std::array<char32_t, 256> chars{};
  std::array<int16_t, 512> bytes{};  // every stand-in is below U+0200
  Table() {
    bytes.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the rest map to U+0100 upwards in order.
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      chars[b] = printable ? static_cast<char32_t>(b) : next++;
      bytes[chars[b]] = static_cast<int16_t>(b);
    }
  }
};
const Table& table() {
  static const Table t;
  return t;
}
}  // namespace

char32_t char_of_byte(uint8_t b) { return table().chars[b]; }

int byte_of_char(char32_t c) { return c < 512 ? table().bytes[c] : -1; }

bool decode(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size();) {
    int b = byte_of_char(utf8::next(s, i));
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
  }
  return true;
}

}  // namespace axl::tokenizer::byte_level
