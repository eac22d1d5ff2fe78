#pragma once
// The Python methods templates call on str, dict and list values (message.content.strip(),
// tool.items(), ...). Methods that mutate are refused as the immutable sandbox refuses them.
#include <string>

#include "axl/tokenizer/chat/value.h"

namespace axl::chat {

// The bound method `obj.name`, or Undefined (the sandbox's "unsafe" message for mutators, the
// "has no attribute" message otherwise) when there is none. *found says whether it exists.
Value bound_method(const Value& obj, const std::string& name, bool* found);

// Python str.split(sep, maxsplit) with sep null meaning whitespace runs.
ValueList python_split(const std::string& s, const std::string* sep, int64_t maxsplit);

}  // namespace axl::chat
