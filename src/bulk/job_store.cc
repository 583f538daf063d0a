// The JobStore defaults for a table that only this process uses (SQLite): no leases.
#include "bulk/job_store.h"

namespace carechart::bulk {

StatusOr<std::optional<JobRecord>> JobStore::Claim(const std::string& /*owner*/, int64_t /*now_us*/,
                                                   int64_t /*lease_us*/) {
  ASSIGN_OR_RETURN(std::vector<JobRecord> all, List());
  for (JobRecord& j : all) {
    if (j.state == "queued") {
      return std::optional<JobRecord>(std::move(j));
    }
  }
  return std::optional<JobRecord>();
}

StatusOr<bool> JobStore::Renew(const std::string& id, const std::string& /*owner*/,
                               int64_t /*now_us*/, int64_t /*lease_us*/) {
  ASSIGN_OR_RETURN(std::optional<JobRecord> job, Get(id));
  return job.has_value();
}

}  // namespace carechart::bulk
