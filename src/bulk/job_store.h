// Where Bulk Data jobs are recorded: a `bulk_job` table in the Carechart database, so that a job
// outlives the process that accepted it (after a restart, unfinished jobs run again or are marked
// failed with a reason). The SQLite implementation keeps its own connection to the database file;
// rows are small and written a few times per job (progress at most once a second).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace carechart::bulk {

struct JobRecord {
  std::string id;
  std::string kind;      // "export" or "import"
  std::string state;     // "queued", "running", "completed", "failed"
  std::string request;   // kind-specific JSON (an ExportRequest, or the import's input)
  std::string base_url;  // FHIR base the job's URLs are built on
  int64_t created_us = 0;
  int64_t updated_us = 0;
  int64_t transaction_time_us = 0;  // set when a run starts
  int attempts = 0;                 // runs started
  int64_t done = 0;                 // progress: units done
  int64_t total = -1;               // units in all, -1 unknown
  std::string progress;             // human-readable progress (X-Progress)
  std::string result;               // completed: the manifest JSON
  std::string error;                // failed: why
};

class JobStore {
 public:
  virtual ~JobStore() = default;
  virtual Status Insert(const JobRecord& job) = 0;
  virtual StatusOr<std::optional<JobRecord>> Get(const std::string& id) = 0;
  // Writes every field of the row `job.id`; false when the row no longer exists (cancelled).
  virtual StatusOr<bool> Update(const JobRecord& job) = 0;
  virtual Status Delete(const std::string& id) = 0;
  // Every job, oldest first.
  virtual StatusOr<std::vector<JobRecord>> List() = 0;

  // Coordination of several API nodes on one database (docs/deploy.md, decisions D39).
  // True when other processes may run jobs from this table: then a job runs under a lease that
  // its node renews, and a restart does not take over jobs other nodes hold.
  virtual bool SharedByNodes() const { return false; }
  // Takes the oldest job that is queued, or "running" under a lease that ran out (its node
  // died), for `owner` until `now_us + lease_us`; nullopt when there is none. The default, for a
  // table only this process uses, returns the oldest queued job.
  virtual StatusOr<std::optional<JobRecord>> Claim(const std::string& owner, int64_t now_us,
                                                   int64_t lease_us);
  // Extends `owner`'s lease of job `id`; false when the job is gone or another node holds it.
  virtual StatusOr<bool> Renew(const std::string& id, const std::string& owner, int64_t now_us,
                               int64_t lease_us);
  // Gives back `owner`'s lease of job `id` when its node stops gracefully: the job is queued
  // again at once for another node instead of waiting for the lease to run out; a run this node
  // had started (`run_started`) is not counted in `attempts`. The default, for a table only this
  // process uses, does nothing (the next start queues the job again).
  virtual Status Release(const std::string& id, const std::string& owner, bool run_started) {
    return Status::Ok();
  }
};

// The OAuth client that started the job (kept inside `request` as "owner", so the table needs no
// new column); empty when it was started without authentication.
std::string JobOwner(const JobRecord& job);

// Opens (creating the table when absent) the jobs table in the SQLite database at `path`.
StatusOr<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path);

// The bulk_job table of the PostgreSQL database at `uri` (schema migration 5, applied when
// needed; pg_job_store.cc).
StatusOr<std::unique_ptr<JobStore>> OpenPostgresJobStore(const std::string& uri);

}  // namespace carechart::bulk
