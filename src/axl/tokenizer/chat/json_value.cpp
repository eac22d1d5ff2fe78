#include "axl/tokenizer/chat/json_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "axl/tokenizer/chat/operations.h"
#include "axl/tokenizer/chat/template_error.h"
#include "axl/tokenizer/chat/unicode_text.h"

namespace axl::chat {

using K = Value::Kind;

template <typename J>
static Value convert(const J& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value::none();
    case nlohmann::json::value_t::boolean: return Value::boolean(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return Value::integer(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return Value::integer(int64_t(j.template get<uint64_t>()));
    case nlohmann::json::value_t::number_float: return Value::number(j.template get<double>());
    case nlohmann::json::value_t::string: return Value::string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(convert(e));
      return Value::make_list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      ValuePairs pairs;
      pairs.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) pairs.emplace_back(Value::string(it.key()), convert(it.value()));
      return Value::make_dict(std::move(pairs));
    }
    default: return Value::none();
  }
}

Value from_json(const nlohmann::ordered_json& j) { return convert(j); }
Value from_json(const nlohmann::json& j) { return convert(j); }

static void dump_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (uint32_t cp : text::decode(s)) {
    char buf[16];
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp < 0x20 || (ensure_ascii && cp > 0x7E)) {
          if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
          } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", cp);
          }
          out += buf;
        } else {
          text::append_utf8(out, cp);
        }
    }
  }
  out += '"';
}

static std::string float_json(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return python_float_repr(d);
}

static std::string key_text(const Value& k) {
  switch (k.kind) {
    case K::String: return k.s;
    case K::Int: return std::to_string(k.i);
    case K::Bool: return k.b ? "true" : "false";
    case K::None: return "null";
    case K::Float: return float_json(k.f);
    default: fail_type("keys must be str, int, float, bool or None, not " + python_type(k));
  }
}

static void dump(std::string& out, const Value& v, const JsonDumpOptions& o, int depth) {
  auto newline = [&](int d) {
    if (!o.has_indent) return;
    out += '\n';
    for (int k = 0; k < d; ++k) out += o.indent;
  };
  switch (v.kind) {
    case K::None: out += "null"; return;
    case K::Bool: out += v.b ? "true" : "false"; return;
    case K::Int: out += std::to_string(v.i); return;
    case K::Float: out += float_json(v.f); return;
    case K::String: dump_string(out, v.s, o.ensure_ascii); return;
    case K::List: {
      if (v.list->empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t k = 0; k < v.list->size(); ++k) {
        if (k) out += o.item_separator;
        newline(depth + 1);
        dump(out, (*v.list)[k], o, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case K::Dict: {
      if (v.dict->empty()) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> items;
      for (const auto& kv : *v.dict) items.emplace_back(key_text(kv.first), &kv.second);
      if (o.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += o.item_separator;
        newline(depth + 1);
        dump_string(out, items[k].first, o.ensure_ascii);
        out += o.key_separator;
        dump(out, *items[k].second, o, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    default: fail_type("Object of type " + python_type(v) + " is not JSON serializable");
  }
}

std::string dump_json(const Value& v, const JsonDumpOptions& options) {
  std::string out;
  dump(out, v, options, 0);
  return out;
}

}  // namespace axl::chat
