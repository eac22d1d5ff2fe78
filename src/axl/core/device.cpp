#include "axl/core/device.h"

#include <ATen/Context.h>

#include "axl/core/error.h"

namespace axl {

at::Device parse_device(const std::string& s) {
  if (s == "cpu") return at::Device(at::kCPU);
  if (s == "meta") return at::Device(at::kMeta);
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    if (!at::hasCUDA())
      throw Error("--device " + s + ": this machine has no usable CUDA device; use --device cpu");
    int index = 0;
    if (s.size() > 5) {
      try {
        index = std::stoi(s.substr(5));
      } catch (...) {
        throw Error("--device " + s + ": expected cuda:N with N a GPU index");
      }
    }
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw Error("--device " + s + ": unknown device (use cpu, cuda or cuda:N)");
}

at::ScalarType parse_dtype(const std::string& s) {
  if (s == "float32" || s == "fp32" || s == "float") return at::kFloat;
  if (s == "bfloat16" || s == "bf16") return at::kBFloat16;
  if (s == "float16" || s == "fp16" || s == "half") return at::kHalf;
  throw Error("--dtype " + s + ": unknown dtype (use float32, bfloat16 or float16)");
}

}  // namespace axl
