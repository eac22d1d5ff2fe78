// `axolotl merge-lora`: fold a LoRA adapter into its base model and write a plain Hugging Face
// model folder.
#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/cli/torch_loader.h"

namespace axl::cli {

void add_merge_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand("merge-lora", "Merge a LoRA adapter into its base model; write a Hugging Face model folder");
  cmd->add_option("--model", opts->model, "base Hugging Face model folder")->required();
  cmd->add_option("--adapter", opts->adapter, "PEFT adapter folder")->required();
  cmd->add_option("--out", opts->out, "folder to write (config.json, model.safetensors, tokenizer files)")->required();
  add_common_torch_options(*cmd, opts->common);
  cmd->callback([opts, &exit_code] { exit_code = run_in_torch("axl_merge_main", *opts); });
}

}  // namespace axl::cli
