// Bounds on the server's heap that do not depend on the data it holds (decision D51).
//
// glibc gives each thread that allocates under contention an arena of its own (up to 8 per core)
// and keeps what is freed in an arena for that arena's later use. A worker pool of 64 threads
// that parse large transaction Bundles therefore kept up to 16 arenas, each as large as the
// biggest request it ever served, and the server's RSS grew with the number and size of the
// Bundles posted, not with what it was doing at the moment.
//
// The carechart binary links jemalloc instead (D57), which bounds its arenas and returns freed
// pages from a background thread: both functions below then do nothing. They still apply to a
// binary on glibc's malloc (tests, tools).
#pragma once

#include <cstddef>

namespace carechart::http {

// Caps the allocator's arenas at `arenas` (at least 1). Call before the worker threads start:
// threads already attached to an arena keep it.
void LimitHeapArenas(int arenas);

// Hands memory the allocator holds free back to the system. Cheap next to a request that built a
// large parse tree; call after one (a few milliseconds for a heap of a few hundred MB).
void ReleaseFreeHeap();

// Requests whose body is at least this large release the free heap once they are answered.
inline constexpr size_t kReleaseHeapAfterBodyBytes = size_t{1} << 20;

}  // namespace carechart::http
