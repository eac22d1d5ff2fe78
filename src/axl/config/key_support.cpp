#include "axl/config/key_support.h"

#include <map>
#include <set>

namespace axl::config {

namespace {

// Keys the loader reads into Config (the LoRA / full fine-tune set, plus the data
// options the data module reads).
const std::set<std::string>& implemented_top_level() {
  static const std::set<std::string> keys = {
      "base_model", "base_model_config", "tokenizer_config", "model_type", "tokenizer_type",
      "model_revision", "adapter", "lora_model_dir", "lora_r",
      "lora_alpha", "lora_dropout", "lora_target_modules", "lora_target_linear",
      "lora_modules_to_save", "peft_use_rslora", "peft_use_dora", "peft", "datasets", "test_datasets",
      "val_set_size", "dataset_prepared_path", "shuffle_merged_datasets", "seed", "sequence_len",
      "pad_to_sequence_len", "sample_packing", "eval_sample_packing", "excess_length_strategy",
      "min_sample_len", "output_dir", "micro_batch_size", "gradient_accumulation_steps",
      "batch_size", "eval_batch_size", "num_epochs", "max_steps", "optimizer", "lr_scheduler",
      "lr_scheduler_kwargs", "cosine_min_lr_ratio", "learning_rate", "warmup_steps",
      "warmup_ratio", "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon",
      "max_grad_norm", "bf16", "fp16", "tf32", "gradient_checkpointing", "logging_steps",
      "lora_mlp_kernel", "lora_qkv_kernel", "lora_o_kernel",
      "eval_steps", "evals_per_epoch", "save_steps", "saves_per_epoch", "save_total_limit",
      "save_strategy", "eval_strategy", "resume_from_checkpoint", "auto_resume_from_checkpoints",
      "early_stopping_patience", "loss_watchdog_threshold", "loss_watchdog_patience",
      "special_tokens", "tokens", "chat_template", "chat_template_jinja", "chat_template_kwargs",
      "eot_tokens", "default_system_message", "train_on_inputs", "flash_attention",
      "sdp_attention", "eager_attention", "flex_attention", "xformers_attention",
      "sage_attention", "attn_implementation", "strict", "load_in_4bit", "load_in_8bit", "bnb_config_kwargs",
      "pretraining_dataset", "streaming", "pretrain_multipack_attn", "pretraining_sample_concatenation",
      "group_by_length"};
  return keys;
}

// Keys that change nothing in what we compute (logging sinks, multi-process and loader
// tuning, speed switches whose effect our kernels already have): accepted, reported unused.
const std::map<std::string, std::string>& unused_top_level() {
  static const std::map<std::string, std::string> keys = {
      {"trust_remote_code", "we run no model code from the hub"},
      {"tokenizer_use_fast", "our tokenizer is the native tokenizer.json pipeline"},
      {"tokenizer_legacy", "the tokenizer's own settings are used"},
      {"tokenizer_save_jinja_files", "not needed"},
      {"use_wandb", "no Weights & Biases logging"},
      {"wandb_name", "no Weights & Biases logging"},
      {"wandb_run_id", "no Weights & Biases logging"},
      {"wandb_mode", "no Weights & Biases logging"},
      {"wandb_project", "no Weights & Biases logging"},
      {"wandb_entity", "no Weights & Biases logging"},
      {"wandb_watch", "no Weights & Biases logging"},
      {"wandb_log_model", "no Weights & Biases logging"},
      {"use_mlflow", "no MLflow logging"},
      {"mlflow_tracking_uri", "no MLflow logging"},
      {"mlflow_experiment_name", "no MLflow logging"},
      {"mlflow_run_name", "no MLflow logging"},
      {"hf_mlflow_log_artifacts", "no MLflow logging"},
      {"use_comet", "no Comet logging"},
      {"comet_project_name", "no Comet logging"},
      {"comet_workspace", "no Comet logging"},
      {"use_tensorboard", "no TensorBoard logging"},
      {"use_trackio", "no Trackio logging"},
      {"hub_model_id", "nothing is pushed to the hub"},
      {"hub_strategy", "nothing is pushed to the hub"},
      {"hf_use_auth_token", "we work offline"},
      {"ddp_timeout", "single process"},
      {"ddp_bucket_cap_mb", "single process"},
      {"ddp_broadcast_buffers", "single process"},
      {"ddp_find_unused_parameters", "single process"},
      {"dataloader_pin_memory", "our batching has its own buffers"},
      {"dataloader_num_workers", "our batching has its own threads"},
      {"dataloader_prefetch_factor", "our batching has its own threads"},
      {"dataset_processes", "tokenization threads are chosen by us"},
      {"dataset_num_proc", "tokenization threads are chosen by us"},
      {"gradient_checkpointing_kwargs", "use_reentrant changes nothing in our checkpointing"},
      {"include_tokens_per_second", "throughput is always logged"},
      {"include_tkps", "throughput is always logged"},
      {"torch_empty_cache_steps", "no Python allocator to empty"},
      {"gc_steps", "no Python garbage collector"},
      {"low_cpu_mem_usage", "weights are memory-mapped anyway"},
      {"chunked_cross_entropy", "our loss is always chunked"},
      {"torch_compile", "no torch.compile in C++"},
      {"remove_unused_columns", "the tokenized store keeps only what training reads"},
      {"save_safetensors", "checkpoints are always safetensors"},
      {"is_llama_derived_model", "the family comes from config.json"},
      {"is_mistral_derived_model", "the family comes from config.json"},
      {"is_qwen_derived_model", "the family comes from config.json"},
      {"is_falcon_derived_model", "the family comes from config.json"},
      {"streaming_multipack_buffer_size", "streams are packed in file order, without a shuffle buffer"},
      {"pretrain_multipack_buffer_size", "streams are packed in file order, without a shuffle buffer"},
  };
  return keys;
}

// Why some well-known keys stop the run; every other schema key gets a generic note.
const std::map<std::string, std::string>& unimplemented_notes() {
  static const std::map<std::string, std::string> keys = {
      {"rl", "preference training (DPO/IPO/ORPO/KTO/SimPO/GRPO) is not implemented yet"},
      {"deepspeed", "DeepSpeed is not supported"},
      {"fsdp", "FSDP is not implemented yet"},
      {"fsdp_config", "FSDP is not implemented yet"},
      {"gptq", "GPTQ models are not supported"},
      {"unfrozen_parameters", "partial freezing of a full fine-tune is not implemented yet"},
      {"relora", "ReLoRA is not implemented yet"},
      {"plugins", "Axolotl plugins are Python code"},
      {"eval_table_size", "generation tables during evaluation are not implemented yet"},
      {"do_causal_lm_eval", "generation metrics during evaluation are not implemented yet"},
      {"eval_causal_lm_metrics", "generation metrics during evaluation are not implemented yet"},
      {"resize_token_embeddings_to_32x", "embedding resizing is not implemented yet"},
      {"neftune_noise_alpha", "NEFTune is not implemented yet"},
  };
  return keys;
}

}  // namespace

KeyInfo top_level_key_support(const std::string& key) {
  if (implemented_top_level().count(key)) return {KeySupport::Implemented, ""};
  auto unused = unused_top_level().find(key);
  if (unused != unused_top_level().end()) return {KeySupport::Unused, unused->second};
  auto note = unimplemented_notes().find(key);
  return {KeySupport::Unimplemented,
          note != unimplemented_notes().end() ? note->second : "not implemented yet"};
}

KeyInfo dataset_key_support(const std::string& key) {
  static const std::set<std::string> implemented = {
      "path", "split", "type", "conversation", "chat_template", "chat_template_jinja",
      "data_files", "input_format", "name", "ds_type", "field", "field_human", "field_model",
      "field_messages", "field_tools", "field_thinking", "template_thinking_key",
      "message_field_role", "message_field_content", "message_property_mappings",
      "message_field_training", "message_field_training_detail", "split_thinking",
      "roles_to_train", "train_on_eos", "train_on_eot", "roles", "drop_system_message",
      "revision", "text_column"};
  if (implemented.count(key)) return {KeySupport::Implemented, ""};
  if (key == "trust_remote_code") return {KeySupport::Unused, "we run no dataset code from the hub"};
  if (key == "field_chosen" || key == "field_rejected")
    return {KeySupport::Unimplemented, "preference datasets are not implemented yet"};
  if (key == "shards" || key == "shards_idx" || key == "preprocess_shards" || key == "skip")
    return {KeySupport::Unimplemented, "dataset sharding is not implemented yet"};
  return {KeySupport::Unimplemented, "not implemented yet"};
}

}  // namespace axl::config
