#include "axl/tokenizer/chat/chat_template.h"

#include "axl/tokenizer/chat/ast.h"
#include "axl/tokenizer/chat/evaluator.h"
#include "axl/tokenizer/chat/filters.h"
#include "axl/tokenizer/chat/json_value.h"
#include "axl/tokenizer/chat/lexer.h"
#include "axl/tokenizer/chat/parser.h"
#include "axl/tokenizer/chat/template_tests.h"

namespace axl::chat {

namespace {

// jinja2 resolves filter and test names when it compiles a template, so an unknown one is
// an error even in a branch that never runs.
void check_names(const Expr* e) {
  if (!e) return;
  if (e->kind == Expr::Kind::Filter && !is_known_filter(e->name))
    throw JinjaFailure{"TemplateAssertionError", "No filter named '" + e->name + "'.", e->line};
  if (e->kind == Expr::Kind::Test && !is_known_test(e->name))
    throw JinjaFailure{"TemplateAssertionError", "No test named '" + e->name + "'.", e->line};
  check_names(e->a.get());
  check_names(e->b.get());
  check_names(e->c.get());
  for (const auto& x : e->items) check_names(x.get());
  for (const auto& kw : e->kwargs) check_names(kw.second.get());
  check_names(e->star_args.get());
  check_names(e->star_kwargs.get());
}

void check_names(const Body& body) {
  for (const auto& s : body) {
    check_names(s->target.get());
    check_names(s->expr.get());
    check_names(s->cond.get());
    for (const auto& c : s->conds) check_names(c.get());
    for (const auto& b : s->bodies) check_names(b);
    for (const auto& p : s->params) check_names(p.default_value.get());
    check_names(s->body);
    check_names(s->else_body);
  }
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source, std::string origin)
    : source_(std::move(source)), origin_(std::move(origin)) {
  try {
    auto body = std::make_shared<Body>(parse(tokenize(source_)));
    check_names(*body);
    body_ = std::move(body);
  } catch (const JinjaFailure& f) {
    throw TemplateError(origin_, f);
  }
}

template <typename Json>
std::string ChatTemplate::render_json(const Json& context) const {
  if (!context.is_object()) throw axl::Error("chat template " + origin_ + ": render context must be a JSON object");
  ValuePairs vars;
  for (auto it = context.begin(); it != context.end(); ++it) vars.emplace_back(Value::string(it.key()), from_json(it.value()));
  try {
    Evaluator ev(vars, clock_ ? *clock_ : std::time(nullptr));
    return ev.render(*body_);
  } catch (const JinjaFailure& f) {
    throw TemplateError(origin_, f);
  }
}

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const { return render_json(context); }
std::string ChatTemplate::render(const nlohmann::json& context) const { return render_json(context); }

template <typename Json>
static Json chat_context(const Json& messages, const Json& tools, bool add_generation_prompt,
                         const Json& special_tokens, const Json& extra) {
  Json ctx = Json::object();
  ctx["messages"] = messages;
  ctx["tools"] = tools;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = add_generation_prompt;
  if (special_tokens.is_object())
    for (auto it = special_tokens.begin(); it != special_tokens.end(); ++it) ctx[it.key()] = it.value();
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) ctx[it.key()] = it.value();
  return ctx;
}

std::string apply_chat_template(const ChatTemplate& tmpl, const nlohmann::ordered_json& messages,
                                const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                const nlohmann::ordered_json& special_tokens, const nlohmann::ordered_json& extra) {
  return tmpl.render(chat_context(messages, tools, add_generation_prompt, special_tokens, extra));
}

std::string apply_chat_template(const ChatTemplate& tmpl, const nlohmann::json& messages,
                                const nlohmann::json& tools, bool add_generation_prompt,
                                const nlohmann::json& special_tokens, const nlohmann::json& extra) {
  return tmpl.render(chat_context(messages, tools, add_generation_prompt, special_tokens, extra));
}

}  // namespace axl::chat
