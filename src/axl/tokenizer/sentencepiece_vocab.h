#pragma once
// Every piece of a sentencepiece .model with its score and kind, in id order: what a GGUF
// "llama" vocabulary (tokenizer.ggml.tokens / scores / token_type) is made of. libsentencepiece
// does the parsing; it does not expose user-defined pieces as such, so those read as Normal.
#include <string>
#include <vector>

namespace axl::tokenizer {

struct SentencePiecePiece {
  enum class Kind { Normal, Unknown, Control, Unused, Byte };
  std::string piece;
  float score = 0.0f;
  Kind kind = Kind::Normal;
};

// Throws axl::Error when the file cannot be read as a sentencepiece model.
std::vector<SentencePiecePiece> read_sentencepiece_pieces(const std::string& model_path);

}  // namespace axl::tokenizer
