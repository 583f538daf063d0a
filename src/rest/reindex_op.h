// POST/GET [base]/$reindex: an online reindex (store/reindex.h) running in the background of the
// server, one at a time. Administrators, the server's own principal, and backend services with
// system-level update scopes on the types reindexed.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/message.h"
#include "rest/context.h"
#include "store/reindex.h"

namespace carechart::rest {

class ReindexJob {
 public:
  explicit ReindexJob(store::ResourceStore& store) : store_(store) {}
  ~ReindexJob();  // stops a running reindex after its current batch, and waits for it
  ReindexJob(const ReindexJob&) = delete;
  ReindexJob& operator=(const ReindexJob&) = delete;

  // POST: starts (202) unless one runs (409); GET: its state as a Parameters resource.
  http::Response Handle(RequestContext& ctx);

 private:
  http::Response Start(RequestContext& ctx);
  http::Response Report() const;

  store::ResourceStore& store_;
  mutable std::mutex mu_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  // Guarded by mu_.
  std::string state_ = "idle";  // idle, running, done, failed
  std::string error_;
  std::string type_, param_;
  store::ReindexProgress progress_;
};

}  // namespace carechart::rest
