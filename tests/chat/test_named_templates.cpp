// Our named templates (written from each format's rules) against Axolotl 0.19.0's own, as
// transformers' Jinja environment renders them (tests/peers/chat_axolotl_templates.py):
// every golden conversation, with and without its system message, both
// add_generation_prompt values, errors included. Plus the name resolution rules.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "axl/tokenizer/chat/chat_template.h"
#include "tests/fixtures.h"

namespace {

using nlohmann::ordered_json;

// The generator pins strftime_now to 2024-07-26 00:00:00 local time.
std::time_t pinned_clock() {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_isdst = -1;
  return std::mktime(&tm);
}

ordered_json load_peer_renders(bool* missing) {
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  std::string path = peer ? std::string(peer) + "/chat/axolotl_named_renders.json" : std::string();
  *missing = path.empty() || !std::ifstream(path);
  if (*missing) return ordered_json();
  std::ifstream in(path);
  return ordered_json::parse(in);
}

#define AXL_REQUIRE_PEER_RENDERS(ref)                                                                        \
  bool missing_peer = false;                                                                                 \
  ordered_json ref = load_peer_renders(&missing_peer);                                                       \
  if (missing_peer) {                                                                                        \
    if (axl::test::fixtures_required())                                                                      \
      FAIL() << "missing peer reference chat/axolotl_named_renders.json (run scripts/make-peer-refs.sh)";    \
    GTEST_SKIP() << "peer reference chat/axolotl_named_renders.json not generated (set AXL_PEER_FIXTURES)";  \
  }

// Renders every case with the template `source_of(case)` gives (null: skip the case) and
// compares with the peer's output or error; prints pass counts per template.
template <typename SourceOf>
void compare_cases(const ordered_json& ref, const char* tag, SourceOf source_of) {
  std::map<std::string, std::unique_ptr<axl::chat::ChatTemplate>> templates;
  std::map<std::string, std::pair<int, int>> per_template;
  int passed = 0, total = 0;
  for (const auto& c : ref["cases"]) {
    const std::string name = c["template"];
    const std::string* source = source_of(c);
    if (!source) continue;
    auto& tmpl = templates[name];
    if (!tmpl) {
      tmpl = std::make_unique<axl::chat::ChatTemplate>(*source, std::string(tag) + ":" + name);
      tmpl->set_clock(pinned_clock());
    }
    std::string got, error;
    try {
      got = axl::chat::apply_chat_template(*tmpl, c["messages"], c["tools"], c["add_generation_prompt"].get<bool>(),
                                           c["special_tokens"], c["extra"]);
    } catch (const axl::chat::TemplateError& e) {
      error = e.message();
    }
    std::string label = std::string(tag) + " " + name + " " + c["conversation_id"].get<std::string>() +
                        (c["add_generation_prompt"].get<bool>() ? " +gen" : " -gen") + " " + c["extra"].dump();
    bool ok;
    if (c["output"].is_null()) {
      ok = error == c["error"].get<std::string>();
      EXPECT_TRUE(ok) << label << ": expected error '" << c["error"].get<std::string>() << "', got "
                      << (error.empty() ? "output:\n" + got : "error '" + error + "'");
    } else {
      ok = error.empty() && got == c["output"].get<std::string>();
      EXPECT_TRUE(ok) << label << (error.empty() ? ": output differs" : ": raised " + error) << "\n--- expected\n"
                      << c["output"].get<std::string>() << "\n--- got\n" << got;
    }
    auto& pt = per_template[name];
    pt.first += ok;
    pt.second += 1;
    passed += ok;
    ++total;
  }
  for (const auto& [name, pt] : per_template) std::cout << "[" << tag << "] " << name << ": " << pt.first << "/" << pt.second << "\n";
  std::cout << "[" << tag << "] total: " << passed << "/" << total << "\n";
  EXPECT_GT(total, 1000);
}

// Our own named templates must render what Axolotl's render.
TEST(NamedTemplates, MatchAxolotlRenders) {
  AXL_REQUIRE_PEER_RENDERS(ref);
  std::map<std::string, std::string> ours;
  for (const auto& n : axl::chat::named_chat_template_names()) ours[n] = axl::chat::named_chat_template_source(n);
  std::set<std::string> compared;
  compare_cases(ref, "ours-vs-axolotl", [&](const ordered_json& c) -> const std::string* {
    if (!c["named"].get<bool>()) return nullptr;
    compared.insert(c["template"].get<std::string>());
    return &ours.at(c["template"].get<std::string>());
  });
  EXPECT_EQ(compared.size(), ours.size()) << "every named template has peer renders";
}

// The interpreter on Axolotl's own template texts (all of them, named or not).
TEST(NamedTemplates, InterpreterRendersAxolotlSources) {
  AXL_REQUIRE_PEER_RENDERS(ref);
  std::map<std::string, std::string> sources;
  for (auto it = ref["axolotl_sources"].begin(); it != ref["axolotl_sources"].end(); ++it)
    sources[it.key()] = it.value().get<std::string>();
  compare_cases(ref, "interpreter-on-axolotl", [&](const ordered_json& c) -> const std::string* {
    return &sources.at(c["template"].get<std::string>());
  });
  EXPECT_GE(sources.size(), 36u);
}

TEST(NamedTemplates, KnownNamesAndUnknownNameError) {
  auto names = axl::chat::named_chat_template_names();
  for (const char* n : {"alpaca", "chatml", "llama3", "llama4", "mistral_v1", "mistral_v2v3", "mistral_v3_tekken",
                        "mistral_v7_tekken", "gemma", "gemma3", "phi_3", "phi_35", "phi_4", "qwen_25", "qwen3",
                        "deepseek_v2", "deepseek_v3", "cohere", "metharme"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
    EXPECT_NO_THROW(axl::chat::ChatTemplate(axl::chat::named_chat_template_source(n), n)) << n;
  }
  try {
    axl::chat::named_chat_template_source("llama9");
    FAIL() << "expected axl::Error";
  } catch (const axl::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("'llama9'"), std::string::npos);
    EXPECT_NE(msg.find("chatml"), std::string::npos);  // lists the known names
  }
}

TEST(NamedTemplates, ResolutionRules) {
  std::string jinja_text = "{{ messages[0].content }}", tok = "{{ bos_token }}";
  EXPECT_EQ(axl::chat::resolve_chat_template("jinja", &jinja_text, &tok), jinja_text);
  EXPECT_THROW(axl::chat::resolve_chat_template("jinja", nullptr, &tok), axl::Error);
  EXPECT_EQ(axl::chat::resolve_chat_template("tokenizer_default", nullptr, &tok), tok);
  EXPECT_THROW(axl::chat::resolve_chat_template("tokenizer_default", nullptr, nullptr), axl::Error);
  EXPECT_EQ(axl::chat::resolve_chat_template("tokenizer_default_fallback_chatml", nullptr, &tok), tok);
  EXPECT_EQ(axl::chat::resolve_chat_template("tokenizer_default_fallback_chatml", nullptr, nullptr),
            axl::chat::named_chat_template_source("chatml"));
  EXPECT_EQ(axl::chat::resolve_chat_template("qwen3", nullptr, &tok), axl::chat::named_chat_template_source("qwen3"));
}

TEST(NamedTemplates, ChatmlRendersAConversation) {
  axl::chat::ChatTemplate t(axl::chat::named_chat_template_source("chatml"), "named:chatml");
  ordered_json msgs = ordered_json::parse(R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}])");
  EXPECT_EQ(axl::chat::apply_chat_template(t, msgs, nullptr, true, ordered_json::object()),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>assistant\n");
}

}  // namespace
