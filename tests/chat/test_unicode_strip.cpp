// str.strip over UTF-8: the byte-cutting fast path must give what decoding to code points,
// stripping and encoding again gives (Python semantics), invalid bytes included.
#include <gtest/gtest.h>

#include <string>

#include "axl/tokenizer/chat/unicode_text.h"

namespace {

using axl::chat::text::strip;

TEST(UnicodeStrip, WhitespaceIsPythons) {
  EXPECT_EQ(strip("  hi  ", nullptr, true, true), "hi");
  EXPECT_EQ(strip("\u3000\u2003 h\u00e9llo w\u00f6rld\u00a0\n\u2029", nullptr, true, true), "h\u00e9llo w\u00f6rld");
  EXPECT_EQ(strip("\u3000x\u3000", nullptr, true, false), "x\u3000");
  EXPECT_EQ(strip("\u3000x\u3000", nullptr, false, true), "\u3000x");
  EXPECT_EQ(strip(" \t\n ", nullptr, true, true), "");
  EXPECT_EQ(strip("", nullptr, true, true), "");
  EXPECT_EQ(strip("\u200b x \u200b", nullptr, true, true), "\u200b x \u200b");  // zero width space is not a space
  EXPECT_EQ(strip("\U0001F642 \U0001F642 ", nullptr, true, true), "\U0001F642 \U0001F642");
}

TEST(UnicodeStrip, Chars) {
  const std::string chars = "x\u00e9";
  EXPECT_EQ(strip("x\u00e9hi\u00e9xx", &chars, true, true), "hi");
  EXPECT_EQ(strip("\u00e8hi", &chars, true, true), "\u00e8hi");  // same lead byte, another character
}

TEST(UnicodeStrip, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(strip(" \xff a ", nullptr, true, true), "\xEF\xBF\xBD a");
  EXPECT_EQ(strip("\xC0\x80 x ", nullptr, true, true), std::string("\0 x", 3));  // overlong NUL: decoded, re-encoded
  EXPECT_EQ(strip(" a \xE2\x80", nullptr, true, true), "a \xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
}

}  // namespace
