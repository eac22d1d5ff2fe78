#include "axl/data/chat_template_strategy.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "axl/core/error.h"
#include "axl/tokenizer/chat/chat_template.h"

namespace axl::data {
namespace {

using Json = nlohmann::ordered_json;

// Python str semantics: lengths and indexes in code points.
size_t code_point_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The common prefix and suffix of two valid UTF-8 strings, in code points, found on the bytes
// (a match is cut back to a character boundary), and never overlapping in the shorter string:
// what comparing the two code point sequences gives, without building them.
std::pair<size_t, size_t> common_ends(std::string_view a, std::string_view b) {
  auto continuation = [](std::string_view s, size_t i) {
    return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  };
  const size_t limit = std::min(a.size(), b.size());
  size_t prefix = 0;
  while (prefix < limit && a[prefix] == b[prefix]) ++prefix;
  while (prefix > 0 && (continuation(a, prefix) || continuation(b, prefix))) --prefix;
  size_t suffix = 0;
  while (suffix < limit - prefix && a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) ++suffix;
  while (suffix > 0 && continuation(a, a.size() - suffix)) --suffix;
  return {code_point_length(a.substr(0, prefix)), code_point_length(a.substr(a.size() - suffix))};
}

bool truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}

Json parse_json_text(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(what + " is a string that is not valid JSON (" + e.what() + ")");
  }
}

struct TrainDetail {
  int64_t begin, end;  // inclusive character offsets, as Axolotl's training_detail
  bool train;
};

std::vector<TrainDetail> parse_train_details(const Json& v) {
  if (!v.is_array()) throw Error("training_detail must be a list of {begin_offset, end_offset, train}");
  std::vector<TrainDetail> out;
  for (const auto& d : v) {
    if (!d.is_object() || !d.contains("begin_offset") || !d.contains("end_offset") || !d.contains("train"))
      throw Error("each training_detail entry needs begin_offset, end_offset and train");
    out.push_back({d["begin_offset"].get<int64_t>(), d["end_offset"].get<int64_t>(), truthy(d["train"])});
  }
  return out;
}

const char* const kSentinels[2] = {"[[dummy_message]]", "zzdummymessagezz"};

struct Options {
  std::map<std::string, std::string> role_alias;                   // source role -> template role
  std::vector<std::pair<std::string, std::string>> mappings;       // target key -> source key, in order
  std::vector<std::string> roles_to_train;
  std::string train_on_eos, train_on_eot;                          // "" = unset
  std::optional<std::string> field_training, field_training_detail;
  std::string field_messages = "messages", field_system = "system", field_tools = "tools";
  std::string thinking_key = "reasoning_content";
  bool drop_system_message = false, split_thinking = false, train_on_inputs = false;
  bool is_mistral = false;
  std::set<std::string> template_vars;
  std::set<TokenId> eot_ids;
  Json special_tokens = Json::object(), kwargs = Json::object();
};

class ChatTemplateStrategy : public PromptStrategy {
 public:
  ChatTemplateStrategy(Options o, std::string source, const tokenizer::Tokenizer& tok)
      : o_(std::move(o)), tmpl_(std::move(source), "chat_template"), tok_(tok) {}

  std::string name() const override { return "chat_template"; }

  void tokenize(const Json& row_in, std::vector<TokenizedSample>& out) const override {
    // Axolotl drops null columns first (HF fills absent columns with None).
    Json row = Json::object();
    for (auto it = row_in.begin(); it != row_in.end(); ++it)
      if (!it.value().is_null()) row[it.key()] = it.value();

    std::vector<Json> turns = conversation(row);
    Json tools = get_tools(row);
    const std::string text = render(turns, tools);
    tokenizer::Encoding enc = tok_.encode_offsets(text, false);
    const std::vector<TokenId>& ids = enc.ids;
    std::vector<TokenId> labels(ids.size(), kIgnoreIndex);
    Locator loc{text, code_point_length(text), {}, {}};
    Json scratch = messages_of(turns);  // find_turn swaps one turn at a time into this copy
    for (const auto& o : enc.offsets) {
      loc.starts.push_back(o.first);
      loc.ends.push_back(o.second);
    }

    long last_eos = -1, last_eot = -1;
    for (size_t index = 0; index < turns.size(); ++index) {
      const Json& turn = turns[index];
      const std::string role = turn.contains("role") && turn["role"].is_string() ? turn["role"].get<std::string>() : "";
      const Json* train_turn = turn.contains("training") ? &turn["training"] : nullptr;
      const Json* detail = turn.contains("training_detail") ? &turn["training_detail"] : nullptr;
      const Json* rdetail = turn.contains("reasoning_training_detail") ? &turn["reasoning_training_detail"] : nullptr;
      bool should_train;
      if (train_turn)
        should_train = truthy(*train_turn);
      else if (detail || rdetail)
        should_train = (detail && truthy(*detail)) || (rdetail && truthy(*rdetail));
      else
        should_train = o_.train_on_inputs ||
                       std::find(o_.roles_to_train.begin(), o_.roles_to_train.end(), role) != o_.roles_to_train.end();
      if (!should_train && o_.train_on_eos != "all" && o_.train_on_eot != "all") continue;

      const bool has_reasoning = turn.contains(o_.thinking_key) && !turn[o_.thinking_key].is_null();
      const bool has_detail = (detail && truthy(*detail)) || (rdetail && truthy(*rdetail));
      auto [start, end] = find_turn(turns, scratch, index, tools, has_detail && has_reasoning, false, loc);

      if (should_train && start != -1 && end != -1) {
        if (detail && truthy(*detail)) {
          if (!turn["content"].is_string()) throw Error("training_detail needs a string content");
          apply_detail(turn["content"].get<std::string>(), parse_train_details(*detail), start, ids, labels);
        } else if (!(rdetail && truthy(*rdetail))) {
          for (long i = start; i < end; ++i) labels[static_cast<size_t>(i)] = ids[static_cast<size_t>(i)];
        }
      }
      if (should_train && rdetail && truthy(*rdetail) && has_reasoning) {
        if (!turn[o_.thinking_key].is_string()) throw Error("reasoning training detail needs a string " + o_.thinking_key);
        auto [rs, re] = find_turn(turns, scratch, index, tools, false, true, loc);
        if (rs != -1 && re != -1)
          apply_detail(turn[o_.thinking_key].get<std::string>(), parse_train_details(*rdetail), rs, ids, labels);
      }

      // The first EOT / EOS at or after the turn's end, if within 3 tokens of it.
      for (int kind = 0; kind < 2; ++kind) {
        const std::string& option = kind == 0 ? o_.train_on_eot : o_.train_on_eos;
        long idx = kind == 0 ? find_token(ids, end, [&](TokenId t) { return o_.eot_ids.count(t) > 0; })
                             : find_token(ids, end, [&](TokenId t) { return eos_ && t == *eos_; });
        if (idx != -1 && std::labs(idx - end) <= 3) {
          (kind == 0 ? last_eot : last_eos) = idx;
          if (option == "all" || (option == "turn" && should_train)) labels[static_cast<size_t>(idx)] = ids[static_cast<size_t>(idx)];
        }
      }
    }
    if (o_.train_on_eot == "last" && last_eot != -1) labels[static_cast<size_t>(last_eot)] = ids[static_cast<size_t>(last_eot)];
    if (o_.train_on_eos == "last" && last_eos != -1) labels[static_cast<size_t>(last_eos)] = ids[static_cast<size_t>(last_eos)];
    out.push_back(TokenizedSample{ids, std::move(labels)});
  }

 private:
  struct Locator {
    const std::string& text;  // the rendered conversation (valid UTF-8: it was just tokenized)
    size_t chars;             // its length in code points
    std::vector<uint32_t> starts, ends;
  };

  // Python's `for i in range(start, len(ids))`, where start may be -1 (turn not found):
  // ids[-1] is then looked at first, and a hit there returns -1 ("not found").
  template <typename Pred>
  static long find_token(const std::vector<TokenId>& ids, long start, Pred pred) {
    const long n = static_cast<long>(ids.size());
    for (long i = start; i < n; ++i) {
      long k = i < 0 ? i + n : i;
      if (k >= 0 && k < n && pred(ids[static_cast<size_t>(k)])) return i;
    }
    return -1;
  }

  std::string render(const std::vector<Json>& turns, const Json& tools, const Json* extra = nullptr) const {
    return render_messages(messages_of(turns), tools, extra);
  }

  static Json messages_of(const std::vector<Json>& turns) {
    Json messages = Json::array();
    for (const auto& t : turns) messages.push_back(t);
    return messages;
  }

  // `messages`: a JSON array of turns.
  std::string render_messages(const Json& messages, const Json& tools, const Json* extra = nullptr) const {
    Json kwargs = o_.kwargs;
    if (extra)
      for (auto it = extra->begin(); it != extra->end(); ++it) kwargs[it.key()] = it.value();
    return chat::apply_chat_template(tmpl_, messages, tools, false, o_.special_tokens, kwargs);
  }

  Json transform_message(const Json& message) const {
    if (!message.is_object()) throw Error("each message must be an object");
    Json t = Json::object();
    std::set<std::string> mapped_sources;
    for (const auto& [key, source] : o_.mappings) {
      mapped_sources.insert(source);
      if (message.contains(source) && !message[source].is_null()) t[key] = message[source];
    }
    if (t.contains("role") && t["role"].is_string()) {
      auto it = o_.role_alias.find(t["role"].get<std::string>());
      if (it != o_.role_alias.end()) t["role"] = it->second;
    }
    if (o_.split_thinking && t.contains("role") && t["role"] == "assistant" && t.contains("content") &&
        t["content"].is_string())
      split_thinking(t);
    for (auto it = message.begin(); it != message.end(); ++it)
      if (!mapped_sources.count(it.key()) && o_.template_vars.count(it.key()) && !it.value().is_null())
        t[it.key()] = it.value();
    if (t.contains("tool_calls") && t["tool_calls"].is_array())
      for (auto& call : t["tool_calls"])
        if (call.is_object() && call.contains("function") && call["function"].is_object() &&
            call["function"].contains("arguments") && call["function"]["arguments"].is_string())
          call["function"]["arguments"] = parse_json_text(call["function"]["arguments"].get<std::string>(), "tool_calls arguments");
    return t;
  }

  void split_thinking(Json& t) const {
    static const std::pair<const char*, const char*> thinking[] = {
        {"<think>", "</think>"}, {"<reasoning>", "</reasoning>"}, {"<|begin_of_thought|>", "<|end_of_thought|>"}};
    const std::string content = t["content"].get<std::string>();
    auto strip = [](std::string s) {
      const char* ws = " \t\n\r\f\v";
      size_t b = s.find_first_not_of(ws);
      if (b == std::string::npos) return std::string();
      return s.substr(b, s.find_last_not_of(ws) - b + 1);
    };
    for (const auto& [open, close] : thinking) {
      size_t s = content.find(open), e = content.find(close);
      if (s == std::string::npos || e == std::string::npos) continue;
      size_t from = s + std::string(open).size();
      t[o_.thinking_key] = strip(e >= from ? content.substr(from, e - from) : std::string());
      std::string rest = content.substr(e + std::string(close).size());
      rest.erase(0, rest.find_first_not_of(" \t\n\r\f\v") == std::string::npos ? rest.size() : rest.find_first_not_of(" \t\n\r\f\v"));
      size_t cs = rest.find("<|begin_of_solution|>"), ce = rest.find("<|end_of_solution|>");
      if (cs != std::string::npos && ce != std::string::npos) {
        size_t cfrom = cs + std::string("<|begin_of_solution|>").size();
        t["content"] = strip(ce >= cfrom ? rest.substr(cfrom, ce - cfrom) : std::string());
      } else {
        t["content"] = rest;
      }
      break;
    }
  }

  // List content (parts with text/content/value and optional train/weight) -> one string and,
  // when any part says train/weight, a training_detail over it.
  static bool convert_content_parts(Json& turn, const std::string& key, const std::string& detail_key) {
    if (!turn.contains(key) || !turn[key].is_array()) return false;
    std::string text;
    Json details = Json::array();
    bool explicit_training = false;
    int64_t offset = 0;
    for (const auto& part : turn[key]) {
      if (!part.is_object()) continue;
      std::string piece;
      for (const char* k : {"text", "content", "value"})
        if (part.contains(k) && truthy(part[k]) && part[k].is_string()) { piece = part[k].get<std::string>(); break; }
      bool train = true;
      const bool has_train = part.contains("train") && !part["train"].is_null();
      const bool has_weight = part.contains("weight") && !part["weight"].is_null();
      if (has_train || has_weight) {
        explicit_training = true;
        train = has_train ? truthy(part["train"]) : !(part["weight"].is_number() && part["weight"].get<double>() == 0.0);
      }
      if (!piece.empty()) {
        int64_t n = static_cast<int64_t>(code_point_length(piece));
        details.push_back(Json{{"begin_offset", offset}, {"end_offset", offset + n - 1}, {"train", train}});
        offset += n;
      }
      text += piece;
    }
    turn[key] = text;
    if (explicit_training) turn[detail_key] = details;
    return true;
  }

  std::vector<Json> conversation(const Json& row) const {
    if (!row.contains(o_.field_messages))
      throw Error("no '" + o_.field_messages + "' field (set field_messages to the column holding the conversation)");
    Json messages = row[o_.field_messages];
    if (messages.is_string()) messages = parse_json_text(messages.get<std::string>(), "'" + o_.field_messages + "'");
    if (!messages.is_array()) throw Error("'" + o_.field_messages + "' must be a list of messages");
    if (messages.empty()) throw Error("'" + o_.field_messages + "' is an empty conversation");
    std::vector<Json> turns;
    Json first = transform_message(messages[0]);
    if (!(first.contains("role") && first["role"] == "system") && row.contains(o_.field_system))
      turns.push_back(Json{{"role", "system"}, {"content", row[o_.field_system]}});
    for (const auto& message : messages) {
      Json turn = transform_message(message);
      if (o_.field_training && message.contains(*o_.field_training) && !message[*o_.field_training].is_null())
        turn["training"] = message[*o_.field_training];
      if (o_.field_training_detail && message.contains(*o_.field_training_detail) &&
          !message[*o_.field_training_detail].is_null())
        turn["training_detail"] = message[*o_.field_training_detail];
      convert_content_parts(turn, "content", "training_detail");
      convert_content_parts(turn, o_.thinking_key, "reasoning_training_detail");
      turns.push_back(std::move(turn));
    }
    if (o_.drop_system_message && turns[0].contains("role") && turns[0]["role"] == "system") turns.erase(turns.begin());
    return turns;
  }

  Json get_tools(const Json& row) const {
    if (!row.contains(o_.field_tools)) return Json();
    Json tools = row[o_.field_tools];
    if (tools.is_string()) tools = parse_json_text(tools.get<std::string>(), "'" + o_.field_tools + "'");
    if (!tools.is_array()) throw Error("'" + o_.field_tools + "' must be a list of tools");
    for (auto& tool : tools)
      if (tool.is_object() && tool.contains("function") && tool["function"].is_object() &&
          tool["function"].contains("parameters") && tool["function"]["parameters"].is_string())
        tool["function"]["parameters"] = parse_json_text(tool["function"]["parameters"].get<std::string>(), "tool parameters");
    // Axolotl passes tools only when the list is non-empty.
    return tools.empty() ? Json() : tools;
  }

  Json dummy_turn(const Json& turn, bool content_only, bool reasoning_only, const char* sentinel) const {
    Json role = turn.contains("role") ? turn["role"] : Json();
    if (reasoning_only) {
      Json d{{"role", role}, {"content", turn.contains("content") ? turn["content"] : Json("")}};
      if (turn.contains(o_.thinking_key)) d[o_.thinking_key] = sentinel;
      return d;
    }
    Json d{{"role", role}, {"content", sentinel}};
    if (content_only && turn.contains(o_.thinking_key)) d[o_.thinking_key] = turn[o_.thinking_key];
    return d;
  }

  // `scratch`: `turns` as a JSON array, which find_turn_from_text edits in place and restores.
  std::pair<long, long> find_turn(const std::vector<Json>& turns, Json& scratch, size_t idx,
                                  const Json& tools, bool content_only,
                                  bool reasoning_only, const Locator& loc) const {
    // Axolotl: mistral templates print no lone system message.
    if (idx == 0 && o_.is_mistral && turns[0].contains("role") && turns[0]["role"] == "system") return {-1, -1};
    std::optional<std::pair<long, long>> span = find_turn_from_text(turns, scratch, idx, tools, content_only, reasoning_only, loc);
    if (!span) span = find_turn_from_tokens(turns, idx, tools, dummy_turn(turns[idx], content_only, reasoning_only, kSentinels[0]));
    if (!span) return {-1, -1};
    auto [s, e] = *span;
    if (s == -1 || e == -1 || e <= s) return {-1, -1};
    return {s, e};
  }

  std::optional<std::pair<long, long>> find_turn_from_text(const std::vector<Json>& turns, Json& scratch,
                                                           size_t idx, const Json& tools,
                                                           bool content_only, bool reasoning_only,
                                                           const Locator& loc) const {
    size_t char_start = SIZE_MAX, char_end = 0;
    // The conversation with turn idx replaced by a placeholder, rendered once per sentinel; the
    // scratch copy gets the real turn back before returning (no copy of every turn per turn).
    for (const char* sentinel : kSentinels) {
      scratch[idx] = dummy_turn(turns[idx], content_only, reasoning_only, sentinel);
      const std::string dummy = render_messages(scratch, tools);
      if (dummy.empty()) {
        scratch[idx] = turns[idx];
        return std::nullopt;
      }
      const auto [start, suffix] = common_ends(loc.text, dummy);
      char_start = std::min(char_start, start);
      char_end = std::max(char_end, loc.chars - suffix);
    }
    scratch[idx] = turns[idx];
    if (char_end <= char_start) return std::make_pair(-1L, -1L);
    // bisect_right(ends, char_start), bisect_left(starts, char_end)
    const size_t n = loc.ends.size();
    size_t start_idx = static_cast<size_t>(std::upper_bound(loc.ends.begin(), loc.ends.end(), char_start) - loc.ends.begin());
    size_t end_idx = static_cast<size_t>(std::lower_bound(loc.starts.begin(), loc.starts.end(), char_end) - loc.starts.begin());
    if (start_idx >= n || end_idx > n) return std::nullopt;
    return std::make_pair(static_cast<long>(start_idx), static_cast<long>(end_idx));
  }

  // Fallback: tokens of the prefix with the placeholder vs. the real prefix, diffed both ways.
  std::optional<std::pair<long, long>> find_turn_from_tokens(const std::vector<Json>& turns, size_t idx,
                                                             const Json& tools, const Json& dummy) const {
    Json extra = Json::object();
    if (turns.size() > 1) extra["real_last_index"] = turns.size() - 1;
    std::vector<Json> with_dummy(turns.begin(), turns.begin() + static_cast<std::ptrdiff_t>(idx));
    with_dummy.push_back(dummy);
    std::vector<Json> real(turns.begin(), turns.begin() + static_cast<std::ptrdiff_t>(idx) + 1);
    std::vector<TokenId> d = tok_.encode(render(with_dummy, tools, &extra), false);
    std::vector<TokenId> f = tok_.encode(render(real, tools, &extra), false);
    if (d.empty() || f.empty()) return std::nullopt;
    const size_t m = std::min(d.size(), f.size());
    long start = -1, end = -1;
    for (size_t i = 0; i < m; ++i)
      if (d[i] != f[i]) { start = static_cast<long>(i); break; }
    if (start == -1) return std::nullopt;
    for (size_t i = 0; i < m; ++i)
      if (d[d.size() - 1 - i] != f[f.size() - 1 - i]) { end = static_cast<long>(f.size() - i); break; }
    if (end == -1) return std::nullopt;
    return std::make_pair(start, end);
  }

  // Axolotl's get_offsets_for_train_detail + adjust_train_details: tokens of `text` (alone)
  // fully inside a trainable detail span are trained, at turn_start + token index.
  void apply_detail(const std::string& text, const std::vector<TrainDetail>& details, long turn_start,
                    const std::vector<TokenId>& ids, std::vector<TokenId>& labels) const {
    tokenizer::Encoding enc = tok_.encode_offsets(text, false);
    const size_t n = enc.offsets.size();
    if (n == 0) return;
    std::vector<std::pair<int64_t, int64_t>> offs(n);
    for (size_t i = 0; i + 1 < n; ++i) offs[i] = {enc.offsets[i].first, static_cast<int64_t>(enc.offsets[i + 1].first) - 1};
    offs[n - 1] = {enc.offsets[n - 1].first, static_cast<int64_t>(code_point_length(text)) - 1};
    std::vector<TrainDetail> adjusted;
    for (const auto& d : details) {
      size_t b = n;
      for (size_t i = 0; i < n; ++i)
        if (offs[i].first >= d.begin) { b = i; break; }
      if (b > 0 && offs[b - 1].second > d.begin) --b;
      long e = -1;
      for (long i = static_cast<long>(n) - 1; i >= 0; --i)
        if (offs[static_cast<size_t>(i)].second <= d.end) { e = i; break; }
      if (e < static_cast<long>(n) - 1 && offs[static_cast<size_t>(e + 1)].first < d.end) ++e;
      if (static_cast<long>(b) <= e) adjusted.push_back({offs[b].first, offs[static_cast<size_t>(e)].second, d.train});
    }
    for (size_t i = 0; i < n; ++i) {
      bool trained = false;
      for (const auto& d : adjusted)
        if (offs[i].first >= d.begin && offs[i].second <= d.end && d.train) trained = true;
      size_t at = static_cast<size_t>(turn_start) + i;
      if (trained && at < ids.size()) labels[at] = ids[at];
    }
  }

  Options o_;
  chat::ChatTemplate tmpl_;
  const tokenizer::Tokenizer& tok_;
  std::optional<TokenId> eos_ = tok_.special_tokens().eos_id;
};

Json scalar_from_text(const std::string& v) {
  if (v == "true" || v == "True") return true;
  if (v == "false" || v == "False") return false;
  if (v == "null" || v == "~") return Json();
  try {
    size_t used = 0;
    long long i = std::stoll(v, &used);
    if (used == v.size()) return i;
    double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  return v;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::string chat_template_source(const config::DatasetConfig& ds, const config::Config& cfg,
                                 const tokenizer::Tokenizer& tok) {
  return chat_template_source(ds, cfg, tok.config());
}

std::string chat_template_source(const config::DatasetConfig& ds, const config::Config& cfg,
                                 const tokenizer::TokenizerConfig& tc) {
  std::optional<std::string> choice = ds.chat_template ? ds.chat_template : cfg.chat_template;
  std::optional<std::string> jinja = ds.chat_template ? ds.chat_template_jinja : cfg.chat_template_jinja;
  if (!jinja && ds.chat_template_jinja) jinja = ds.chat_template_jinja;
  if (!choice) choice = jinja ? "jinja" : "tokenizer_default";
  if (jinja && std::filesystem::is_regular_file(*jinja)) {
    std::ifstream in(*jinja, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    jinja = ss.str();
  }
  return chat::resolve_chat_template(*choice, jinja ? &*jinja : nullptr, tc.chat_template ? &*tc.chat_template : nullptr);
}

std::vector<std::string> template_message_properties(const std::string& source) {
  std::set<std::string> names{"message"};
  // Loop variables and `set` aliases bound to messages (or to anything: harmless extras).
  static const std::regex loop_var(R"(for\s+([A-Za-z_]\w*)\s+in\s+[^%]*messages)");
  static const std::regex set_var(R"(set\s+([A-Za-z_]\w*)\s*=\s*[^%]*messages\s*\[)");
  for (const auto* re : {&loop_var, &set_var})
    for (std::sregex_iterator it(source.begin(), source.end(), *re), end; it != end; ++it) names.insert((*it)[1]);
  names.insert("messages");
  std::set<std::string> props;
  for (const auto& n : names) {
    const std::regex attr(n + R"((?:\[[^\]]*\])?\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['"]([^'"]+)['"]\s*\]))");
    for (std::sregex_iterator it(source.begin(), source.end(), attr), end; it != end; ++it) {
      std::string p = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
      if (p == "get" || p == "items" || p == "keys" || p == "values") continue;
      props.insert(p);
    }
    const std::regex getter(n + R"(\.get\(\s*['"]([^'"]+)['"])");
    for (std::sregex_iterator it(source.begin(), source.end(), getter), end; it != end; ++it) props.insert((*it)[1]);
  }
  return {props.begin(), props.end()};
}

std::unique_ptr<PromptStrategy> make_chat_template_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                            const tokenizer::Tokenizer& tok) {
  Options o;
  if (!ds.roles.empty()) {
    for (const auto& [target, sources] : ds.roles)
      for (const auto& s : sources) o.role_alias[s] = target;
  } else {
    o.role_alias = {{"human", "user"}, {"user", "user"}, {"assistant", "assistant"},
                    {"gpt", "assistant"}, {"system", "system"}, {"tool", "tool"}};
  }
  // Axolotl's config always holds role and content mappings (defaulting to themselves).
  auto mapped = [&](const std::string& key) {
    auto it = ds.message_property_mappings.find(key);
    return it == ds.message_property_mappings.end() ? key : it->second;
  };
  o.mappings = {{"role", mapped("role")}, {"content", mapped("content")}};
  for (const auto& [k, v] : ds.message_property_mappings)
    if (k != "role" && k != "content") o.mappings.emplace_back(k, v);

  const std::vector<std::string> roles_to_train = ds.roles_to_train.value_or(std::vector<std::string>{"assistant"});
  for (const auto& r : roles_to_train) {
    auto it = o.role_alias.find(r);
    o.roles_to_train.push_back(it == o.role_alias.end() ? r : it->second);
  }
  o.train_on_eos = ds.train_on_eos.value_or("turn");
  o.train_on_eot = ds.train_on_eot.value_or(o.train_on_eos);
  for (const std::string* v : {&o.train_on_eos, &o.train_on_eot})
    if (*v != "all" && *v != "turn" && *v != "last" && *v != "none")
      throw Error(ds.where + ": train_on_eos/train_on_eot must be all, turn, last or none (got '" + *v + "')");
  o.field_training = ds.message_field_training;
  o.field_training_detail = ds.message_field_training_detail;
  o.field_messages = ds.field_messages.value_or("messages");
  o.field_tools = ds.field_tools.value_or("tools");
  o.thinking_key = ds.template_thinking_key.value_or("reasoning_content");
  o.drop_system_message = ds.drop_system_message.value_or(false);
  o.split_thinking = ds.split_thinking.value_or(false);
  o.train_on_inputs = cfg.train_on_inputs;
  o.is_mistral = lower(cfg.tokenizer_config.empty() ? cfg.base_model : cfg.tokenizer_config).find("mistral") != std::string::npos;

  std::string source;
  try {
    source = chat_template_source(ds, cfg, tok);
  } catch (const Error& e) {
    throw Error(ds.where + ": " + e.what());
  }
  for (const auto& p : template_message_properties(source)) o.template_vars.insert(p);

  o.special_tokens = chat_template_special_tokens(tok);
  o.kwargs = chat_template_kwargs(cfg);

  // EOT tokens: the config's eot_tokens, else the EOS. Ones missing from the template are
  // dropped (Axolotl warns); one that is several tokens is an error.
  const std::optional<std::string>& eos = tok.special_tokens().eos;
  std::vector<std::string> eot = cfg.eot_tokens;
  if (eot.empty() && eos) eot = {*eos};
  const bool only_eos = eot.size() == 1 && eos && eot[0] == *eos;
  for (const auto& t : eot) {
    if (!only_eos && source.find(t) == std::string::npos) continue;
    std::vector<TokenId> ids = tok.encode(t, false);
    if (!only_eos && ids.size() != 1)
      throw Error(ds.where + ": EOT token '" + t + "' is " + std::to_string(ids.size()) +
                  " tokens; add it under `tokens:` or pick a single-token terminator");
    if (ids.size() == 1) o.eot_ids.insert(ids[0]);
  }
  if (!only_eos && eos && std::find(eot.begin(), eot.end(), *eos) != eot.end() && o.train_on_eos != o.train_on_eot)
    throw Error(ds.where + ": eos_token is in eot_tokens, so train_on_eos and train_on_eot must agree");
  return std::make_unique<ChatTemplateStrategy>(std::move(o), std::move(source), tok);
}

Json chat_template_special_tokens(const tokenizer::Tokenizer& tok) {
  Json out = Json::object();
  const auto& tc = tok.config();
  if (tc.bos_token) out["bos_token"] = *tc.bos_token;
  if (tc.eos_token) out["eos_token"] = *tc.eos_token;
  if (tc.unk_token) out["unk_token"] = *tc.unk_token;
  if (tc.pad_token) out["pad_token"] = *tc.pad_token;
  return out;
}

Json chat_template_kwargs(const config::Config& cfg) {
  Json out = Json::object();
  for (const auto& [k, v] : cfg.chat_template_kwargs) out[k] = scalar_from_text(v);
  return out;
}

}  // namespace axl::data
