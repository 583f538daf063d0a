#include "auth/rate_limiter.h"

namespace carechart::auth {

int64_t RateLimiter::RetryAfter(const std::string& key, int64_t now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.failures < max_failures_) {
    return 0;
  }
  int64_t until = it->second.window_start + window_seconds_;
  if (until <= now) {
    entries_.erase(it);
    return 0;
  }
  return until - now;
}

void RateLimiter::RecordFailure(const std::string& key, int64_t now) {
  std::lock_guard lock(mu_);
  if (entries_.size() > 100000) {
    // A flood of distinct addresses: drop expired entries so memory stays bounded.
    std::erase_if(entries_,
                  [&](const auto& e) { return e.second.window_start + window_seconds_ <= now; });
  }
  Entry& e = entries_[key];
  if (e.window_start + window_seconds_ <= now) {
    e = Entry{0, now};
  }
  ++e.failures;
}

void RateLimiter::RecordSuccess(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

}  // namespace carechart::auth
