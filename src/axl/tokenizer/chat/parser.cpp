#include "axl/tokenizer/chat/parser.h"

#include <set>

#include "axl/tokenizer/chat/expression_parser.h"

namespace axl::chat {
namespace {

using namespace detail;

// Statements: text, {{ }} output, and the {% %} tags (if/for/set/macro/call/filter/...).
class Parser : public ExpressionParser {
 public:
  using ExpressionParser::ExpressionParser;

  Body parse_template() {
    std::string stopped;
    return parse_body({}, &stopped);
  }

 private:
  // Statements until a {% name %} with name in `ends` (the tag's name is left in *stopped and
  // the stream positioned after it, before its arguments).
  Body parse_body(const std::set<std::string>& ends, std::string* stopped) {
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.type == T::End) {
        if (!ends.empty()) {
          std::string names;
          for (const auto& e : ends) names += (names.empty() ? "'" : " or '") + e + "'";
          error("Unexpected end of template. Jinja was looking for the following tags: " + names + ".");
        }
        return body;
      }
      if (t.type == T::Text) {
        auto s = make_stmt(Stmt::Kind::Text, t.line);
        s->text = t.value;
        body.push_back(std::move(s));
        ++pos_;
      } else if (t.type == T::VarBegin) {
        ++pos_;
        auto s = make_stmt(Stmt::Kind::Print, t.line);
        s->expr = parse_tuple(true);
        if (cur().type != T::VarEnd) error("expected token 'end of print statement', got " + describe(cur()));
        ++pos_;
        body.push_back(std::move(s));
      } else if (t.type == T::BlockBegin) {
        ++pos_;
        if (cur().type == T::Name && ends.count(cur().value)) {
          *stopped = cur().value;
          ++pos_;
          return body;
        }
        body.push_back(parse_statement());
      } else {
        error("unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    DepthGuard guard(depth_, *this);
    int line = cur().line;
    std::string tag = cur().type == T::Name ? cur().value : "";
    if (tag.empty()) error("tag name expected");
    ++pos_;
    if (tag == "if") return parse_if(line);
    if (tag == "for") return parse_for(line);
    if (tag == "set") return parse_set(line);
    if (tag == "macro") return parse_macro(line);
    if (tag == "call") return parse_call_block(line);
    if (tag == "filter") return parse_filter_block(line);
    if (tag == "break" || tag == "continue") {
      auto s = make_stmt(tag == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, line);
      expect_block_end();
      return s;
    }
    if (tag == "generation") {
      auto s = make_stmt(Stmt::Kind::Generation, line);
      expect_block_end();
      std::string stopped;
      s->body = parse_body({"endgeneration"}, &stopped);
      expect_block_end();
      return s;
    }
    static const std::set<std::string> closers = {"endif", "endfor", "endset", "endmacro", "endcall",
                                                  "endfilter", "else", "elif", "endgeneration"};
    if (closers.count(tag)) error("Encountered unknown tag '" + tag + "'.");
    error("Encountered unknown tag '" + tag + "'.");
  }

  StmtPtr parse_if(int line) {
    auto s = make_stmt(Stmt::Kind::If, line);
    for (;;) {
      s->conds.push_back(parse_tuple(false));
      expect_block_end();
      std::string stopped;
      s->bodies.push_back(parse_body({"elif", "else", "endif"}, &stopped));
      if (stopped == "elif") continue;
      if (stopped == "else") {
        expect_block_end();
        s->else_body = parse_body({"endif"}, &stopped);
      }
      expect_block_end();
      return s;
    }
  }

  StmtPtr parse_for(int line) {
    auto s = make_stmt(Stmt::Kind::For, line);
    s->target = parse_assign_target(true);
    if (!is_name("in")) error("expected token 'in', got " + describe(cur()));
    ++pos_;
    s->expr = parse_tuple(false, /*with_condexpr=*/false);
    if (is_name("if")) {
      ++pos_;
      s->cond = parse_expression();
    }
    if (is_name("recursive")) error("recursive for loops are not supported");
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endfor", "else"}, &stopped);
    if (stopped == "else") {
      expect_block_end();
      s->else_body = parse_body({"endfor"}, &stopped);
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set(int line) {
    ExprPtr target = parse_assign_target(true);
    if (is_op("=")) {
      ++pos_;
      auto s = make_stmt(Stmt::Kind::Set, line);
      s->target = std::move(target);
      s->expr = parse_tuple(false);
      expect_block_end();
      return s;
    }
    auto s = make_stmt(Stmt::Kind::SetBlock, line);
    s->target = std::move(target);
    if (is_op("|")) s->expr = parse_filter_chain(nullptr);
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endset"}, &stopped);
    expect_block_end();
    return s;
  }

  void parse_params(std::vector<MacroParam>& params) {
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(")")) break;
      MacroParam p;
      p.name = expect_name();
      if (is_op("=")) {
        ++pos_;
        p.default_value = parse_expression();
      } else if (!params.empty() && params.back().default_value) {
        error("non-default argument follows default argument");
      }
      params.push_back(std::move(p));
    }
    ++pos_;
  }

  StmtPtr parse_macro(int line) {
    auto s = make_stmt(Stmt::Kind::Macro, line);
    s->name = expect_name();
    parse_params(s->params);
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endmacro"}, &stopped);
    if (cur().type == T::Name && cur().value == s->name) ++pos_;
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block(int line) {
    auto s = make_stmt(Stmt::Kind::CallBlock, line);
    if (is_op("(")) parse_params(s->params);
    s->expr = parse_expression();
    if (s->expr->kind != Expr::Kind::Call) error("expected call");
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endcall"}, &stopped);
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block(int line) {
    auto s = make_stmt(Stmt::Kind::FilterBlock, line);
    s->expr = parse_filter_chain(nullptr, /*first_pipe=*/false);
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endfilter"}, &stopped);
    expect_block_end();
    return s;
  }

};

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_template(); }

}  // namespace axl::chat
