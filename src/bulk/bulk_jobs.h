// The Bulk Data jobs of a running server: accepted by the HTTP handlers, recorded in the jobs
// table, run one at a time on a background thread (at a lower CPU priority, reading through the
// store's reader connections page by page, so API requests keep their latency), and expired when
// old. A job survives a restart: when the server starts, jobs that were queued or running are run
// again from the start (the files of the interrupted run are removed first) until `max_attempts`
// runs have been started, then marked failed with the reason. Nothing vanishes silently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "bulk/export_request.h"
#include "bulk/job_store.h"
#include "bulk/ndjson_output.h"
#include "core/status.h"
#include "rest/fhir_api.h"
#include "store/resource_store.h"

namespace carechart::bulk {

struct BulkOptions {
  std::string dir;                     // job folders (output files, import input) live here
  int64_t expire_seconds = 24 * 3600;  // finished jobs and their files are removed after this
  int max_attempts = 3;                // runs of one job (restarts included) before it fails
  int page_size = 1000;
  OutputLimits limits;                 // per output file
  bool requires_access_token = false;  // manifest.requiresAccessToken
  int worker_nice = 10;                // CPU priority of the job thread (Linux nice value)
  // Several API nodes on one job table (JobStore::SharedByNodes, decisions D39): a node runs a
  // job under a lease it renews every third of this; when the node dies, another takes the job
  // over once the lease runs out (at once when the node stops gracefully).
  int64_t lease_seconds = 30;
};

class BulkJobs {
 public:
  // Opens the jobs table of the database at `db_path`, recovers interrupted jobs and starts the
  // job thread.
  static StatusOr<std::unique_ptr<BulkJobs>> Start(store::ResourceStore& store,
                                                   const std::string& db_path, rest::ApiOptions api,
                                                   BulkOptions options);
  // The same on a given job table (the PostgreSQL one: OpenPostgresJobStore).
  static StatusOr<std::unique_ptr<BulkJobs>> Start(store::ResourceStore& store,
                                                   std::unique_ptr<JobStore> jobs,
                                                   rest::ApiOptions api, BulkOptions options);
  ~BulkJobs();

  // `owner`: the client that asks (JobOwner); only it may see, cancel or download the job.
  StatusOr<std::string> SubmitExport(const ExportRequest& request, const std::string& base_url,
                                     const std::string& owner = "");
  // Saves `ndjson` (a request body) into the new job's folder and queues its import.
  StatusOr<std::string> SubmitImport(const std::string& ndjson, const std::string& request_url,
                                     const std::string& base_url, const std::string& owner = "");

  // The job with the running job's latest progress; nullopt when unknown (or cancelled).
  StatusOr<std::optional<JobRecord>> Get(const std::string& id);
  // Cancels (a running job stops at its next page) and removes the job and its files; false when
  // the id is unknown.
  StatusOr<bool> Cancel(const std::string& id);
  // The folder of a job's files.
  std::string JobDir(const std::string& id) const;
  const BulkOptions& options() const { return options_; }

  // Stops the job thread. A running job stops at its next page; on a table shared by several
  // nodes its lease is given back so another node takes it over at once, otherwise it runs again
  // at the next start. Idempotent.
  void Stop();

 private:
  BulkJobs(store::ResourceStore& store, std::unique_ptr<JobStore> jobs, rest::ApiOptions api,
           BulkOptions options);
  Status Recover();
  void Loop();
  void RunOne(JobRecord job);
  Status RunExportJob(JobRecord& job, const std::atomic<bool>& cancel);
  Status RunImportJob(JobRecord& job, const std::atomic<bool>& cancel);
  void SweepExpired();
  void SaveProgress(JobRecord& job, int64_t done, int64_t total, std::string text, bool force);
  void Heartbeat();  // renews the running job's lease (shared tables only)
  void ReleaseLease(const std::string& id, bool run_started);  // gives a job back when stopping

  store::ResourceStore& store_;
  std::unique_ptr<JobStore> jobs_;
  rest::ApiOptions api_;
  BulkOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                              // guarded by mu_
  bool wake_ = false;                                  // guarded by mu_
  std::string running_id_;                             // guarded by mu_
  std::shared_ptr<std::atomic<bool>> running_cancel_;  // guarded by mu_
  std::optional<JobRecord> running_progress_;          // guarded by mu_
  int64_t last_saved_us_ = 0;                          // job thread only
  bool lease_lost_ = false;                            // guarded by mu_: another node took over
  std::string node_id_;                                // this process, as a lease owner
  std::thread thread_;
  std::thread heartbeat_;
};

}  // namespace carechart::bulk
