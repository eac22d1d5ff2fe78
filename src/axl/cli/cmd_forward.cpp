// `axolotl forward`: one forward pass from a safetensors file of inputs, for parity checks.
#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/cli/torch_loader.h"
#include "axl/core/error.h"

namespace axl::cli {

void add_forward_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ForwardOptions>();
  CLI::App* cmd = app.add_subcommand("forward", "Run a model on input_ids from a safetensors file; write logits, loss, hidden states");
  cmd->add_option("--model", opts->model, "Hugging Face model folder")->required();
  cmd->add_option("--input", opts->input, "safetensors file with int64 input_ids (and attention_mask, labels)")->required();
  cmd->add_option("--out", opts->out, "safetensors file to write")->required();
  cmd->add_flag("--hidden-states", opts->hidden_states, "also write hidden_states [L+1, B, T, H]");
  cmd->add_option("--mask-key", opts->mask_key, "name of the attention mask tensor")->capture_default_str();
  cmd->add_option("--labels-key", opts->labels_key, "name of the labels tensor (default: labels = input_ids)")->capture_default_str();
  cmd->add_option("--attention", opts->attention, "auto, eager or sdpa")->capture_default_str();
  add_adapter_options(*cmd, opts->adapters, "PEFT adapter folder (adapter_config.json + adapter_model.safetensors) to attach");
  cmd->add_option("--grads", opts->grads, "with one --adapter: backpropagate the loss and write every trainable adapter tensor's gradient here, under PEFT's saved names");
  add_common_torch_options(*cmd, opts->common);
  cmd->callback([opts, &exit_code] {
    check_adapter_choice(opts->adapters, "forward");
    if (!opts->grads.empty() && opts->adapters.dirs.size() != 1)
      throw Error("forward: --grads needs exactly one --adapter (the base weights are frozen, and several adapters' "
                  "tensors share PEFT's saved names)");
    exit_code = run_in_torch("axl_forward_main", *opts);
  });
}

}  // namespace axl::cli
