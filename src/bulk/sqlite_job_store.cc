#include <sqlite3.h>

#include <mutex>

#include "bulk/job_store.h"
#include "store/sqlite_db.h"

namespace carechart::bulk {
namespace {

using store::sqlite::Connection;
using store::sqlite::Statement;

constexpr const char* kColumns =
    "id, kind, state, request, base_url, created_us, updated_us, transaction_time_us, attempts, "
    "done, total, progress, result, error";

JobRecord FromRow(const Statement& s) {
  JobRecord j;
  j.id = s.Text(0);
  j.kind = s.Text(1);
  j.state = s.Text(2);
  j.request = s.Text(3);
  j.base_url = s.Text(4);
  j.created_us = s.Int(5);
  j.updated_us = s.Int(6);
  j.transaction_time_us = s.Int(7);
  j.attempts = static_cast<int>(s.Int(8));
  j.done = s.Int(9);
  j.total = s.Int(10);
  j.progress = s.Text(11);
  j.result = s.Text(12);
  j.error = s.Text(13);
  return j;
}

void BindAll(Statement& s, const JobRecord& j) {
  s.Bind(1, j.id)
      .Bind(2, j.kind)
      .Bind(3, j.state)
      .Bind(4, j.request)
      .Bind(5, j.base_url)
      .Bind(6, j.created_us)
      .Bind(7, j.updated_us)
      .Bind(8, j.transaction_time_us)
      .Bind(9, int64_t{j.attempts})
      .Bind(10, j.done)
      .Bind(11, j.total)
      .Bind(12, j.progress)
      .Bind(13, j.result)
      .Bind(14, j.error);
}

class SqliteJobStore : public JobStore {
 public:
  explicit SqliteJobStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  Status Insert(const JobRecord& job) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement s, conn_->Prepare(std::string("INSERT INTO bulk_job(") + kColumns +
                                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                                                 "?10, ?11, ?12, ?13, ?14)"));
    BindAll(s, job);
    return s.Run();
  }

  StatusOr<std::optional<JobRecord>> Get(const std::string& id) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement s, conn_->Prepare(std::string("SELECT ") + kColumns +
                                                 " FROM bulk_job WHERE id = ?1"));
    s.Bind(1, id);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return std::optional<JobRecord>();
    }
    return std::optional<JobRecord>(FromRow(s));
  }

  StatusOr<bool> Update(const JobRecord& job) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement s,
                     conn_->Prepare("UPDATE bulk_job SET kind = ?2, state = ?3, request = ?4, "
                                    "base_url = ?5, created_us = ?6, updated_us = ?7, "
                                    "transaction_time_us = ?8, attempts = ?9, done = ?10, "
                                    "total = ?11, progress = ?12, result = ?13, error = ?14 "
                                    "WHERE id = ?1"));
    BindAll(s, job);
    RETURN_IF_ERROR(s.Run());
    return sqlite3_changes(conn_->raw()) > 0;
  }

  Status Delete(const std::string& id) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement s, conn_->Prepare("DELETE FROM bulk_job WHERE id = ?1"));
    s.Bind(1, id);
    return s.Run();
  }

  StatusOr<std::vector<JobRecord>> List() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement s, conn_->Prepare(std::string("SELECT ") + kColumns +
                                                 " FROM bulk_job ORDER BY created_us, id"));
    std::vector<JobRecord> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) {
        return out;
      }
      out.push_back(FromRow(s));
    }
  }

 private:
  std::mutex mu_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace

StatusOr<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path, false));
  // Not a store migration: the table belongs to the bulk module, which creates it when absent.
  RETURN_IF_ERROR(conn->Exec(
      "CREATE TABLE IF NOT EXISTS bulk_job("
      "id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, request TEXT NOT NULL, "
      "base_url TEXT NOT NULL, created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL, "
      "transaction_time_us INTEGER NOT NULL, attempts INTEGER NOT NULL, done INTEGER NOT NULL, "
      "total INTEGER NOT NULL, progress TEXT NOT NULL, result TEXT NOT NULL, "
      "error TEXT NOT NULL)"));
  return std::unique_ptr<JobStore>(std::make_unique<SqliteJobStore>(std::move(conn)));
}

}  // namespace carechart::bulk
