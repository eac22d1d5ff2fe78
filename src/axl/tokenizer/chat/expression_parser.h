#pragma once
// The expression half of the parser: jinja2's operator precedence (or < and < not <
// comparisons < + - < ~ < * / // % < ** < unary; filters, tests, calls, attributes and
// subscripts bind to the primary they follow), tuples and assignment targets. The statement
// parser (parser.cpp) builds on it.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "axl/tokenizer/chat/ast.h"
#include "axl/tokenizer/chat/lexer.h"
#include "axl/tokenizer/chat/template_error.h"

namespace axl::chat::detail {

using T = Token::Type;

inline ExprPtr make_expr(Expr::Kind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

inline StmtPtr make_stmt(Stmt::Kind kind, int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->line = line;
  return s;
}

class ExpressionParser {
 public:
  explicit ExpressionParser(const std::vector<Token>& tokens) : toks_(tokens) {}

 protected:
  const std::vector<Token>& toks_;
  size_t pos_ = 0;

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  bool is_op(const char* op) const { return cur().type == T::Op && cur().value == op; }
  bool is_name(const char* name) const { return cur().type == T::Name && cur().value == name; }

  [[noreturn]] void error(const std::string& msg) const { throw JinjaFailure{"TemplateSyntaxError", msg, cur().line}; }

  std::string describe(const Token& t) const {
    switch (t.type) {
      case T::End: return "end of template";
      case T::VarEnd: return "end of print statement";
      case T::BlockEnd: return "end of statement block";
      default: return "'" + t.value + "'";
    }
  }
  void expect_op(const char* op) {
    if (!is_op(op)) error(std::string("expected token '") + op + "', got " + describe(cur()));
    ++pos_;
  }
  std::string expect_name() {
    if (cur().type != T::Name) error("expected token 'name', got " + describe(cur()));
    return toks_[pos_++].value;
  }
  void expect_block_end() {
    if (cur().type != T::BlockEnd) error("expected token 'end of statement block', got " + describe(cur()));
    ++pos_;
  }

  // Nesting bound: a hostile template must fail cleanly, not overflow the stack.
  struct DepthGuard {
    int& depth;
    DepthGuard(int& d, const ExpressionParser& p) : depth(d) {
      if (++depth > 200) throw JinjaFailure{"TemplateSyntaxError", "expression nested too deeply", p.cur().line};
    }
    ~DepthGuard() { --depth; }
  };
  int depth_ = 0;

  // Assignment targets: a name, ns.attr, or a tuple of names.
  ExprPtr parse_assign_target(bool allow_tuple) {
    int line = cur().line;
    bool paren = false;
    if (allow_tuple && is_op("(")) {
      paren = true;
      ++pos_;
    }
    std::vector<ExprPtr> names;
    for (;;) {
      auto e = make_expr(Expr::Kind::Name, cur().line);
      e->name = expect_name();
      if (is_op(".") && peek().type == T::Name) {
        ++pos_;
        auto attr = make_expr(Expr::Kind::GetAttr, e->line);
        attr->name = expect_name();
        attr->a = std::move(e);
        e = std::move(attr);
      }
      names.push_back(std::move(e));
      if (!allow_tuple || !is_op(",")) break;
      ++pos_;
      if (paren && is_op(")")) break;
    }
    if (paren) expect_op(")");
    if (names.size() == 1 && !paren) return std::move(names[0]);
    auto t = make_expr(Expr::Kind::Tuple, line);
    t->items = std::move(names);
    return t;
  }

  // Comma-separated expressions become a tuple (jinja's parse_tuple).
  ExprPtr parse_tuple(bool in_print, bool with_condexpr = true, bool explicit_parens = false) {
    (void)in_print;
    int line = cur().line;
    std::vector<ExprPtr> items;
    bool saw_comma = false;
    for (;;) {
      if (!items.empty()) {
        if (!is_op(",")) break;
        ++pos_;
        saw_comma = true;
      }
      if (cur().type == T::VarEnd || cur().type == T::BlockEnd || is_op(")") || is_name("in") ||
          (!with_condexpr && is_name("if")))
        break;
      items.push_back(with_condexpr ? parse_expression() : parse_or());
    }
    if (!saw_comma && items.size() == 1) return std::move(items[0]);
    if (items.empty() && !explicit_parens) error("Expected an expression, got " + describe(cur()));
    auto t = make_expr(Expr::Kind::Tuple, line);
    t->items = std::move(items);
    return t;
  }

  ExprPtr parse_expression() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
      int line = cur().line;
      ++pos_;
      auto c = make_expr(Expr::Kind::CondExpr, line);
      c->a = parse_or();
      c->b = std::move(e);
      if (is_name("else")) {
        ++pos_;
        c->c = parse_expression();
      }
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr l, ExprPtr r, int line) {
    auto e = make_expr(Expr::Kind::Binary, line);
    e->name = op;
    e->a = std::move(l);
    e->b = std::move(r);
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      int line = cur().line;
      ++pos_;
      e = binary("or", std::move(e), parse_and(), line);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      int line = cur().line;
      ++pos_;
      e = binary("and", std::move(e), parse_not(), line);
    }
    return e;
  }

  ExprPtr parse_not() {
    DepthGuard guard(depth_, *this);
    if (is_name("not")) {
      auto e = make_expr(Expr::Kind::Not, cur().line);
      ++pos_;
      e->a = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      if (cur().type == T::Op && (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                                  cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
        op = cur().value;
        ++pos_;
      } else if (is_name("in")) {
        op = "in";
        ++pos_;
      } else if (is_name("not") && peek().type == T::Name && peek().value == "in") {
        op = "notin";
        pos_ += 2;
      } else {
        break;
      }
      if (!cmp) {
        cmp = make_expr(Expr::Kind::Compare, line);
        cmp->a = std::move(first);
      }
      cmp->kwargs.emplace_back(op, parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().value;
      int line = cur().line;
      ++pos_;
      e = binary(op, std::move(e), parse_concat(), line);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      int line = cur().line;
      ++pos_;
      e = binary("~", std::move(e), parse_math2(), line);
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().value;
      int line = cur().line;
      ++pos_;
      e = binary(op, std::move(e), parse_pow(), line);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      int line = cur().line;
      ++pos_;
      e = binary("**", std::move(e), parse_unary(true), line);
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(depth_, *this);
    int line = cur().line;
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make_expr(is_op("-") ? Expr::Kind::Neg : Expr::Kind::Pos, line);
      ++pos_;
      e->a = parse_unary(false);
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    DepthGuard guard(depth_, *this);
    const Token& t = cur();
    int line = t.line;
    if (t.type == T::Name) {
      ++pos_;
      const std::string& n = t.value;
      auto e = make_expr(Expr::Kind::Const, line);
      if (n == "true" || n == "True") e->value = Value::boolean(true);
      else if (n == "false" || n == "False") e->value = Value::boolean(false);
      else if (n == "none" || n == "None") e->value = Value::none();
      else {
        e->kind = Expr::Kind::Name;
        e->name = n;
      }
      return e;
    }
    if (t.type == T::String) {
      std::string s;
      while (cur().type == T::String) s += toks_[pos_++].value;
      auto e = make_expr(Expr::Kind::Const, line);
      e->value = Value::string(std::move(s));
      return e;
    }
    if (t.type == T::Int || t.type == T::Float) {
      ++pos_;
      auto e = make_expr(Expr::Kind::Const, line);
      e->value = t.type == T::Int ? Value::integer(std::strtoll(t.value.c_str(), nullptr, 10))
                                  : Value::number(std::strtod(t.value.c_str(), nullptr));
      return e;
    }
    if (is_op("(")) {
      ++pos_;
      ExprPtr e = parse_tuple(false, true, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      ++pos_;
      auto e = make_expr(Expr::Kind::List, line);
      while (!is_op("]")) {
        if (!e->items.empty()) expect_op(",");
        if (is_op("]")) break;
        e->items.push_back(parse_expression());
      }
      ++pos_;
      return e;
    }
    if (is_op("{")) {
      ++pos_;
      auto e = make_expr(Expr::Kind::Dict, line);
      while (!is_op("}")) {
        if (!e->items.empty()) expect_op(",");
        if (is_op("}")) break;
        e->items.push_back(parse_expression());
        expect_op(":");
        e->items.push_back(parse_expression());
      }
      ++pos_;
      return e;
    }
    error("unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      int line = cur().line;
      if (is_op(".")) {
        ++pos_;
        auto g = make_expr(Expr::Kind::GetAttr, line);
        if (cur().type == T::Name) {
          g->name = toks_[pos_++].value;
        } else if (cur().type == T::Int) {
          g->kind = Expr::Kind::GetItem;
          auto idx = make_expr(Expr::Kind::Const, line);
          idx->value = Value::integer(std::strtoll(toks_[pos_++].value.c_str(), nullptr, 10));
          g->b = std::move(idx);
        } else {
          error("expected name or number");
        }
        g->a = std::move(e);
        e = std::move(g);
      } else if (is_op("[")) {
        ++pos_;
        auto g = make_expr(Expr::Kind::GetItem, line);
        g->a = std::move(e);
        g->b = parse_subscript();
        expect_op("]");
        e = std::move(g);
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript() {
    int line = cur().line;
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression();
      if (!is_op(":")) return start;
    }
    auto s = make_expr(Expr::Kind::Slice, line);
    ++pos_;  // ':'
    ExprPtr stop, step;
    if (!is_op("]") && !is_op(":")) stop = parse_expression();
    if (is_op(":")) {
      ++pos_;
      if (!is_op("]")) step = parse_expression();
    }
    s->items.push_back(std::move(start));
    s->items.push_back(std::move(stop));
    s->items.push_back(std::move(step));
    return s;
  }

  // "( args )" into e->items / kwargs / star_args / star_kwargs.
  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*")) {
        ++pos_;
        e.star_args = parse_expression();
      } else if (is_op("**")) {
        ++pos_;
        e.star_kwargs = parse_expression();
      } else if (cur().type == T::Name && peek().type == T::Op && peek().value == "=") {
        std::string key = cur().value;
        pos_ += 2;
        e.kwargs.emplace_back(key, parse_expression());
      } else {
        if (!e.kwargs.empty()) error("positional argument follows keyword argument");
        e.items.push_back(parse_expression());
      }
    }
    ++pos_;
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto c = make_expr(Expr::Kind::Call, cur().line);
    c->a = std::move(callee);
    parse_call_args(*c);
    return c;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    for (;;) {
      if (is_op("|")) {
        e = parse_filter_chain(std::move(e));
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  // One or more "| name(args)" applied to `e` (null for {% filter %} / {% set %} blocks).
  ExprPtr parse_filter_chain(ExprPtr e, bool first_pipe = true) {
    bool need_pipe = first_pipe;
    do {
      if (need_pipe) expect_op("|");
      need_pipe = true;
      auto f = make_expr(Expr::Kind::Filter, cur().line);
      f->name = expect_name();
      while (is_op(".")) {
        ++pos_;
        f->name += "." + expect_name();
      }
      if (is_op("(")) parse_call_args(*f);
      f->a = std::move(e);
      e = std::move(f);
    } while (is_op("|"));
    return e;
  }

  ExprPtr parse_test(ExprPtr e) {
    int line = cur().line;
    ++pos_;  // 'is'
    bool negated = false;
    if (is_name("not")) {
      negated = true;
      ++pos_;
    }
    auto t = make_expr(Expr::Kind::Test, line);
    t->name = expect_name();
    while (is_op(".")) {
      ++pos_;
      t->name += "." + expect_name();
    }
    t->a = std::move(e);
    if (is_op("(")) {
      parse_call_args(*t);
    } else if ((cur().type == T::Name || cur().type == T::String || cur().type == T::Int ||
                cur().type == T::Float || is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) error("You cannot chain multiple tests with is");
      ExprPtr arg = parse_postfix(parse_primary());
      t->items.push_back(std::move(arg));
    }
    if (!negated) return t;
    auto n = make_expr(Expr::Kind::Not, line);
    n->a = std::move(t);
    return n;
  }
};

}  // namespace axl::chat::detail
