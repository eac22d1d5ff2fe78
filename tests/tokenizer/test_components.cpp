// One small hand-written tokenizer.json per component type (normalizers, pre-tokenizers,
// models, added-token flags, post-processors, decoders), replayed against what HF tokenizers
// 0.22.2 returned for the same inputs (component_cases.inc, made by
// tests/peers/tokenizer_component_cases.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/hf_tokenizer.h"

#include "tests/tokenizer/component_cases.inc"

namespace {

const nlohmann::json& cases() {
  static const nlohmann::json j = nlohmann::json::parse(kComponentCases);
  return j;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& c : cases()) names.push_back(c["name"]);
  return names;
}

std::vector<std::pair<uint32_t, uint32_t>> offsets_of(const nlohmann::json& j) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const auto& o : j) out.push_back({o[0].get<uint32_t>(), o[1].get<uint32_t>()});
  return out;
}

class Component : public ::testing::TestWithParam<std::string> {};

TEST_P(Component, MatchesHfTokenizers) {
  const nlohmann::json* c = nullptr;
  for (const auto& x : cases())
    if (x["name"] == GetParam()) c = &x;
  ASSERT_NE(c, nullptr);
  axl::tokenizer::HfTokenizer tok((*c)["tokenizer"], {});
  ASSERT_FALSE((*c)["results"].empty());
  for (const auto& r : (*c)["results"]) {
    std::string text = r["text"];
    SCOPED_TRACE("text: '" + text + "'");
    auto enc = tok.encode_with_offsets(text, false);
    EXPECT_EQ(enc.ids, r["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(enc.tokens, r["tokens"].get<std::vector<std::string>>());
    EXPECT_EQ(enc.offsets, offsets_of(r["offsets"]));
    auto with = tok.encode_with_offsets(text, true);
    EXPECT_EQ(with.ids, r["ids_with_special"].get<std::vector<int32_t>>());
    EXPECT_EQ(with.offsets, offsets_of(r["offsets_with_special"]));
    EXPECT_EQ(tok.encode(text, true), with.ids);
    EXPECT_EQ(tok.decode(with.ids, false), r["decoded"].get<std::string>());
    EXPECT_EQ(tok.decode(with.ids, true), r["decoded_skip"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(HfTokenizers0222, Component, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
