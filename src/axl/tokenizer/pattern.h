#pragma once
// The {"String": ...} / {"Regex": ...} pattern of Split, Replace and the Replace decoder.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/regex.h"

namespace axl::tokenizer {

class Pattern {
 public:
  explicit Pattern(std::string literal) : literal_(std::move(literal)) {}
  explicit Pattern(std::shared_ptr<Regex> re) : regex_(std::move(re)) {}
  // Non-overlapping matches, left to right, appended to `out` (cleared first).
  void find_all(std::string_view s, std::vector<std::pair<uint32_t, uint32_t>>& out) const;

 private:
  std::string literal_;
  std::shared_ptr<Regex> regex_;
};

// Reads j["pattern"]; `what` names the component for errors.
Pattern parse_pattern(const nlohmann::json& j, const std::string& what);

}  // namespace axl::tokenizer
