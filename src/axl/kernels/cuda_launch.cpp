#include "axl/kernels/cuda_launch.h"

#include <stdexcept>
#include <string>

#include "axl/kernels/cuda/launchers.h"
#include "axl/kernels/cuda_switch.h"

#ifdef AXL_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#ifndef AXL_WITH_CUDA_KERNELS
// No nvcc in this build: the launchers exist but refuse (kernels_compiled() is false, so the
// glue never calls them).
extern "C" {
int axl_cuda_rms_norm_forward(int, const void*, const void*, void*, float*, int64_t, int64_t, float, int, void*) {
  return -1;
}
int axl_cuda_rms_norm_backward(int, const void*, const void*, const void*, const float*, void*, float*, int64_t,
                               int64_t, int, void*) {
  return -1;
}
int64_t axl_cuda_rms_norm_backward_grid(int64_t rows) { return rows; }
int axl_cuda_rope(int, const void*, const int64_t*, const void*, const void*, void*, const int64_t*, int64_t,
                  int64_t, int64_t, int64_t, int, void*) {
  return -1;
}
int axl_cuda_swiglu_forward(int, const void*, const void*, void*, int64_t, void*) { return -1; }
int axl_cuda_swiglu_backward(int, const void*, const void*, const void*, void*, void*, int64_t, void*) { return -1; }
int axl_cuda_cross_entropy_forward(int, const void*, int64_t, const int64_t*, float*, float*, int64_t, int64_t,
                                   int64_t, void*) {
  return -1;
}
int axl_cuda_cross_entropy_backward(int, const void*, int64_t, const int64_t*, const float*, const float*, void*,
                                    int64_t, int64_t, int64_t, void*) {
  return -1;
}
}
#endif

namespace axl::kernels::cuda {

bool kernels_compiled() {
#ifdef AXL_WITH_CUDA_KERNELS
  return true;
#else
  return false;
#endif
}

int launcher_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return kCudaF32;
    case at::kBFloat16: return kCudaBF16;
    case at::kHalf: return kCudaF16;
    default: return -1;
  }
}

void* current_stream(const at::Device& device) {
#ifdef AXL_WITH_CUDA_KERNELS
  return c10::cuda::getCurrentCUDAStream(device.index()).stream();
#else
  (void)device;
  return nullptr;
#endif
}

void check_launch(int rc, const char* what) {
  if (rc == 0) return;
#ifdef AXL_WITH_CUDA_KERNELS
  const std::string why = cudaGetErrorString(static_cast<cudaError_t>(rc));
#else
  const std::string why = "error " + std::to_string(rc);
#endif
  throw std::runtime_error(std::string("CUDA kernel ") + what + " failed to launch: " + why);
}

bool kernel_tensors_ok(std::initializer_list<const at::Tensor*> tensors) {
  const at::Tensor& first = **tensors.begin();
  if (!first.defined() || !first.is_cuda() || launcher_dtype(first.scalar_type()) < 0) return false;
  for (const at::Tensor* t : tensors)
    if (!t->defined() || t->device() != first.device() || t->scalar_type() != first.scalar_type() ||
        !t->is_contiguous())
      return false;
  return true;
}

}  // namespace axl::kernels::cuda
