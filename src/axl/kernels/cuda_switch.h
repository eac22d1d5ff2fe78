#pragma once
// Which of our CUDA kernels run. Each stays off until it has passed its GPU test on a GPU
// (DESIGN.md): AXL_CUDA_KERNELS=rms_norm,rope,... (or "all") turns kernels on; the glue
// (kernels/*_cuda.cpp) then uses a kernel only for CUDA tensors of a dtype and layout it
// handles and falls back to the ATen reference otherwise. No CUDA headers here.
#include <string>
#include <vector>

namespace axl::kernels::cuda {

enum class Kernel { RmsNorm, Rope, SwiGlu, CrossEntropy, Nf4Dequant, FlashVarlen };

// The names AXL_CUDA_KERNELS takes, in Kernel order.
const std::vector<std::string>& kernel_names();

// Whether nvcc built the kernels into this library (defined in cuda_launch.cpp).
bool kernels_compiled();

// kernels_compiled() and `k` switched on (AXL_CUDA_KERNELS, read once, or set_enabled_kernels).
// flash_varlen is ATen's own kernel, so it needs no nvcc, only the switch.
bool enabled(Kernel k);

// Replaces the switch: a comma-separated list of kernel_names() or "all"; "" turns all off.
// Throws axl::Error naming an unknown kernel. (Tests and the benches use it.)
void set_enabled_kernels(const std::string& list);

}  // namespace axl::kernels::cuda
