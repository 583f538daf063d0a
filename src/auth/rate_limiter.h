// A per-key failure counter for sign-in and token requests: after `max_failures` failures within
// `window_seconds`, the key is refused for the rest of the window (429 with Retry-After). Keys are
// client addresses (and client ids for the token endpoint). In memory and per node: the lockout
// of user accounts, which must hold across nodes, is kept in the AuthStore.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace carechart::auth {

class RateLimiter {
 public:
  RateLimiter(int max_failures, int64_t window_seconds)
      : max_failures_(max_failures), window_seconds_(window_seconds) {}

  // Seconds the key must still wait, or 0 when it may try.
  int64_t RetryAfter(const std::string& key, int64_t now);
  void RecordFailure(const std::string& key, int64_t now);
  void RecordSuccess(const std::string& key);

 private:
  struct Entry {
    int failures = 0;
    int64_t window_start = 0;
  };
  const int max_failures_;
  const int64_t window_seconds_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace carechart::auth
