#include "app/serve_bulk.h"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "app/open_store.h"
#include "bulk/bulk_api.h"

namespace carechart::app {

void AddBulkServeOptions(CLI::App* serve_cmd, ServeOptions& serve) {
  serve_cmd
      ->add_option("--bulk-dir", serve.bulk_dir,
                   "folder for Bulk Data ($export/$import) job files (default: <db>.bulk)")
      ->envname("CARECHART_BULK_DIR");
  serve_cmd
      ->add_option("--bulk-expire-hours", serve.bulk_expire_hours,
                   "finished Bulk Data jobs and their files are removed after this many hours")
      ->envname("CARECHART_BULK_EXPIRE_HOURS")
      ->check(CLI::Range(0.0, 24.0 * 365))
      ->capture_default_str();
  serve_cmd
      ->add_option(
          "--bulk-page-size", serve.bulk_page_size,
          "resources an export reads at a time: a page of its searches, a chunk of a system "
          "export's scan (smaller: shorter read transactions)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  serve_cmd
      ->add_option("--bulk-lease-seconds", serve.bulk_lease_seconds,
                   "with --postgres and several nodes: a node renews its running job's lease every "
                   "third of this; when it dies, another node takes the job over after this")
      ->envname("CARECHART_BULK_LEASE_SECONDS")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
}

std::unique_ptr<bulk::BulkJobs> AttachBulkData(rest::FhirApi& api, store::ResourceStore& store,
                                               const CommonOptions& common,
                                               const ServeOptions& serve,
                                               const rest::ApiOptions& api_options) {
  bulk::BulkOptions bo;
  bo.dir = serve.bulk_dir.empty() ? common.db_path + ".bulk" : serve.bulk_dir;
  bo.expire_seconds = static_cast<int64_t>(serve.bulk_expire_hours * 3600);
  bo.page_size = serve.bulk_page_size;
  bo.lease_seconds = serve.bulk_lease_seconds;
  // `serve` always puts the Bearer gate in front of /fhir, file downloads included.
  bo.requires_access_token = true;
  auto table = OpenJobStore(common);
  if (!table.ok()) {
    spdlog::critical("cannot open the Bulk Data job table: {}", table.status().ToString());
    return nullptr;
  }
  auto jobs = bulk::BulkJobs::Start(store, std::move(table).value(), api_options, bo);
  if (!jobs.ok()) {
    spdlog::critical("cannot start Bulk Data jobs: {}", jobs.status().ToString());
    return nullptr;
  }
  bulk::BulkJobs* raw = jobs->get();
  api.AddRoute([raw, &store](const http::Request& req, const std::string& base_url,
                             const std::vector<std::string>& parts,
                             const auth::Principal* principal) {
    return bulk::HandleBulkRequest(*raw, store, req, base_url, parts, principal);
  });
  return std::move(jobs).value();
}

}  // namespace carechart::app
