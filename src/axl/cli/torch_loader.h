#pragma once
// Loads libaxl_torch.so (and with it libtorch) on first use, so subcommands that need no
// tensors never pay for it.
#include <string>

namespace axl::cli {

// Returns the address of `symbol` in libaxl_torch.so; throws axl::Error if it cannot load.
void* torch_symbol(const char* symbol);

template <typename Options>
int run_in_torch(const char* symbol, const Options& opts) {
  using Fn = int (*)(const Options*);
  return reinterpret_cast<Fn>(torch_symbol(symbol))(&opts);
}

}  // namespace axl::cli
