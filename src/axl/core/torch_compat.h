#pragma once
// Every libtorch version difference we work around lives here. Built and tested against
// torch 2.11.0 (PyPI wheel, CPU here and CUDA on the lent GPU machines).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace axl::compat {

inline at::Generator make_cpu_generator(uint64_t seed) {
  return at::detail::createCPUGenerator(seed);
}

}  // namespace axl::compat
