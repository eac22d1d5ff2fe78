// Bytes per quantized parameter of a 4-bit (NF4 + double quantisation, blocksize 64) or 8-bit
// base (issue 7's memory goal: at most 0.52 bytes per quantized parameter in 4-bit): a random
// Llama with 100M+ parameters in its linear layers is built in float32, every linear slot but
// the head is quantized (as load_in_4bit does), the dense weights are freed, and we report the
// quantized tensors' bytes and the process's resident memory increase over having loaded
// nothing, less the bytes of what stays dense (embeddings, head, norms).
#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "axl/models/loader.h"
#include "axl/models/model_config.h"
#include "axl/quant/quantize_model.h"
#include "axl/quant/quantized_linear.h"

namespace {

// Hidden 1024, 8 layers, MLP 2816, full attention heads, vocab 32000, untied head:
// 8 x (4 x 1024^2 + 3 x 1024 x 2816) = 102.8M parameters in quantizable linear layers.
const char* kModelJson = R"({"model_type":"llama","vocab_size":32000,"hidden_size":1024,
  "intermediate_size":2816,"num_hidden_layers":8,"num_attention_heads":16,"num_key_value_heads":16,
  "max_position_embeddings":2048,"tie_word_embeddings":false,"rms_norm_eps":1e-6})";

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

}  // namespace

int main(int argc, char** argv) {
  const int bits = argc > 1 ? std::stoi(argv[1]) : 4;
  axl::models::LoadOptions lo;  // float32 on the CPU
  {
    // Start ATen's thread pools and allocator first: their memory is not the model's.
    axl::models::CausalLM warm = axl::models::random_causal_lm(
        axl::models::parse_model_config(R"({"model_type":"llama","vocab_size":64,"hidden_size":64,
          "intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4})", "warm-up"), lo, 0);
    axl::quant::QuantizeSpec spec;
    spec.bits = bits;
    axl::quant::quantize_linear_slots(warm, spec);
  }
  malloc_trim(0);
  const int64_t rss_before = resident_bytes();
  int64_t quantized_params = 0, quantized_bytes = 0, dense_bytes = 0;
  int slots = 0;
  {
    axl::models::CausalLM model = axl::models::random_causal_lm(axl::models::parse_model_config(kModelJson, "bench"), lo, 0);
    axl::quant::QuantizeSpec spec;
    spec.bits = bits;
    slots = axl::quant::quantize_linear_slots(model, spec);
    for (axl::models::LinearSlot* slot : model.slots()) {
      auto q = std::dynamic_pointer_cast<axl::quant::QuantizedBase>(slot->base);
      if (!q) continue;
      quantized_bytes += q->storage_bytes();
      quantized_params += q->out_features() * q->in_features();
    }
    // What stays dense: embeddings, the head, and 2 norms per layer plus the final one.
    const int64_t hidden = model.embed.size(1);
    dense_bytes = static_cast<int64_t>(model.embed.nbytes() + model.lm_head.base->dense_weight().nbytes()) +
                  (2 * static_cast<int64_t>(model.layers.size()) + 1) * hidden * 4;
    malloc_trim(0);
    const int64_t rss_after = resident_bytes();
    nlohmann::json out = {
        {"bench", "quant_memory"},
        {"format", bits == 4 ? "nf4+double_quant, blocksize 64" : "int8 row-wise"},
        {"quantized_slots", slots},
        {"quantized_params", quantized_params},
        {"quantized_tensor_bytes", quantized_bytes},
        {"tensor_bytes_per_param", static_cast<double>(quantized_bytes) / quantized_params},
        {"dense_bytes_left", dense_bytes},
        {"rss_increase_bytes", rss_after - rss_before},
        {"rss_bytes_per_quantized_param", static_cast<double>(rss_after - rss_before - dense_bytes) / quantized_params},
    };
    std::cout << out.dump() << std::endl;
  }
  return 0;
}
