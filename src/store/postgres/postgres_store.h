// The PostgreSQL ResourceStore (plain libpq): see docs/postgres.md.
//
// Same contract as every ResourceStore (resource_store.h), with these specifics:
// - Each Write() is one READ COMMITTED transaction on a pooled connection. Put() locks the
//   resource's row (SELECT ... FOR UPDATE) before checking the version, so two writers with the
//   same expected version, on one node or several, cannot both win; two creates of one new id
//   meet on resource_key's primary key (type, id) and the loser is rerun (then sees the winner).
//   Conditional searches inside a write take a per-type advisory lock that creates of that type
//   share, so "create if none exists" stays atomic across nodes. Commits are durable when they
//   return (PostgreSQL's own group commit batches the fsyncs).
// - Reads see committed data; a search's count, page and includes run in one REPEATABLE READ
//   snapshot.
// - The schema is migrated on open under an advisory lock (pg_schema.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/plan_counts.h"
#include "store/resource_store.h"
#include "store/sql_dialect.h"

namespace carechart::store {

struct PostgresOptions {
  std::string uri;       // "postgresql://user:password@host:port/dbname" or key=value pairs
  int connections = 16;  // pool size: concurrent reads and writes of this process
  // Longest one statement may run before it is stopped (kTimeout); 0 disables the limit.
  int max_query_ms = 10000;
  // Apply missing schema migrations when opening (carechart migrate does it explicitly).
  bool migrate = true;
  // Streaming replicas (hot standbys of `uri`) that serve reads; writes, and reads this node's
  // latest commit is not yet replayed on, go to `uri` (pg_read_router.h, decisions D40).
  std::vector<std::string> replica_uris;
};

// Connects, migrates (unless told not to) and returns the store. Errors name the server (never
// the password) and what to do.
StatusOr<std::unique_ptr<ResourceStore>> OpenPostgresStore(const PostgresOptions& options);

// Applies the missing migrations to the database at `uri`; returns how many were applied.
StatusOr<int> MigratePostgres(const std::string& uri);

// `uri` with its database name replaced by `dbname`.
std::string PostgresUriWithDatabase(const std::string& uri, const std::string& dbname);

// Creates the database `dbname` (letters, digits, '_') on the server of `uri` unless it exists;
// returns the URI of that database. For tests and first set-up.
StatusOr<std::string> EnsurePostgresDatabase(const std::string& uri, const std::string& dbname);

// `carechart audit verify` on the database at `uri` (store/audit_log.h; read only).
struct AuditChainReport;
StatusOr<AuditChainReport> VerifyPostgresAuditLog(const std::string& uri);

// PostgreSQL: "$N" placeholders, ILIKE, integer lists as bigint[] arrays.
const SqlDialect& PostgresDialect();

namespace pg {
class Connection;
}
// One search on `conn` in one REPEATABLE READ snapshot, planned as `q` says (the store's
// Search adds its estimates first, e.g. SearchQuery::driver_param): for tests comparing plans.
StatusOr<SearchResult> RunPostgresSearch(pg::Connection& conn, const SearchQuery& q,
                                         int64_t now_us);
// Runs a plan estimate's COUNT statement (plan_counts.h) on `conn`, planned for its values.
CountStatement PostgresCountOn(pg::Connection& conn);

}  // namespace carechart::store
