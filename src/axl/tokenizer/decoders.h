#pragma once
// tokenizer.json "decoder": ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace,
// WordPiece, BPEDecoder and Sequence. Each rewrites the list of token strings; the decoded text
// is their concatenation at the end (HF decode_chain semantics).
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace axl::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j);  // null -> nullptr

}  // namespace axl::tokenizer
