#pragma once
// A validated Axolotl config: what `config::load_config` returns and every later stage reads
// (data, models, peft, train). Defaults are Axolotl's (and transformers' where Axolotl passes
// None through). No yaml-cpp and no libtorch in this header.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace axl::config {

// A dataset `type:` given as a dict: Axolotl's user-defined prompt format.
struct UserDefinedType {
  std::optional<std::string> system_prompt, system_format;
  std::optional<std::string> field_system, field_instruction, field_input, field_output;
  std::optional<std::string> format, no_input_format;
};

// One entry of `datasets:` or `test_datasets:`. Optional fields are unset when the YAML does
// not set them, so the data module applies its own (Axolotl's) defaults per dataset type.
struct DatasetConfig {
  std::string where;  // "file:line:col" of the entry, for the data module's own errors
  std::string path;
  std::string type;  // "alpaca", "alpaca:chatml", "chat_template", ... ("" = pre-tokenized)
  std::optional<UserDefinedType> user_type;  // set when `type:` is a dict
  std::vector<std::string> data_files;
  std::optional<std::string> split, name, ds_type, revision, conversation;
  std::optional<std::string> chat_template, chat_template_jinja;  // filled from the top level
  std::optional<std::string> field, field_human, field_model, field_messages, field_tools;
  std::optional<std::string> field_thinking, template_thinking_key;
  std::optional<std::string> message_field_training, message_field_training_detail;
  std::optional<std::string> text_column, input_format;
  std::map<std::string, std::string> message_property_mappings;  // target -> source property
  std::map<std::string, std::vector<std::string>> roles;          // target role -> source roles
  std::optional<std::vector<std::string>> roles_to_train;
  std::optional<std::string> train_on_eos, train_on_eot;  // all, turn, last, none
  std::optional<bool> drop_system_message, split_thinking;
  std::optional<int64_t> skip;  // pretraining_dataset: documents skipped at the stream's start
  // Axolotl has no per-dataset train_on_inputs: every prompt strategy gets the top-level one.
  bool train_on_inputs = false;
};

struct SpecialTokens {
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;
  std::vector<std::string> additional_special_tokens;
};

// A model folder named by the config, as found on disk.
struct ModelSource {
  std::string spec;  // what the config says (a path or a hub id)
  std::string dir;   // the folder holding config.json
  std::string how;   // "local directory" or "Hugging Face cache, revision X"
};

struct Config {
  std::string source_file;

  // --- model ---
  std::string base_model, base_model_config, tokenizer_config;
  std::optional<std::string> model_type, tokenizer_type, model_revision;
  ModelSource model, model_config_dir, tokenizer_dir;  // resolved folders
  bool trust_remote_code = false;                      // accepted, unused

  // --- adapter (empty adapter = full fine-tune) ---
  std::string adapter;
  std::optional<std::string> lora_model_dir;
  int64_t lora_r = 0;
  double lora_alpha = 0;
  double lora_dropout = 0.0;
  std::vector<std::string> lora_target_modules;  // names (PEFT suffix match)
  std::optional<std::string> lora_target_regex;   // `lora_target_modules` given as one string
  bool lora_target_linear = false;
  std::vector<std::string> lora_modules_to_save;
  bool peft_use_rslora = false, peft_use_dora = false;
  // Quantized base weights (src/axl/quant): adapter qlora + load_in_4bit, or lora + load_in_8bit.
  bool load_in_4bit = false, load_in_8bit = false;
  // BitsAndBytesConfig fields overriding Axolotl's QLoRA defaults (nf4, double quant, the
  // model's dtype for compute); a JSON object, empty when absent.
  nlohmann::json bnb_config_kwargs = nlohmann::json::object();
  // `peft:` block: PEFT config fields for the method (docs/adapters.md), overriding what the
  // lora_* keys give; a JSON object, empty when absent.
  nlohmann::json peft = nlohmann::json::object();

  // --- data ---
  std::vector<DatasetConfig> datasets, test_datasets;
  // Streaming (data/stream_source.h): pretraining_dataset entries (type pretrain by default), or
  // `streaming: true` datasets, read lazily and packed on the fly; both need max_steps.
  std::vector<DatasetConfig> pretraining_dataset;
  bool streaming = false;
  bool pretrain_multipack_attn = true;                    // packed rows: attention stays per document
  std::optional<bool> pretraining_sample_concatenation;   // unpacked pretraining: concatenate documents
  double val_set_size = 0.0;  // < 1: fraction; >= 1: a count of samples
  std::optional<std::string> dataset_prepared_path;
  bool shuffle_merged_datasets = true;
  int64_t seed = 42;
  int64_t sequence_len = 512;
  bool pad_to_sequence_len = false;
  bool sample_packing = false;       // train/batcher.h: packed rows of micro_batch_size x sequence_len
  bool eval_sample_packing = false;
  std::string excess_length_strategy = "drop";  // drop, truncate, raise
  int64_t min_sample_len = 2;
  bool train_on_inputs = false;
  bool group_by_length = false;  // unpacked batches of similar lengths (train/batcher.h)
  std::optional<std::string> chat_template, chat_template_jinja, default_system_message;
  std::map<std::string, std::string> chat_template_kwargs;  // scalar values as written
  std::vector<std::string> eot_tokens;
  SpecialTokens special_tokens;
  std::vector<std::string> tokens;

  std::string output_dir = "./model-out";

  // --- batch (derived: batch_size = micro_batch_size * gradient_accumulation_steps * world) ---
  int64_t micro_batch_size = 1, gradient_accumulation_steps = 1, batch_size = 1;
  int64_t eval_batch_size = 1, world_size = 1;

  // --- optimisation ---
  double num_epochs = 1.0;
  std::optional<int64_t> max_steps;
  std::string optimizer = "adamw_torch_fused";
  std::string lr_scheduler = "cosine";
  std::map<std::string, double> lr_scheduler_kwargs;
  std::optional<double> cosine_min_lr_ratio;
  double learning_rate = 0.0;
  std::optional<int64_t> warmup_steps;
  std::optional<double> warmup_ratio;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8, max_grad_norm = 1.0;

  // --- precision ---
  std::string bf16_setting = "auto", tf32_setting = "auto";  // as written: auto, true, false
  bool bf16 = false, fp16 = false, tf32 = false;               // resolved for the device
  bool gradient_checkpointing = false;
  // `gradient_checkpointing: offload`: checkpointed layer inputs wait in pinned host memory
  // (CUDA; plain checkpointing on the CPU). gradient_checkpointing is true with it.
  bool gradient_checkpointing_offload = false;
  // lora_mlp_kernel / lora_qkv_kernel / lora_o_kernel as written (unset: on for adapter
  // lora/qlora, as Axolotl auto-enables them); train/fused_ops_setting.h resolves them.
  std::optional<bool> lora_mlp_kernel, lora_qkv_kernel, lora_o_kernel;

  // --- logging, evaluation, checkpoints (steps < 1 are fractions of the total, as in HF) ---
  std::optional<int64_t> logging_steps;
  std::optional<double> eval_steps, save_steps;
  std::optional<int64_t> evals_per_epoch, saves_per_epoch, save_total_limit;
  std::optional<std::string> save_strategy, eval_strategy;
  std::optional<std::string> resume_from_checkpoint;
  bool auto_resume_from_checkpoints = false;
  std::optional<int64_t> early_stopping_patience;
  std::optional<double> loss_watchdog_threshold;
  std::optional<int64_t> loss_watchdog_patience;

  // --- attention ---
  std::string attn_requested;  // attn_implementation, or the legacy flag's equivalent
  std::string attention_path;  // ours: "sdpa" (SDPA where it applies, else eager) or "eager"

  bool strict = false;
};

}  // namespace axl::config
