// Golden conformance: the chat_template strings of the llama3, qwen3 and gemma3 tokenizer
// configs, rendered by transformers for 24 real conversations x add_generation_prompt
// (fixtures README section 6), must come out byte for byte, raised errors included.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "axl/tokenizer/chat/chat_template.h"
#include "tests/fixtures.h"

namespace {

using nlohmann::ordered_json;

TEST(ChatGolden, RendersEveryCaseLikeTransformers) {
  AXL_REQUIRE_FIXTURE(path, "golden/chat_template_renders.json");
  std::ifstream in(path);
  ordered_json golden = ordered_json::parse(in);
  const ordered_json& env = golden["environment"];

  std::map<std::string, std::unique_ptr<axl::chat::ChatTemplate>> templates;
  for (auto it = golden["templates"].begin(); it != golden["templates"].end(); ++it)
    templates[it.key()] = std::make_unique<axl::chat::ChatTemplate>(it.value().get<std::string>(), it.key());

  std::map<std::string, std::pair<int, int>> per_template;  // passed, total
  int passed = 0, total = 0;
  for (const auto& c : golden["cases"]) {
    const std::string name = c["template"];
    const std::string id = c["conversation_id"].get<std::string>() +
                           (c["add_generation_prompt"].get<bool>() ? " +gen" : " -gen");
    const auto& tmpl = *templates.at(name);
    bool ok = false;
    std::string got, error;
    try {
      got = axl::chat::apply_chat_template(tmpl, c["messages"], c["tools"], c["add_generation_prompt"].get<bool>(),
                                           env["special_tokens_map"][name], env["extra_variables"]);
    } catch (const axl::chat::TemplateError& e) {
      error = e.message();
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << "error names the template origin";
      EXPECT_GT(e.line(), 0);
    }
    if (c["output"].is_null()) {
      ok = !error.empty() && error == c["error"].get<std::string>();
      EXPECT_TRUE(ok) << name << " " << id << ": expected error '" << c["error"] << "', got "
                      << (error.empty() ? "output" : "error '" + error + "'");
    } else {
      ok = error.empty() && got == c["output"].get<std::string>();
      EXPECT_TRUE(ok) << name << " " << id << (error.empty() ? ": output differs" : ": raised " + error)
                      << "\n--- expected\n" << c["output"].get<std::string>() << "\n--- got\n" << got;
    }
    auto& pt = per_template[name];
    pt.first += ok;
    pt.second += 1;
    passed += ok;
    ++total;
  }
  for (const auto& [name, pt] : per_template)
    std::cout << "[golden] " << name << ": " << pt.first << "/" << pt.second << " cases identical\n";
  std::cout << "[golden] total: " << passed << "/" << total << "\n";
  EXPECT_EQ(total, 144);
}

}  // namespace
