#pragma once
// jinja2's tests (`x is defined`, `x is string`, `x is equalto y`, ...).
#include <string>

#include "axl/tokenizer/chat/value.h"

namespace axl::chat {

bool is_known_test(const std::string& name);
// Throws TemplateRuntimeError for an unknown test name.
bool apply_test(const std::string& name, const Value& v, const CallArgs& args);

}  // namespace axl::chat
