#pragma once
// Shared by the torch-side entry points: thread setup and the error guard that turns
// exceptions into one line on stderr and exit code 2 (user error) or 1 (internal error).
#include <functional>

#include "axl/cli/command_options.h"

namespace axl::cli {

void apply_common_options(const CommonTorchOptions& opts);
int guarded(const std::function<void()>& body);

}  // namespace axl::cli
