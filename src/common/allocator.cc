#include "common/allocator.h"

#include <malloc.h>

#include <cstdlib>
#include <string_view>

namespace dataforge {

bool TuneAllocator() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr &&
      std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) {
    return false;
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  return true;
}

}  // namespace dataforge
