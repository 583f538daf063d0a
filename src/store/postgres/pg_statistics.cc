#include "store/postgres/pg_statistics.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "store/postgres/pg_schema.h"

namespace carechart::store::pg {
namespace {

// pg_try_advisory_xact_lock key of the keepers' ANALYZE ("analyze" in ASCII, then 1): the nodes
// of one database take turns, and a node that finds it taken leaves the work to the holder.
constexpr int64_t kAnalyzeLock = 0x616e616c797a6501;

// The tables of `SearchTables()` changed by at least max($2, $3 × rows at their last analysis)
// rows since it. Nothing on a standby, which cannot ANALYZE (its statistics come from the
// primary's WAL).
constexpr const char* kGrownTables =
    "SELECT s.relname::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[]) "
    "AND s.n_mod_since_analyze >= greatest($2::bigint, $3::float8 * greatest(c.reltuples, 0)) "
    "AND NOT pg_is_in_recovery() ORDER BY 1";

// Runs `analyze` in a transaction with no statement timeout, holding the keepers' advisory lock:
// with `wait`, after waiting for it (two ANALYZEs of the same tables at once can deadlock:
// a bulk load's whole-database ANALYZE met a keeper's in CI); without, only when it is free
// (returns false, analysing nothing, when it is not).
StatusOr<bool> AnalyzeInTransaction(Connection& conn, const std::string& analyze, bool wait) {
  RETURN_IF_ERROR(conn.Exec("BEGIN"));
  auto run = [&]() -> StatusOr<bool> {
    if (wait) {  // a keeper's ANALYZE of a large table may take longer than any lock timeout
      RETURN_IF_ERROR(conn.Exec("SET LOCAL lock_timeout = 0"));
      RETURN_IF_ERROR(
          conn.Run("SELECT pg_advisory_xact_lock($1)", Args().Int(kAnalyzeLock)).status());
    }
    // A VACUUM or CREATE INDEX an operator runs holds the lock ANALYZE needs: try again later
    // rather than wait behind it.
    RETURN_IF_ERROR(conn.Exec("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = '5s'"));
    if (!wait) {
      ASSIGN_OR_RETURN(Rows got, conn.Run("SELECT pg_try_advisory_xact_lock($1)::int",
                                          Args().Int(kAnalyzeLock)));
      if (got.size() == 0 || got.Int(0, 0) == 0) {
        return false;
      }
    }
    RETURN_IF_ERROR(conn.Exec(analyze));
    return true;
  };
  StatusOr<bool> done = run();
  if (!done.ok() || !*done) {
    (void)conn.Exec("ROLLBACK");
    return done;
  }
  RETURN_IF_ERROR(conn.Exec("COMMIT"));
  return true;
}

}  // namespace

Status AnalyzeDatabase(Connection& conn) {
  return AnalyzeInTransaction(conn, "ANALYZE", /*wait=*/true).status();
}

StatisticsKeeper::StatisticsKeeper(std::string uri, Options options)
    : uri_(std::move(uri)), options_(options), thread_([this] { Run(); }) {}

StatisticsKeeper::~StatisticsKeeper() { Stop(); }

void StatisticsKeeper::NoteWrite() {
  if (paused_.load(std::memory_order_relaxed)) {
    return;
  }
  std::lock_guard lock(mu_);
  if (!dirty_) {
    dirty_ = true;
    wake_.notify_one();
  }
}

void StatisticsKeeper::Pause(bool paused) { paused_.store(paused); }

void StatisticsKeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (cancel_) {
      cancel_->Cancel();  // an ANALYZE of a large table would hold the shutdown for seconds
    }
    wake_.notify_one();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void StatisticsKeeper::Run() {
  using Clock = std::chrono::steady_clock;
  bool failing = false;  // log a failure once, not at every look
  auto last_check = Clock::now() - options_.check_every;
  auto watch_until = Clock::time_point::min();  // keep looking until then after the last write
  std::unique_lock lock(mu_);
  while (true) {
    if (!dirty_ && Clock::now() >= watch_until) {
      wake_.wait(lock, [&] { return stopping_ || dirty_; });
    }
    if (wake_.wait_until(lock, last_check + options_.check_every, [&] { return stopping_; })) {
      return;
    }
    if (dirty_) {
      dirty_ = false;
      watch_until = Clock::now() + options_.settle;
    }
    lock.unlock();
    Status s = CheckOnce();
    last_check = Clock::now();
    if (!s.ok() && !failing) {
      spdlog::warn(
          "PostgreSQL statistics: {} (autovacuum will gather them; retried after the "
          "next writes)",
          s.ToString());
    }
    failing = !s.ok();
    lock.lock();
  }
}

Status StatisticsKeeper::CheckOnce() {
  if (!conn_ || !conn_->healthy()) {
    {
      std::lock_guard lock(mu_);
      cancel_.reset();
    }
    conn_.reset();
    ASSIGN_OR_RETURN(conn_, Connection::Open(uri_, 0));
    std::lock_guard lock(mu_);
    cancel_ = conn_->MakeCancelHandle();
  }
  ASSIGN_OR_RETURN(
      Rows grown,
      conn_->Run(kGrownTables,
                 Args().TextArray(SearchTables()).Int(options_.min_rows).Double(options_.growth)));
  if (grown.size() == 0) {
    return Status::Ok();
  }
  std::string tables;  // names from SearchTables(): no quoting needed
  for (int i = 0; i < grown.size(); ++i) {
    tables += (i ? ", " : "") + grown.Text(i, 0);
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return Status::Ok();
    }
  }
  ASSIGN_OR_RETURN(bool done, AnalyzeInTransaction(*conn_, "ANALYZE " + tables, /*wait=*/false));
  if (done) {
    analyses_.fetch_add(grown.size());
    spdlog::info("PostgreSQL statistics gathered for {} (grown since their last analysis)", tables);
  }
  return Status::Ok();
}

}  // namespace carechart::store::pg
