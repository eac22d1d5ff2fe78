#pragma once
// tokenizer.json "normalizer": NFC/NFD/NFKC/NFKD, Lowercase, Strip, Prepend, Replace and
// Sequence. Each rewrites the non-added pieces of a PreTokenized, keeping the alignment to the
// original text.
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/pretokenized.h"

namespace axl::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Normalizes every non-added piece of `pt`.
  virtual void normalize(PreTokenized& pt) const;
  // A normalizer that only needs one piece at a time implements these two.
  virtual bool leaves_unchanged(std::string_view) const { return false; }
  virtual void rewrite(std::string_view piece, uint32_t base, Rebuilder& out) const;
};

// Builds a normalizer from its JSON (null -> nullptr). Throws axl::Error naming an unknown type.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j);

}  // namespace axl::tokenizer
