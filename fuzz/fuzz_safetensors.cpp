// Any byte string must either parse or throw axl::Error: no crash, no sanitizer report.
#include <cstddef>
#include <cstdint>

#include "axl/core/error.h"
#include "axl/core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto h = axl::parse_safetensors(data, size, "fuzz");
    // Touch every tensor's byte range so an offset bug shows up under ASan.
    volatile unsigned sum = 0;
    for (const auto& t : h.tensors)
      for (std::size_t i = t.begin; i < t.end; i += 97) sum = sum + data[h.data_start + i];
  } catch (const axl::Error&) {
  }
  return 0;
}
