#include "axl/tokenizer/chat/operations.h"

#include <cmath>

#include "axl/tokenizer/chat/methods.h"
#include "axl/tokenizer/chat/template_error.h"
#include "axl/tokenizer/chat/unicode_text.h"

namespace axl::chat {

using K = Value::Kind;

void fail_undefined(const Value& v) {
  // The sandbox's refused attributes carry their own error class in front of the message.
  if (v.s.rfind("access to attribute ", 0) == 0) fail("SecurityError", v.s);
  fail("UndefinedError", v.s);
}

std::string python_type(const Value& v) {
  switch (v.kind) {
    case K::Undefined: return "Undefined";
    case K::None: return "NoneType";
    case K::Bool: return "bool";
    case K::Int: return "int";
    case K::Float: return "float";
    case K::String: return "str";
    case K::List: return v.is_tuple ? "tuple" : "list";
    case K::Dict: return "dict";
    case K::Namespace: return "Namespace";
    default: return "function";
  }
}

static Value no_attribute(const Value& obj, const std::string& name) {
  return Value::undefined("'" + type_name(obj) + "' has no attribute '" + name + "'");
}

static Value no_element(const Value& obj, const Value& key) {
  return Value::undefined(type_name(obj) + " has no element " + to_repr(key));
}

static bool is_int_like(const Value& v) { return v.kind == K::Int || v.kind == K::Bool; }
static int64_t int_of(const Value& v) { return v.kind == K::Bool ? v.b : v.i; }

// Item lookup alone: nullopt-like flag when the container has no such item.
static bool lookup_item(const Value& obj, const Value& key, Value* out) {
  if (obj.kind == K::Dict) {
    const Value* v = obj.find(key);
    if (v) *out = *v;
    return v != nullptr;
  }
  if ((obj.kind == K::List || obj.kind == K::String) && is_int_like(key)) {
    int64_t idx = int_of(key);
    if (obj.kind == K::List) {
      int64_t n = int64_t(obj.list->size());
      if (idx < 0) idx += n;
      if (idx < 0 || idx >= n) return false;
      *out = (*obj.list)[size_t(idx)];
      return true;
    }
    auto cps = text::decode(obj.s);
    int64_t n = int64_t(cps.size());
    if (idx < 0) idx += n;
    if (idx < 0 || idx >= n) return false;
    *out = Value::string(text::encode(cps, size_t(idx), size_t(idx) + 1));
    return true;
  }
  return false;
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.kind == K::Undefined) fail_undefined(obj);
  if (obj.kind == K::Namespace) {
    const Value* v = obj.find(name);
    return v ? *v : no_attribute(obj, name);
  }
  // Python attributes (methods) first, then the item of that name, as jinja's getattr does.
  bool found = false;
  Value m = bound_method(obj, name, &found);
  if (found || m.s.rfind("access to attribute ", 0) == 0) return m;
  Value item;
  if (lookup_item(obj, Value::string(name), &item)) return item;
  return no_attribute(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.kind == K::Undefined) fail_undefined(obj);
  Value item;
  if (lookup_item(obj, key, &item)) return item;
  if (obj.kind == K::Namespace && key.kind == K::String) return get_attr(obj, key.s);
  if (key.kind == K::String) {
    bool found = false;
    Value m = bound_method(obj, key.s, &found);
    if (found || m.s.rfind("access to attribute ", 0) == 0) return m;
    return no_attribute(obj, key.s);
  }
  return no_element(obj, key);
}

Value get_path(const Value& obj, const std::string& dotted) {
  Value cur = obj;
  size_t start = 0;
  for (;;) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    if (cur.is_undefined()) return cur;
    cur = get_item(cur, digits ? Value::integer(std::stoll(part)) : Value::string(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.kind == K::Undefined) fail_undefined(obj);
  auto opt_int = [](const Value& v, const char* what) -> std::pair<bool, int64_t> {
    if (v.kind == K::None || v.kind == K::Undefined) return {false, 0};
    if (!is_int_like(v)) fail_type(std::string("slice ") + what + " must be integers or None");
    return {true, int_of(v)};
  };
  std::vector<uint32_t> cps;
  int64_t n;
  if (obj.kind == K::String) {
    cps = text::decode(obj.s);
    n = int64_t(cps.size());
  } else if (obj.kind == K::List) {
    n = int64_t(obj.list->size());
  } else {
    fail_type("'" + python_type(obj) + "' object is not subscriptable");
  }
  auto [has_step, st] = opt_int(step, "indices");
  if (!has_step) st = 1;
  if (st == 0) fail("ValueError", "slice step cannot be zero");
  auto clamp = [&](std::pair<bool, int64_t> v, int64_t dflt) {
    if (!v.first) return dflt;
    int64_t x = v.second;
    if (x < 0) x += n;
    if (st > 0) return std::max<int64_t>(0, std::min(x, n));
    return std::max<int64_t>(-1, std::min(x, n - 1));
  };
  int64_t b = clamp(opt_int(start, "indices"), st > 0 ? 0 : n - 1);
  int64_t e = clamp(opt_int(stop, "indices"), st > 0 ? n : -1);
  std::vector<int64_t> idx;
  for (int64_t k = b; st > 0 ? k < e : k > e; k += st) idx.push_back(k);
  if (obj.kind == K::String) {
    std::string out;
    for (int64_t k : idx) text::append_utf8(out, cps[size_t(k)]);
    return Value::string(out);
  }
  ValueList out;
  for (int64_t k : idx) out.push_back((*obj.list)[size_t(k)]);
  return Value::make_list(std::move(out), obj.is_tuple);
}

static Value numeric(const std::string& op, const Value& a, const Value& b) {
  bool ints = a.kind != K::Float && b.kind != K::Float;
  if (op == "/") {
    if (b.as_double() == 0) fail("ZeroDivisionError", "division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (ints) {
    int64_t x = int_of(a), y = int_of(b);
    if (op == "+") return Value::integer(x + y);
    if (op == "-") return Value::integer(x - y);
    if (op == "*") return Value::integer(x * y);
    if (op == "//" || op == "%") {
      if (y == 0) fail("ZeroDivisionError", op == "%" ? "integer modulo by zero" : "integer division or modulo by zero");
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      return Value::integer(op == "//" ? q : r);
    }
    if (op == "**") {
      if (y < 0) return Value::number(std::pow(double(x), double(y)));
      int64_t r = 1;
      for (int64_t k = 0; k < y; ++k) r *= x;
      return Value::integer(r);
    }
  }
  double x = a.as_double(), y = b.as_double();
  if (op == "+") return Value::number(x + y);
  if (op == "-") return Value::number(x - y);
  if (op == "*") return Value::number(x * y);
  if (op == "**") return Value::number(std::pow(x, y));
  if (y == 0) fail("ZeroDivisionError", "float division by zero");
  if (op == "//") return Value::number(std::floor(x / y));
  double r = std::fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return Value::number(r);
}

static Value repeat(const Value& seq, int64_t times) {
  if (seq.kind == K::String) {
    std::string out;
    for (int64_t k = 0; k < times; ++k) out += seq.s;
    return Value::string(out);
  }
  ValueList out;
  for (int64_t k = 0; k < times; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return Value::make_list(std::move(out), seq.is_tuple);
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value::string(to_str(a) + to_str(b));
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) return numeric(op, a, b);
  if (op == "+") {
    if (a.kind == K::String && b.kind == K::String) return Value::string(a.s + b.s);
    if (a.kind == K::List && b.kind == K::List && a.is_tuple == b.is_tuple) {
      ValueList out(*a.list);
      out.insert(out.end(), b.list->begin(), b.list->end());
      return Value::make_list(std::move(out), a.is_tuple);
    }
    if (a.kind == K::String)
      fail_type("can only concatenate str (not \"" + python_type(b) + "\") to str");
    if (a.kind == K::List)
      fail_type("can only concatenate " + python_type(a) + " (not \"" + python_type(b) + "\") to " + python_type(a));
  }
  if (op == "*") {
    if ((a.kind == K::String || a.kind == K::List) && is_int_like(b)) return repeat(a, int_of(b));
    if ((b.kind == K::String || b.kind == K::List) && is_int_like(a)) return repeat(b, int_of(a));
  }
  if (op == "%" && a.kind == K::String) fail_type("printf-style '%' formatting is not supported");
  fail_type("unsupported operand type(s) for " + op + ": '" + python_type(a) + "' and '" + python_type(b) + "'");
}

int three_way(const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.kind != K::Float && b.kind != K::Float) {
      int64_t x = int_of(a), y = int_of(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind == K::String && b.kind == K::String) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  if (a.kind == K::List && b.kind == K::List && a.is_tuple == b.is_tuple) {
    size_t n = std::min(a.list->size(), b.list->size());
    for (size_t k = 0; k < n; ++k) {
      if (values_equal((*a.list)[k], (*b.list)[k])) continue;
      return three_way((*a.list)[k], (*b.list)[k]);
    }
    return a.list->size() < b.list->size() ? -1 : a.list->size() > b.list->size() ? 1 : 0;
  }
  fail_type("'<' not supported between instances of '" + python_type(a) + "' and '" + python_type(b) + "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind) {
    case K::Undefined: return false;
    case K::String:
      if (item.kind != K::String)
        fail_type("'in <string>' requires string as left operand, not " + python_type(item));
      return container.s.find(item.s) != std::string::npos;
    case K::List:
      for (const auto& v : *container.list)
        if (values_equal(v, item)) return true;
      return false;
    case K::Dict: return container.find(item) != nullptr;
    default: fail_type("argument of type '" + python_type(container) + "' is not iterable");
  }
}

bool compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return values_equal(a, b);
  if (op == "!=") return !values_equal(a, b);
  if (op == "in") return contains(b, a);
  if (op == "notin") return !contains(b, a);
  int c = three_way(a, b);
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

ValueList iterate(const Value& v) {
  switch (v.kind) {
    case K::Undefined: return {};
    case K::List: return *v.list;
    case K::Dict: {
      ValueList keys;
      for (const auto& kv : *v.dict) keys.push_back(kv.first);
      return keys;
    }
    case K::String: {
      ValueList chars;
      auto cps = text::decode(v.s);
      for (size_t k = 0; k < cps.size(); ++k) chars.push_back(Value::string(text::encode(cps, k, k + 1)));
      return chars;
    }
    default: fail_type("'" + python_type(v) + "' object is not iterable");
  }
}

size_t python_len(const Value& v) {
  switch (v.kind) {
    case K::Undefined: return 0;
    case K::String: return text::length(v.s);
    case K::List: return v.list->size();
    case K::Dict: return v.dict->size();
    default: fail_type("object of type '" + python_type(v) + "' has no len()");
  }
}

Value call_value(const Value& fn, CallArgs& args) {
  if (fn.kind == K::Undefined) fail_undefined(fn);
  if (fn.kind != K::Callable) fail_type("'" + python_type(fn) + "' object is not callable");
  return fn.fn->fn(args);
}

}  // namespace axl::chat
