#pragma once
// Shared by the CUDA kernels' ATen glue (kernels/*_cuda.cpp): the launchers' dtype code,
// torch's current stream, and turning a failed launch into an exception.
#include <ATen/ATen.h>

namespace axl::kernels::cuda {

// kCudaF32/kCudaBF16/kCudaF16 of kernels/cuda/launchers.h, or -1 for other dtypes.
int launcher_dtype(at::ScalarType t);

// The cudaStream_t torch is using on `device` (so kernels order with ATen's work).
void* current_stream(const at::Device& device);

// Throws std::runtime_error naming `what` when a launcher returned a CUDA error.
void check_launch(int rc, const char* what);

// Whether the glue may hand these tensors to a kernel: all on one CUDA device, one float
// dtype the launchers take, contiguous.
bool kernel_tensors_ok(std::initializer_list<const at::Tensor*> tensors);

}  // namespace axl::kernels::cuda
