#pragma once
// Python/jinja2 semantics of the operators: attribute and item access (with jinja's
// fall-back from one to the other and its Undefined results), slicing, arithmetic,
// comparison, membership, iteration and calls.
#include <string>

#include "axl/tokenizer/chat/value.h"

namespace axl::chat {

[[noreturn]] void fail_undefined(const Value& undefined);

Value get_attr(const Value& obj, const std::string& name);  // `obj.name`
Value get_item(const Value& obj, const Value& key);          // `obj[key]`
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// `obj.a.b` / `obj.0` paths as map(attribute=...) and friends use them.
Value get_path(const Value& obj, const std::string& dotted);

Value binary_op(const std::string& op, const Value& a, const Value& b);
bool compare_op(const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);  // `item in container`
// Python's ordering for sort/min/max (numbers, strings, sequences); TypeError otherwise.
int three_way(const Value& a, const Value& b);

ValueList iterate(const Value& v);  // `for x in v`
size_t python_len(const Value& v);  // len(v), TypeError when it has none
Value call_value(const Value& fn, CallArgs& args);
// Python type name as TypeError messages print it ('int', 'str', 'NoneType', ...).
std::string python_type(const Value& v);

}  // namespace axl::chat
