#pragma once
// `axolotl export gguf --model DIR`: a Hugging Face Llama-family folder (safetensors, one file
// or shards; float32/16 or bfloat16) -> one GGUF v3 file that llama.cpp loads, laid out as
// llama.cpp's convert_hf_to_gguf.py lays it out: general.* and llama.* metadata, the tokenizer
// (gguf_vocab.h), llama.cpp tensor names with q/k rows permuted (gguf_llama_layout.h). Norms
// and other 1-D tensors stay F32; 2-D weights take the outtype, except that a Q8_0/Q4_0 weight
// whose rows are not a multiple of 32 values falls back to F16 (as convert_hf_to_gguf does).
// Tensors are converted one at a time while the file is written. No libtorch.
#include <string>
#include <vector>

#include "axl/models/gguf_file.h"

namespace axl::models {

// f32, f16, bf16, q8_0 or q4_0 -> the ggml type; anything else is an axl::Error.
GgmlType parse_gguf_outtype(const std::string& name);
// general.file_type for an outtype (LlamaFileType: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2,
// MOSTLY_Q8_0 7, MOSTLY_BF16 32).
uint32_t gguf_file_type(GgmlType outtype);

// Writes `out_path` atomically; returns one-line notes for the user (fallbacks taken).
std::vector<std::string> export_hf_to_gguf(const std::string& model_dir, const std::string& out_path, GgmlType outtype);

}  // namespace axl::models
