#pragma once
// --device / --dtype strings as the CLI and configs spell them.
#include <ATen/ATen.h>

#include <string>

namespace axl {

at::Device parse_device(const std::string& s);     // cpu, cuda, cuda:N, meta
at::ScalarType parse_dtype(const std::string& s);  // float32, bfloat16, float16 (+ aliases)

}  // namespace axl
