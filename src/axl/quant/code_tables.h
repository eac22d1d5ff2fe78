#pragma once
// The code tables of bitsandbytes' quantisation formats: NF4 and FP4 (16 values each, index =
// the 4-bit code) and the signed 8-bit "dynamic" map that double quantisation uses for the
// block scales. Values are bitsandbytes 0.50's, bit for bit (tests compare them).
#include <ATen/ATen.h>

#include <string>

namespace axl::quant {

enum class Quant4Type { NF4, FP4 };

std::string quant4_type_name(Quant4Type t);         // "nf4" / "fp4"
Quant4Type parse_quant4_type(const std::string& s);  // throws axl::Error for anything else

// The 16 float32 values a 4-bit code decodes to, normalised to [-1, 1].
at::Tensor code_table_4bit(Quant4Type t);
// bitsandbytes' create_dynamic_map(signed=True): 256 sorted float32 values in [-0.993, 1].
at::Tensor dynamic_map_8bit();

}  // namespace axl::quant
