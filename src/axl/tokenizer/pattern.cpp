#include "axl/tokenizer/pattern.h"

#include "axl/core/error.h"

namespace axl::tokenizer {

void Pattern::find_all(std::string_view s, std::vector<std::pair<uint32_t, uint32_t>>& out) const {
  out.clear();
  if (regex_) {
    regex_->for_each_match(s, [&](size_t b, size_t e) {
      out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
    });
    return;
  }
  if (literal_.empty()) return;
  size_t pos = 0;
  while ((pos = s.find(literal_, pos)) != std::string_view::npos) {
    out.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + literal_.size())});
    pos += literal_.size();
  }
}

Pattern parse_pattern(const nlohmann::json& j, const std::string& what) {
  auto it = j.find("pattern");
  if (it == j.end() || !it->is_object() || it->size() != 1)
    throw Error(what + ": \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}");
  if (it->contains("String") && (*it)["String"].is_string()) return Pattern((*it)["String"].get<std::string>());
  if (it->contains("Regex") && (*it)["Regex"].is_string())
    return Pattern(std::make_shared<Regex>((*it)["Regex"].get<std::string>(), what));
  throw Error(what + ": \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace axl::tokenizer
