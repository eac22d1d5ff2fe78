// Prompt strategies on the real llama3/qwen3 tokenizers: alpaca's two-call layout, format
// strings, chat_template masking with unmapped roles, and the errors bad rows give.
#include <gtest/gtest.h>

#include <functional>

#include "../fixtures.h"
#include "axl/core/error.h"
#include "axl/data/instruction_strategy.h"
#include "axl/data/prepare.h"
#include "axl/data/prompt_strategy.h"

namespace {

using axl::data::kIgnoreIndex;
using Json = nlohmann::ordered_json;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<axl::data::TokenizedSample> run(const axl::data::PromptStrategy& s, const Json& row) {
  std::vector<axl::data::Row> rows{{row, "mem:1"}};
  return axl::data::tokenize_rows(rows, s, 1);
}

TEST(FormatNamed, PythonFormatSubset) {
  EXPECT_EQ(axl::data::format_named("{a}-{{b}}-{a}", {{"a", "x"}}), "x-{b}-x");
  EXPECT_THROW(axl::data::format_named("{nope}", {{"a", "x"}}), axl::Error);
  EXPECT_THROW(axl::data::format_named("{a", {{"a", "x"}}), axl::Error);
  EXPECT_THROW(axl::data::format_named("a}", {}), axl::Error);
}

TEST(AlpacaStrategy, PromptMaskedResponseTrainedWithEos) {
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/llama3");
  auto tok = axl::tokenizer::load_tokenizer(dir);
  axl::config::Config cfg;
  axl::config::DatasetConfig ds;
  ds.type = "alpaca";
  auto s = axl::data::make_prompt_strategy(ds, cfg, *tok);
  auto out = run(*s, Json{{"instruction", "Say hi."}, {"input", ""}, {"output", "Hi!"}});
  ASSERT_EQ(out.size(), 1u);
  const auto& ids = out[0].input_ids;
  const auto& labels = out[0].labels;
  std::vector<int32_t> prompt = tok->encode(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
      "### Instruction:\nSay hi.\n\n### Response:\n",
      true);
  std::vector<int32_t> response = tok->encode("Hi!", false);
  ASSERT_EQ(ids.size(), prompt.size() + response.size() + 1);
  EXPECT_TRUE(std::equal(prompt.begin(), prompt.end(), ids.begin()));
  EXPECT_EQ(ids.back(), *tok->special_tokens().eos_id);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(labels[i], i < prompt.size() ? kIgnoreIndex : ids[i]) << i;
  // The response was tokenized alone: no BOS of its own (this llama3 tokenizer.json adds none anyway).
  EXPECT_EQ(std::count(ids.begin() + static_cast<std::ptrdiff_t>(prompt.size()), ids.end(), *tok->special_tokens().bos_id), 0);

  std::string msg = error_of([&] { run(*s, Json{{"instruction", "x"}}); });
  EXPECT_NE(msg.find("mem:1: alpaca: missing field 'output'"), std::string::npos) << msg;
  msg = error_of([&] { run(*s, Json{{"instruction", 3}, {"output", "y"}}); });
  EXPECT_NE(msg.find("field 'instruction' must be a string"), std::string::npos) << msg;
}

TEST(Strategies, UnknownTypesAreClearErrors) {
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/qwen3");
  auto tok = axl::tokenizer::load_tokenizer(dir);
  axl::config::Config cfg;
  axl::config::DatasetConfig ds;
  ds.where = "cfg.yml:4:5";
  ds.type = "nonsense";
  std::string msg = error_of([&] { axl::data::make_prompt_strategy(ds, cfg, *tok); });
  EXPECT_NE(msg.find("cfg.yml:4:5: unhandled prompt tokenization strategy: nonsense"), std::string::npos) << msg;
  ds.type = "sharegpt";
  EXPECT_NE(error_of([&] { axl::data::make_prompt_strategy(ds, cfg, *tok); }).find("type: chat_template"),
            std::string::npos);
  ds.type = "alpaca:fancy";
  EXPECT_NE(error_of([&] { axl::data::make_prompt_strategy(ds, cfg, *tok); }).find("prompt style"), std::string::npos);
  ds.type = "chat_template";
  ds.train_on_eos = "sometimes";
  EXPECT_NE(error_of([&] { axl::data::make_prompt_strategy(ds, cfg, *tok); }).find("train_on_eos"), std::string::npos);
}

TEST(ChatTemplateStrategy, UnmappedRolesPassThroughAndStayMasked) {
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/qwen3");
  auto tok = axl::tokenizer::load_tokenizer(dir);
  axl::config::Config cfg;
  axl::config::DatasetConfig ds;
  ds.type = "chat_template";
  ds.field_messages = "conversations";
  ds.message_property_mappings = {{"role", "from"}, {"content", "value"}};
  auto s = axl::data::make_prompt_strategy(ds, cfg, *tok);
  Json row = Json::parse(R"({"conversations": [
      {"from": "human", "value": "Hello there"},
      {"from": "gpt", "value": "General Kenobi"},
      {"from": "narrator", "value": "They fight"}]})");
  auto out = run(*s, row);
  ASSERT_EQ(out.size(), 1u);
  // Only the gpt turn (and its <|im_end|>) is trained; its text decodes back exactly.
  std::vector<int32_t> trained;
  for (size_t i = 0; i < out[0].labels.size(); ++i)
    if (out[0].labels[i] != kIgnoreIndex) trained.push_back(out[0].labels[i]);
  EXPECT_EQ(tok->decode(trained), "General Kenobi<|im_end|>");
  // The narrator role reaches the template unchanged (Qwen3's template prints it as is).
  // The narrator role reaches the template unchanged, as in Axolotl; Qwen3's template skips
  // roles it does not know (checked against Axolotl 0.19).
  EXPECT_EQ(tok->decode(out[0].input_ids),
            "<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\nGeneral Kenobi<|im_end|>\n");

  EXPECT_NE(error_of([&] { run(*s, Json{{"conversations", Json::array()}}); }).find("empty conversation"),
            std::string::npos);
  EXPECT_NE(error_of([&] { run(*s, Json{{"messages", Json::array()}}); }).find("no 'conversations' field"),
            std::string::npos);
  EXPECT_NE(error_of([&] { run(*s, Json{{"conversations", "[oops"}}); }).find("not valid JSON"), std::string::npos);
}

TEST(ChatTemplateStrategy, PerMessageTrainingFlags) {
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/qwen3");
  auto tok = axl::tokenizer::load_tokenizer(dir);
  axl::config::Config cfg;
  axl::config::DatasetConfig ds;
  ds.type = "chat_template";
  ds.message_field_training = "train";
  ds.message_field_training_detail = "detail";
  auto s = axl::data::make_prompt_strategy(ds, cfg, *tok);
  Json row = Json::parse(R"({"messages": [
      {"role": "user", "content": "Question one", "train": true},
      {"role": "assistant", "content": "Skip me", "train": false},
      {"role": "user", "content": "Question two"},
      {"role": "assistant", "content": "Keep this part. Not this.",
       "detail": [{"begin_offset": 0, "end_offset": 14, "train": true},
                  {"begin_offset": 15, "end_offset": 24, "train": false}]}]})");
  auto out = run(*s, row);
  std::string trained;
  for (size_t i = 0; i < out[0].labels.size(); ++i)
    if (out[0].labels[i] != kIgnoreIndex) trained += tok->decode({out[0].labels[i]}) + "|";
  EXPECT_EQ(trained, "Question| one|<|im_end|>|Keep| this| part|.|<|im_end|>|");
}

TEST(PretokenizedStrategy, ChecksColumns) {
  axl::config::Config cfg;
  axl::config::DatasetConfig ds;
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/qwen3");
  auto tok = axl::tokenizer::load_tokenizer(dir);
  auto s = axl::data::make_prompt_strategy(ds, cfg, *tok);
  auto out = run(*s, Json{{"input_ids", {1, 2, 3}}, {"labels", {-100, 2, 3}}});
  EXPECT_EQ(out[0].labels, (std::vector<int32_t>{-100, 2, 3}));
  EXPECT_NE(error_of([&] { run(*s, Json{{"input_ids", {1, 2}}, {"labels", {1}}}); }).find("'labels' has 1 ids"),
            std::string::npos);
  EXPECT_NE(error_of([&] { run(*s, Json{{"text", "x"}}); }).find("need 'input_ids'"), std::string::npos);
}

}  // namespace
