#pragma once
// `axolotl convert gguf`: a Llama-family GGUF (any mix of the types gguf_dequant.h decodes)
// -> a Hugging Face Llama folder: config.json, generation_config.json and a float32
// model.safetensors. llama.cpp's converter interleaves the rotary halves of every q/k head
// (HF row s*hd/2 + j becomes GGUF row 2j + s); that is undone here so the folder loads in
// transformers and in our loader with no flag. The GGUF's tokenizer is not converted (yet),
// so no tokenizer files are written.
//
// Memory: every tensor is held as float32 until the one safetensors file is written, i.e.
// 4 bytes per parameter.
#include <string>

namespace axl::models {

void convert_gguf(const std::string& input, const std::string& out_dir);

}  // namespace axl::models
