#pragma once
// `axolotl convert gguf`: a Llama-family GGUF (any mix of the types gguf_dequant.h decodes)
// -> a Hugging Face Llama folder: config.json, generation_config.json and a float32
// model.safetensors. llama.cpp's converter interleaves the rotary halves of every q/k head
// (HF row s*hd/2 + j becomes GGUF row 2j + s); that is undone here so the folder loads in
// transformers and in our loader with no flag. The GGUF's embedded tokenizer is written too
// (tokenizer.json, tokenizer_config.json, special_tokens_map.json: gguf_tokenizer_convert.h),
// so the folder is a complete Hugging Face model folder; a GGUF without one gets none.
//
// Memory: every tensor is held as float32 until the one safetensors file is written, i.e.
// 4 bytes per parameter.
#include <string>
#include <vector>

namespace axl::models {

// Returns one-line notes for the user (e.g. "the GGUF has no tokenizer").
std::vector<std::string> convert_gguf(const std::string& input, const std::string& out_dir);

}  // namespace axl::models
