// axolotl: the command-line front end. Links no libtorch: parsing, --help, --version and the
// file-only subcommands start instantly; tensor subcommands dlopen libaxl_torch.so.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "axl/core/malloc_tuning.h"
#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"

namespace axl::cli {

void add_common_torch_options(CLI::App& cmd, CommonTorchOptions& opts) {
  cmd.add_option("--device", opts.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd.add_option("--dtype", opts.dtype, "float32, bfloat16 or float16")->capture_default_str();
  cmd.add_option("--threads", opts.threads, "CPU threads for libtorch (0: its default)");
}

void add_generation_options(CLI::App& cmd, GenerationFlags& g) {
  cmd.add_option("--max-new-tokens", g.max_new_tokens, "tokens to generate at most")->capture_default_str();
  cmd.add_option("--temperature", g.temperature, "0 means greedy")->capture_default_str();
  cmd.add_option("--top-k", g.top_k, "keep the k most likely tokens (0: off)")->capture_default_str();
  cmd.add_option("--top-p", g.top_p, "nucleus sampling threshold (1: off)")->capture_default_str();
  cmd.add_option("--repetition-penalty", g.repetition_penalty, "as transformers (1: off)")->capture_default_str();
  cmd.add_option("--seed", g.seed, "sampling seed")->capture_default_str();
  cmd.add_flag("--ignore-eos", g.ignore_eos, "do not stop at end-of-sequence ids");
}

CLI::Option* add_adapter_options(CLI::App& cmd, AdapterChoice& c, const std::string& adapter_help) {
  CLI::Option* adapter = cmd.add_option("--adapter", c.dirs, adapter_help + "; repeat for several adapters (all "
                                        "active together, or combined with --adapter-weights)");
  cmd.add_option("--adapter-weights", c.weights,
                 "one weight per --adapter, e.g. 0.7,0.3: combine LoRA adapters into one (PEFT's add_weighted_adapter)")
      ->delimiter(',');
  cmd.add_option("--combination", c.combination,
                 "with --adapter-weights: linear, cat or svd (default: linear when the ranks are equal, else cat)");
  cmd.add_option("--svd-rank", c.svd_rank, "with --combination svd: the combined rank (default: the largest input rank)");
  return adapter;
}

void check_adapter_choice(const AdapterChoice& c, const std::string& command) {
  if (!c.weights.empty() && c.weights.size() != c.dirs.size())
    throw Error(command + ": " + std::to_string(c.weights.size()) + " --adapter-weights for " +
                std::to_string(c.dirs.size()) + " --adapter folders; give one weight per adapter");
  if (c.weights.empty() && !c.combination.empty())
    throw Error(command + ": --combination needs --adapter-weights (without weights the adapters are all active together)");
  if (!c.combination.empty() && c.combination != "linear" && c.combination != "cat" && c.combination != "svd")
    throw Error(command + ": --combination '" + c.combination + "': use linear, cat or svd");
  if (c.svd_rank < 0 || (c.svd_rank > 0 && c.combination != "svd"))
    throw Error(command + ": --svd-rank needs --combination svd and a positive rank");
  for (const auto& dir : c.dirs) {
    if (!std::filesystem::is_directory(dir)) throw Error(command + ": --adapter " + dir + ": no such folder");
    if (!std::filesystem::is_regular_file(std::filesystem::path(dir) / "adapter_config.json"))
      throw Error(command + ": --adapter " + dir + ": no adapter_config.json (not a PEFT adapter folder)");
    if (c.weights.empty()) continue;
    // Weights make one LoRA adapter out of several (PEFT's add_weighted_adapter, LoRA only).
    const nlohmann::json j = read_json_file((std::filesystem::path(dir) / "adapter_config.json").string());
    const std::string type = j.is_object() && j.contains("peft_type") && j["peft_type"].is_string()
                                 ? j["peft_type"].get<std::string>() : std::string("of no peft_type");
    const bool dora = j.is_object() && j.contains("use_dora") && j["use_dora"] == true;
    if (type != "LORA" || dora)
      throw Error(command + ": --adapter-weights combines LoRA adapters only (PEFT's add_weighted_adapter), but " + dir +
                  " is " + (dora ? std::string("a DoRA") : type) + " adapter; drop the weights to use them all at once");
  }
}

}  // namespace axl::cli

int main(int argc, char** argv) {
  axl::core::keep_freed_memory_for_reuse();  // before the first large allocation
  CLI::App app{"axolotl-cpp: fine-tune large language models from Axolotl configs"};
  app.name("axolotl");
  app.set_version_flag("--version", std::string("axolotl-cpp ") + AXL_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  axl::cli::add_forward_command(app, exit_code);
  axl::cli::add_merge_command(app, exit_code);
  axl::cli::add_generate_command(app, exit_code);
  axl::cli::add_convert_command(app, exit_code);
  axl::cli::add_validate_command(app, exit_code);
  axl::cli::add_tokenize_command(app, exit_code);
  axl::cli::add_preprocess_command(app, exit_code);
  axl::cli::add_train_command(app, exit_code);
  axl::cli::add_inference_command(app, exit_code);
  axl::cli::add_quantize_command(app, exit_code);
  axl::cli::add_export_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "axolotl: error: " << e.what() << " (see axolotl --help)\n";
    return 2;
  } catch (const axl::Error& e) {
    std::cerr << "axolotl: error: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
