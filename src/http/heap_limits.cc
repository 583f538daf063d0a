#include "http/heap_limits.h"

#include <malloc.h>

#include <algorithm>

namespace carechart::http {

void LimitHeapArenas(int arenas) {
#ifdef M_ARENA_MAX
  mallopt(M_ARENA_MAX, std::max(1, arenas));
#else
  (void)arenas;  // not glibc: the allocator manages its own arenas
#endif
}

void ReleaseFreeHeap() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace carechart::http
