#pragma once
// RoPE parameters as config.json gives them (rope_theta + rope_scaling, or transformers 5's
// rope_parameters). Plain data, no libtorch.
#include <cstdint>
#include <string>

namespace axl::kernels {

struct RopeConfig {
  std::string type = "default";  // default, linear, dynamic, llama3
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  int64_t original_max_position_embeddings = 0;
  double partial_rotary_factor = 1.0;
};

}  // namespace axl::kernels
