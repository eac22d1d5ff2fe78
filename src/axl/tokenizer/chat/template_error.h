#pragma once
// Errors of a chat template: syntax errors while parsing, and errors while rendering (an
// explicit raise_exception(), an undefined value misused, a type error). The message names
// the template's origin and line, as jinja2's traceback would.
#include <string>

#include "axl/core/error.h"

namespace axl::chat {

// Thrown inside the interpreter; the line is filled in by the innermost node that knows it.
struct JinjaFailure {
  std::string kind;     // jinja2/Python class: TemplateError, UndefinedError, TypeError, ...
  std::string message;  // str(exception) as Python would print it
  int line = 0;
};

[[noreturn]] void fail(const std::string& kind, const std::string& message);
[[noreturn]] void fail_type(const std::string& message);  // Python TypeError

class TemplateError : public axl::Error {
 public:
  TemplateError(const std::string& origin, const JinjaFailure& f)
      : axl::Error("chat template " + origin + ", line " + std::to_string(f.line) + ": " +
                   f.kind + ": " + f.message),
        kind_(f.kind), message_(f.message), line_(f.line) {}
  const std::string& kind() const { return kind_; }
  const std::string& message() const { return message_; }  // without origin and line
  int line() const { return line_; }

 private:
  std::string kind_, message_;
  int line_;
};

}  // namespace axl::chat
