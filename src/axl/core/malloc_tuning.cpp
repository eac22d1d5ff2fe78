#include "axl/core/malloc_tuning.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace axl::core {

bool keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  for (const char* var : {"MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                          "GLIBC_TUNABLES"})
    if (std::getenv(var) != nullptr) return false;
  const char* mode = std::getenv("AXL_MALLOC");
  if (mode != nullptr && std::strcmp(mode, "default") == 0) return false;
  // No mmap()ed blocks: large blocks come from the heap too and are reused after free.
  // (A thread arena that cannot grow falls back to the main heap.)
  const bool no_mmap = mallopt(M_MMAP_MAX, 0) == 1;
  // Never shrink the heap (-1: no trimming, mallopt(3)): its top would be faulted in again by
  // the next step. Grow it 64 MiB at a time.
  const bool no_trim = mallopt(M_TRIM_THRESHOLD, -1) == 1 && mallopt(M_TOP_PAD, 64 << 20) == 1;
  return no_mmap && no_trim;
#else
  return false;
#endif
}

}  // namespace axl::core
