#include "axl/tokenizer/pre_tokenizers.h"

#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/pattern.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

// Splits with a pattern and a behavior (what Split, Whitespace, ... all come down to).
void split_with(PreTokenized& pt, const Pattern& pattern, SplitBehavior behavior, bool invert) {
  std::vector<std::pair<uint32_t, uint32_t>> matches;
  std::vector<MatchRange> cover;
  split_pieces(pt, [&](std::string_view s, Ranges& out) {
    pattern.find_all(s, matches);
    cover_from_matches(matches, static_cast<uint32_t>(s.size()), invert, cover);
    apply_split_behavior(cover, behavior, out);
  });
}

// Each character for which pred() holds is a delimiter of its own.
template <class Pred>
void split_on_chars(PreTokenized& pt, Pred pred, SplitBehavior behavior) {
  std::vector<std::pair<uint32_t, uint32_t>> matches;
  std::vector<MatchRange> cover;
  split_pieces(pt, [&](std::string_view s, Ranges& out) {
    matches.clear();
    for (size_t i = 0; i < s.size();) {
      size_t b = i;
      if (pred(utf8::next(s, i))) matches.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(i)});
    }
    cover_from_matches(matches, static_cast<uint32_t>(s.size()), false, cover);
    apply_split_behavior(cover, behavior, out);
  });
}

// GPT-2's pattern, the one ByteLevel uses when use_regex is true.
const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_shared<Regex>(kGpt2Pattern, "tokenizer.json: pre_tokenizer ByteLevel");
  }
  void pre_tokenize(PreTokenized& pt) const override {
    if (add_prefix_space_) {
      transform_pieces(pt, [](std::string_view s, uint32_t base, Rebuilder& rb) {
        if (!s.empty() && s[0] != ' ') {
          size_t first = 0;
          utf8::next(s, first);
          rb.replace(base, base + static_cast<uint32_t>(first), " ");
        }
        rb.copy(base, base + static_cast<uint32_t>(s.size()));
      });
    }
    if (regex_) split_with(pt, Pattern(regex_), SplitBehavior::Isolated, false);
  }
  bool byte_level() const override { return true; }

 private:
  bool add_prefix_space_;
  std::shared_ptr<Regex> regex_;
};

class Split : public PreTokenizer {
 public:
  Split(Pattern p, SplitBehavior b, bool invert) : pattern_(std::move(p)), behavior_(b), invert_(invert) {}
  void pre_tokenize(PreTokenized& pt) const override { split_with(pt, pattern_, behavior_, invert_); }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class Metaspace : public PreTokenizer {
 public:
  enum class Prepend { Always, First, Never };
  Metaspace(std::string replacement, Prepend scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(PreTokenized& pt) const override {
    transform_pieces(pt, [&](std::string_view s, uint32_t base, Rebuilder& rb) {
      bool starts = s.substr(0, replacement_.size()) == replacement_ || (!s.empty() && s[0] == ' ');
      bool prepend = !s.empty() && !starts &&
                     (scheme_ == Prepend::Always || (scheme_ == Prepend::First && base == 0));
      if (prepend) {
        size_t first = 0;
        utf8::next(s, first);
        rb.replace(base, base + static_cast<uint32_t>(first), replacement_);
      }
      uint32_t run = 0;
      for (uint32_t i = 0; i < s.size(); ++i) {
        if (s[i] != ' ') continue;
        rb.copy(base + run, base + i);
        rb.replace(base + i, base + i + 1, replacement_);
        run = i + 1;
      }
      rb.copy(base + run, base + static_cast<uint32_t>(s.size()));
    });
    if (split_) split_with(pt, Pattern(replacement_), SplitBehavior::MergedWithNext, false);
  }

 private:
  std::string replacement_;
  Prepend scheme_;
  bool split_;
};

class Digits : public PreTokenizer {
 public:
  explicit Digits(bool individual) : individual_(individual) {}
  void pre_tokenize(PreTokenized& pt) const override {
    split_on_chars(pt, utf8::is_numeric, individual_ ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  }

 private:
  bool individual_;
};

class Whitespace : public PreTokenizer {
 public:
  Whitespace()
      : pattern_(std::make_shared<Regex>(R"([\p{L}\p{M}\p{N}\p{Pc}\x{200C}\x{200D}]+|[^\p{L}\p{M}\p{N}\p{Pc}\x{200C}\x{200D}\s]+)",
                                         "tokenizer.json: pre_tokenizer Whitespace")) {}
  void pre_tokenize(PreTokenized& pt) const override { split_with(pt, pattern_, SplitBehavior::Removed, true); }

 private:
  Pattern pattern_;
};

class WhitespaceSplit : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& pt) const override {
    split_on_chars(pt, utf8::is_whitespace, SplitBehavior::Removed);
  }
};

class Punctuation : public PreTokenizer {
 public:
  explicit Punctuation(SplitBehavior b) : behavior_(b) {}
  void pre_tokenize(PreTokenized& pt) const override { split_on_chars(pt, utf8::is_punctuation, behavior_); }

 private:
  SplitBehavior behavior_;
};

class BertPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& pt) const override {
    split_on_chars(pt, utf8::is_whitespace, SplitBehavior::Removed);
    split_on_chars(pt, utf8::is_punctuation, SplitBehavior::Isolated);
  }
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> items) : items_(std::move(items)) {}
  void pre_tokenize(PreTokenized& pt) const override {
    for (auto& p : items_) p->pre_tokenize(pt);
  }
  bool byte_level() const override {
    for (auto& p : items_)
      if (p->byte_level()) return true;
    return false;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

}  // namespace

SplitBehavior parse_split_behavior(const nlohmann::json& j, const std::string& what) {
  std::string b = json_string_or(j, "behavior", "Isolated");
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  throw Error(what + ": behavior '" + b + "' is not supported");
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  std::string type = component_type(j, "pre_tokenizer");
  std::string what = "tokenizer.json: pre_tokenizer " + type;
  if (type == "ByteLevel")
    return std::make_unique<ByteLevel>(json_bool(j, "add_prefix_space", true), json_bool(j, "use_regex", true));
  if (type == "Split")
    return std::make_unique<Split>(parse_pattern(j, what), parse_split_behavior(j, what), json_bool(j, "invert", false));
  if (type == "Metaspace") {
    Metaspace::Prepend scheme = Metaspace::Prepend::Always;
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      std::string s = j["prepend_scheme"].get<std::string>();
      if (s == "always") scheme = Metaspace::Prepend::Always;
      else if (s == "first") scheme = Metaspace::Prepend::First;
      else if (s == "never") scheme = Metaspace::Prepend::Never;
      else throw Error(what + ": prepend_scheme '" + s + "' is not supported");
    } else if (j.contains("add_prefix_space")) {
      scheme = json_bool(j, "add_prefix_space", true) ? Metaspace::Prepend::Always : Metaspace::Prepend::Never;
    }
    return std::make_unique<Metaspace>(json_string_or(j, "replacement", "\xE2\x96\x81"), scheme, json_bool(j, "split", true));
  }
  if (type == "Digits") return std::make_unique<Digits>(json_bool(j, "individual_digits", false));
  if (type == "Whitespace") return std::make_unique<Whitespace>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
  if (type == "Punctuation") return std::make_unique<Punctuation>(parse_split_behavior(j, what));
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    for (auto& p : json_array(j, "pretokenizers", what))
      if (auto q = make_pre_tokenizer(p)) items.push_back(std::move(q));
    return std::make_unique<Sequence>(std::move(items));
  }
  throw Error("tokenizer.json: pre_tokenizer type '" + type + "' is not supported");
}

}  // namespace axl::tokenizer
