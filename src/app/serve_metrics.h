// GET /metrics of `carechart serve`: the node's counters in Prometheus' text format, for
// monitoring several API nodes (docs/deploy.md). prometheus-cpp's core library keeps the
// counters and writes the format; the HTTP side is ours (the one server of the process).
//
//   carechart_http_requests_total{area, code}        requests answered, by area and status class
//   carechart_http_request_duration_seconds{area}    handling time (histogram)
//   carechart_store_writes_total, …_failed_writes_total, …_commits_total   the store's counters
//   carechart_start_time_seconds                     when the process started (Unix time)
//
// `area` is fhir, auth, web or other, and `code` 2xx…5xx, so the number of series is fixed.
#pragma once

#include <memory>
#include <string>

#include "http/message.h"
#include "store/resource_store.h"

namespace carechart::app {

class ServeMetrics {
 public:
  explicit ServeMetrics(const store::ResourceStore& store);
  ~ServeMetrics();

  // Counts one answered request for `path` with `status` that took `seconds`.
  void Observe(const std::string& path, int status, double seconds);
  // The response to GET /metrics.
  http::Response Render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carechart::app
