#pragma once
// Element types as the safetensors and checkpoint formats name them. Kept free of libtorch
// so file parsers build and fuzz without it; core/tensor_io.h maps them to at::ScalarType.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace axl {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::size_t dtype_size(DType t);
const char* dtype_name(DType t);  // safetensors spelling: "F32", "BF16", ...
std::optional<DType> dtype_from_name(const std::string& name);

}  // namespace axl
