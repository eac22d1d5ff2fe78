#pragma once
// PEFT's add_weighted_adapter for LoRA (peft/tuners/lora/model.py, 0.19.1): a new LoRA adapter
// made from several loaded ones with weights. The new config is the first adapter's with
// r = lora_alpha = the new rank, target_modules the union of theirs (regexes joined as
// "(a)|(b)"), rank_pattern and alpha_pattern emptied. Per module, with s_i each adapter's
// scaling and w_i its weight:
//   linear (equal ranks): A = sum sign(w_i s_i) sqrt|w_i s_i| A_i,  B = sum sqrt|w_i s_i| B_i
//   cat:                  A = [w_1 s_1 A_1; w_2 s_2 A_2; ...],      B = [B_1, B_2, ...]
//   svd:                  delta = sum w_i s_i (s_i B_i A_i)  (PEFT applies s_i twice here),
//                         truncated to the new rank: B = U_r diag(S_r), A = Vh_r (optionally
//                         clamped at a quantile of their values)
// The new adapter's own scaling is then lora_alpha / r = 1 (sqrt(r) with use_rslora).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/adapter_set.h"

namespace axl::peft {

struct WeightedAdapterOptions {
  std::string combination_type = "svd";  // linear, cat or svd (PEFT's default is svd)
  std::optional<int64_t> svd_rank;       // unset: the largest rank of the inputs
  std::optional<double> svd_clamp;       // quantile in (0, 1]; unset: no clamping
  bool svd_full_matrices = true;
  std::string svd_driver;                // "" (default), gesvd, gesvdj, gesvda (CUDA only)
};

// Attaches the combination of `adapters` (names in `set`, all LoRA) as a new, inactive adapter
// `new_name` and returns it. Throws axl::Error for unknown names, a weight count that differs
// from the adapter count, non-LoRA or DoRA adapters, unequal ranks with linear, target_modules
// mixing lists and regexes, or two adapters saving the same module (modules_to_save).
Adapter& add_weighted_adapter(AdapterSet& set, const std::vector<std::string>& adapters,
                              const std::vector<double>& weights, const std::string& new_name,
                              const WeightedAdapterOptions& options = {});

// The CLI's default combination for these adapters: linear when their ranks are equal, else cat.
std::string default_combination_type(AdapterSet& set, const std::vector<std::string>& adapters);

}  // namespace axl::peft
