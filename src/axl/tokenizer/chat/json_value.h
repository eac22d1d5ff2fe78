#pragma once
// JSON in and out of the interpreter: nlohmann values become template values (objects keep
// their key order when given as ordered_json), and `tojson` writes Python's json.dumps text.
#include <nlohmann/json.hpp>
#include <string>

#include "axl/tokenizer/chat/value.h"

namespace axl::chat {

Value from_json(const nlohmann::ordered_json& j);
Value from_json(const nlohmann::json& j);

struct JsonDumpOptions {
  bool ensure_ascii = false;  // transformers' tojson default
  bool has_indent = false;    // indent=None
  std::string indent;         // one level of indentation when has_indent
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// json.dumps(value, ...): TypeError for values JSON cannot hold (Undefined, callables, ...).
std::string dump_json(const Value& v, const JsonDumpOptions& options);

}  // namespace axl::chat
