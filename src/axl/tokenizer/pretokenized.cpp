#include "axl/tokenizer/pretokenized.h"

namespace axl::tokenizer {

Rebuilder::Rebuilder(const PreTokenized& src) : src_(src) {
  text_.reserve(src.text.size() + src.text.size() / 8 + 16);
  if (src.track) align_.reserve(text_.capacity());
}

void Rebuilder::copy(uint32_t b, uint32_t e) {
  text_.append(src_.text, b, e - b);
  if (!src_.track) return;
  if (src_.align.empty()) {
    for (uint32_t i = b; i < e; ++i) align_.push_back({i, i + 1});
  } else {
    align_.insert(align_.end(), src_.align.begin() + b, src_.align.begin() + e);
  }
}

void Rebuilder::insert(std::string_view s, Span orig) {
  text_.append(s);
  if (src_.track) align_.insert(align_.end(), s.size(), orig);
}

void Rebuilder::finish(PreTokenized& dst) {
  dst.text.swap(text_);
  dst.align.swap(align_);
  dst.pieces.swap(pieces_);
}

void cover_from_matches(const std::vector<std::pair<uint32_t, uint32_t>>& matches, uint32_t n, bool invert,
                        std::vector<MatchRange>& cover) {
  cover.clear();
  uint32_t prev = 0;
  for (auto& m : matches) {
    if (m.first > prev) cover.push_back({prev, m.first, invert});
    cover.push_back({m.first, m.second, !invert});
    prev = m.second;
  }
  if (prev < n) cover.push_back({prev, n, invert});
}

void apply_split_behavior(const std::vector<MatchRange>& cover, SplitBehavior behavior,
                          std::vector<std::pair<uint32_t, uint32_t>>& out) {
  switch (behavior) {
    case SplitBehavior::Removed:
      for (auto& c : cover)
        if (!c.is_match) out.push_back({c.begin, c.end});
      return;
    case SplitBehavior::Isolated:
      for (auto& c : cover) out.push_back({c.begin, c.end});
      return;
    case SplitBehavior::MergedWithPrevious: {
      bool previous_match = false;
      for (auto& c : cover) {
        if (c.is_match && !previous_match && !out.empty())
          out.back().second = c.end;
        else
          out.push_back({c.begin, c.end});
        previous_match = c.is_match;
      }
      return;
    }
    case SplitBehavior::MergedWithNext: {
      // Walk backwards: a delimiter joins the piece after it, unless that one is a delimiter.
      std::vector<std::pair<uint32_t, uint32_t>> rev;
      bool previous_match = false;
      for (auto it = cover.rbegin(); it != cover.rend(); ++it) {
        if (it->is_match && !previous_match && !rev.empty())
          rev.back().first = it->begin;
        else
          rev.push_back({it->begin, it->end});
        previous_match = it->is_match;
      }
      out.insert(out.end(), rev.rbegin(), rev.rend());
      return;
    }
    case SplitBehavior::Contiguous: {
      bool previous_match = false;
      for (auto& c : cover) {
        if (c.is_match == previous_match && !out.empty())
          out.back().second = c.end;
        else
          out.push_back({c.begin, c.end});
        previous_match = c.is_match;
      }
      return;
    }
  }
}

}  // namespace axl::tokenizer
