#include "axl/tokenizer/chat/methods.h"

#include <set>

#include "axl/tokenizer/chat/operations.h"
#include "axl/tokenizer/chat/template_error.h"
#include "axl/tokenizer/chat/unicode_text.h"

namespace axl::chat {

using K = Value::Kind;

namespace {

const Value* arg(const CallArgs& a, size_t pos, const std::string& name) { return a.get(pos, name); }

std::string str_arg(const CallArgs& a, size_t pos, const std::string& name, const std::string& method) {
  const Value* v = arg(a, pos, name);
  if (!v) fail_type(method + "() missing required argument '" + name + "'");
  if (v->kind != K::String)
    fail_type("must be str, not " + python_type(*v));
  return v->s;
}

int64_t int_arg(const CallArgs& a, size_t pos, const std::string& name, int64_t dflt) {
  const Value* v = arg(a, pos, name);
  if (!v || v->is_none()) return dflt;
  if (v->kind == K::Int) return v->i;
  if (v->kind == K::Bool) return v->b;
  fail_type("'" + python_type(*v) + "' object cannot be interpreted as an integer");
}

bool affix_match(const std::string& s, const Value& affix, bool prefix, const std::string& method) {
  auto one = [&](const Value& v) {
    if (v.kind != K::String)
      fail_type(method + " first arg must be str or a tuple of str, not " + python_type(v));
    if (v.s.size() > s.size()) return false;
    return prefix ? s.compare(0, v.s.size(), v.s) == 0 : s.compare(s.size() - v.s.size(), v.s.size(), v.s) == 0;
  };
  if (affix.kind == K::List && affix.is_tuple) {
    for (const auto& v : *affix.list)
      if (one(v)) return true;
    return false;
  }
  return one(affix);
}

std::string title_case(const std::string& s) {
  auto cps = text::decode(s);
  bool prev_cased = false;
  for (auto& c : cps) {
    c = prev_cased ? text::to_lower(c) : text::to_upper(c);
    prev_cased = text::is_alpha(c);
  }
  return text::encode(cps, 0, cps.size());
}

std::string capitalize(const std::string& s) {
  auto cps = text::decode(s);
  for (size_t k = 0; k < cps.size(); ++k) cps[k] = k == 0 ? text::to_upper(cps[k]) : text::to_lower(cps[k]);
  return text::encode(cps, 0, cps.size());
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` around every character.
    auto cps = text::decode(s);
    int64_t done = 0;
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (k < cps.size()) text::append_utf8(out, cps[k]);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  for (;;) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos || (count >= 0 && done >= count)) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

// str.format with {} / {0} / {name} fields and no format specs.
std::string format_string(const std::string& fmt, const CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t k = 0; k < fmt.size(); ++k) {
    char c = fmt[k];
    if (c == '{' && k + 1 < fmt.size() && fmt[k + 1] == '{') {
      out += '{';
      ++k;
    } else if (c == '}' && k + 1 < fmt.size() && fmt[k + 1] == '}') {
      out += '}';
      ++k;
    } else if (c == '{') {
      size_t end = fmt.find('}', k);
      if (end == std::string::npos) fail("ValueError", "Single '{' encountered in format string");
      std::string field = fmt.substr(k + 1, end - k - 1);
      if (field.find(':') != std::string::npos || field.find('!') != std::string::npos)
        fail("ValueError", "format specs are not supported in str.format");
      const Value* v = nullptr;
      if (field.empty()) {
        v = auto_index < a.positional.size() ? &a.positional[auto_index] : nullptr;
        ++auto_index;
      } else if (field.find_first_not_of("0123456789") == std::string::npos) {
        size_t idx = std::stoul(field);
        v = idx < a.positional.size() ? &a.positional[idx] : nullptr;
      } else {
        for (const auto& kv : a.keyword)
          if (kv.first == field) v = &kv.second;
      }
      if (!v) fail("IndexError", "Replacement index out of range for positional args tuple");
      out += to_str(*v);
      k = end;
    } else {
      out += c;
    }
  }
  return out;
}

template <typename Pred>
bool all_chars(const std::string& s, Pred pred) {
  auto cps = text::decode(s);
  if (cps.empty()) return false;
  for (uint32_t c : cps)
    if (!pred(c)) return false;
  return true;
}

Value string_method(const Value& self, const std::string& name, bool* found) {
  const std::string s = self.s;
  auto method = [&](std::function<Value(CallArgs&)> f) {
    *found = true;
    return Value::callable("str." + name, std::move(f));
  };
  if (name == "startswith" || name == "endswith") {
    bool prefix = name == "startswith";
    return method([s, prefix, name](CallArgs& a) {
      const Value* v = a.get(0, "prefix");
      if (!v) fail_type(name + "() takes at least 1 argument (0 given)");
      return Value::boolean(affix_match(s, *v, prefix, name));
    });
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    bool left = name != "rstrip", right = name != "lstrip";
    return method([s, left, right](CallArgs& a) {
      const Value* chars = a.get(0, "chars");
      if (chars && !chars->is_none() && chars->kind != K::String) fail_type("strip arg must be None or str");
      return Value::string(text::strip(s, chars && !chars->is_none() ? &chars->s : nullptr, left, right));
    });
  }
  if (name == "split" || name == "rsplit") {
    bool right = name == "rsplit";
    return method([s, right](CallArgs& a) {
      const Value* sep = a.get(0, "sep");
      int64_t maxsplit = int_arg(a, 1, "maxsplit", -1);
      std::string sep_s;
      bool has_sep = sep && !sep->is_none();
      if (has_sep) {
        if (sep->kind != K::String) fail_type("must be str or None, not " + python_type(*sep));
        sep_s = sep->s;
      }
      if (!right || maxsplit < 0) return Value::make_list(python_split(s, has_sep ? &sep_s : nullptr, maxsplit));
      // rsplit with a limit: split the reversed problem from the right.
      ValueList all = python_split(s, has_sep ? &sep_s : nullptr, -1);
      if (int64_t(all.size()) <= maxsplit + 1) return Value::make_list(all);
      if (!has_sep) fail("NotImplementedError", "rsplit(None, maxsplit) is not supported");
      size_t keep = all.size() - size_t(maxsplit);
      std::string head;
      for (size_t k = 0; k < keep; ++k) head += (k ? sep_s : "") + all[k].s;
      ValueList out{Value::string(head)};
      out.insert(out.end(), all.begin() + keep, all.end());
      return Value::make_list(out);
    });
  }
  if (name == "splitlines") {
    return method([s](CallArgs&) {
      ValueList out;
      std::string cur;
      for (size_t k = 0; k < s.size(); ++k) {
        if (s[k] == '\n' || s[k] == '\r') {
          out.push_back(Value::string(cur));
          cur.clear();
          if (s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ++k;
        } else {
          cur += s[k];
        }
      }
      if (!cur.empty()) out.push_back(Value::string(cur));
      return Value::make_list(out);
    });
  }
  if (name == "upper") return method([s](CallArgs&) { return Value::string(text::upper(s)); });
  if (name == "lower") return method([s](CallArgs&) { return Value::string(text::lower(s)); });
  if (name == "title") return method([s](CallArgs&) { return Value::string(title_case(s)); });
  if (name == "capitalize") return method([s](CallArgs&) { return Value::string(capitalize(s)); });
  if (name == "replace") {
    return method([s](CallArgs& a) {
      std::string from = str_arg(a, 0, "old", "replace"), to = str_arg(a, 1, "new", "replace");
      return Value::string(replace_all(s, from, to, int_arg(a, 2, "count", -1)));
    });
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
    return method([s, name](CallArgs& a) {
      std::string sub = str_arg(a, 0, "sub", name);
      size_t hit = name[0] == 'r' ? s.rfind(sub) : s.find(sub);
      if (hit == std::string::npos) {
        if (name.find("index") != std::string::npos) fail("ValueError", "substring not found");
        return Value::integer(-1);
      }
      return Value::integer(int64_t(text::length(s.substr(0, hit))));
    });
  }
  if (name == "count") {
    return method([s](CallArgs& a) {
      std::string sub = str_arg(a, 0, "sub", "count");
      if (sub.empty()) return Value::integer(int64_t(text::length(s)) + 1);
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    });
  }
  if (name == "join") {
    return method([s](CallArgs& a) {
      const Value* v = a.get(0, "iterable");
      if (!v) fail_type("join() takes exactly one argument (0 given)");
      std::string out;
      size_t k = 0;
      for (const auto& item : iterate(*v)) {
        if (item.kind != K::String)
          fail_type("sequence item " + std::to_string(k) + ": expected str instance, " + python_type(item) + " found");
        if (k++) out += s;
        out += item.s;
      }
      return Value::string(out);
    });
  }
  if (name == "format") return method([s](CallArgs& a) { return Value::string(format_string(s, a)); });
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal")
    return method([s](CallArgs&) { return Value::boolean(all_chars(s, [](uint32_t c) { return c >= '0' && c <= '9'; })); });
  if (name == "isalpha") return method([s](CallArgs&) { return Value::boolean(all_chars(s, text::is_alpha)); });
  if (name == "isalnum")
    return method([s](CallArgs&) {
      return Value::boolean(all_chars(s, [](uint32_t c) { return text::is_alpha(c) || (c >= '0' && c <= '9'); }));
    });
  if (name == "isspace") return method([s](CallArgs&) { return Value::boolean(all_chars(s, text::is_space)); });
  if (name == "islower" || name == "isupper") {
    bool want_lower = name == "islower";
    return method([s, want_lower](CallArgs&) {
      bool cased = false;
      for (uint32_t c : text::decode(s)) {
        if (text::to_lower(c) != text::to_upper(c)) {
          cased = true;
          if ((c == text::to_lower(c)) != want_lower) return Value::boolean(false);
        }
      }
      return Value::boolean(cased);
    });
  }
  return Value::undefined("");
}

Value dict_method(const Value& self, const std::string& name, bool* found) {
  auto method = [&](std::function<Value(CallArgs&)> f) {
    *found = true;
    return Value::callable("dict." + name, std::move(f));
  };
  auto d = self.dict;
  if (name == "items")
    return method([d](CallArgs&) {
      ValueList out;
      for (const auto& kv : *d) out.push_back(Value::make_list({kv.first, kv.second}, true));
      return Value::make_list(out);
    });
  if (name == "keys")
    return method([d](CallArgs&) {
      ValueList out;
      for (const auto& kv : *d) out.push_back(kv.first);
      return Value::make_list(out);
    });
  if (name == "values")
    return method([d](CallArgs&) {
      ValueList out;
      for (const auto& kv : *d) out.push_back(kv.second);
      return Value::make_list(out);
    });
  if (name == "get")
    return method([self](CallArgs& a) {
      const Value* key = a.get(0, "key");
      if (!key) fail_type("get expected at least 1 argument, got 0");
      const Value* v = self.find(*key);
      if (v) return *v;
      const Value* dflt = a.get(1, "default");
      return dflt ? *dflt : Value::none();
    });
  if (name == "copy") return method([self](CallArgs&) { return self; });
  return Value::undefined("");
}

Value list_method(const Value& self, const std::string& name, bool* found) {
  auto method = [&](std::function<Value(CallArgs&)> f) {
    *found = true;
    return Value::callable("list." + name, std::move(f));
  };
  if (name == "count")
    return method([self](CallArgs& a) {
      const Value* x = a.get(0, "value");
      int64_t n = 0;
      for (const auto& v : *self.list) n += x && values_equal(v, *x);
      return Value::integer(n);
    });
  if (name == "index")
    return method([self](CallArgs& a) {
      const Value* x = a.get(0, "value");
      for (size_t k = 0; x && k < self.list->size(); ++k)
        if (values_equal((*self.list)[k], *x)) return Value::integer(int64_t(k));
      fail("ValueError", (x ? to_repr(*x) : std::string("value")) + " is not in list");
    });
  if (name == "copy" && !self.is_tuple) return method([self](CallArgs&) { return self; });
  return Value::undefined("");
}

}  // namespace

ValueList python_split(const std::string& s, const std::string* sep, int64_t maxsplit) {
  ValueList out;
  if (sep) {
    if (sep->empty()) fail("ValueError", "empty separator");
    size_t pos = 0;
    int64_t done = 0;
    for (;;) {
      size_t hit = s.find(*sep, pos);
      if (hit == std::string::npos || (maxsplit >= 0 && done >= maxsplit)) break;
      out.push_back(Value::string(s.substr(pos, hit - pos)));
      pos = hit + sep->size();
      ++done;
    }
    out.push_back(Value::string(s.substr(pos)));
    return out;
  }
  auto cps = text::decode(s);
  size_t k = 0, n = cps.size();
  int64_t done = 0;
  for (;;) {
    while (k < n && text::is_space(cps[k])) ++k;
    if (k >= n) break;
    if (maxsplit >= 0 && done >= maxsplit) {
      out.push_back(Value::string(text::encode(cps, k, n)));
      break;
    }
    size_t b = k;
    while (k < n && !text::is_space(cps[k])) ++k;
    out.push_back(Value::string(text::encode(cps, b, k)));
    ++done;
  }
  return out;
}

Value bound_method(const Value& obj, const std::string& name, bool* found) {
  *found = false;
  static const std::set<std::string> dict_mutators = {"clear", "pop", "popitem", "setdefault", "update"};
  static const std::set<std::string> list_mutators = {"append", "clear", "extend", "insert",
                                                      "pop", "remove", "reverse", "sort"};
  if (obj.kind == K::String) return string_method(obj, name, found);
  if (obj.kind == K::Dict) {
    if (dict_mutators.count(name))
      return Value::undefined("access to attribute '" + name + "' of 'dict' object is unsafe.");
    return dict_method(obj, name, found);
  }
  if (obj.kind == K::List) {
    if (!obj.is_tuple && list_mutators.count(name))
      return Value::undefined("access to attribute '" + name + "' of 'list' object is unsafe.");
    return list_method(obj, name, found);
  }
  return Value::undefined("");
}

}  // namespace axl::chat
