#include "axl/tokenizer/chat/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <unordered_map>

#include "axl/tokenizer/chat/json_value.h"
#include "axl/tokenizer/chat/methods.h"
#include "axl/tokenizer/chat/operations.h"
#include "axl/tokenizer/chat/template_error.h"
#include "axl/tokenizer/chat/template_tests.h"
#include "axl/tokenizer/chat/unicode_text.h"

namespace axl::chat {

using K = Value::Kind;

namespace {

using FilterFn = std::function<Value(const Value&, const CallArgs&)>;

bool flag(const CallArgs& a, size_t pos, const std::string& name, bool dflt) {
  const Value* v = a.get(pos, name);
  return v ? v->truthy() : dflt;
}

const Value* opt(const CallArgs& a, size_t pos, const std::string& name) {
  const Value* v = a.get(pos, name);
  return v && !v->is_none() ? v : nullptr;
}

// jinja's make_attrgetter: dotted attribute path, optional default, optional lowercasing.
std::function<Value(const Value&)> attr_getter(const Value* attribute, bool lower_strings,
                                               const Value* dflt = nullptr) {
  std::string path = attribute ? to_str(*attribute) : "";
  bool has_attr = attribute != nullptr;
  Value d = dflt ? *dflt : Value();
  bool has_default = dflt != nullptr;
  return [=](const Value& item) {
    Value v = has_attr ? get_path(item, path) : item;
    if (has_default && v.is_undefined()) v = d;
    if (lower_strings && v.kind == K::String) v = Value::string(text::lower(v.s));
    return v;
  };
}

std::string soft_str(const Value& v) { return to_str(v); }

Value first_item(const Value& v) {
  ValueList items = iterate(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value last_item(const Value& v) {
  ValueList items = iterate(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value to_int(const Value& v, const CallArgs& a) {
  const Value* d = a.get(0, "default");
  Value dflt = d ? *d : Value::integer(0);
  switch (v.kind) {
    case K::Int: return v;
    case K::Bool: return Value::integer(v.b);
    case K::Float:
      if (!std::isfinite(v.f)) return dflt;
      return Value::integer(int64_t(std::trunc(v.f)));
    case K::String: {
      std::string s = text::strip(v.s, nullptr, true, true);
      std::string digits;
      for (char c : s)
        if (c != '_') digits += c;
      char* end = nullptr;
      int64_t base = d && a.get(1, "base") ? a.get(1, "base")->i : 10;
      long long x = std::strtoll(digits.c_str(), &end, int(base));
      if (!digits.empty() && end && *end == 0) return Value::integer(x);
      double f = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == 0 && std::isfinite(f)) return Value::integer(int64_t(std::trunc(f)));
      return dflt;
    }
    default: return dflt;
  }
}

Value to_float(const Value& v, const CallArgs& a) {
  const Value* d = a.get(0, "default");
  Value dflt = d ? *d : Value::number(0.0);
  if (v.is_number()) return Value::number(v.as_double());
  if (v.kind == K::String) {
    std::string s = text::strip(v.s, nullptr, true, true);
    char* end = nullptr;
    double f = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == 0) return Value::number(f);
  }
  return dflt;
}

Value round_filter(const Value& v, const CallArgs& a) {
  const Value* p = a.get(0, "precision");
  int64_t precision = p ? (p->kind == K::Bool ? p->b : p->i) : 0;
  std::string method = a.get(1, "method") ? to_str(*a.get(1, "method")) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    fail_type("method must be common, ceil or floor");
  if (!v.is_number()) fail_type("type " + python_type(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.kind != K::Float) return Value::integer(v.kind == K::Bool ? v.b : v.i);
    // Python's round() rounds the exact binary value, ties to even: printf does the same.
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", int(std::max<int64_t>(0, precision)), v.f);
    return Value::number(std::strtod(buf, nullptr));
  }
  double scale = std::pow(10.0, double(precision));
  double x = v.as_double() * scale;
  x = method == "ceil" ? std::ceil(x) : std::floor(x);
  return Value::number(x / scale);
}

Value tojson_filter(const Value& v, const CallArgs& a) {
  JsonDumpOptions o;
  o.ensure_ascii = flag(a, 0, "ensure_ascii", false);
  if (const Value* indent = opt(a, 1, "indent")) {
    o.has_indent = true;
    if (indent->kind == K::String) o.indent = indent->s;
    else o.indent = std::string(size_t(std::max<int64_t>(0, indent->kind == K::Bool ? indent->b : indent->i)), ' ');
    o.item_separator = ",";
  }
  if (const Value* seps = opt(a, 2, "separators")) {
    if (seps->kind != K::List || seps->list->size() != 2)
      fail("ValueError", "separators must be a (item_separator, key_separator) pair");
    o.item_separator = to_str((*seps->list)[0]);
    o.key_separator = to_str((*seps->list)[1]);
  }
  o.sort_keys = flag(a, 3, "sort_keys", false);
  return Value::string(dump_json(v, o));
}

Value indent_filter(const Value& v, const CallArgs& a) {
  const Value* w = a.get(0, "width");
  std::string indention = w && w->kind == K::String ? w->s : std::string(size_t(w ? std::max<int64_t>(0, w->i) : 4), ' ');
  bool first = flag(a, 1, "first", false), blank = flag(a, 2, "blank", false);
  std::string s = soft_str(v) + "\n";
  std::vector<std::string> lines;
  std::string cur;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '\n' || s[k] == '\r') {
      lines.push_back(cur);
      cur.clear();
      if (s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ++k;
    } else {
      cur += s[k];
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  std::string rv;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k == 0) {
      rv = lines[0];
      continue;
    }
    rv += "\n";
    if (blank || !lines[k].empty()) rv += indention;
    rv += lines[k];
  }
  if (first) rv = indention + rv;
  return Value::string(rv);
}

ValueList sorted_items(ValueList items, bool reverse, const std::function<Value(const Value&)>& key) {
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& it : items) keyed.emplace_back(key(it), it);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? three_way(y.first, x.first) < 0 : three_way(x.first, y.first) < 0;
  });
  ValueList out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return out;
}

// select / reject / selectattr / rejectattr.
Value select_filter(const Value& v, const CallArgs& a, bool by_attr, bool keep) {
  size_t next = 0;
  const Value* attribute = nullptr;
  if (by_attr) {
    attribute = a.get(0, "attribute");
    if (!attribute) fail_type("selectattr() missing the attribute argument");
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (next < a.positional.size()) {
    test = to_str(a.positional[next]);
    test_args.positional.assign(a.positional.begin() + long(next) + 1, a.positional.end());
  }
  for (const auto& kw : a.keyword)
    if (kw.first != "attribute") test_args.keyword.push_back(kw);
  auto get = attr_getter(attribute, false);
  ValueList out;
  if (!v.truthy()) return Value::make_list(out);  // jinja skips a falsy input (None included)
  for (const auto& item : iterate(v)) {
    Value probe = get(item);
    bool ok = test.empty() ? probe.truthy() : apply_test(test, probe, test_args);
    if (ok == keep) out.push_back(item);
  }
  return Value::make_list(out);
}

Value map_filter(const Value& v, const CallArgs& a) {
  ValueList out;
  if (!v.truthy()) return Value::make_list(out);  // jinja skips a falsy input (None included)
  if (a.positional.empty()) {
    const Value* attribute = a.get(99, "attribute");
    if (!attribute) return Value::make_list(iterate(v));
    auto get = attr_getter(attribute, false, a.get(99, "default"));
    for (const auto& item : iterate(v)) out.push_back(get(item));
    return Value::make_list(out);
  }
  std::string name = to_str(a.positional[0]);
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + 1, a.positional.end());
  rest.keyword = a.keyword;
  for (const auto& item : iterate(v)) out.push_back(apply_filter(name, item, rest));
  return Value::make_list(out);
}

Value aggregate(const Value& v, const CallArgs& a, bool want_max) {
  auto key = attr_getter(opt(a, 1, "attribute"), !flag(a, 0, "case_sensitive", false));
  ValueList items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  for (size_t k = 1; k < items.size(); ++k) {
    int c = three_way(key(items[k]), key(items[best]));
    if (want_max ? c > 0 : c < 0) best = k;
  }
  return items[best];
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

bool is_word_char(uint32_t c) {
  return c == '_' || (c >= '0' && c <= '9') || text::is_alpha(c);
}

const std::unordered_map<std::string, FilterFn>& filters() {
  static const std::unordered_map<std::string, FilterFn> table = [] {
    std::unordered_map<std::string, FilterFn> f;
    f["abs"] = [](const Value& v, const CallArgs&) {
      if (v.kind == K::Float) return Value::number(std::fabs(v.f));
      if (v.kind == K::Int || v.kind == K::Bool) return Value::integer(std::llabs(v.kind == K::Bool ? v.b : v.i));
      fail_type("bad operand type for abs(): '" + python_type(v) + "'");
    };
    f["attr"] = [](const Value& v, const CallArgs& a) {
      const Value* n = a.get(0, "name");
      return n ? get_attr(v, to_str(*n)) : Value::undefined("attr() needs a name");
    };
    f["batch"] = [](const Value& v, const CallArgs& a) {
      const Value* n = a.get(0, "linecount");
      int64_t count = n ? n->i : 0;
      if (count <= 0) fail("ValueError", "batch size must be positive");
      const Value* fill = opt(a, 1, "fill_with");
      ValueList out, cur;
      for (const auto& item : iterate(v)) {
        cur.push_back(item);
        if (int64_t(cur.size()) == count) {
          out.push_back(Value::make_list(cur));
          cur.clear();
        }
      }
      if (!cur.empty()) {
        if (fill)
          while (int64_t(cur.size()) < count) cur.push_back(*fill);
        out.push_back(Value::make_list(cur));
      }
      return Value::make_list(out);
    };
    f["capitalize"] = [](const Value& v, const CallArgs&) {
      bool found;
      CallArgs none;
      return call_value(bound_method(Value::string(soft_str(v)), "capitalize", &found), none);
    };
    f["count"] = f["length"] = [](const Value& v, const CallArgs&) { return Value::integer(int64_t(python_len(v))); };
    f["default"] = f["d"] = [](const Value& v, const CallArgs& a) {
      const Value* d = a.get(0, "default_value");
      bool boolean = flag(a, 1, "boolean", false);
      if (v.is_undefined() || (boolean && !v.truthy())) return d ? *d : Value::string("");
      return v;
    };
    f["dictsort"] = [](const Value& v, const CallArgs& a) {
      if (v.kind != K::Dict) fail_type("dictsort needs a mapping");
      bool cs = flag(a, 0, "case_sensitive", false);
      std::string by = a.get(1, "by") ? to_str(*a.get(1, "by")) : "key";
      bool reverse = flag(a, 2, "reverse", false);
      size_t pos = by == "key" ? 0 : 1;
      if (by != "key" && by != "value") fail("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
      ValueList items;
      for (const auto& kv : *v.dict) items.push_back(Value::make_list({kv.first, kv.second}, true));
      return Value::make_list(sorted_items(items, reverse, [=](const Value& t) {
        Value k = (*t.list)[pos];
        return !cs && k.kind == K::String ? Value::string(text::lower(k.s)) : k;
      }));
    };
    f["escape"] = f["e"] = [](const Value& v, const CallArgs&) { return Value::string(html_escape(soft_str(v))); };
    f["first"] = [](const Value& v, const CallArgs&) { return first_item(v); };
    f["last"] = [](const Value& v, const CallArgs&) { return last_item(v); };
    f["float"] = to_float;
    f["int"] = to_int;
    f["indent"] = indent_filter;
    f["items"] = [](const Value& v, const CallArgs&) {
      if (v.is_undefined()) return Value::make_list({});
      if (v.kind != K::Dict) fail_type("Can only get item pairs from a mapping.");
      ValueList out;
      for (const auto& kv : *v.dict) out.push_back(Value::make_list({kv.first, kv.second}, true));
      return Value::make_list(out);
    };
    f["join"] = [](const Value& v, const CallArgs& a) {
      const Value* d = a.get(0, "d");
      std::string sep = d ? to_str(*d) : "";
      auto get = attr_getter(opt(a, 1, "attribute"), false);
      std::string out;
      size_t k = 0;
      for (const auto& item : iterate(v)) {
        if (k++) out += sep;
        out += to_str(get(item));
      }
      return Value::string(out);
    };
    f["list"] = [](const Value& v, const CallArgs&) { return Value::make_list(iterate(v)); };
    f["lower"] = [](const Value& v, const CallArgs&) { return Value::string(text::lower(soft_str(v))); };
    f["upper"] = [](const Value& v, const CallArgs&) { return Value::string(text::upper(soft_str(v))); };
    f["map"] = map_filter;
    f["max"] = [](const Value& v, const CallArgs& a) { return aggregate(v, a, true); };
    f["min"] = [](const Value& v, const CallArgs& a) { return aggregate(v, a, false); };
    f["reject"] = [](const Value& v, const CallArgs& a) { return select_filter(v, a, false, false); };
    f["rejectattr"] = [](const Value& v, const CallArgs& a) { return select_filter(v, a, true, false); };
    f["select"] = [](const Value& v, const CallArgs& a) { return select_filter(v, a, false, true); };
    f["selectattr"] = [](const Value& v, const CallArgs& a) { return select_filter(v, a, true, true); };
    f["replace"] = [](const Value& v, const CallArgs& a) {
      bool found;
      CallArgs args;
      for (size_t k = 0; k < 3; ++k) {
        static const char* names[] = {"old", "new", "count"};
        if (const Value* x = opt(a, k, names[k])) args.positional.push_back(*x);
      }
      return call_value(bound_method(Value::string(soft_str(v)), "replace", &found), args);
    };
    f["reverse"] = [](const Value& v, const CallArgs&) {
      if (v.kind == K::String) {
        auto cps = text::decode(v.s);
        std::reverse(cps.begin(), cps.end());
        return Value::string(text::encode(cps, 0, cps.size()));
      }
      ValueList items = iterate(v);
      std::reverse(items.begin(), items.end());
      return Value::make_list(items);
    };
    f["round"] = round_filter;
    f["safe"] = [](const Value& v, const CallArgs&) { return Value::string(soft_str(v)); };
    f["sort"] = [](const Value& v, const CallArgs& a) {
      bool reverse = flag(a, 0, "reverse", false), cs = flag(a, 1, "case_sensitive", false);
      return Value::make_list(sorted_items(iterate(v), reverse, attr_getter(opt(a, 2, "attribute"), !cs)));
    };
    f["string"] = [](const Value& v, const CallArgs&) { return Value::string(soft_str(v)); };
    f["sum"] = [](const Value& v, const CallArgs& a) {
      auto get = attr_getter(opt(a, 0, "attribute"), false);
      const Value* start = a.get(1, "start");
      Value total = start ? *start : Value::integer(0);
      for (const auto& item : iterate(v)) total = binary_op("+", total, get(item));
      return total;
    };
    f["title"] = [](const Value& v, const CallArgs&) {
      // jinja capitalises each run that follows '-', whitespace or an opening bracket.
      auto cps = text::decode(soft_str(v));
      bool start = true;
      for (auto& c : cps) {
        bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || text::is_space(c);
        if (sep) {
          start = true;
          continue;
        }
        c = start ? text::to_upper(c) : text::to_lower(c);
        start = false;
      }
      return Value::string(text::encode(cps, 0, cps.size()));
    };
    f["tojson"] = tojson_filter;
    f["trim"] = [](const Value& v, const CallArgs& a) {
      const Value* chars = opt(a, 0, "chars");
      std::string c = chars ? to_str(*chars) : "";
      return Value::string(text::strip(soft_str(v), chars ? &c : nullptr, true, true));
    };
    f["unique"] = [](const Value& v, const CallArgs& a) {
      auto key = attr_getter(opt(a, 1, "attribute"), !flag(a, 0, "case_sensitive", false));
      ValueList out, seen;
      for (const auto& item : iterate(v)) {
        Value k = key(item);
        bool dup = false;
        for (const auto& s : seen) dup = dup || values_equal(s, k);
        if (dup) continue;
        seen.push_back(k);
        out.push_back(item);
      }
      return Value::make_list(out);
    };
    f["wordcount"] = [](const Value& v, const CallArgs&) {
      int64_t n = 0;
      bool in_word = false;
      for (uint32_t c : text::decode(soft_str(v))) {
        bool w = is_word_char(c);
        n += w && !in_word;
        in_word = w;
      }
      return Value::integer(n);
    };
    return f;
  }();
  return table;
}

}  // namespace

bool is_known_filter(const std::string& name) { return filters().count(name) != 0; }

Value apply_filter(const std::string& name, const Value& v, const CallArgs& args) {
  auto it = filters().find(name);
  if (it == filters().end()) fail("TemplateAssertionError", "No filter named '" + name + "'.");
  return it->second(v, args);
}

}  // namespace axl::chat
