#pragma once
// "[2, 3, 4]": how error messages print a tensor shape (any range of integers: a std::vector,
// at::IntArrayRef, ...). Header-only and torch-free so file readers can use it too.
#include <sstream>
#include <string>

namespace axl {

template <typename Ints>
std::string shape_string(const Ints& shape) {
  std::ostringstream os;
  os << "[";
  bool first = true;
  for (auto d : shape) {
    os << (first ? "" : ", ") << d;
    first = false;
  }
  os << "]";
  return os.str();
}

}  // namespace axl
