// Loading: locations in errors, unknown vs unimplemented keys, derived values, exclusions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "axl/config/plan.h"
#include "axl/config/yaml_reader.h"
#include "config_test_util.h"

using axl::test::base_yaml;
using axl::test::load_error;
using axl::test::load_text;
using testing::HasSubstr;

TEST(ConfigLoad, DefaultsAreAxolotls) {
  auto r = load_text(base_yaml());
  const auto& c = r.config;
  EXPECT_EQ(c.micro_batch_size, 1);
  EXPECT_EQ(c.gradient_accumulation_steps, 1);
  EXPECT_EQ(c.batch_size, 1);
  EXPECT_EQ(c.sequence_len, 512);
  EXPECT_EQ(c.seed, 42);
  EXPECT_EQ(c.optimizer, "adamw_torch_fused");
  EXPECT_EQ(c.lr_scheduler, "cosine");
  EXPECT_EQ(c.output_dir, "./model-out");
  EXPECT_DOUBLE_EQ(c.learning_rate, 2e-4);
  EXPECT_EQ(c.datasets.size(), 1u);
  EXPECT_EQ(c.datasets[0].type, "alpaca");
  EXPECT_EQ(c.datasets[0].where, "cfg.yml:4:5");
  EXPECT_EQ(c.base_model_config, "some/model");
  EXPECT_EQ(c.tokenizer_config, "some/model");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ConfigLoad, TypeErrorsNameLineAndColumn) {
  EXPECT_THAT(load_error(base_yaml() + "micro_batch_size: two\n"),
              HasSubstr("cfg.yml:6:19: micro_batch_size: expected a whole number, got 'two'"));
  EXPECT_THAT(load_error(base_yaml() + "sample_packing: maybe\n"),
              HasSubstr("cfg.yml:6:17: sample_packing: expected true or false"));
  EXPECT_THAT(load_error(base_yaml() + "learning_rate2: 1\nweight_decay: [1, 2]\n"),
              HasSubstr("cfg.yml:7:15: weight_decay: expected a number, got a list"));
  EXPECT_THAT(load_error(base_yaml() + "lora_target_modules:\n  - q_proj\n  - {a: 1}\n"),
              HasSubstr("cfg.yml:8:5: lora_target_modules[1]: expected a string"));
  EXPECT_THAT(load_error("base_model: x\n  bad: indent\n"), HasSubstr("cfg.yml:2:"));
  // Inside a dataset entry.
  EXPECT_THAT(load_error(base_yaml() + "    train_on_eos: sometimes\n"),
              HasSubstr("cfg.yml:6:19: datasets.0.train_on_eos: 'sometimes' is not a valid value"));
}

TEST(ConfigLoad, BadEnumValuesSuggestTheFix) {
  std::string e = load_error(base_yaml() + "optimizer: adamw_torhc\n");
  EXPECT_THAT(e, HasSubstr("cfg.yml:6:12: optimizer: 'adamw_torhc' is not a valid value"));
  EXPECT_THAT(e, HasSubstr("did you mean 'adamw_torch'?"));
  EXPECT_THAT(load_error(base_yaml() + "lr_scheduler: cosin\n"), HasSubstr("did you mean 'cosine'?"));
  EXPECT_THAT(load_error(base_yaml() + "chat_template: llama33\n"),
              HasSubstr("'llama33' is not one of Axolotl's chat templates (did you mean 'llama3'?)"));
  EXPECT_THAT(load_error(base_yaml() + "attn_implementation: flash\n"),
              HasSubstr("write `attn_implementation: flash_attention_2`"));
  EXPECT_THAT(load_error(base_yaml() + "bf16: full\n"), HasSubstr("bf16: expected auto, true or false"));
  EXPECT_THAT(load_error(base_yaml() + "excess_length_strategy: cut\n"),
              HasSubstr("use one of: drop, truncate, raise"));
}

TEST(ConfigLoad, UnknownKeyWarnsAndStrictMakesItAnError) {
  auto r = load_text(base_yaml() + "lerning_rate: 1\ndebug: true\n");
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0], HasSubstr("cfg.yml:6:1: unknown key 'lerning_rate'"));
  EXPECT_THAT(r.warnings[0], HasSubstr("did you mean 'learning_rate'?"));
  EXPECT_THAT(r.warnings[1], HasSubstr("cfg.yml:7:1: unknown key 'debug': not in Axolotl 0.19.0's schema"));
  std::string e = load_error(base_yaml() + "strict: true\ndebug: true\n");
  EXPECT_THAT(e, HasSubstr("cfg.yml:7:1: unknown key 'debug'"));
  EXPECT_THAT(e, HasSubstr("strict: true makes this an error"));
  // Unknown keys inside dataset entries and special_tokens too.
  auto d = load_text(base_yaml() + "    train_on_inputs: true\nspecial_tokens:\n  pad: x\n");
  ASSERT_EQ(d.warnings.size(), 2u);
  EXPECT_THAT(d.warnings[0], HasSubstr("cfg.yml:6:5: unknown key 'datasets.0.train_on_inputs'"));
  EXPECT_THAT(d.warnings[1], HasSubstr("cfg.yml:8:3: unknown key 'special_tokens.pad'"));
}

TEST(ConfigLoad, UnimplementedKeysStopOnlyWhenTruthy) {
  EXPECT_EQ(load_error(base_yaml() + "load_in_4bit: false\nrl:\ndeepspeed: ''\n"), "");
  std::string e = load_error(base_yaml() + "relora: true\nadapter: llama-adapter\nrl: dpo\n");
  EXPECT_THAT(e, HasSubstr("cfg.yml:6:1: `relora: true` is not supported by axolotl-cpp: ReLoRA"));
  EXPECT_THAT(e, HasSubstr("(also unsupported: adapter rl)"));
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_THAT(load_error(base_yaml() + "deepspeed: zero3.json\n"), HasSubstr("`deepspeed: zero3.json` is not supported"));
  EXPECT_THAT(load_error(base_yaml() + "optimizer: paged_ademamix_8bit\n"),
              HasSubstr("`optimizer: paged_ademamix_8bit` is not supported by axolotl-cpp"));
  EXPECT_EQ(load_error(base_yaml() + "optimizer: paged_adamw_8bit\n"), "");
  EXPECT_THAT(load_error(base_yaml() + "lr_scheduler: one_cycle\n"), HasSubstr("`lr_scheduler: one_cycle` is not supported"));
  EXPECT_THAT(load_error(base_yaml() + "    shards: 4\n"), HasSubstr("`datasets.0.shards: 4` is not supported"));
  EXPECT_THAT(load_error(base_yaml() + "model_type: AutoModelForSequenceClassification\n"),
              HasSubstr("only causal language models"));
}

TEST(ConfigLoad, UnusedKeysAreReported) {
  auto r = load_text(base_yaml() + "trust_remote_code: true\nwandb_project: p\nwandb_entity:\n");
  ASSERT_EQ(r.unused.size(), 2u);
  EXPECT_THAT(r.unused[0], HasSubstr("trust_remote_code (cfg.yml:6:1)"));
  EXPECT_THAT(r.unused[1], HasSubstr("wandb_project (cfg.yml:7:1): no Weights & Biases logging"));
  EXPECT_TRUE(r.config.trust_remote_code);
}

TEST(ConfigLoad, BatchSizeIsDerivedFromTheOtherTwo) {
  auto a = load_text(base_yaml() + "micro_batch_size: 2\ngradient_accumulation_steps: 4\n").config;
  EXPECT_EQ(a.batch_size, 8);
  EXPECT_EQ(a.eval_batch_size, 2);
  auto b = load_text(base_yaml() + "micro_batch_size: 4\nbatch_size: 32\neval_batch_size: 8\n").config;
  EXPECT_EQ(b.gradient_accumulation_steps, 8);
  EXPECT_EQ(b.batch_size, 32);
  EXPECT_EQ(b.eval_batch_size, 8);
  auto c = load_text(base_yaml() + "gradient_accumulation_steps: 3\n").config;  // micro_batch_size 1
  EXPECT_EQ(c.batch_size, 3);
  EXPECT_THAT(load_error(base_yaml() + "micro_batch_size: 2\ngradient_accumulation_steps: 4\nbatch_size: 8\n"),
              HasSubstr("cfg.yml:8:13: batch_size: set only one of gradient_accumulation_steps or batch_size"));
  EXPECT_THAT(load_error(base_yaml() + "batch_size: 8\n"), HasSubstr("at least two of micro_batch_size"));
  EXPECT_THAT(load_error(base_yaml() + "micro_batch_size: 3\nbatch_size: 8\n"), HasSubstr("not a multiple of micro_batch_size (3)"));
  EXPECT_THAT(load_error(base_yaml() + "micro_batch_size: 0\n"), HasSubstr("micro_batch_size: must be at least 1"));
}

TEST(ConfigLoad, MutuallyExclusiveKeys) {
  EXPECT_THAT(load_error(base_yaml() + "warmup_steps: 10\nwarmup_ratio: 0.1\n"),
              HasSubstr("cfg.yml:7:15: warmup_ratio: warmup_steps and warmup_ratio are mutually exclusive"));
  EXPECT_EQ(load_error(base_yaml() + "warmup_steps: 0\nwarmup_ratio: 0.1\n"), "");  // 0 is unset, as in Axolotl
  EXPECT_THAT(load_error(base_yaml() + "save_steps: 10\nsaves_per_epoch: 2\n"),
              HasSubstr("save_steps and saves_per_epoch are mutually exclusive"));
  EXPECT_THAT(load_error(base_yaml() + "val_set_size: 0.1\neval_steps: 10\nevals_per_epoch: 2\n"),
              HasSubstr("eval_steps and evals_per_epoch are mutually exclusive"));
  EXPECT_THAT(load_error(base_yaml() + "val_set_size: 0\neval_steps: 10\n"), HasSubstr("evaluation needs data"));
  EXPECT_THAT(load_error(base_yaml() + "val_set_size: 0.1\ntest_datasets:\n  - path: t.jsonl\n"),
              HasSubstr("test_datasets and val_set_size are mutually exclusive"));
  EXPECT_THAT(load_error(base_yaml() + "flash_attention: true\nattn_implementation: sdpa\n"),
              HasSubstr("flash_attention: cannot be combined with attn_implementation"));
  EXPECT_THAT(load_error(base_yaml() + "val_set_size: 0.1\nearly_stopping_patience: 3\neval_steps: 30\nsave_steps: 100\n"),
              HasSubstr("needs save_steps (100) to be a multiple of eval_steps (30)"));
  EXPECT_THAT(load_error(base_yaml() + "chat_template: jinja\n"), HasSubstr("needs chat_template_jinja"));
}

TEST(ConfigLoad, PerEpochValuesBecomeFractions) {
  auto c = load_text(base_yaml() + "num_epochs: 2\nsaves_per_epoch: 4\nevals_per_epoch: 5\nval_set_size: 0.05\n").config;
  ASSERT_TRUE(c.save_steps && c.eval_steps);
  EXPECT_DOUBLE_EQ(*c.save_steps, 1.0 / 8);
  EXPECT_DOUBLE_EQ(*c.eval_steps, 1.0 / 10);
  // No evaluation set: evals_per_epoch is ignored, as Axolotl does.
  auto d = load_text(base_yaml() + "evals_per_epoch: 4\n").config;
  EXPECT_FALSE(d.eval_steps);
  // saves_per_epoch * num_epochs < 1: save at the end only, with a warning.
  auto w = load_text(base_yaml() + "num_epochs: 0.5\nsaves_per_epoch: 1\n");
  EXPECT_FALSE(w.config.save_steps);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_THAT(w.warnings[0], HasSubstr("saving at the end of training only"));
}

TEST(ConfigLoad, PrecisionAttentionAndPacking) {
  auto cpu = load_text(base_yaml() + "bf16: auto\nfp16: true\nsample_packing: true\nflash_attention: true\n");
  EXPECT_FALSE(cpu.config.bf16);
  EXPECT_TRUE(cpu.config.fp16);
  EXPECT_TRUE(cpu.config.pad_to_sequence_len);  // packing implies it (Axolotl)
  EXPECT_EQ(cpu.config.attn_requested, "flash_attention_2");
  EXPECT_EQ(cpu.config.attention_path, "sdpa");
  EXPECT_TRUE(cpu.config.sample_packing);
  EXPECT_TRUE(cpu.config.eval_sample_packing);  // follows sample_packing (Axolotl)
  ASSERT_EQ(cpu.warnings.size(), 1u);  // packing is implemented: no warning about it
  EXPECT_THAT(cpu.warnings[0], HasSubstr("bf16: auto resolves to false on cpu"));
  // Virtual tokens cannot be packed: a clear error at load time.
  EXPECT_THAT(load_error(base_yaml() + "sample_packing: true\nadapter: prefix_tuning\n"),
              HasSubstr("prefix_tuning cannot train on packed rows"));

  axl::config::LoadOptions o;
  o.resolve_models = false;
  o.device = "cuda";
  auto gpu = axl::config::load_config_text(base_yaml() + "bf16: auto\nfp16: true\ntf32: true\n", "cfg.yml", o);
  EXPECT_TRUE(gpu.config.bf16);
  EXPECT_FALSE(gpu.config.fp16);  // bf16 wins
  EXPECT_TRUE(gpu.config.tf32);
  EXPECT_EQ(load_text(base_yaml() + "attn_implementation: eager\n").config.attention_path, "eager");
  EXPECT_EQ(load_text(base_yaml() + "attn_implementation: kernels-community/flash-attn3\n").config.attention_path, "sdpa");
}

TEST(ConfigLoad, LoraSettings) {
  auto c = load_text(base_yaml() + "adapter: lora\nlora_r: 16\nlora_alpha: 32\nlora_dropout: 0.05\n"
                                   "lora_target_modules: [q_proj, v_proj]\nlora_modules_to_save: embed_tokens\n")
               .config;
  EXPECT_EQ(c.adapter, "lora");
  EXPECT_EQ(c.lora_r, 16);
  EXPECT_DOUBLE_EQ(c.lora_alpha, 32);
  EXPECT_DOUBLE_EQ(c.lora_dropout, 0.05);
  EXPECT_EQ(c.lora_target_modules, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(c.lora_modules_to_save, (std::vector<std::string>{"embed_tokens"}));
  EXPECT_THAT(load_error(base_yaml() + "adapter: lora\nlora_alpha: 8\nlora_target_linear: true\n"),
              HasSubstr("LoRA needs lora_r"));
  EXPECT_THAT(load_error(base_yaml() + "adapter: lora\nlora_r: 8\nlora_alpha: 8\n"), HasSubstr("LoRA needs target modules"));
  EXPECT_THAT(load_error(base_yaml() + "adapter: lorra\n"), HasSubstr("'lorra' is not an adapter"));
}

TEST(ConfigLoad, PeftMethodsAndThePeftBlock) {
  auto c = load_text(base_yaml() + "adapter: loha\nlora_target_linear: true\npeft:\n  rank_dropout: 0.05\n"
                                   "  use_effective_conv2d: false\n  target_modules: [q_proj, 'v_proj']\n"
                                   "  layers_pattern: '1'\n  alpha_pattern: {q_proj: 4}\n")
               .config;
  EXPECT_EQ(c.adapter, "loha");  // no lora_r / lora_alpha needed outside the LoRA family
  ASSERT_TRUE(c.peft.is_object());
  EXPECT_DOUBLE_EQ(c.peft["rank_dropout"].get<double>(), 0.05);
  EXPECT_EQ(c.peft["use_effective_conv2d"], false);
  EXPECT_EQ(c.peft["target_modules"], nlohmann::json({"q_proj", "v_proj"}));
  EXPECT_EQ(c.peft["layers_pattern"], "1");  // quoted: stays a string
  EXPECT_EQ(c.peft["alpha_pattern"]["q_proj"], 4);
  // The resolved config (saved beside a run) carries the block and reads back the same.
  const std::string again = axl::config::resolved_config_yaml(c);
  EXPECT_EQ(axl::config::yaml_to_json(YAML::Load(again)["peft"]), c.peft) << again;
  for (const char* m : {"dora", "ia3", "lokr", "oft", "boft", "vera", "adalora", "prefix_tuning", "prompt_tuning"})
    EXPECT_EQ(load_text(base_yaml() + "adapter: " + m + "\nlora_r: 8\nlora_alpha: 8\nlora_target_linear: true\n")
                  .config.adapter,
              m);
  EXPECT_THAT(load_error(base_yaml() + "adapter: ia3\npeft: 3\n"), HasSubstr("must be a map of PEFT config fields"));
}

// The config.yml saved beside a run reads back as the same run: QLoRA's quantization, the
// LoRA kernel keys as written, offloaded checkpointing and the streamed pretraining data too.
TEST(ConfigLoad, ResolvedConfigReadsBackAsTheSameRun) {
  const auto c = load_text(
                     "base_model: m\nlearning_rate: 1e-4\nmax_steps: 10\nadapter: qlora\nload_in_4bit: true\n"
                     "lora_r: 8\nlora_alpha: 16\nlora_target_linear: true\nlora_mlp_kernel: true\n"
                     "bnb_config_kwargs: {bnb_4bit_quant_type: fp4, bnb_4bit_use_double_quant: false}\n"
                     "gradient_checkpointing: offload\nsample_packing: true\neval_sample_packing: false\n"
                     "pretraining_dataset:\n  - path: corpus.jsonl\n    text_column: body\n    skip: 5\n"
                     "pretrain_multipack_attn: false\n")
                     .config;
  const std::string yaml = axl::config::resolved_config_yaml(c);
  const auto again = load_text(yaml).config;
  EXPECT_TRUE(again.load_in_4bit) << yaml;
  EXPECT_EQ(again.bnb_config_kwargs, c.bnb_config_kwargs);
  EXPECT_EQ(again.lora_mlp_kernel, std::optional<bool>(true));
  EXPECT_FALSE(again.lora_qkv_kernel.has_value());  // unset stays unset: Axolotl's rule reads that
  EXPECT_TRUE(again.gradient_checkpointing && again.gradient_checkpointing_offload);
  EXPECT_TRUE(again.sample_packing);
  EXPECT_FALSE(again.eval_sample_packing);
  ASSERT_EQ(again.pretraining_dataset.size(), 1u);
  EXPECT_EQ(again.pretraining_dataset[0].path, "corpus.jsonl");
  EXPECT_EQ(again.pretraining_dataset[0].type, "pretrain");
  EXPECT_EQ(again.pretraining_dataset[0].text_column, std::optional<std::string>("body"));
  EXPECT_EQ(again.pretraining_dataset[0].skip, std::optional<int64_t>(5));
  EXPECT_FALSE(again.pretrain_multipack_attn);
  // A fixed point from there on (the first pass turns "bf16: auto" into the value it chose).
  const std::string second = axl::config::resolved_config_yaml(again);
  EXPECT_EQ(axl::config::resolved_config_yaml(load_text(second).config), second);
}

TEST(ConfigLoad, GroupByLengthIsReadAndWarnsWhenPacked) {
  EXPECT_TRUE(load_text(base_yaml() + "group_by_length: true\n").config.group_by_length);
  const auto packed = load_text(base_yaml() + "group_by_length: true\nsample_packing: true\n");
  bool warned = false;
  for (const auto& w : packed.warnings) warned |= w.find("group_by_length has no effect") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(ConfigLoad, DatasetOptionsForTheDataModule) {
  auto c = load_text(
               "base_model: m\nlearning_rate: 1e-4\nchat_template: chatml\ntrain_on_inputs: true\n"
               "datasets:\n"
               "  - path: chats.jsonl\n"
               "    type: chat_template\n"
               "    field_messages: conversations\n"
               "    message_property_mappings: {role: from, content: value}\n"
               "    roles: {user: [human, user], assistant: gpt}\n"
               "    roles_to_train: [assistant]\n"
               "    train_on_eos: turn\n"
               "    data_files: [a.json, b.json]\n"
               "  - path: custom.json\n"
               "    type:\n"
               "      system_prompt: Be brief.\n"
               "      field_instruction: q\n"
               "      format: \"{instruction}\\n\"\n")
               .config;
  ASSERT_EQ(c.datasets.size(), 2u);
  const auto& d = c.datasets[0];
  EXPECT_EQ(d.chat_template, std::optional<std::string>("chatml"));  // from the top level
  EXPECT_EQ(d.field_messages, std::optional<std::string>("conversations"));
  EXPECT_EQ(d.message_property_mappings.at("role"), "from");
  EXPECT_EQ(d.message_property_mappings.at("content"), "value");
  EXPECT_EQ(d.roles.at("user"), (std::vector<std::string>{"human", "user"}));
  EXPECT_EQ(d.roles.at("assistant"), (std::vector<std::string>{"gpt"}));
  EXPECT_EQ(*d.roles_to_train, (std::vector<std::string>{"assistant"}));
  EXPECT_EQ(d.train_on_eos, std::optional<std::string>("turn"));
  EXPECT_EQ(d.data_files, (std::vector<std::string>{"a.json", "b.json"}));
  EXPECT_TRUE(d.train_on_inputs);
  const auto& u = c.datasets[1];
  ASSERT_TRUE(u.user_type.has_value());
  EXPECT_EQ(u.user_type->system_prompt, std::optional<std::string>("Be brief."));
  EXPECT_EQ(u.user_type->field_instruction, std::optional<std::string>("q"));
  EXPECT_EQ(u.user_type->format, std::optional<std::string>("{instruction}\n"));
  EXPECT_FALSE(u.chat_template.has_value());
  // chat_template datasets without any template use the tokenizer's.
  auto t = load_text("base_model: m\nlearning_rate: 1\ndatasets:\n  - path: x\n    type: chat_template\n").config;
  EXPECT_EQ(t.datasets[0].chat_template, std::optional<std::string>("tokenizer_default"));
  EXPECT_THAT(load_error("base_model: m\nlearning_rate: 1\ndatasets:\n  - path: x\n    type: sharegpt\n"),
              HasSubstr("use `type: chat_template`"));
  EXPECT_THAT(load_error("base_model: m\nlearning_rate: 1\ndatasets:\n  - type: alpaca\n"),
              HasSubstr("cfg.yml:4:5: datasets.0: `path` is required"));
}

TEST(ConfigLoad, RequiredKeys) {
  EXPECT_THAT(load_error("learning_rate: 1\ndatasets: [{path: x}]\n"), HasSubstr("base_model is required"));
  EXPECT_THAT(load_error("base_model: m\ndatasets: [{path: x}]\n"), HasSubstr("learning_rate is required"));
  EXPECT_THAT(load_error("base_model: m\nlearning_rate: 1\n"), HasSubstr("datasets is required"));
  EXPECT_THAT(load_error("- a\n- b\n"), HasSubstr("the config must be a mapping"));
}
