#pragma once
// jinja2's built-in filters that chat templates use, with transformers' `tojson` override
// (json.dumps with ensure_ascii=False and the indent/separators/sort_keys keywords).
#include <string>

#include "axl/tokenizer/chat/value.h"

namespace axl::chat {

bool is_known_filter(const std::string& name);
Value apply_filter(const std::string& name, const Value& v, const CallArgs& args);

}  // namespace axl::chat
