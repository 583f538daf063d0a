// The PostgreSQL JobStore: the bulk_job table (schema migration 5 of the PostgreSQL backend) with
// the SQLite store's columns and statements, on a small pool of its own.
#include "bulk/job_store.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_store.h"

namespace carechart::bulk {
namespace {

using store::pg::Args;
using store::pg::Pool;
using store::pg::Rows;

constexpr const char* kColumns =
    "id, kind, state, request, base_url, created_us, updated_us, transaction_time_us, attempts, "
    "done, total, progress, result, error";

JobRecord FromRow(const Rows& r, int i) {
  JobRecord j;
  j.id = r.Text(i, 0);
  j.kind = r.Text(i, 1);
  j.state = r.Text(i, 2);
  j.request = r.Text(i, 3);
  j.base_url = r.Text(i, 4);
  j.created_us = r.Int(i, 5);
  j.updated_us = r.Int(i, 6);
  j.transaction_time_us = r.Int(i, 7);
  j.attempts = static_cast<int>(r.Int(i, 8));
  j.done = r.Int(i, 9);
  j.total = r.Int(i, 10);
  j.progress = r.Text(i, 11);
  j.result = r.Text(i, 12);
  j.error = r.Text(i, 13);
  return j;
}

Args ArgsOf(const JobRecord& j) {
  Args a;
  a.Text(j.id).Text(j.kind).Text(j.state).Text(j.request).Text(j.base_url).Int(j.created_us);
  a.Int(j.updated_us).Int(j.transaction_time_us).Int(j.attempts).Int(j.done).Int(j.total);
  a.Text(j.progress).Text(j.result).Text(j.error);
  return a;
}

class PostgresJobStore : public JobStore {
 public:
  explicit PostgresJobStore(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Insert(const JobRecord& job) override {
    return Run(std::string("INSERT INTO bulk_job(") + kColumns +
                   ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
               ArgsOf(job))
        .status();
  }
  StatusOr<std::optional<JobRecord>> Get(const std::string& id) override {
    ASSIGN_OR_RETURN(
        Rows rows,
        Run(std::string("SELECT ") + kColumns + " FROM bulk_job WHERE id = $1", Args().Text(id)));
    if (!rows.size()) {
      return std::optional<JobRecord>();
    }
    return std::optional<JobRecord>(FromRow(rows, 0));
  }
  StatusOr<bool> Update(const JobRecord& job) override {
    ASSIGN_OR_RETURN(Rows rows, Run("UPDATE bulk_job SET kind = $2, state = $3, request = $4, "
                                    "base_url = $5, created_us = $6, updated_us = $7, "
                                    "transaction_time_us = $8, attempts = $9, done = $10, "
                                    "total = $11, progress = $12, result = $13, error = $14 "
                                    "WHERE id = $1",
                                    ArgsOf(job)));
    return rows.affected() > 0;
  }
  Status Delete(const std::string& id) override {
    return Run("DELETE FROM bulk_job WHERE id = $1", Args().Text(id)).status();
  }
  StatusOr<std::vector<JobRecord>> List() override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kColumns +
                                    " FROM bulk_job ORDER BY created_us, id"));
    std::vector<JobRecord> out;
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back(FromRow(rows, i));
    }
    return out;
  }

  bool SharedByNodes() const override { return true; }

  // One statement: the oldest claimable row, skipping rows another node is claiming right now
  // (SKIP LOCKED), gets this node's lease. A queued job already claimed (lease not run out) is
  // not claimable, so two nodes never start one job.
  StatusOr<std::optional<JobRecord>> Claim(const std::string& owner, int64_t now_us,
                                           int64_t lease_us) override {
    ASSIGN_OR_RETURN(Rows rows,
                     Run(std::string("UPDATE bulk_job SET lease_owner = $1, lease_until = $2 + $3 "
                                     "WHERE id = (SELECT id FROM bulk_job WHERE state IN "
                                     "('queued', 'running') AND lease_until < $2 "
                                     "ORDER BY created_us, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                                     "RETURNING ") +
                             kColumns,
                         Args().Text(owner).Int(now_us).Int(lease_us)));
    if (!rows.size()) {
      return std::optional<JobRecord>();
    }
    return std::optional<JobRecord>(FromRow(rows, 0));
  }
  StatusOr<bool> Renew(const std::string& id, const std::string& owner, int64_t now_us,
                       int64_t lease_us) override {
    ASSIGN_OR_RETURN(Rows rows, Run("UPDATE bulk_job SET lease_until = $3 + $4 "
                                    "WHERE id = $1 AND lease_owner = $2",
                                    Args().Text(id).Text(owner).Int(now_us).Int(lease_us)));
    return rows.affected() > 0;
  }
  Status Release(const std::string& id, const std::string& owner, bool run_started) override {
    return Run("UPDATE bulk_job SET state = 'queued', attempts = GREATEST(attempts - $3, 0), "
               "lease_owner = '', lease_until = 0, "
               "progress = 'queued again: the node running it stopped' "
               "WHERE id = $1 AND lease_owner = $2 AND state IN ('queued', 'running')",
               Args().Text(id).Text(owner).Int(run_started ? 1 : 0))
        .status();
  }

 private:
  StatusOr<Rows> Run(const std::string& sql, const Args& args = {}) {
    ASSIGN_OR_RETURN(Pool::Lease conn, pool_->Acquire());
    return conn->Run(sql, args);
  }

  std::unique_ptr<Pool> pool_;
};

}  // namespace

StatusOr<std::unique_ptr<JobStore>> OpenPostgresJobStore(const std::string& uri) {
  RETURN_IF_ERROR(store::MigratePostgres(uri).status());
  ASSIGN_OR_RETURN(std::unique_ptr<Pool> pool, Pool::Open(uri, 2, 0));
  return std::unique_ptr<JobStore>(std::make_unique<PostgresJobStore>(std::move(pool)));
}

}  // namespace carechart::bulk
