#pragma once
// One function per subcommand file registers it on the CLI11 app. Each returns nothing;
// the subcommand's callback sets the exit code through `exit_code`.
#include <CLI/CLI.hpp>

namespace axl::cli {

void add_forward_command(CLI::App& app, int& exit_code);
void add_merge_command(CLI::App& app, int& exit_code);
void add_quantize_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_convert_command(CLI::App& app, int& exit_code);
void add_validate_command(CLI::App& app, int& exit_code);
void add_tokenize_command(CLI::App& app, int& exit_code);
void add_preprocess_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_inference_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);

// --device/--dtype/--threads, shared by every tensor subcommand.
struct CommonTorchOptions;
void add_common_torch_options(CLI::App& cmd, CommonTorchOptions& opts);

// --max-new-tokens/--temperature/--top-k/--top-p/--repetition-penalty/--seed/--ignore-eos,
// shared by `generate` and `inference`.
struct GenerationFlags;
void add_generation_options(CLI::App& cmd, GenerationFlags& flags);

// --adapter DIR (repeatable), --adapter-weights W1,W2,..., --combination, --svd-rank, shared by
// forward, generate, inference and merge-lora. Returns the --adapter option.
struct AdapterChoice;
CLI::Option* add_adapter_options(CLI::App& cmd, AdapterChoice& choice, const std::string& adapter_help);
// After parsing: one weight per adapter, a known combination only with weights, every folder
// a PEFT adapter folder. `command` names the subcommand in errors.
void check_adapter_choice(const AdapterChoice& choice, const std::string& command);

}  // namespace axl::cli
