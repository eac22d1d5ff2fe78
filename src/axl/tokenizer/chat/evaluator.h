#pragma once
// Walks a parsed template and writes its output: jinja2's scoping (a loop body and a macro
// get their own scope; `set` inside them does not leak out; namespaces carry state across),
// loop variables, loop controls, macros and call blocks.
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "axl/tokenizer/chat/ast.h"

namespace axl::chat {

class Evaluator {
 public:
  // `variables` are the render() keywords; `now` is the clock strftime_now() reads.
  Evaluator(const ValuePairs& variables, std::time_t now);
  std::string render(const Body& body);

 private:
  using Frame = std::unordered_map<std::string, Value>;
  using Scope = std::vector<std::shared_ptr<Frame>>;
  enum class Flow { Normal, Break, Continue };

  Scope scope_;
  std::time_t now_;
  int call_depth_ = 0;

  Flow exec_body(const Body& body, std::string& out);
  Flow exec(const Stmt& s, std::string& out);
  void exec_for(const Stmt& s, std::string& out);
  void assign(const Expr& target, const Value& v);
  Value make_macro(const Stmt& s);
  Value call_macro(const Stmt& s, const Scope& defined_in, CallArgs& args, const Value* caller);

  Value eval(const Expr& e);
  Value eval_impl(const Expr& e);
  Value lookup(const std::string& name) const;
  CallArgs eval_args(const Expr& e);
  Value apply_filter_chain(const Expr& chain, const Value& input);
  void install_globals(Frame& g);
};

}  // namespace axl::chat
