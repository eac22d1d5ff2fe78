#include "axl/kernels/cuda_switch.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <sstream>

#include "axl/core/error.h"

namespace axl::kernels::cuda {

namespace {

// What runs when AXL_CUDA_KERNELS is unset: add a kernel here only together with the GPU
// suite's passing output for it under bench/results/ (scripts/gpu-suite.sh test). None yet.
constexpr const char* kOnByDefault = "";

// Bit i: Kernel i is on. -1: AXL_CUDA_KERNELS not read yet.
std::atomic<int> g_enabled{-1};

int parse(const std::string& list, const std::string& where) {
  int bits = 0;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name.empty()) continue;
    if (name == "all") {
      bits = (1 << kernel_names().size()) - 1;
      continue;
    }
    auto it = std::find(kernel_names().begin(), kernel_names().end(), name);
    if (it == kernel_names().end()) {
      std::string known;
      for (const auto& n : kernel_names()) known += (known.empty() ? "" : ", ") + n;
      throw Error(where + ": unknown CUDA kernel '" + name + "' (known: " + known + ", or all)");
    }
    bits |= 1 << (it - kernel_names().begin());
  }
  return bits;
}

}  // namespace

const std::vector<std::string>& kernel_names() {
  static const std::vector<std::string> names = {"rms_norm",     "rope",        "swiglu",
                                                 "cross_entropy", "nf4_dequant", "flash_varlen"};
  return names;
}

bool enabled(Kernel k) {
  int bits = g_enabled.load();
  if (bits < 0) {
    const char* env = std::getenv("AXL_CUDA_KERNELS");
    bits = parse(env ? env : kOnByDefault, "AXL_CUDA_KERNELS");
    g_enabled.store(bits);
  }
  if (!(bits & (1 << static_cast<int>(k)))) return false;
  return k == Kernel::FlashVarlen || kernels_compiled();
}

void set_enabled_kernels(const std::string& list) { g_enabled.store(parse(list, "CUDA kernel list")); }

}  // namespace axl::kernels::cuda
