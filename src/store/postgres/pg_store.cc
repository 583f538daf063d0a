// The PostgreSQL ResourceStore: a pool of libpq connections; reads and writes both lease one.
#include <atomic>
#include <cctype>
#include <chrono>
#include <thread>

#include "store/date_driver.h"
#include "store/include_follow.h"
#include "store/postgres/pg_compartment_key.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_current_scan.h"
#include "store/postgres/pg_index_compare.h"
#include "store/postgres/pg_read_router.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_statistics.h"
#include "store/postgres/pg_write_txn.h"
#include "store/postgres/postgres_store.h"
#include "store/search_sql.h"

namespace carechart::store {
namespace {

using pg::Args;
using pg::Rows;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class PostgresDialectImpl : public SqlDialect {
 public:
  std::string Placeholder(int n) const override { return "$" + std::to_string(n); }
  std::string_view CaseInsensitiveLike() const override { return "ILIKE"; }
  std::string_view CoLocationColumn() const override { return "compartment_key"; }
  std::string IntListSubquery(const std::string& placeholder) const override {
    return "SELECT unnest(" + placeholder + "::bigint[])";
  }
  std::string IntListArg(const std::vector<int64_t>& values) const override {
    std::string out = "{";
    for (size_t i = 0; i < values.size(); ++i) {
      out += (i ? "," : "") + std::to_string(values[i]);
    }
    return out + "}";
  }
};

// Columns 0..6 of every version query: type, id, version, last_updated, deleted, method, body.
ResourceVersion VersionFromRow(const Rows& rows, int i) {
  ResourceVersion v;
  v.type = rows.Text(i, 0);
  v.id = rows.Text(i, 1);
  v.version = rows.Int(i, 2);
  v.last_updated_us = rows.Int(i, 3);
  v.deleted = rows.Int(i, 4) != 0;
  v.method = rows.Text(i, 5);
  v.body = rows.Text(i, 6);
  return v;
}

constexpr int kMaxWriteAttempts = 8;

// Runs `fn` in one read-only snapshot so that a search's count, page and includes agree.
template <typename Fn>
auto InSnapshot(pg::Connection& conn, Fn fn) -> decltype(fn()) {
  RETURN_IF_ERROR(conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto result = fn();
  if (!conn.Exec("COMMIT").ok()) {
    (void)conn.Exec("ROLLBACK");
  }
  return result;
}

// " AND <alias>compartment_key = ..." naming the compartment key of the (type, id) bound as $1
// and $2: Citus sends a statement that names it to the one shard holding the rows (decisions
// D46). When the type and id decide the key and `n` > 0, it is bound as argument n of `args`;
// otherwise it is looked up in resource_key (a primary-key probe; on Citus a statement of its
// own on resource_key's shard, planned first).
std::string KeyOf(const std::string& type, const std::string& id, Args& args, int n,
                  const std::string& alias) {
  if (std::optional<std::string> key = pg::KeyFromTypeAndId(type, id); key && n > 0) {
    args.Text(*key);
    return " AND " + alias + "compartment_key = $" + std::to_string(n);
  }
  return " AND " + alias +
         "compartment_key = (SELECT k.compartment_key FROM resource_key k WHERE k.type = $1 AND "
         "k.id = $2)";
}

// WHERE conditions of the two arms of a history query, with $1 type, $2 id, $3 since, $4 at
// (the same shape as the SQLite backend's).
std::pair<std::string, std::string> HistoryConditions(const HistoryQuery& q) {
  std::string current = " WHERE 1 = 1", earlier = " WHERE 1 = 1";
  if (!q.type.empty()) {
    current += " AND r.type = $1";
    earlier += " AND h.type = $1";
  } else {
    current += " AND r.type <> 'AuditEvent'";  // decisions D21
    earlier += " AND h.type <> 'AuditEvent'";
  }
  if (!q.id.empty()) {
    Args unused;
    std::string key = KeyOf(q.type, q.id, unused, 0, "r.");
    current += " AND r.id = $2" + key;
    earlier += " AND r.type = $1 AND r.id = $2" + key;
  }
  if (q.since_us) {
    current += " AND r.last_updated >= $3";
    earlier += " AND h.last_updated >= $3";
  }
  if (q.at_us) {
    current += " AND r.last_updated <= $4";
    earlier += " AND h.last_updated <= $4 AND h.superseded > $4";
  }
  return {current, earlier};
}

Status Closed() { return Status(StatusCode::kUnavailable, "the store is closed"); }

// Follows the query's includes from the page's matches (include_follow.h).
Status RunIncludes(pg::Connection& conn, const SearchQuery& q,
                   const std::vector<int64_t>& match_pks, std::vector<ResourceVersion>* included) {
  auto run_level =
      [&conn](
          const CompiledSql& sql) -> StatusOr<std::vector<std::pair<int64_t, ResourceVersion>>> {
    ASSIGN_OR_RETURN(Rows rows, conn.Run(sql.sql, Args().SqlAll(sql.args)));
    std::vector<std::pair<int64_t, ResourceVersion>> out;
    for (int i = 0; i < rows.size(); ++i) {
      out.emplace_back(rows.Int(i, 7), VersionFromRow(rows, i));
    }
    return out;
  };
  return FollowIncludes(q, match_pks, PostgresDialect(), run_level, included);
}

// A search's count, page and includes as planned by `q` (no estimates), in the caller's
// transaction.
StatusOr<SearchResult> SearchPlanned(pg::Connection& conn, const SearchQuery& q, int64_t now_us) {
  const pg::Connection::Plan plan = pg::SearchPlan(q);
  SearchResult result;
  if (q.want_total || q.count == 0) {
    ASSIGN_OR_RETURN(CompiledSql sql,
                     CompileSearch(q, PostgresDialect(), SearchSqlMode::kCount, now_us));
    ASSIGN_OR_RETURN(Rows rows, conn.Run(sql.sql, Args().SqlAll(sql.args), plan));
    result.total = rows.size() ? rows.Int(0, 0) : 0;
    if (q.estimate_total && result.total > kEstimateLimit) {
      result.total = -1;
    }
  }
  if (q.count > 0) {
    ASSIGN_OR_RETURN(CompiledSql sql,
                     CompileSearch(q, PostgresDialect(), SearchSqlMode::kPage, now_us));
    ASSIGN_OR_RETURN(Rows rows, conn.Run(sql.sql, Args().SqlAll(sql.args), plan));
    int n = std::min(rows.size(), q.count);
    std::vector<int64_t> pks;
    for (int i = 0; i < n; ++i) {
      result.matches.push_back(VersionFromRow(rows, i));
      pks.push_back(rows.Int(i, 7));
      result.matches.back().row_key = pks.back();
    }
    if (rows.size() > q.count) {
      PageCursor next{rows.Int(n - 1, 7), {}};
      for (size_t k = 0; k < q.sort.size(); ++k) {
        std::optional<SqlArg> v = rows.Value(n - 1, 8 + static_cast<int>(k));
        next.values.push_back(EncodeSortValue(v ? &*v : nullptr));
      }
      result.next = std::move(next);
    }
    if (!q.include_specs.empty() && !pks.empty()) {
      RETURN_IF_ERROR(RunIncludes(conn, q, pks, &result.included));
    }
  }
  return result;
}

class PostgresStore : public ResourceStore {
 public:
  PostgresStore(std::unique_ptr<pg::Pool> pool, std::vector<std::unique_ptr<pg::Pool>> replicas,
                std::unique_ptr<pg::StatisticsKeeper> statistics)
      : pool_(std::move(pool)),
        reads_(pool_.get(), std::move(replicas)),
        statistics_(std::move(statistics)) {}
  ~PostgresStore() override { Close(); }

  Status Write(WriteFunction fn) override {
    if (closed_) {
      return Closed();
    }
    Status s;
    for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
      ASSIGN_OR_RETURN(pg::Pool::Lease conn, pool_->Acquire());
      writes_.fetch_add(1);
      bool retry = false;
      s = RunOnce(*conn, date_spans_, fn, &retry);
      if (s.ok()) {
        reads_.NoteCommit(*conn);  // read-your-writes on replicas (pg_read_router.h)
        commits_.fetch_add(1);
        statistics_->NoteWrite();
        return s;
      }
      failed_writes_.fetch_add(1);
      if (!retry) {
        return s;
      }
    }
    return s;
  }

  // A command-line load analyses at its end: the keeper's rounds meanwhile would only take CPU
  // from it. Indexes are kept (BeginBulkLoad's default).
  StatusOr<bool> BeginBulkLoad(int64_t expected_resources) override {
    (void)expected_resources;
    statistics_->Pause(true);
    return false;
  }

  Status EndBulkLoad(const IndexBuildProgressFn& progress = {}) override {
    (void)progress;  // nothing deferred: the indexes were kept
    statistics_->Pause(false);
    Status s = GatherStatistics();
    if (s.ok()) {
      return s;
    }
    return Status(s.code(), "the load is stored, but " + std::string(s.message()));
  }

  // After a load the planner knows nothing of what was loaded until autovacuum's next round (up
  // to a minute), and an anti-join planned on a table never analysed can turn quadratic (`_has`
  // with `:not`, decisions D69).
  Status GatherStatistics() override {
    if (closed_) {
      return Closed();
    }
    ASSIGN_OR_RETURN(pg::Pool::Lease conn, pool_->Acquire());
    Status s = pg::AnalyzeDatabase(*conn);
    if (s.ok()) {
      return s;
    }
    return Status(s.code(),
                  "gathering the planner's statistics (ANALYZE) failed; autovacuum will gather "
                  "them: " +
                      std::string(s.message()));
  }

  StatusOr<ResourceVersion> Read(const std::string& type, const std::string& id) override {
    if (closed_) {
      return Closed();
    }
    ASSIGN_OR_RETURN(pg::Pool::Lease conn, reads_.AcquireRead());
    Args args;
    args.Text(type).Text(id);
    std::string key = KeyOf(type, id, args, 3, "");
    ASSIGN_OR_RETURN(Rows rows, conn->Run("SELECT type, id, version, last_updated, deleted, "
                                          "method, body FROM resource WHERE type = $1 AND id = $2" +
                                              key,
                                          args));
    if (!rows.size()) {
      return NotFoundError(type + "/" + id + " is not known");
    }
    return VersionFromRow(rows, 0);
  }

  StatusOr<ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                        int64_t version) override {
    if (closed_) {
      return Closed();
    }
    ASSIGN_OR_RETURN(pg::Pool::Lease conn, reads_.AcquireRead());
    Args args;
    args.Text(type).Text(id).Int(version);
    std::string key = KeyOf(type, id, args, 4, "r.");
    ASSIGN_OR_RETURN(
        Rows rows,
        conn->Run("SELECT r.type, r.id, r.version, r.last_updated, r.deleted, r.method, r.body "
                  "FROM resource r WHERE r.type = $1 AND r.id = $2 AND r.version = $3" +
                      key +
                      " UNION ALL SELECT r.type, r.id, h.version, h.last_updated, h.deleted, "
                      "h.method, h.body FROM resource r JOIN resource_history h ON h.res = r.pk "
                      "AND h.compartment_key = r.compartment_key WHERE r.type = $1 AND r.id = $2 "
                      "AND h.version = $3" +
                      key,
                  args));
    if (!rows.size()) {
      return NotFoundError(type + "/" + id + " has no version " + std::to_string(version));
    }
    return VersionFromRow(rows, 0);
  }

  // With as_of_us, chunks by key that also pass deletions after it (pg_current_scan.h);
  // without, the default's pages of searches.
  Status ScanCurrent(const CurrentScan& scan, const ScanFunction& fn) override {
    if (closed_) {
      return Closed();
    }
    if (!scan.as_of_us) {
      return ResourceStore::ScanCurrent(scan, fn);
    }
    return pg::ScanCurrentInChunks(reads_, scan, fn);
  }

  StatusOr<HistoryPage> History(const HistoryQuery& q) override {
    if (closed_) {
      return Closed();
    }
    auto [current, earlier] = HistoryConditions(q);
    std::string page_sql =
        "SELECT r.type, r.id, r.version, r.last_updated, r.deleted, r.method, r.body, r.seq "
        "FROM resource r" +
        current +
        " UNION ALL SELECT h.type, r.id, h.version, h.last_updated, h.deleted, h.method, h.body, "
        "h.seq FROM resource_history h JOIN resource r ON r.pk = h.res AND r.compartment_key = "
        "h.compartment_key" +
        earlier + " ORDER BY 8 DESC LIMIT $5 OFFSET $6";
    std::string count_sql = "SELECT (SELECT COUNT(*) FROM resource r" + current +
                            ") + (SELECT COUNT(*) FROM resource_history h JOIN resource r "
                            "ON r.pk = h.res AND r.compartment_key = h.compartment_key" +
                            earlier + ")";
    ASSIGN_OR_RETURN(pg::Pool::Lease conn, reads_.AcquireRead());
    return InSnapshot(*conn, [&]() -> StatusOr<HistoryPage> {
      HistoryPage page;
      Args args;
      args.Text(q.type).Text(q.id).Int(q.since_us.value_or(0)).Int(q.at_us.value_or(0));
      ASSIGN_OR_RETURN(Rows count, conn->Run(count_sql, args));
      page.total = count.size() ? count.Int(0, 0) : 0;
      if (q.count > 0) {
        args.Int(q.count).Int(q.offset);
        ASSIGN_OR_RETURN(Rows rows, conn->Run(page_sql, args));
        for (int i = 0; i < rows.size(); ++i) {
          page.versions.push_back(VersionFromRow(rows, i));
        }
      }
      return page;
    });
  }

  StatusOr<std::vector<bool>> SameIndex(std::span<const ResourceVersion> resources,
                                        std::span<const fhir::IndexEntries> index,
                                        const std::string& param) override {
    if (closed_) {
      return Closed();
    }
    // On the primary: a replica's rows may lag behind what the writer will compare.
    ASSIGN_OR_RETURN(pg::Pool::Lease conn, pool_->Acquire());
    return pg::IndexRowsSame(*conn, resources, index, param);
  }

  StatusOr<SearchResult> Search(const SearchQuery& q) override {
    if (closed_) {
      return Closed();
    }
    int64_t now_us = NowUs();
    ASSIGN_OR_RETURN(pg::Pool::Lease conn, reads_.AcquireRead());
    return InSnapshot(*conn, [&]() -> StatusOr<SearchResult> {
      // A date clause may drive instead of a token (D110, D114); the estimate's counts are
      // read in the search's own snapshot.
      ASSIGN_OR_RETURN(std::string driver,
                       date_drivers_.Choose(PostgresDialect(), PostgresCountOn(*conn), q, now_us));
      if (!driver.empty()) {
        SearchQuery driven = q;  // see SearchQuery::driver_param
        driven.driver_param = std::move(driver);
        return SearchPlanned(*conn, driven, now_us);
      }
      return SearchPlanned(*conn, q, now_us);
    });
  }

  void Close() override {
    closed_ = true;
    statistics_->Stop();
  }

  StoreStats Stats() const override {
    return {writes_.load(), failed_writes_.load(), commits_.load()};
  }

 private:
  // One attempt: BEGIN, the function, COMMIT. `retry` tells whether a failure may pass on a
  // rerun (a concurrent create of the same id, a deadlock).
  static Status RunOnce(pg::Connection& conn, pg::DateSpanCache& spans, const WriteFunction& fn,
                        bool* retry) {
    RETURN_IF_ERROR(conn.Exec("BEGIN"));
    pg::PgWriteTxn txn(conn, spans);
    Status s;
    try {
      s = fn(txn);
    } catch (const std::exception& e) {
      s = InternalError(std::string("write function threw: ") + e.what());
    } catch (...) {
      s = InternalError("write function threw");
    }
    if (s.ok()) {
      s = txn.Flush();  // the creates still waiting in the transaction (pg_write_txn.h)
    }
    if (s.ok()) {
      s = txn.WriteAudit();  // last: it takes the audit chain's lock, held until COMMIT
    }
    if (s.ok()) {
      s = conn.Exec("COMMIT");
      if (!s.ok()) {
        std::string_view state = conn.last_sqlstate();
        *retry = state == pg::PgError::kSerializationFailure || state == pg::PgError::kDeadlock;
        (void)conn.Exec("ROLLBACK");
      }
      return s;
    }
    (void)conn.Exec("ROLLBACK");
    *retry = txn.retryable();
    return s;
  }

  std::atomic<bool> closed_{false};
  std::unique_ptr<pg::Pool> pool_;
  pg::ReadRouter reads_;  // reads: a current replica, else pool_
  std::unique_ptr<pg::StatisticsKeeper> statistics_;
  pg::DateSpanCache date_spans_;  // sp_date_span as read by this process (pg_write_txn.h)
  DateDriverEstimates date_drivers_{/*small_ranges_drive=*/false};
  std::atomic<int64_t> writes_{0}, failed_writes_{0}, commits_{0};
};

}  // namespace

const SqlDialect& PostgresDialect() {
  static const PostgresDialectImpl dialect;
  return dialect;
}

StatusOr<SearchResult> RunPostgresSearch(pg::Connection& conn, const SearchQuery& q,
                                         int64_t now_us) {
  return InSnapshot(conn, [&] { return SearchPlanned(conn, q, now_us); });
}

CountStatement PostgresCountOn(pg::Connection& conn) {
  return [&conn](const std::string& sql, const std::vector<SqlArg>& args) -> StatusOr<int64_t> {
    ASSIGN_OR_RETURN(Rows rows, conn.Run(sql, Args().SqlAll(args), pg::Connection::Plan::kPerRun));
    return rows.size() ? rows.Int(0, 0) : 0;
  };
}

StatusOr<std::unique_ptr<ResourceStore>> OpenPostgresStore(const PostgresOptions& options) {
  if (options.uri.empty()) {
    return InvalidError("the PostgreSQL store needs a connection URI (--postgres)");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Pool> pool,
                   pg::Pool::Open(options.uri, options.connections, options.max_query_ms));
  {
    ASSIGN_OR_RETURN(pg::Pool::Lease conn, pool->Acquire());
    if (options.migrate) {
      RETURN_IF_ERROR(pg::MigrateSchema(*conn, NowUs()).status());
    } else {
      ASSIGN_OR_RETURN(int64_t have, pg::SchemaVersion(*conn));
      if (have != pg::CurrentSchemaVersion()) {
        return Status(StatusCode::kUnavailable, "the PostgreSQL database has schema version " +
                                                    std::to_string(have) + ", this build needs " +
                                                    std::to_string(pg::CurrentSchemaVersion()) +
                                                    ": run carechart migrate");
      }
    }
  }
  std::vector<std::unique_ptr<pg::Pool>> replicas;
  for (const std::string& uri : options.replica_uris) {
    ASSIGN_OR_RETURN(std::unique_ptr<pg::Pool> replica,
                     pg::Pool::Open(uri, options.connections, options.max_query_ms));
    replicas.push_back(std::move(replica));
  }
  // The search tables analysed as they grow (pg_statistics.h), on the primary only.
  auto statistics =
      std::make_unique<pg::StatisticsKeeper>(options.uri, pg::StatisticsKeeper::Options{});
  return std::unique_ptr<ResourceStore>(
      std::make_unique<PostgresStore>(std::move(pool), std::move(replicas), std::move(statistics)));
}

std::string PostgresUriWithDatabase(const std::string& uri, const std::string& dbname) {
  size_t scheme = uri.find("://");
  if (scheme == std::string::npos) {
    return uri + " dbname=" + dbname;  // key=value form: a later key wins
  }
  size_t path = uri.find('/', scheme + 3);
  size_t query = uri.find('?', scheme + 3);
  std::string authority = uri.substr(0, std::min(path, query));
  std::string rest = query == std::string::npos ? "" : uri.substr(query);
  return authority + "/" + dbname + rest;
}

StatusOr<std::string> EnsurePostgresDatabase(const std::string& uri, const std::string& dbname) {
  for (char c : dbname) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return InvalidError("database name " + dbname + ": use letters, digits and '_'");
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn, pg::Connection::Open(uri));
  ASSIGN_OR_RETURN(Rows rows,
                   conn->Run("SELECT 1 FROM pg_database WHERE datname = $1", Args().Text(dbname)));
  for (int attempt = 0; !rows.size(); ++attempt) {
    Status s = conn->Exec("CREATE DATABASE " + dbname);
    if (s.ok() || conn->last_sqlstate() == "42P04") {  // 42P04: made meanwhile by another client
      break;
    }
    // 55006: another CREATE DATABASE is copying the template right now.
    if (conn->last_sqlstate() != "55006" || attempt >= 50) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return PostgresUriWithDatabase(uri, dbname);
}

StatusOr<int> MigratePostgres(const std::string& uri) {
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn, pg::Connection::Open(uri));
  return pg::MigrateSchema(*conn, NowUs());
}

}  // namespace carechart::store
