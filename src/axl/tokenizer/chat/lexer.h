#pragma once
// Splits a template into text, {{ expression }} and {% statement %} token runs, applying
// jinja2's whitespace rules as transformers configures them: trim_blocks, lstrip_blocks,
// keep_trailing_newline=False, and the -/+ markers. Comments and {% raw %} are resolved here.
#include <string>
#include <vector>

namespace axl::chat {

struct Token {
  enum class Type { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };
  Type type;
  std::string value;  // text, name, decoded string literal, number digits, or operator
  int line;
};

// Throws JinjaFailure{"TemplateSyntaxError"} on an unterminated tag or a bad character.
std::vector<Token> tokenize(const std::string& source);

}  // namespace axl::chat
