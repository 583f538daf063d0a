#include "app/serve_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <chrono>
#include <mutex>
#include <string>

namespace carechart::app {
namespace {

constexpr std::array<const char*, 4> kAreas = {"fhir", "auth", "web", "other"};
constexpr std::array<const char*, 5> kCodes = {"1xx", "2xx", "3xx", "4xx", "5xx"};

size_t AreaOf(const std::string& path) {
  if (path == "/fhir" || path.starts_with("/fhir/")) {
    return 0;
  }
  if (path.starts_with("/auth/") || path.starts_with("/.well-known/")) {
    return 1;
  }
  if (path == "/healthz" || path == "/metrics") {
    return 3;
  }
  return 2;  // the web apps' files
}

}  // namespace

struct ServeMetrics::Impl {
  explicit Impl(const store::ResourceStore& s) : store(s) {}

  const store::ResourceStore& store;
  prometheus::Registry registry;
  // [area][code class]: created up front, so that Observe only increments.
  std::array<std::array<prometheus::Counter*, kCodes.size()>, kAreas.size()> requests{};
  std::array<prometheus::Histogram*, kAreas.size()> durations{};
  prometheus::Counter* writes = nullptr;
  prometheus::Counter* failed_writes = nullptr;
  prometheus::Counter* commits = nullptr;
  std::mutex store_mu;             // Render: the store's totals turned into increments
  store::StoreStats last_store{};  // guarded by store_mu
};

ServeMetrics::ServeMetrics(const store::ResourceStore& store)
    : impl_(std::make_unique<Impl>(store)) {
  auto& requests =
      prometheus::BuildCounter()
          .Name("carechart_http_requests_total")
          .Help("HTTP requests answered, by area (fhir, auth, web, other) and status class")
          .Register(impl_->registry);
  auto& durations = prometheus::BuildHistogram()
                        .Name("carechart_http_request_duration_seconds")
                        .Help("Time from a request's arrival at the handler to its response")
                        .Register(impl_->registry);
  const prometheus::Histogram::BucketBoundaries buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,   0.25,   0.5,   1,    2.5,   10};
  for (size_t a = 0; a < kAreas.size(); ++a) {
    for (size_t c = 0; c < kCodes.size(); ++c) {
      impl_->requests[a][c] = &requests.Add({{"area", kAreas[a]}, {"code", kCodes[c]}});
    }
    impl_->durations[a] = &durations.Add({{"area", kAreas[a]}}, buckets);
  }
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(impl_->registry).Add({});
  };
  impl_->writes = counter("carechart_store_writes_total", "Write transactions run by the store");
  impl_->failed_writes =
      counter("carechart_store_failed_writes_total", "Write transactions that failed");
  impl_->commits = counter("carechart_store_commits_total", "Transactions committed");
  prometheus::BuildGauge()
      .Name("carechart_start_time_seconds")
      .Help("Start time of the process since the Unix epoch")
      .Register(impl_->registry)
      .Add({})
      .Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
               .count());
}

ServeMetrics::~ServeMetrics() = default;

void ServeMetrics::Observe(const std::string& path, int status, double seconds) {
  size_t area = AreaOf(path);
  size_t code = status >= 100 && status < 600 ? status / 100 - 1 : 4;
  impl_->requests[area][code]->Increment();
  impl_->durations[area]->Observe(seconds);
}

http::Response ServeMetrics::Render() {
  {
    std::lock_guard lock(impl_->store_mu);
    store::StoreStats now = impl_->store.Stats();
    store::StoreStats& last = impl_->last_store;
    impl_->writes->Increment(static_cast<double>(std::max<int64_t>(0, now.writes - last.writes)));
    impl_->failed_writes->Increment(
        static_cast<double>(std::max<int64_t>(0, now.failed_writes - last.failed_writes)));
    impl_->commits->Increment(
        static_cast<double>(std::max<int64_t>(0, now.commits - last.commits)));
    last = now;
  }
  http::Response r;
  r.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.set_header("Cache-Control", "no-store");
  r.body = prometheus::TextSerializer().Serialize(impl_->registry.Collect());
  return r;
}

}  // namespace carechart::app
