// `carechart audit verify --postgres`: the audit_log of a PostgreSQL database read in seq order,
// a page at a time (a long log never sits in memory whole), and checked by the same walk as
// SQLite's (store/audit_log.h).
#include "store/audit_log.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_store.h"

namespace carechart::store {

StatusOr<AuditChainReport> VerifyPostgresAuditLog(const std::string& uri) {
  // Opening through MigratePostgres would write to a database under inspection: connect only,
  // and refuse a database without the table.
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn, pg::Connection::Open(uri));
  ASSIGN_OR_RETURN(pg::Rows table, conn->Run("SELECT (to_regclass('audit_log') IS NOT NULL)::int"));
  if (!table.size() || table.Int(0, 0) == 0) {
    return Status(StatusCode::kNotFound,
                  "the PostgreSQL database " + pg::RedactUri(uri) +
                      " has no audit_log table (not a Carechart database, or not migrated yet: "
                      "run carechart migrate)");
  }
  // One snapshot for the events and every page, so that concurrent appends do not show up as
  // entries without events (or the reverse).
  RETURN_IF_ERROR(conn->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  ASSIGN_OR_RETURN(
      pg::Rows event_rows,
      conn->Run("SELECT id, body FROM resource WHERE type = 'AuditEvent' AND "
                "position($1 IN body) > 0",
                pg::Args().Bytes("\"source\":\"" + std::string(kAuditEventSource) + "\"")));
  std::map<std::string, std::string> events;
  for (int i = 0; i < event_rows.size(); ++i) {
    events.emplace(event_rows.Text(i, 0), event_rows.Text(i, 1));
  }
  constexpr int kPage = 2000;
  pg::Rows page;
  int at = 0;
  int64_t after = -1;
  bool last_page = false;
  auto next = [&](AuditLogRow& row) -> StatusOr<bool> {
    if (at >= page.size()) {
      if (last_page) {
        return false;
      }
      ASSIGN_OR_RETURN(page, conn->Run("SELECT seq, recorded, event_id, body, prev_hash, hash "
                                       "FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                                       pg::Args().Int(after).Int(kPage)));
      at = 0;
      last_page = page.size() < kPage;
      if (!page.size()) {
        return false;
      }
    }
    row = {page.Int(at, 0),  page.Int(at, 1),  page.Text(at, 2),
           page.Text(at, 3), page.Text(at, 4), page.Text(at, 5)};
    after = row.seq;
    ++at;
    return true;
  };
  StatusOr<AuditChainReport> report = WalkAuditChain(events, next);
  (void)conn->Exec("COMMIT");
  return report;
}

}  // namespace carechart::store
