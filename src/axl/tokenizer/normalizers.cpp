#include "axl/tokenizer/normalizers.h"

#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>

#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/pattern.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

void Normalizer::normalize(PreTokenized& pt) const {
  bool all_same = true;
  for (const Piece& p : pt.pieces)
    if (!p.is_added() && !leaves_unchanged(pt.view(p))) {
      all_same = false;
      break;
    }
  if (all_same) return;
  transform_pieces(pt, [&](std::string_view piece, uint32_t base, Rebuilder& rb) { rewrite(piece, base, rb); });
}

void Normalizer::rewrite(std::string_view piece, uint32_t base, Rebuilder& out) const {
  out.copy(base, base + static_cast<uint32_t>(piece.size()));
}

namespace {

size_t last_start(std::string_view s) {
  size_t j = s.size() - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  return j;
}

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(const std::string& form) {
    UErrorCode st = U_ZERO_ERROR;
    if (form == "NFC") norm_ = icu::Normalizer2::getNFCInstance(st);
    else if (form == "NFD") norm_ = icu::Normalizer2::getNFDInstance(st);
    else if (form == "NFKC") norm_ = icu::Normalizer2::getNFKCInstance(st);
    else norm_ = icu::Normalizer2::getNFKDInstance(st);
    if (U_FAILURE(st)) throw Error("tokenizer.json: normalizer " + form + ": ICU data unavailable");
  }
  bool leaves_unchanged(std::string_view s) const override {
    bool ascii = true;
    for (char c : s)
      if (static_cast<unsigned char>(c) >= 0x80) {
        ascii = false;
        break;
      }
    if (ascii) return true;
    UErrorCode st = U_ZERO_ERROR;
    return norm_->isNormalizedUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), st) &&
           U_SUCCESS(st);
  }
  void rewrite(std::string_view s, uint32_t base, Rebuilder& out) const override {
    std::string dst;
    icu::StringByteSink<std::string> sink(&dst);
    icu::Edits edits;
    UErrorCode st = U_ZERO_ERROR;
    norm_->normalizeUTF8(0, icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), sink, &edits, st);
    if (U_FAILURE(st)) {
      out.copy(base, base + static_cast<uint32_t>(s.size()));
      return;
    }
    // Unchanged spans keep their byte alignment; a changed span maps as a whole.
    auto it = edits.getCoarseIterator();
    while (it.next(st)) {
      uint32_t sb = base + static_cast<uint32_t>(it.sourceIndex());
      uint32_t se = sb + static_cast<uint32_t>(it.oldLength());
      if (!it.hasChange()) {
        out.copy(sb, se);
      } else {
        // Like HF: the i-th new character takes the place of the i-th old one (the last old
        // one when there are more new characters than old).
        std::string_view news = std::string_view(dst).substr(it.destinationIndex(), it.newLength());
        std::string_view olds = s.substr(sb - base, se - sb);
        size_t oi = 0, ni = 0;
        while (ni < news.size()) {
          size_t nb = ni, ob = oi;
          utf8::next(news, ni);
          if (oi < olds.size()) utf8::next(olds, oi);
          else ob = last_start(olds);
          out.replace(sb + static_cast<uint32_t>(ob), sb + static_cast<uint32_t>(oi > ob ? oi : olds.size()),
                      news.substr(nb, ni - nb));
        }
      }
    }
  }

 private:
  const icu::Normalizer2* norm_ = nullptr;
};

class Lowercase : public Normalizer {
 public:
  bool leaves_unchanged(std::string_view s) const override {
    for (char c : s)
      if ((c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
  }
  void rewrite(std::string_view s, uint32_t base, Rebuilder& out) const override {
    std::string low;
    size_t run = 0;  // start of the pending unchanged run
    for (size_t i = 0; i < s.size();) {
      size_t start = i;
      char32_t c = utf8::next(s, i);
      low.clear();
      utf8::append_lowercase(low, c);
      if (low == s.substr(start, i - start)) continue;
      out.copy(base + static_cast<uint32_t>(run), base + static_cast<uint32_t>(start));
      out.replace(base + static_cast<uint32_t>(start), base + static_cast<uint32_t>(i), low);
      run = i;
    }
    out.copy(base + static_cast<uint32_t>(run), base + static_cast<uint32_t>(s.size()));
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void rewrite(std::string_view s, uint32_t base, Rebuilder& out) const override {
    size_t b = 0, e = s.size();
    if (left_) {
      while (b < e) {
        size_t i = b;
        if (!utf8::is_whitespace(utf8::next(s, i))) break;
        b = i;
      }
    }
    if (right_) {
      while (e > b) {
        size_t j = e - 1;
        while (j > b && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
        size_t i = j;
        if (!utf8::is_whitespace(utf8::next(s, i))) break;
        e = j;
      }
    }
    out.copy(base + static_cast<uint32_t>(b), base + static_cast<uint32_t>(e));
  }

 private:
  bool left_, right_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string s) : prepend_(std::move(s)) {}
  void rewrite(std::string_view s, uint32_t base, Rebuilder& out) const override {
    if (!s.empty()) {
      size_t first = 0;
      utf8::next(s, first);
      out.replace(base, base + static_cast<uint32_t>(first), prepend_);
      out.copy(base, base + static_cast<uint32_t>(s.size()));
      return;
    }
  }

 private:
  std::string prepend_;
};

// HF Replace (normalizer) and the Replace decoder share the pattern: a literal string or a regex.
class Replace : public Normalizer {
 public:
  Replace(const nlohmann::json& j, const std::string& what) : pattern_(parse_pattern(j, what)) {
    content_ = json_string(j, "content", what);
  }
  bool leaves_unchanged(std::string_view s) const override {
    std::vector<std::pair<uint32_t, uint32_t>> m;
    pattern_.find_all(s, m);
    return m.empty();
  }
  void rewrite(std::string_view s, uint32_t base, Rebuilder& out) const override {
    std::vector<std::pair<uint32_t, uint32_t>> m;
    pattern_.find_all(s, m);
    uint32_t prev = 0;
    for (auto& r : m) {
      out.copy(base + prev, base + r.first);
      out.replace(base + r.first, base + r.second, content_);
      prev = r.second;
    }
    out.copy(base + prev, base + static_cast<uint32_t>(s.size()));
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> items) : items_(std::move(items)) {}
  void normalize(PreTokenized& pt) const override {
    for (auto& n : items_) n->normalize(pt);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  std::string type = component_type(j, "normalizer");
  std::string what = "tokenizer.json: normalizer " + type;
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD")
    return std::make_unique<UnicodeNormalizer>(type);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Strip")
    return std::make_unique<Strip>(json_bool(j, "strip_left", true), json_bool(j, "strip_right", true));
  if (type == "Prepend") return std::make_unique<Prepend>(json_string(j, "prepend", what));
  if (type == "Replace") return std::make_unique<Replace>(j, what);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> items;
    for (auto& n : json_array(j, "normalizers", what))
      if (auto p = make_normalizer(n)) items.push_back(std::move(p));
    return std::make_unique<Sequence>(std::move(items));
  }
  throw Error("tokenizer.json: normalizer type '" + type + "' is not supported");
}

}  // namespace axl::tokenizer
