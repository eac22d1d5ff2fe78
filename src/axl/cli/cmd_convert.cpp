// `axolotl convert llama2c|gguf`: foreign checkpoints into a Hugging Face folder. File work
// only, so it runs without libtorch.
#include <iostream>

#include "axl/cli/commands.h"
#include "axl/models/gguf_convert.h"
#include "axl/models/gguf_tokenizer_convert.h"
#include "axl/models/llama2c_convert.h"

namespace axl::cli {

void add_convert_command(CLI::App& app, int& exit_code) {
  CLI::App* convert = app.add_subcommand("convert", "Convert a checkpoint to a Hugging Face model folder");
  convert->require_subcommand(1);

  auto l2c = std::make_shared<models::Llama2cConvertOptions>();
  CLI::App* cmd = convert->add_subcommand("llama2c", "llama2.c checkpoint (v0 or v1) + tokenizer.model");
  cmd->add_option("--checkpoint", l2c->checkpoint, "llama2.c .bin file")->required();
  cmd->add_option("--tokenizer", l2c->tokenizer, "sentencepiece tokenizer.model to copy alongside");
  cmd->add_option("--out", l2c->out_dir, "output folder")->required();
  cmd->callback([l2c, &exit_code] {
    models::convert_llama2c(*l2c);
    std::cerr << "wrote " << l2c->out_dir << "\n";
    exit_code = 0;
  });

  struct GgufArgs {
    std::string input, out_dir;
    bool tokenizer_only = false;
  };
  auto gguf = std::make_shared<GgufArgs>();
  CLI::App* gcmd = convert->add_subcommand(
      "gguf", "llama.cpp GGUF (Llama family) -> float32 safetensors + config.json + tokenizer files");
  gcmd->add_option("--input", gguf->input, "the .gguf file")->required();
  gcmd->add_option("--out", gguf->out_dir, "output folder")->required();
  gcmd->add_flag("--tokenizer-only", gguf->tokenizer_only,
                 "write only tokenizer.json, tokenizer_config.json and special_tokens_map.json");
  gcmd->callback([gguf, &exit_code] {
    const auto notes = gguf->tokenizer_only ? models::convert_gguf_tokenizer(gguf->input, gguf->out_dir)
                                            : models::convert_gguf(gguf->input, gguf->out_dir);
    for (const auto& note : notes) std::cerr << "note: " << note << "\n";
    std::cerr << "wrote " << gguf->out_dir << "\n";
    exit_code = 0;
  });
}

}  // namespace axl::cli
