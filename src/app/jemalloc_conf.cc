// jemalloc's settings, read by jemalloc itself when the process starts (D57); MALLOC_CONF in the
// environment still overrides them. A background thread hands pages freed for a second back to
// the system, so the server's RSS follows the requests in flight (what glibc's malloc_trim after
// each large request did, D51) without costing the request threads anything.
extern "C" {
// NOLINTNEXTLINE(readability-identifier-naming): the name jemalloc looks up.
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
