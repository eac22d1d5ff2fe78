#pragma once
// The interpreter's value: the Python objects a Jinja2 template can see (None, bool, int,
// float, str, list/tuple, insertion-ordered dict), plus jinja's Undefined, namespace() and
// callables. Containers are shared and never mutated once built (the sandbox transformers
// uses is immutable); only namespaces change, through `set ns.attr = ...`.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace axl::chat {

struct Value;
struct CallArgs;
using ValueList = std::vector<Value>;
using ValuePairs = std::vector<std::pair<Value, Value>>;

struct Callable {
  std::string name;
  std::function<Value(CallArgs&)> fn;
};

struct Value {
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable };
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  // The text of a String; for Undefined the message its misuse raises.
  std::string s;
  bool is_tuple = false;
  std::shared_ptr<const ValueList> list;
  std::shared_ptr<const ValuePairs> dict;
  std::shared_ptr<ValuePairs> ns;  // namespace attributes (keys are strings)
  std::shared_ptr<const Callable> fn;

  static Value undefined(std::string message);
  static Value none();
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value number(double v);
  static Value string(std::string v);
  static Value make_list(ValueList items, bool tuple = false);
  static Value make_dict(ValuePairs items);
  static Value make_namespace(ValuePairs attrs);
  static Value callable(std::string name, std::function<Value(CallArgs&)> fn);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_list() const { return kind == Kind::List; }
  bool is_dict() const { return kind == Kind::Dict; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }

  bool truthy() const;
  double as_double() const;  // for numbers (bool counts as int, as in Python)
  // Dict lookup by key (Python equality); nullptr when absent.
  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
};

// Arguments of a call, as Python passes them.
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The named argument at position `pos` or keyword `name`; nullptr when not given.
  const Value* get(size_t pos, const std::string& name) const;
};

// Python's `==` (1 == 1.0 == True; lists and dicts by content).
bool values_equal(const Value& a, const Value& b);
// Python's str() and repr().
std::string to_str(const Value& v);
std::string to_repr(const Value& v);
// "dict object", "list object", ...: how jinja names a type in error messages.
std::string type_name(const Value& v);
std::string python_float_repr(double d);

}  // namespace axl::chat
