// `axolotl inference CONFIG [--adapter DIR ...] [--prompt TEXT]`: as Axolotl's inference
// command, generates from the config's base model with its trained adapter (or several:
// all active together, or combined with --adapter-weights). The config is loaded and
// validated as `train` does (exit 2 before libtorch loads); the prompt comes from --prompt or
// the whole of stdin, and is formatted the way the config's first dataset trains.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <iterator>

#include "axl/cli/command_config.h"
#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/cli/torch_loader.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"

namespace axl::cli {

namespace fs = std::filesystem;

namespace {

bool is_adapter_dir(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / "adapter_config.json"); }

// --adapter (one or several), else the config's lora_model_dir (--lora-model-dir overrides
// it), else a trained adapter in output_dir; none for the base model alone.
std::vector<std::string> resolve_adapters(const config::Config& cfg, const std::vector<std::string>& given,
                                          bool no_adapter) {
  if (no_adapter || !given.empty()) return given;
  if (cfg.lora_model_dir) {
    if (!fs::is_directory(*cfg.lora_model_dir)) throw Error("lora_model_dir " + *cfg.lora_model_dir + ": no such folder");
    if (!is_adapter_dir(*cfg.lora_model_dir))
      throw Error("lora_model_dir " + *cfg.lora_model_dir + ": no adapter_config.json (not a PEFT adapter folder)");
    return {*cfg.lora_model_dir};
  }
  if (!cfg.adapter.empty()) {
    if (is_adapter_dir(cfg.output_dir)) return {cfg.output_dir};
    std::cerr << "axolotl: warning: no trained adapter in output_dir " << cfg.output_dir
              << "; generating from the base model alone (give --adapter DIR, or --no-adapter to silence this)\n";
  }
  return {};
}

// Axolotl reads the whole of stdin as one prompt and drops surrounding newlines.
std::string strip_newlines(std::string s) {
  const char* nl = "\r\n";
  s.erase(0, s.find_first_not_of(nl) == std::string::npos ? s.size() : s.find_first_not_of(nl));
  s.erase(s.find_last_not_of(nl) + 1);
  return s;
}

}  // namespace

void add_inference_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config;
    bool prompt_given = false;
    InferenceOptions opts;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("inference", "Generate with a config's model and its trained adapter");
  cmd->add_option("config", args->config, "the YAML config")->required();
  auto* adapter = add_adapter_options(*cmd, args->opts.adapters,
                                      "PEFT adapter folder (default: lora_model_dir, else output_dir when it holds one)");
  auto* none = cmd->add_flag("--no-adapter", args->opts.no_adapter, "generate from the base model alone");
  adapter->excludes(none);
  cmd->add_option("--prompt", args->opts.prompt, "the prompt (default: the whole of stdin)");
  cmd->add_flag("--raw", args->opts.raw, "use the prompt as it is, without the dataset's prompt format");
  cmd->add_flag("--show-prompt", args->opts.show_prompt, "print the formatted prompt to stderr before generating");
  args->opts.gen.max_new_tokens = 128;  // before the option captures its default
  add_generation_options(*cmd, args->opts.gen);
  add_common_torch_options(*cmd, args->opts.common);
  cmd->footer("Any config key can follow as an override: --base-model DIR (e.g. a merged model),\n"
              "--lora-model-dir DIR, --chat-template chatml.");
  cmd->allow_extras();
  cmd->callback([cmd, args, &exit_code] {
    const config::LoadResult loaded = load_command_config(args->config, cmd->remaining(), args->opts.common.device);
    InferenceOptions& o = args->opts;
    o.config = &loaded.config;
    if (cmd->count("--prompt") == 0) {
      if (::isatty(STDIN_FILENO)) std::cerr << "Give a prompt, then end it with Ctrl-D:\n";
      o.prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    o.prompt = strip_newlines(o.prompt);
    if (o.prompt.empty()) throw Error("inference: empty prompt (give --prompt TEXT or the text on stdin)");
    check_adapter_choice(o.adapters, "inference");
    o.adapters.dirs = resolve_adapters(loaded.config, o.adapters.dirs, o.no_adapter);
    exit_code = run_in_torch("axl_inference_main", o);
  });
}

}  // namespace axl::cli
