#include "axl/tokenizer/chat/evaluator.h"

#include "axl/tokenizer/chat/filters.h"
#include "axl/tokenizer/chat/operations.h"
#include "axl/tokenizer/chat/template_error.h"
#include "axl/tokenizer/chat/template_tests.h"

namespace axl::chat {

namespace {
constexpr int kMaxCallDepth = 200;  // macros calling macros: fail cleanly, never overflow the stack
}

Evaluator::Evaluator(const ValuePairs& variables, std::time_t now) : now_(now) {
  auto globals = std::make_shared<Frame>();
  install_globals(*globals);
  // Render variables shadow the globals, as jinja's render context does.
  for (const auto& kv : variables) (*globals)[kv.first.s] = kv.second;
  scope_.push_back(globals);
  scope_.push_back(std::make_shared<Frame>());  // the template's own top-level assignments
}

std::string Evaluator::render(const Body& body) {
  std::string out;
  exec_body(body, out);
  return out;
}

Evaluator::Flow Evaluator::exec_body(const Body& body, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec(*s, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec(const Stmt& s, std::string& out) {
  try {
    switch (s.kind) {
      case Stmt::Kind::Text: out += s.text; return Flow::Normal;
      case Stmt::Kind::Print: out += to_str(eval(*s.expr)); return Flow::Normal;
      case Stmt::Kind::If:
        for (size_t k = 0; k < s.conds.size(); ++k)
          if (eval(*s.conds[k]).truthy()) return exec_body(s.bodies[k], out);
        return exec_body(s.else_body, out);
      case Stmt::Kind::For: exec_for(s, out); return Flow::Normal;
      case Stmt::Kind::Set: assign(*s.target, eval(*s.expr)); return Flow::Normal;
      case Stmt::Kind::SetBlock: {
        std::string captured;
        exec_body(s.body, captured);
        Value v = Value::string(captured);
        assign(*s.target, s.expr ? apply_filter_chain(*s.expr, v) : v);
        return Flow::Normal;
      }
      case Stmt::Kind::Macro: (*scope_.back())[s.name] = make_macro(s); return Flow::Normal;
      case Stmt::Kind::CallBlock: {
        const Expr& call = *s.expr;
        Value callee = eval(*call.a);
        CallArgs args = eval_args(call);
        Scope here = scope_;
        const Stmt* block = &s;
        Value caller = Value::callable("caller", [this, block, here](CallArgs& a) {
          // The caller's body runs with the call block's parameters in the block's scope.
          return call_macro(*block, here, a, nullptr);
        });
        args.keyword.emplace_back("caller", caller);
        out += to_str(call_value(callee, args));
        return Flow::Normal;
      }
      case Stmt::Kind::FilterBlock: {
        std::string captured;
        exec_body(s.body, captured);
        out += to_str(apply_filter_chain(*s.expr, Value::string(captured)));
        return Flow::Normal;
      }
      case Stmt::Kind::Break: return Flow::Break;
      case Stmt::Kind::Continue: return Flow::Continue;
      case Stmt::Kind::Generation: return exec_body(s.body, out);
    }
  } catch (JinjaFailure& f) {
    if (f.line == 0) f.line = s.line;
    throw;
  }
  return Flow::Normal;
}

void Evaluator::exec_for(const Stmt& s, std::string& out) {
  Value iterable = eval(*s.expr);
  ValueList items = iterate(iterable);
  if (s.cond) {
    ValueList kept;
    for (const auto& item : items) {
      scope_.push_back(std::make_shared<Frame>());
      assign(*s.target, item);
      bool keep = eval(*s.cond).truthy();
      scope_.pop_back();
      if (keep) kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec_body(s.else_body, out);
    return;
  }
  const int64_t n = int64_t(items.size());
  for (int64_t k = 0; k < n; ++k) {
    auto frame = std::make_shared<Frame>();
    ValueList cycle_src;
    Value loop = Value::make_dict({
        {Value::string("index"), Value::integer(k + 1)},
        {Value::string("index0"), Value::integer(k)},
        {Value::string("revindex"), Value::integer(n - k)},
        {Value::string("revindex0"), Value::integer(n - k - 1)},
        {Value::string("first"), Value::boolean(k == 0)},
        {Value::string("last"), Value::boolean(k == n - 1)},
        {Value::string("length"), Value::integer(n)},
        {Value::string("depth"), Value::integer(1)},
        {Value::string("depth0"), Value::integer(0)},
        {Value::string("previtem"), k > 0 ? items[size_t(k - 1)] : Value::undefined("there is no previous item")},
        {Value::string("nextitem"), k + 1 < n ? items[size_t(k + 1)] : Value::undefined("there is no next item")},
        {Value::string("cycle"), Value::callable("loop.cycle", [k](CallArgs& a) {
           if (a.positional.empty()) fail_type("no items for cycling given");
           return a.positional[size_t(k) % a.positional.size()];
         })},
    });
    (*frame)["loop"] = loop;
    scope_.push_back(frame);
    Flow f;
    try {
      assign(*s.target, items[size_t(k)]);
      f = exec_body(s.body, out);
    } catch (...) {
      scope_.pop_back();
      throw;
    }
    scope_.pop_back();
    if (f == Flow::Break) break;
  }
}

void Evaluator::assign(const Expr& target, const Value& v) {
  if (target.kind == Expr::Kind::Name) {
    (*scope_.back())[target.name] = v;
    return;
  }
  if (target.kind == Expr::Kind::GetAttr) {
    Value ns = lookup(target.a->name);
    if (ns.kind != Value::Kind::Namespace)
      fail("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
    for (auto& kv : *ns.ns) {
      if (kv.first.s == target.name) {
        kv.second = v;
        return;
      }
    }
    ns.ns->emplace_back(Value::string(target.name), v);
    return;
  }
  // Tuple unpacking.
  ValueList parts = iterate(v);
  size_t want = target.items.size();
  if (parts.size() < want)
    fail("ValueError", "not enough values to unpack (expected " + std::to_string(want) + ", got " +
                           std::to_string(parts.size()) + ")");
  if (parts.size() > want) fail("ValueError", "too many values to unpack (expected " + std::to_string(want) + ")");
  for (size_t k = 0; k < want; ++k) assign(*target.items[k], parts[k]);
}

Value Evaluator::make_macro(const Stmt& s) {
  Scope defined_in = scope_;
  const Stmt* macro = &s;
  return Value::callable(s.name, [this, macro, defined_in](CallArgs& args) {
    const Value* caller = nullptr;
    for (const auto& kw : args.keyword)
      if (kw.first == "caller") caller = &kw.second;
    return call_macro(*macro, defined_in, args, caller);
  });
}

Value Evaluator::call_macro(const Stmt& s, const Scope& defined_in, CallArgs& args, const Value* caller) {
  if (call_depth_ >= kMaxCallDepth) fail("RecursionError", "maximum macro call depth exceeded");
  auto frame = std::make_shared<Frame>();
  ValueList varargs;
  for (size_t k = 0; k < args.positional.size(); ++k) {
    if (k < s.params.size()) (*frame)[s.params[k].name] = args.positional[k];
    else varargs.push_back(args.positional[k]);
  }
  ValuePairs kwargs;
  for (const auto& kw : args.keyword) {
    if (kw.first == "caller") continue;
    bool is_param = false;
    for (const auto& p : s.params) is_param = is_param || p.name == kw.first;
    if (is_param) (*frame)[kw.first] = kw.second;
    else kwargs.emplace_back(Value::string(kw.first), kw.second);
  }
  (*frame)["varargs"] = Value::make_list(varargs, true);
  (*frame)["kwargs"] = Value::make_dict(kwargs);
  if (caller) (*frame)["caller"] = *caller;
  Scope saved = scope_;
  scope_ = defined_in;
  scope_.push_back(frame);
  ++call_depth_;
  std::string out;
  try {
    for (const auto& p : s.params) {
      if (frame->count(p.name)) continue;
      (*frame)[p.name] = p.default_value ? eval(*p.default_value)
                                         : Value::undefined("parameter '" + p.name + "' was not provided");
    }
    exec_body(s.body, out);
  } catch (...) {
    --call_depth_;
    scope_ = saved;
    throw;
  }
  --call_depth_;
  scope_ = saved;
  return Value::string(out);
}

Value Evaluator::lookup(const std::string& name) const {
  for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
    auto hit = (*it)->find(name);
    if (hit != (*it)->end()) return hit->second;
  }
  return Value::undefined("'" + name + "' is undefined");
}

CallArgs Evaluator::eval_args(const Expr& e) {
  CallArgs args;
  for (const auto& a : e.items) args.positional.push_back(eval(*a));
  if (e.star_args)
    for (const auto& v : iterate(eval(*e.star_args))) args.positional.push_back(v);
  for (const auto& kw : e.kwargs) args.keyword.emplace_back(kw.first, eval(*kw.second));
  if (e.star_kwargs) {
    Value d = eval(*e.star_kwargs);
    if (d.kind != Value::Kind::Dict) fail_type("argument after ** must be a mapping");
    for (const auto& kv : *d.dict) args.keyword.emplace_back(to_str(kv.first), kv.second);
  }
  return args;
}

Value Evaluator::apply_filter_chain(const Expr& chain, const Value& input) {
  Value v = chain.a ? apply_filter_chain(*chain.a, input) : input;
  CallArgs args = eval_args(chain);
  return apply_filter(chain.name, v, args);
}

Value Evaluator::eval(const Expr& e) {
  try {
    return eval_impl(e);
  } catch (JinjaFailure& f) {
    if (f.line == 0) f.line = e.line;
    throw;
  }
}

Value Evaluator::eval_impl(const Expr& e) {
  using EK = Expr::Kind;
  switch (e.kind) {
    case EK::Const: return e.value;
    case EK::Name: return lookup(e.name);
    case EK::List:
    case EK::Tuple: {
      ValueList items;
      for (const auto& x : e.items) items.push_back(eval(*x));
      return Value::make_list(std::move(items), e.kind == EK::Tuple);
    }
    case EK::Dict: {
      ValuePairs pairs;
      for (size_t k = 0; k + 1 < e.items.size(); k += 2) {
        Value key = eval(*e.items[k]);
        Value val = eval(*e.items[k + 1]);
        bool replaced = false;
        for (auto& kv : pairs)
          if (values_equal(kv.first, key)) {
            kv.second = val;
            replaced = true;
          }
        if (!replaced) pairs.emplace_back(key, val);
      }
      return Value::make_dict(std::move(pairs));
    }
    case EK::GetAttr: return get_attr(eval(*e.a), e.name);
    case EK::GetItem: {
      Value obj = eval(*e.a);
      if (e.b->kind == EK::Slice) {
        auto part = [&](size_t k) { return e.b->items[k] ? eval(*e.b->items[k]) : Value::none(); };
        return get_slice(obj, part(0), part(1), part(2));
      }
      return get_item(obj, eval(*e.b));
    }
    case EK::Slice: fail("TemplateSyntaxError", "slice outside of a subscript");
    case EK::Call: {
      Value callee = eval(*e.a);
      CallArgs args = eval_args(e);
      return call_value(callee, args);
    }
    case EK::Filter: {
      Value v = e.a ? eval(*e.a) : Value();
      CallArgs args = eval_args(e);
      return apply_filter(e.name, v, args);
    }
    case EK::Test: {
      Value v = eval(*e.a);
      CallArgs args = eval_args(e);
      return Value::boolean(apply_test(e.name, v, args));
    }
    case EK::Not: return Value::boolean(!eval(*e.a).truthy());
    case EK::Neg:
    case EK::Pos: {
      Value v = eval(*e.a);
      bool neg = e.kind == EK::Neg;
      if (v.is_undefined()) fail_undefined(v);
      if (v.kind == Value::Kind::Float) return Value::number(neg ? -v.f : v.f);
      if (v.kind == Value::Kind::Int || v.kind == Value::Kind::Bool) {
        int64_t x = v.kind == Value::Kind::Bool ? v.b : v.i;
        return Value::integer(neg ? -x : x);
      }
      fail_type(std::string("bad operand type for unary ") + (neg ? "-" : "+") + ": '" + python_type(v) + "'");
    }
    case EK::Binary: {
      if (e.name == "and") {
        Value l = eval(*e.a);
        return l.truthy() ? eval(*e.b) : l;
      }
      if (e.name == "or") {
        Value l = eval(*e.a);
        return l.truthy() ? l : eval(*e.b);
      }
      Value l = eval(*e.a);
      Value r = eval(*e.b);
      return binary_op(e.name, l, r);
    }
    case EK::Compare: {
      Value left = eval(*e.a);
      for (const auto& [op, expr] : e.kwargs) {
        Value right = eval(*expr);
        if (!compare_op(op, left, right)) return Value::boolean(false);
        left = right;
      }
      return Value::boolean(true);
    }
    case EK::CondExpr: {
      if (eval(*e.a).truthy()) return eval(*e.b);
      if (e.c) return eval(*e.c);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    }
  }
  return Value();
}

}  // namespace axl::chat
