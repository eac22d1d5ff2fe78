// The global functions a chat template can call: jinja2's (range, dict, namespace, cycler,
// joiner) and the two transformers adds (raise_exception, strftime_now).
#include <ctime>

#include "axl/tokenizer/chat/evaluator.h"
#include "axl/tokenizer/chat/operations.h"
#include "axl/tokenizer/chat/template_error.h"

namespace axl::chat {

namespace {
constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

int64_t int_param(const Value& v) {
  if (v.kind == Value::Kind::Int) return v.i;
  if (v.kind == Value::Kind::Bool) return v.b;
  fail_type("'" + python_type(v) + "' object cannot be interpreted as an integer");
}
}  // namespace

void Evaluator::install_globals(Frame& g) {
  g["raise_exception"] = Value::callable("raise_exception", [](CallArgs& a) -> Value {
    const Value* msg = a.get(0, "message");
    fail("TemplateError", msg ? to_str(*msg) : "");
  });
  std::time_t now = now_;
  g["strftime_now"] = Value::callable("strftime_now", [now](CallArgs& a) {
    const Value* fmt = a.get(0, "format");
    if (!fmt || fmt->kind != Value::Kind::String) fail_type("strftime_now() needs a format string");
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[512];
    size_t n = std::strftime(buf, sizeof buf, fmt->s.c_str(), &tm);
    return Value::string(std::string(buf, n));
  });
  g["namespace"] = Value::callable("namespace", [](CallArgs& a) {
    ValuePairs attrs;
    for (const auto& p : a.positional) {
      if (p.kind != Value::Kind::Dict) fail_type("namespace() positional argument must be a mapping");
      for (const auto& kv : *p.dict) attrs.emplace_back(Value::string(to_str(kv.first)), kv.second);
    }
    for (const auto& kw : a.keyword) attrs.emplace_back(Value::string(kw.first), kw.second);
    return Value::make_namespace(std::move(attrs));
  });
  g["dict"] = Value::callable("dict", [](CallArgs& a) {
    ValuePairs pairs;
    for (const auto& kw : a.keyword) pairs.emplace_back(Value::string(kw.first), kw.second);
    return Value::make_dict(std::move(pairs));
  });
  g["range"] = Value::callable("range", [](CallArgs& a) {
    if (a.positional.empty()) fail_type("range expected at least 1 argument, got 0");
    int64_t start = 0, stop, step = 1;
    if (a.positional.size() == 1) {
      stop = int_param(a.positional[0]);
    } else {
      start = int_param(a.positional[0]);
      stop = int_param(a.positional[1]);
      if (a.positional.size() > 2) step = int_param(a.positional[2]);
    }
    if (step == 0) fail("ValueError", "range() arg 3 must not be zero");
    ValueList out;
    for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
      if (int64_t(out.size()) >= kMaxRange)
        fail("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
      out.push_back(Value::integer(k));
    }
    return Value::make_list(std::move(out));
  });
  g["joiner"] = Value::callable("joiner", [](CallArgs& a) {
    std::string sep = a.get(0, "sep") ? to_str(*a.get(0, "sep")) : ", ";
    auto used = std::make_shared<bool>(false);
    return Value::callable("joiner", [sep, used](CallArgs&) {
      if (!*used) {
        *used = true;
        return Value::string("");
      }
      return Value::string(sep);
    });
  });
}

}  // namespace axl::chat
