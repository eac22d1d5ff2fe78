#include "axl/cli/torch_runtime.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <iostream>
#include <string>

#include "axl/core/error.h"

namespace axl::cli {

void apply_common_options(const CommonTorchOptions& opts) {
  if (opts.threads < 0) throw Error("--threads must be >= 0");
  if (opts.threads > 0) {
    at::set_num_threads(opts.threads);
    at::set_num_interop_threads(opts.threads);
  }
}

int guarded(const std::function<void()>& body) {
  try {
    body();
    return 0;
  } catch (const axl::Error& e) {
    std::cerr << "axolotl: error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    // A libtorch check failing on user-supplied tensors: report its first line only.
    std::string msg = e.what_without_backtrace();
    msg = msg.substr(0, msg.find('\n'));
    std::cerr << "axolotl: error: " << msg << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "axolotl: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace axl::cli
