#include "axl/tokenizer/sentencepiece_vocab.h"

#include <sentencepiece_processor.h>

#include "axl/core/error.h"

namespace axl::tokenizer {

std::vector<SentencePiecePiece> read_sentencepiece_pieces(const std::string& model_path) {
  sentencepiece::SentencePieceProcessor sp;
  const auto st = sp.Load(model_path);
  if (!st.ok()) throw Error(model_path + ": not a sentencepiece model (" + st.ToString() + ")");
  std::vector<SentencePiecePiece> out(static_cast<std::size_t>(sp.GetPieceSize()));
  for (int id = 0; id < sp.GetPieceSize(); ++id) {
    SentencePiecePiece& p = out[static_cast<std::size_t>(id)];
    p.piece = sp.IdToPiece(id);
    p.score = sp.GetScore(id);
    using K = SentencePiecePiece::Kind;
    p.kind = sp.IsUnknown(id) ? K::Unknown : sp.IsControl(id) ? K::Control : sp.IsUnused(id) ? K::Unused
           : sp.IsByte(id) ? K::Byte : K::Normal;
  }
  return out;
}

}  // namespace axl::tokenizer
