// `axolotl export gguf`: a model (or a LoRA adapter) as a llama.cpp GGUF file.
//   --model DIR            the Hugging Face folder as it is
//   --config CONFIG        what an Axolotl user exports after training: the base model with the
//                          trained adapter (lora_model_dir, else output_dir) merged in, or, for a
//                          full fine-tune, the model in output_dir (the base model when none is
//                          there yet)
//   --adapter DIR          as llama.cpp means it: the LoRA adapter alone, in llama.cpp's adapter
//                          GGUF format, to load beside the base model (--lora); the base model
//                          (--model, or the config's base_model) supplies its architecture
// Export itself is file work with no libtorch; only the merge for --config loads torch.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/cli/torch_loader.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/models/hf_to_gguf.h"
#include "axl/models/lora_to_gguf.h"

namespace axl::cli {

namespace fs = std::filesystem;

namespace {

struct ExportArgs {
  std::string model, config, adapter, outtype = "f16", out;
  CommonTorchOptions common;  // for the merge --config may run
};

// Runs the export of `model_dir`, merging `adapter_dir` into it first when one is given
// (in float32, into a folder beside the output that is removed afterwards).
std::vector<std::string> export_model(const ExportArgs& a, const std::string& model_dir, const std::string& adapter_dir,
                                      models::GgmlType type, int& exit_code) {
  if (adapter_dir.empty()) return models::export_hf_to_gguf(model_dir, a.out, type);
  MergeOptions m;
  m.common = a.common;
  m.common.dtype = "float32";
  m.model = model_dir;
  m.adapters.dirs = {adapter_dir};
  check_adapter_choice(m.adapters, "export gguf");
  m.out = a.out + ".merged-" + std::to_string(::getpid());
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{m.out};
  exit_code = run_in_torch("axl_merge_main", m);
  if (exit_code != 0) return {};
  return models::export_hf_to_gguf(m.out, a.out, type);
}

}  // namespace

void add_export_command(CLI::App& app, int& exit_code) {
  CLI::App* exp = app.add_subcommand("export", "Export a model to another runtime's format");
  exp->require_subcommand(1);
  auto a = std::make_shared<ExportArgs>();
  CLI::App* cmd = exp->add_subcommand("gguf", "llama.cpp GGUF v3 (Llama family): a whole model, or a LoRA adapter");
  cmd->add_option("--model", a->model, "Hugging Face model folder (with --adapter: the adapter's base model)");
  cmd->add_option("--config", a->config, "Axolotl YAML config: its base model with the trained adapter merged in");
  cmd->add_option("--adapter", a->adapter, "write this PEFT LoRA adapter as a llama.cpp adapter GGUF (not merged)");
  cmd->add_option("--outtype", a->outtype, "f32, f16, bf16, q8_0 or q4_0 (adapters: f32, f16 or bf16)")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "the .gguf file to write")->required();
  cmd->add_option("--device", a->common.device, "where --config's merge runs: cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", a->common.threads, "CPU threads for --config's merge (0: libtorch's default)");
  cmd->footer("--config merges the adapter the config trains (lora_model_dir, else output_dir) into base_model\n"
              "before exporting; --adapter instead writes the adapter alone, for llama.cpp's --lora.");
  cmd->callback([a, &exit_code] {
    if (a->model.empty() == a->config.empty()) throw Error("export gguf: give exactly one of --model DIR or --config CONFIG");
    const models::GgmlType type = models::parse_gguf_outtype(a->outtype);
    const fs::path parent = fs::absolute(a->out).parent_path();
    if (!fs::is_directory(parent)) throw Error("export gguf: --out " + a->out + ": folder " + parent.string() + " does not exist");
    std::string model = a->model, merge;
    if (!a->config.empty()) {
      const config::LoadResult loaded = config::load_config(a->config);
      for (const auto& w : loaded.warnings) std::cerr << "axolotl: warning: " << w << "\n";
      const config::Config& cfg = loaded.config;
      model = cfg.model.dir;
      if (a->adapter.empty() && !cfg.adapter.empty()) {
        merge = cfg.lora_model_dir.value_or(cfg.output_dir);
        if (!fs::is_regular_file(fs::path(merge) / "adapter_config.json"))
          throw Error("export gguf: " + a->config + " trains an adapter (adapter: " + cfg.adapter + "), but " + merge +
                      " holds no trained adapter (no adapter_config.json); run axolotl train first, or export "
                      "the base model with --model");
      } else if (a->adapter.empty() && fs::is_regular_file(fs::path(cfg.output_dir) / "config.json")) {
        model = cfg.output_dir;  // a full fine-tune's result
      } else if (a->adapter.empty()) {
        std::cerr << "note: " << cfg.output_dir << " holds no trained model yet; exporting base_model " << model << "\n";
      }
    }
    exit_code = 0;
    const std::vector<std::string> notes = a->adapter.empty()
        ? export_model(*a, model, merge, type, exit_code)
        : models::export_lora_to_gguf(a->adapter, model, a->out, type);
    if (exit_code != 0) return;
    for (const auto& n : notes) std::cerr << "note: " << n << "\n";
    std::cerr << "wrote " << a->out << " (" << a->outtype << (a->adapter.empty() ? "" : ", LoRA adapter") << ")\n";
  });
}

}  // namespace axl::cli
