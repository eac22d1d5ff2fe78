// axolotl: the command-line front end. Links no libtorch: parsing, --help, --version and the
// file-only subcommands start instantly; tensor subcommands dlopen libaxl_torch.so.
#include <CLI/CLI.hpp>
#include <iostream>

#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/core/error.h"

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

}  // namespace axl::cli

int main(int argc, char** argv) {
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
