#pragma once
// GPT-2's byte <-> character table: every byte gets a printable stand-in character
// (space -> 'Ġ', newline -> 'Ċ', ...), which is how byte-level vocabularies spell bytes.
#include <cstdint>
#include <string>
#include <string_view>

namespace axl::tokenizer::byte_level {

// The stand-in character of byte b.
char32_t char_of_byte(uint8_t b);
// Byte of stand-in character c, or -1 when c is not one.
int byte_of_char(char32_t c);
// Decodes a stand-in string to bytes; false when a character is not a stand-in.
bool decode(std::string_view s, std::string& out);

}  // namespace axl::tokenizer::byte_level
