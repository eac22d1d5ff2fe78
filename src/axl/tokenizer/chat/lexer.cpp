#include "axl/tokenizer/chat/lexer.h"

#include <cstring>

#include "axl/tokenizer/chat/template_error.h"
#include "axl/tokenizer/chat/unicode_text.h"

namespace axl::chat {
namespace {

// jinja2 joins lines with "\n" after splitting on \r\n|\r|\n, and (keep_trailing_newline=False)
// drops one final newline.
std::string normalize_newlines(const std::string& src) {
  std::string out;
  out.reserve(src.size());
  for (size_t k = 0; k < src.size(); ++k) {
    if (src[k] == '\r') {
      out += '\n';
      if (k + 1 < src.size() && src[k + 1] == '\n') ++k;
    } else {
      out += src[k];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Python's \s over UTF-8: the length of the whitespace character at `pos`, or 0.
size_t space_len(const std::string& s, size_t pos) {
  unsigned char c = s[pos];
  if (c < 0x80) return text::is_space(c) ? 1 : 0;
  size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
  if (pos + n > s.size()) return 0;
  auto cps = text::decode(s.substr(pos, n));
  return cps.size() == 1 && text::is_space(cps[0]) ? n : 0;
}

size_t skip_spaces(const std::string& s, size_t pos) {
  while (pos < s.size()) {
    size_t n = space_len(s, pos);
    if (!n) break;
    pos += n;
  }
  return pos;
}

std::string rstrip_spaces(const std::string& s) { return text::strip(s, nullptr, false, true); }

class Lexer {
 public:
  explicit Lexer(const std::string& source) : src_(normalize_newlines(source)) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t open = find_open(pos_);
      if (open == std::string::npos) {
        emit_text(src_.substr(pos_));
        pos_ = src_.size();
        break;
      }
      char kind = src_[open + 1];  // '{', '%' or '#'
      char sign = open + 2 < src_.size() && (src_[open + 2] == '-' || src_[open + 2] == '+')
                      ? src_[open + 2] : 0;
      std::string text = src_.substr(pos_, open - pos_);
      if (sign == '-') {
        text = rstrip_spaces(text);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if ((l_pos > 0 || line_starting) &&
            text.find_first_not_of(" \t", l_pos) == std::string::npos)
          text.resize(l_pos);
      }
      emit_text(text);
      pos_ = open + 2 + (sign ? 1 : 0);
      if (kind == '#') lex_comment();
      else if (kind == '%' && try_raw()) {}
      else lex_tag(kind == '{');
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
    tokens_.push_back({Token::Type::End, "", line_at(src_.size())});
    return std::move(tokens_);
  }

 private:
  const std::string src_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;

  int line_at(size_t pos) const {
    int line = 1;
    for (size_t k = 0; k < pos && k < src_.size(); ++k) line += src_[k] == '\n';
    return line;
  }
  // Lines are counted incrementally: tokens are produced left to right.
  size_t line_pos_ = 0;
  int line_ = 1;
  int line_of(size_t pos) {
    for (; line_pos_ < pos && line_pos_ < src_.size(); ++line_pos_) line_ += src_[line_pos_] == '\n';
    return line_;
  }

  [[noreturn]] void syntax_error(const std::string& msg, size_t pos) {
    throw JinjaFailure{"TemplateSyntaxError", msg, line_of(pos)};
  }

  size_t find_open(size_t from) const {
    for (size_t k = src_.find('{', from); k != std::string::npos; k = src_.find('{', k + 1)) {
      if (k + 1 < src_.size() && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#'))
        return k;
    }
    return std::string::npos;
  }

  void emit_text(const std::string& text) {
    if (!text.empty()) tokens_.push_back({Token::Type::Text, text, line_of(pos_)});
  }

  // After a closing "%}" or "#}": '-' eats following whitespace, '+' nothing, otherwise
  // trim_blocks eats one newline.
  void after_block_end(char sign) {
    if (sign == '-') pos_ = skip_spaces(src_, pos_);
    else if (sign != '+' && pos_ < src_.size() && src_[pos_] == '\n') ++pos_;
  }

  void lex_comment() {
    size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) syntax_error("Missing end of comment tag", pos_);
    char sign = end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : 0;
    pos_ = end + 2;
    after_block_end(sign);
  }

  // Matches "{%[-+]? \s* word \s* [-+]? %}" whose "{%" is at `at`; returns the end or npos.
  size_t match_word_tag(size_t at, const char* word, char* open_sign, char* close_sign) const {
    size_t p = at + 2;
    *open_sign = p < src_.size() && (src_[p] == '-' || src_[p] == '+') ? src_[p++] : 0;
    p = skip_spaces(src_, p);
    size_t wl = std::strlen(word);
    if (src_.compare(p, wl, word) != 0) return std::string::npos;
    p = skip_spaces(src_, p + wl);
    *close_sign = p < src_.size() && (src_[p] == '-' || src_[p] == '+') ? src_[p++] : 0;
    if (src_.compare(p, 2, "%}") != 0) return std::string::npos;
    return p + 2;
  }

  bool try_raw() {
    size_t at = src_.rfind("{%", pos_);
    char os, cs;
    size_t end = match_word_tag(at, "raw", &os, &cs);
    if (end == std::string::npos) return false;
    pos_ = cs == '-' ? skip_spaces(src_, end) : end;
    for (size_t k = src_.find("{%", pos_); k != std::string::npos; k = src_.find("{%", k + 1)) {
      size_t close = match_word_tag(k, "endraw", &os, &cs);
      if (close == std::string::npos) continue;
      std::string body = src_.substr(pos_, k - pos_);
      if (os == '-') body = rstrip_spaces(body);
      emit_text(body);
      pos_ = close;
      after_block_end(cs);
      return true;
    }
    syntax_error("Missing end of raw directive", pos_);
  }

  void lex_tag(bool variable) {
    tokens_.push_back({variable ? Token::Type::VarBegin : Token::Type::BlockBegin, "", line_of(pos_)});
    int depth = 0;
    for (;;) {
      pos_ = skip_spaces(src_, pos_);
      if (pos_ >= src_.size())
        syntax_error(variable ? "unexpected end of template, expected 'end of print statement'."
                              : "unexpected end of template, expected 'end of statement block'.", pos_);
      if (depth == 0 && close_tag(variable)) return;
      lex_expression_token(depth);
    }
  }

  bool close_tag(bool variable) {
    const char* close = variable ? "}}" : "%}";
    char sign = 0;
    size_t p = pos_;
    if (src_[p] == '-' || (!variable && src_[p] == '+')) sign = src_[p++];
    if (src_.compare(p, 2, close) != 0) return false;
    tokens_.push_back({variable ? Token::Type::VarEnd : Token::Type::BlockEnd, "", line_of(pos_)});
    pos_ = p + 2;
    if (variable) {
      if (sign == '-') pos_ = skip_spaces(src_, pos_);
    } else {
      after_block_end(sign);
    }
    return true;
  }

  void lex_expression_token(int& depth) {
    int line = line_of(pos_);
    char c = src_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t b = pos_;
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
      tokens_.push_back({Token::Type::Name, src_.substr(b, pos_ - b), line});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      lex_number(line);
    } else if (c == '\'' || c == '"') {
      lex_string(line);
    } else {
      static const char* two[] = {"//", "**", "==", "!=", ">=", "<="};
      for (const char* op : two) {
        if (src_.compare(pos_, 2, op) == 0) {
          tokens_.push_back({Token::Type::Op, op, line});
          pos_ += 2;
          return;
        }
      }
      if (!std::strchr("+-*/%~<>=.,:|()[]{}", c))
        syntax_error(std::string("unexpected char '") + c + "'", pos_);
      if (c == '(' || c == '[' || c == '{') ++depth;
      if (c == ')' || c == ']' || c == '}') --depth;
      tokens_.push_back({Token::Type::Op, std::string(1, c), line});
      ++pos_;
    }
  }

  void read_digits(std::string& out) {
    while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
      if (src_[pos_] != '_') out += src_[pos_];
      ++pos_;
    }
  }

  void lex_number(int line) {
    std::string digits;
    read_digits(digits);
    bool after_dot = !tokens_.empty() && tokens_.back().type == Token::Type::Op && tokens_.back().value == ".";
    bool is_float = false;
    if (!after_dot && pos_ + 1 < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
      digits += '.';
      ++pos_;
      read_digits(digits);
      is_float = true;
    }
    if (!after_dot && pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) {
        digits += 'e';
        digits.append(src_, pos_ + 1, p - pos_ - 1);
        pos_ = p;
        read_digits(digits);
        is_float = true;
      }
    }
    tokens_.push_back({is_float ? Token::Type::Float : Token::Type::Int, digits, line});
  }

  // Python's "unicode-escape" decoding of a string literal's body.
  void lex_string(int line) {
    char quote = src_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= src_.size()) syntax_error("unexpected end of string", pos_);
      char c = src_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= src_.size()) syntax_error("unexpected end of string", pos_);
      char e = src_[pos_++];
      auto hex = [&](int n) {
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          if (pos_ >= src_.size() || !std::isxdigit(static_cast<unsigned char>(src_[pos_])))
            syntax_error("truncated escape in string literal", pos_);
          char h = src_[pos_++];
          v = v * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
        }
        text::append_utf8(out, v);
      };
      switch (e) {
        case '\n': break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = e - '0';
            for (int k = 0; k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; ++k)
              v = v * 8 + (src_[pos_++] - '0');
            text::append_utf8(out, v);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    tokens_.push_back({Token::Type::String, out, line});
  }
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) { return Lexer(source).run(); }

}  // namespace axl::chat
