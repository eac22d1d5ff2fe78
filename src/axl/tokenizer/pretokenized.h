#pragma once
// The text as it moves through the pipeline: one buffer (normalized text) cut into pieces.
// Added tokens are pieces of their own; the other pieces are what normalizers, pre-tokenizers
// and the model work on. Each buffer byte remembers the original byte range it came from
// (only when offsets are wanted), which is how token offsets are mapped back to the input.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace axl::tokenizer {

struct Span {
  uint32_t begin = 0, end = 0;
};

struct Piece {
  uint32_t begin = 0, end = 0;  // byte range in PreTokenized::text
  int32_t added_id = -1;        // >= 0: this piece is that added token
  bool is_added() const { return added_id >= 0; }
};

struct PreTokenized {
  std::string text;
  std::vector<Span> align;  // per byte of text; empty = identity (text is still the original)
  bool track = false;       // keep `align` (offsets were asked for)
  std::vector<Piece> pieces;

  std::string_view view(const Piece& p) const { return std::string_view(text).substr(p.begin, p.end - p.begin); }
  // Original byte range of text[b, e).
  Span original(uint32_t b, uint32_t e) const {
    if (align.empty()) return {b, e};
    if (e <= b) return b < align.size() ? Span{align[b].begin, align[b].begin} : Span{0, 0};
    return {align[b].begin, align[e - 1].end};
  }
};

// Builds a new buffer from an old one: copy ranges, insert new text aligned to an original
// range, cut pieces. Used by every step that changes text.
class Rebuilder {
 public:
  explicit Rebuilder(const PreTokenized& src);
  void copy(uint32_t b, uint32_t e);                  // src.text[b, e)
  void insert(std::string_view s, Span orig);        // new bytes, all aligned to `orig`
  void replace(uint32_t b, uint32_t e, std::string_view s) { insert(s, src_.original(b, e)); }
  void start_piece() { piece_start_ = static_cast<uint32_t>(text_.size()); }
  void end_piece(int32_t added_id = -1) {
    pieces_.push_back({piece_start_, static_cast<uint32_t>(text_.size()), added_id});
  }
  size_t size() const { return text_.size(); }
  void finish(PreTokenized& dst);

 private:
  const PreTokenized& src_;
  std::string text_;
  std::vector<Span> align_;
  std::vector<Piece> pieces_;
  uint32_t piece_start_ = 0;
};

// Rewrites every non-added piece with f(piece_text, piece_begin, rebuilder); added pieces are
// copied. f must write exactly the new content of that piece (one piece in, one piece out).
template <class F>
void transform_pieces(PreTokenized& pt, F&& f) {
  Rebuilder rb(pt);
  for (const Piece& p : pt.pieces) {
    rb.start_piece();
    if (p.is_added()) {
      rb.copy(p.begin, p.end);
    } else {
      f(pt.view(p), p.begin, rb);
    }
    rb.end_piece(p.added_id);
  }
  rb.finish(pt);
}

// Replaces every non-added piece with the sub-ranges f appends to `out` (relative to the
// piece); empty ranges are dropped, as HF drops empty splits.
template <class F>
void split_pieces(PreTokenized& pt, F&& f) {
  std::vector<Piece> next;
  next.reserve(pt.pieces.size());
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (const Piece& p : pt.pieces) {
    if (p.is_added()) {
      next.push_back(p);
      continue;
    }
    ranges.clear();
    f(pt.view(p), ranges);
    for (auto& r : ranges)
      if (r.second > r.first) next.push_back({p.begin + r.first, p.begin + r.second, -1});
  }
  pt.pieces.swap(next);
}

// How a split keeps the delimiters it finds (HF SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct MatchRange {
  uint32_t begin, end;
  bool is_match;
};
// Turns a full cover of a piece by (range, is_match) into the kept ranges.
void apply_split_behavior(const std::vector<MatchRange>& cover, SplitBehavior behavior,
                          std::vector<std::pair<uint32_t, uint32_t>>& out);
// Builds the cover of [0, n) from ordered, non-overlapping matches.
void cover_from_matches(const std::vector<std::pair<uint32_t, uint32_t>>& matches, uint32_t n, bool invert,
                        std::vector<MatchRange>& cover);

}  // namespace axl::tokenizer
