#include "axl/tokenizer/chat/template_tests.h"

#include <functional>
#include <unordered_map>

#include "axl/tokenizer/chat/operations.h"
#include "axl/tokenizer/chat/template_error.h"
#include "axl/tokenizer/chat/unicode_text.h"

namespace axl::chat {

using K = Value::Kind;

namespace {

using TestFn = std::function<bool(const Value&, const CallArgs&)>;

const Value& need_arg(const CallArgs& a, const char* test) {
  const Value* v = a.get(0, "other");
  if (!v) v = a.get(0, "value");
  if (!v) fail_type(std::string(test) + "() missing 1 required positional argument");
  return *v;
}

int64_t int_value(const Value& v) {
  if (v.kind == K::Int) return v.i;
  if (v.kind == K::Bool) return v.b;
  fail_type("not all arguments converted during string formatting");
}

const std::unordered_map<std::string, TestFn>& tests() {
  static const std::unordered_map<std::string, TestFn> table = [] {
    std::unordered_map<std::string, TestFn> t;
    t["defined"] = [](const Value& v, const CallArgs&) { return !v.is_undefined(); };
    t["undefined"] = [](const Value& v, const CallArgs&) { return v.is_undefined(); };
    t["none"] = [](const Value& v, const CallArgs&) { return v.is_none(); };
    t["string"] = [](const Value& v, const CallArgs&) { return v.kind == K::String; };
    t["mapping"] = [](const Value& v, const CallArgs&) { return v.kind == K::Dict; };
    // Undefined defines __iter__ (it iterates as empty), so jinja calls it iterable.
    t["iterable"] = [](const Value& v, const CallArgs&) {
      return v.kind == K::String || v.kind == K::List || v.kind == K::Dict || v.kind == K::Undefined;
    };
    t["sequence"] = [](const Value& v, const CallArgs&) {
      return v.kind == K::String || v.kind == K::List || v.kind == K::Dict || v.kind == K::Undefined;
    };
    t["number"] = [](const Value& v, const CallArgs&) { return v.is_number(); };  // bool is a Number
    t["integer"] = [](const Value& v, const CallArgs&) { return v.kind == K::Int; };
    t["float"] = [](const Value& v, const CallArgs&) { return v.kind == K::Float; };
    t["boolean"] = [](const Value& v, const CallArgs&) { return v.kind == K::Bool; };
    t["true"] = [](const Value& v, const CallArgs&) { return v.kind == K::Bool && v.b; };
    t["false"] = [](const Value& v, const CallArgs&) { return v.kind == K::Bool && !v.b; };
    t["callable"] = [](const Value& v, const CallArgs&) { return v.kind == K::Callable; };
    t["odd"] = [](const Value& v, const CallArgs&) { return int_value(v) % 2 != 0; };
    t["even"] = [](const Value& v, const CallArgs&) { return int_value(v) % 2 == 0; };
    t["divisibleby"] = [](const Value& v, const CallArgs& a) {
      int64_t d = int_value(need_arg(a, "divisibleby"));
      if (d == 0) fail("ZeroDivisionError", "integer modulo by zero");
      return int_value(v) % d == 0;
    };
    t["lower"] = [](const Value& v, const CallArgs&) { return v.kind == K::String && text::lower(v.s) == v.s; };
    t["upper"] = [](const Value& v, const CallArgs&) { return v.kind == K::String && text::upper(v.s) == v.s; };
    t["in"] = [](const Value& v, const CallArgs& a) { return contains(need_arg(a, "in"), v); };
    t["sameas"] = [](const Value& v, const CallArgs& a) {
      const Value& o = need_arg(a, "sameas");
      if (v.kind != o.kind) return false;
      if (v.kind == K::None || v.kind == K::Undefined) return true;
      if (v.kind == K::Bool) return v.b == o.b;
      return values_equal(v, o) && (v.kind == K::Int || v.list == o.list || v.dict == o.dict);
    };
    t["escaped"] = [](const Value&, const CallArgs&) { return false; };
    auto cmp = [](const char* op) {
      std::string o = op;
      return [o](const Value& v, const CallArgs& a) { return compare_op(o, v, need_arg(a, o.c_str())); };
    };
    for (const char* n : {"eq", "equalto", "=="}) t[n] = cmp("==");
    for (const char* n : {"ne", "!="}) t[n] = cmp("!=");
    for (const char* n : {"lt", "lessthan", "<"}) t[n] = cmp("<");
    for (const char* n : {"le", "<="}) t[n] = cmp("<=");
    for (const char* n : {"gt", "greaterthan", ">"}) t[n] = cmp(">");
    for (const char* n : {"ge", ">="}) t[n] = cmp(">=");
    return t;
  }();
  return table;
}

}  // namespace

bool is_known_test(const std::string& name) { return tests().count(name) != 0; }

bool apply_test(const std::string& name, const Value& v, const CallArgs& args) {
  auto it = tests().find(name);
  if (it == tests().end()) fail("TemplateAssertionError", "No test named '" + name + "'.");
  return it->second(v, args);
}

}  // namespace axl::chat
