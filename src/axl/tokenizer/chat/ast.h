#pragma once
// The parsed template: expression and statement nodes, each with its source line so errors
// can point at it.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "axl/tokenizer/chat/value.h"

namespace axl::chat {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Expr {
  enum class Kind {
    Const,      // value
    Name,       // name
    List,       // items
    Tuple,      // items
    Dict,       // items (key, value pairs flattened: k0, v0, k1, v1, ...)
    GetAttr,    // a . name
    GetItem,    // a [ b ]
    Slice,      // items: start, stop, step (null when omitted)
    Call,       // a ( args )
    Filter,     // a | name ( args )   (a is null inside a {% filter %} block)
    Test,       // a is name ( args )
    Not,        // not a
    Neg,        // - a
    Pos,        // + a
    Binary,     // a op b: + - * / // % ** ~ and or
    Compare,    // a op b with op in == != < <= > >= in notin
    CondExpr,   // b if a else c (c may be null)
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;  // Name, GetAttr attribute, Filter/Test name, Binary/Compare operator
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;                              // List, Tuple, Dict, Slice, call args
  std::vector<std::pair<std::string, ExprPtr>> kwargs;     // call keyword arguments
  ExprPtr star_args, star_kwargs;                          // *args / **kwargs in calls
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Stmt {
  enum class Kind {
    Text,       // text
    Print,      // expr
    If,         // conds[i] -> bodies[i]; else_body
    For,        // target, expr (iterable), cond (filter), body, else_body
    Set,        // target = expr
    SetBlock,   // target = rendered body | filters (expr holds the filter chain or null)
    Macro,      // name, params, body
    CallBlock,  // expr (the call), params (caller's), body
    FilterBlock,  // expr (filter chain applied to rendered body), body
    Break,
    Continue,
    Generation,  // transformers' {% generation %}: renders its body
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr target, expr, cond;
  std::vector<ExprPtr> conds;
  std::vector<Body> bodies;
  Body body, else_body;
  std::string name;
  std::vector<MacroParam> params;
};

}  // namespace axl::chat
