#include "http/heap_limits.h"

#include <malloc.h>

#include <algorithm>

// Defined when the binary links jemalloc (src/app/CMakeLists.txt, D57), which then manages its own
// arenas and returns free pages from a background thread: glibc's settings would not apply.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace carechart::http {

namespace {
bool UsingJemalloc() { return mallctl != nullptr; }
}  // namespace

void LimitHeapArenas(int arenas) {
#ifdef M_ARENA_MAX
  if (!UsingJemalloc()) {
    mallopt(M_ARENA_MAX, std::max(1, arenas));
  }
#else
  (void)arenas;  // not glibc: the allocator manages its own arenas
#endif
}

void ReleaseFreeHeap() {
#ifdef __GLIBC__
  if (!UsingJemalloc()) {
    malloc_trim(0);
  }
#endif
}

}  // namespace carechart::http
