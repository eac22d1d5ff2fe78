#pragma once
// Bridges safetensors views and at::Tensor. Tensors made from a mapped file are read-only
// views (writing to them faults): callers that modify weights must copy first, which
// `.to(dtype/device)` or `.clone()` does.
#include <ATen/ATen.h>

#include <map>
#include <string>

#include "axl/core/dtype.h"
#include "axl/core/safetensors.h"

namespace axl {

at::ScalarType to_scalar_type(DType t);
DType from_scalar_type(at::ScalarType t);  // throws axl::Error for types safetensors lacks

// A CPU tensor over the mapped bytes (kept alive by the view's owner). Copies only when the
// bytes are not aligned for the element type.
at::Tensor tensor_from_view(const TensorView& v);

std::map<std::string, at::Tensor> load_safetensors(const std::string& path);
// Writes atomically; tensors may live on any device and are made contiguous on the CPU.
void save_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace axl
