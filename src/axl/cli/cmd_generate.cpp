// `axolotl generate`: greedy or sampled continuation of a prompt (ids, or text through the
// model's tokenizer, streamed back as text) with a KV cache.
#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/cli/torch_loader.h"
#include "axl/core/error.h"

namespace axl::cli {

void add_generate_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate tokens from a model");
  cmd->add_option("--model", opts->model, "Hugging Face model folder")->required();
  auto* ids = cmd->add_option("--prompt-ids", opts->prompt_ids, "prompt token ids, space separated (e.g. \"1\" for BOS)");
  auto* text = cmd->add_option("--prompt", opts->prompt_text,
                               "prompt text, encoded with the model's tokenizer; the output streams as text");
  ids->excludes(text);
  cmd->add_option("--tokenizer", opts->tokenizer, "tokenizer folder for --prompt (default: --model)");
  cmd->add_flag("--no-special", opts->no_special, "encode --prompt without BOS/special tokens");
  add_adapter_options(*cmd, opts->adapters, "PEFT adapter folder to attach to --model");
  add_generation_options(*cmd, opts->gen);
  cmd->add_flag("--output-ids", opts->output_ids, "print exactly one line to stdout: the generated ids");
  add_common_torch_options(*cmd, opts->common);
  cmd->callback([opts, &exit_code] {
    if (opts->prompt_ids.empty() && opts->prompt_text.empty()) throw Error("generate: give --prompt TEXT or --prompt-ids IDS");
    check_adapter_choice(opts->adapters, "generate");
    exit_code = run_in_torch("axl_generate_main", *opts);
  });
}

}  // namespace axl::cli
