#include "axl/tokenizer/post_processors.h"

#include "axl/core/error.h"
#include "axl/tokenizer/byte_level.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

namespace {

void prepend_append(RawEncoding& enc, const std::vector<int32_t>& front, const std::vector<int32_t>& back) {
  RawEncoding out;
  out.ids = front;
  out.offsets.assign(front.size(), Span{0, 0});
  out.ids.insert(out.ids.end(), enc.ids.begin(), enc.ids.end());
  out.offsets.insert(out.offsets.end(), enc.offsets.begin(), enc.offsets.end());
  out.ids.insert(out.ids.end(), back.begin(), back.end());
  out.offsets.insert(out.offsets.end(), back.size(), Span{0, 0});
  if (!enc.texts.empty()) {
    out.texts.assign(front.size(), std::string());
    out.texts.insert(out.texts.end(), enc.texts.begin(), enc.texts.end());
    out.texts.insert(out.texts.end(), back.size(), std::string());
  }
  enc = std::move(out);
}

// Moves offsets past leading/trailing spaces of byte-level tokens (HF ByteLevel trim_offsets).
void trim_offsets(RawEncoding& enc, bool add_prefix_space, const TokenText& text) {
  const char32_t space = byte_level::char_of_byte(' ');
  auto is_space = [&](char32_t c) { return c == space || utf8::is_whitespace(c); };
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    const std::string* tok = i < enc.texts.size() && !enc.texts[i].empty() ? &enc.texts[i] : text(enc.ids[i]);
    if (!tok) continue;
    std::vector<char32_t> cs;
    for (size_t k = 0; k < tok->size();) cs.push_back(utf8::next(*tok, k));
    uint32_t leading = 0, trailing = 0;
    while (leading < cs.size() && is_space(cs[leading])) ++leading;
    while (trailing < cs.size() && is_space(cs[cs.size() - 1 - trailing])) ++trailing;
    Span& o = enc.offsets[i];
    if (leading > 0) {
      bool is_first = i == 0 || o.begin == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      o.begin = std::min(o.begin + leading, o.end);
    }
    if (trailing > 0 && o.end >= trailing) o.end = std::max(o.end - trailing, o.begin);
  }
}

class TemplateProcessing : public PostProcessor {
 public:
  explicit TemplateProcessing(const nlohmann::json& j) {
    const std::string what = "tokenizer.json: post_processor TemplateProcessing";
    std::map<std::string, std::vector<int32_t>> specials;
    if (j.contains("special_tokens") && j["special_tokens"].is_object()) {
      for (auto it = j["special_tokens"].begin(); it != j["special_tokens"].end(); ++it) {
        const auto& ids = json_array(it.value(), "ids", what + " special token '" + it.key() + "'");
        for (auto& id : ids) specials[it.key()].push_back(id.get<int32_t>());
      }
    }
    bool seen_a = false;
    for (const auto& item : json_array(j, "single", what)) {
      if (item.contains("SpecialToken")) {
        std::string name = json_string(item["SpecialToken"], "id", what);
        auto it = specials.find(name);
        if (it == specials.end()) throw Error(what + ": special token '" + name + "' is not in special_tokens");
        (seen_a ? back_ : front_).insert((seen_a ? back_ : front_).end(), it->second.begin(), it->second.end());
      } else if (item.contains("Sequence")) {
        if (seen_a) throw Error(what + ": the single template has more than one sequence");
        seen_a = true;
      } else {
        throw Error(what + ": template item must be SpecialToken or Sequence");
      }
    }
    if (!seen_a) throw Error(what + ": the single template has no sequence");
  }
  void process(RawEncoding& enc, bool add_special, const TokenText&) const override {
    if (add_special) prepend_append(enc, front_, back_);
  }

 private:
  std::vector<int32_t> front_, back_;
};

class ByteLevelProcessing : public PostProcessor {
 public:
  ByteLevelProcessing(bool trim, bool add_prefix_space) : trim_(trim), add_prefix_space_(add_prefix_space) {}
  void process(RawEncoding& enc, bool, const TokenText& text) const override {
    if (trim_) trim_offsets(enc, add_prefix_space_, text);
  }

 private:
  bool trim_, add_prefix_space_;
};

// Bert: [CLS] A [SEP]; Roberta: <s> A </s> after trimming byte-level offsets.
class ClsSepProcessing : public PostProcessor {
 public:
  ClsSepProcessing(const nlohmann::json& j, const std::string& what, bool roberta) : roberta_(roberta) {
    cls_ = token_id(j, "cls", what);
    sep_ = token_id(j, "sep", what);
    trim_ = roberta && json_bool(j, "trim_offsets", true);
    add_prefix_space_ = json_bool(j, "add_prefix_space", true);
  }
  void process(RawEncoding& enc, bool add_special, const TokenText& text) const override {
    if (trim_) trim_offsets(enc, add_prefix_space_, text);
    if (add_special) prepend_append(enc, {cls_}, {sep_});
  }

 private:
  static int32_t token_id(const nlohmann::json& j, const char* key, const std::string& what) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer())
      throw Error(what + ": \"" + key + "\" must be [token, id]");
    return (*it)[1].get<int32_t>();
  }
  bool roberta_;
  int32_t cls_, sep_;
  bool trim_ = false, add_prefix_space_ = true;
};

class Sequence : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> items) : items_(std::move(items)) {}
  void process(RawEncoding& enc, bool add_special, const TokenText& text) const override {
    for (auto& p : items_) p->process(enc, add_special, text);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> items_;
};

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  std::string type = component_type(j, "post_processor");
  std::string what = "tokenizer.json: post_processor " + type;
  if (type == "TemplateProcessing") return std::make_unique<TemplateProcessing>(j);
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelProcessing>(json_bool(j, "trim_offsets", true), json_bool(j, "add_prefix_space", true));
  if (type == "BertProcessing") return std::make_unique<ClsSepProcessing>(j, what, false);
  if (type == "RobertaProcessing") return std::make_unique<ClsSepProcessing>(j, what, true);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> items;
    for (auto& p : json_array(j, "processors", what))
      if (auto q = make_post_processor(p)) items.push_back(std::move(q));
    return std::make_unique<Sequence>(std::move(items));
  }
  throw Error("tokenizer.json: post_processor type '" + type + "' is not supported");
}

}  // namespace axl::tokenizer
