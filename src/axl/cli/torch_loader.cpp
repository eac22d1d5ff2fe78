#include "axl/cli/torch_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "axl/core/error.h"

namespace axl::cli {

namespace fs = std::filesystem;

namespace {

void* open_library() {
  static void* handle = nullptr;
  if (handle) return handle;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("AXL_TORCH_LIB")) candidates.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back((exe.parent_path() / "libaxl_torch.so").string());
    candidates.push_back((exe.parent_path() / ".." / "lib" / "libaxl_torch.so").string());
  }
  // libtorch's OpenMP workers spin while idle by default; on small machines that spinning
  // steals the cores MKL's own threads need (decode at 2 threads ran 3x slower than at 1).
  // libgomp reads this once, when it loads, so it is set here, before dlopen; a user's own
  // setting wins.
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
  std::string errors;
  for (const auto& path : candidates) {
    if (!fs::exists(path)) continue;
    handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) return handle;
    errors += std::string(" ") + ::dlerror();
  }
  throw Error("cannot load libaxl_torch.so next to the axolotl binary" +
              (errors.empty() ? std::string(" (not found; set AXL_TORCH_LIB)") : ":" + errors));
}

}  // namespace

void* torch_symbol(const char* symbol) {
  void* lib = open_library();
  void* fn = ::dlsym(lib, symbol);
  if (!fn) throw Error(std::string("libaxl_torch.so has no entry point ") + symbol);
  return fn;
}

}  // namespace axl::cli
