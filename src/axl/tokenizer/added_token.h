#pragma once
// One added token as tokenizer.json's "added_tokens" and HF's AddedToken describe it.
#include <cstdint>
#include <string>

namespace axl::tokenizer {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = false;
};

}  // namespace axl::tokenizer
