#pragma once
// `axolotl export gguf --adapter DIR`: a PEFT LoRA adapter folder -> llama.cpp's LoRA adapter
// GGUF (what convert_lora_to_gguf.py writes and `llama-cli --lora` / Llama(lora_path=...)
// load): general.type "adapter", adapter.type "lora", adapter.lora.alpha, and for every
// adapted weight W the tensors "<gguf name of W>.lora_a" (A, [r, in]) and ".lora_b" (B,
// [out, r]), B's rows permuted like W's for q/k. llama.cpp scales every pair by alpha / r
// with r read off B; where PEFT's scaling differs (rsLoRA: alpha / sqrt(r)) the ratio is
// folded into B, so llama.cpp computes what PEFT computes. DoRA, biases, embedding or
// modules_to_save adapters have no llama.cpp representation and are rejected. The base model
// folder supplies the architecture and head counts. No libtorch.
#include <string>
#include <vector>

#include "axl/models/gguf_file.h"

namespace axl::models {

// outtype: F32, F16 or BF16 (a quantized adapter is an axl::Error). Returns notes.
std::vector<std::string> export_lora_to_gguf(const std::string& adapter_dir, const std::string& base_model_dir,
                                             const std::string& out_path, GgmlType outtype);

}  // namespace axl::models
