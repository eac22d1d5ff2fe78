// Command-line overrides: kebab and snake case, `=` or a separate value, list entries, YAML
// typing, and overrides of unknown keys treated like unknown keys in the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "axl/config/overrides.h"
#include "config_test_util.h"

using axl::test::base_yaml;
using axl::test::load_error;
using axl::test::load_text;
using testing::HasSubstr;

TEST(ConfigOverrides, ParsesEveryForm) {
  auto o = axl::config::parse_overrides(
      {"--learning-rate", "1e-4", "--micro_batch_size=2", "--datasets.0.path=d.jsonl", "--sample-packing",
       "--no-gradient-checkpointing", "--seed", "-1"});
  ASSERT_EQ(o.size(), 6u);
  EXPECT_EQ(o[0].dotted(), "learning_rate");
  EXPECT_EQ(o[0].value, "1e-4");
  EXPECT_EQ(o[1].dotted(), "micro_batch_size");
  EXPECT_EQ(o[1].value, "2");
  EXPECT_EQ(o[2].path, (std::vector<std::string>{"datasets", "0", "path"}));
  EXPECT_EQ(o[3].dotted(), "sample_packing");
  EXPECT_EQ(o[3].value, "true");
  EXPECT_EQ(o[4].dotted(), "gradient_checkpointing");
  EXPECT_EQ(o[4].value, "false");
  EXPECT_EQ(o[5].value, "-1");
  EXPECT_THROW(axl::config::parse_overrides({"learning_rate=1"}), axl::Error);
}

TEST(ConfigOverrides, ReplaceValuesWithYamlTypes) {
  auto c = load_text(base_yaml() + "micro_batch_size: 1\ngradient_accumulation_steps: 1\n",
                     {"--learning-rate", "1e-4", "--micro-batch-size", "4", "--gradient_accumulation_steps=2",
                      "--lora-target-modules", "[q_proj, v_proj]", "--sample-packing", "--bf16", "false"})
               .config;
  EXPECT_DOUBLE_EQ(c.learning_rate, 1e-4);
  EXPECT_EQ(c.micro_batch_size, 4);
  EXPECT_EQ(c.batch_size, 8);
  EXPECT_EQ(c.lora_target_modules, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_TRUE(c.sample_packing);
  EXPECT_EQ(c.bf16_setting, "false");
}

TEST(ConfigOverrides, ListEntries) {
  auto c = load_text(base_yaml(), {"--datasets.0.path=other.jsonl", "--datasets.0.type", "alpaca:chatml",
                                   "--datasets.1.path", "second.json", "--datasets.1.split=train"})
               .config;
  ASSERT_EQ(c.datasets.size(), 2u);
  EXPECT_EQ(c.datasets[0].path, "other.jsonl");
  EXPECT_EQ(c.datasets[0].type, "alpaca:chatml");
  EXPECT_EQ(c.datasets[1].path, "second.json");
  EXPECT_EQ(c.datasets[1].split, std::optional<std::string>("train"));
  EXPECT_EQ(c.datasets[1].where, "command line (--datasets.1.path second.json)");
  EXPECT_THAT(load_error(base_yaml(), {"--datasets.5.path=x"}), HasSubstr("the list has 1 entries; the next new one is index 1"));
  EXPECT_THAT(load_error(base_yaml(), {"--learning_rate.x=1"}), HasSubstr("not a mapping or list"));
}

TEST(ConfigOverrides, ErrorsNameTheOverride) {
  EXPECT_THAT(load_error(base_yaml(), {"--micro-batch-size", "lots"}),
              HasSubstr("command line (--micro-batch-size lots): micro_batch_size: expected a whole number"));
  EXPECT_THAT(load_error(base_yaml(), {"--relora"}),
              HasSubstr("command line (--relora): `relora: true` is not supported"));
}

TEST(ConfigOverrides, UnknownKeyIsTreatedLikeOneInTheFile) {
  auto r = load_text(base_yaml(), {"--lerning-rate", "1"});
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("command line (--lerning-rate 1): unknown key 'lerning_rate'"));
  EXPECT_THAT(load_error(base_yaml() + "strict: true\n", {"--lerning-rate", "1"}), HasSubstr("unknown key 'lerning_rate'"));
  // strict itself can come from the command line.
  EXPECT_THAT(load_error(base_yaml() + "debug: 1\n", {"--strict"}), HasSubstr("cfg.yml:6:1: unknown key 'debug'"));
}
