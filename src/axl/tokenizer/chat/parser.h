#pragma once
// Tokens to statement/expression trees, following jinja2's grammar and operator precedence
// (or < and < not < comparisons < + - < ~ < * / // % < ** < unary; filters and tests bind to
// the primary they follow).
#include <vector>

#include "axl/tokenizer/chat/ast.h"
#include "axl/tokenizer/chat/lexer.h"

namespace axl::chat {

// Throws JinjaFailure{"TemplateSyntaxError"} with the offending line.
Body parse(const std::vector<Token>& tokens);

}  // namespace axl::chat
