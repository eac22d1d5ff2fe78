#pragma once
// Python str semantics over UTF-8 bytes: code-point indexing, Python's notion of whitespace
// (str.strip/split), printable characters (repr), ASCII-only case mapping.
#include <cstdint>
#include <string>
#include <vector>

namespace axl::chat::text {

std::vector<uint32_t> decode(const std::string& s);  // invalid bytes map to U+FFFD
std::string encode(const std::vector<uint32_t>& cps, size_t begin, size_t end);
void append_utf8(std::string& out, uint32_t cp);
size_t length(const std::string& s);  // in code points

bool is_space(uint32_t cp);      // str.isspace()
bool is_printable(uint32_t cp);  // str.isprintable() (approximation without the Unicode DB)
bool is_alpha(uint32_t cp);      // letters (ASCII, Latin-1, and everything above U+00FF)
uint32_t to_upper(uint32_t cp);
uint32_t to_lower(uint32_t cp);

// str.strip / lstrip / rstrip; `chars` null means whitespace.
std::string strip(const std::string& s, const std::string* chars, bool left, bool right);
std::string upper(const std::string& s);
std::string lower(const std::string& s);

}  // namespace axl::chat::text
