#pragma once
// The one exception type for user-facing errors: bad configs, data files, checkpoints,
// requests. The CLI prints what() on one line and exits 2. Internal bugs stay as
// std::logic_error / assertions so they are never mistaken for user input problems.
#include <stdexcept>
#include <string>

namespace axl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace axl
