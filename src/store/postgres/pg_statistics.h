// The planner's statistics follow the data without an operator (decisions D69, D79).
//
// PostgreSQL plans from statistics that ANALYZE gathers. Autovacuum gathers them once a table
// changed by 10 % (plus 50 rows), but only on its next round (autovacuum_naptime, a minute), and a
// table never analysed is planned from guesses: D69 saw a `_has ... :not` anti-join take 455 ms
// (over 10 s under load) instead of 10 ms on a database filled by HTTP seconds before. So:
// - AnalyzeDatabase() runs ANALYZE at the end of a load (`carechart import`, `demo-data --db`,
//   an `$import` job), before the load is reported done;
// - a StatisticsKeeper, told of each commit, checks on a thread of its own (at most once a second,
//   while writes come and for a few seconds after) which search tables have changed by at least
//   their size at their last analysis (`n_mod_since_analyze`, against `reltuples`), and analyses
//   those. A young table is analysed each time it doubles — a handful of times as it grows to
//   millions of rows — and a grown one is left to autovacuum, which comes first at 10 %.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "store/postgres/pg_conn.h"

namespace carechart::store::pg {

// ANALYZE of the whole database in a transaction of its own, without the connection's statement
// timeout (meant for searches; ANALYZE samples, so it takes seconds even at millions of rows).
Status AnalyzeDatabase(Connection& conn);

class StatisticsKeeper {
 public:
  struct Options {
    // A table is analysed once it has had at least max(min_rows, growth × its rows at the last
    // analysis) rows inserted, updated or deleted since.
    int64_t min_rows = 1000;
    double growth = 1.0;
    // Least time between two looks at pg_stat_user_tables.
    std::chrono::milliseconds check_every{1000};
    // How long the looks go on after the last write: a backend reports its counters at most once
    // a second while busy, and up to 10 s after its last transaction once idle
    // (PGSTAT_IDLE_INTERVAL), so the end of a burst shows late.
    std::chrono::milliseconds settle{12000};
  };

  // Connects to `uri` (a primary) lazily, on the keeper's thread.
  StatisticsKeeper(std::string uri, Options options);
  ~StatisticsKeeper();  // Stop()
  StatisticsKeeper(const StatisticsKeeper&) = delete;
  StatisticsKeeper& operator=(const StatisticsKeeper&) = delete;

  // A write committed: cheap, never blocks on the database.
  void NoteWrite();
  // While paused (a command-line bulk load, which analyses at its end) writes trigger nothing.
  void Pause(bool paused);
  // Ends the thread; an ANALYZE under way is cancelled. Idempotent.
  void Stop();

  // Tables analysed by this keeper so far (for tests).
  int64_t analyses() const { return analyses_.load(); }

 private:
  void Run();
  // One look at the tables and, when some grew enough, one ANALYZE of those.
  Status CheckOnce();

  const std::string uri_;
  const Options options_;
  std::unique_ptr<Connection> conn_;  // the thread's own; not one of the pool's
  std::mutex mu_;
  std::condition_variable wake_;
  bool dirty_ = false;     // writes since the last check; guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::atomic<bool> paused_{false};
  std::atomic<int64_t> analyses_{0};
  std::unique_ptr<CancelHandle> cancel_;  // of conn_, set under mu_ once connected
  std::thread thread_;
};

}  // namespace carechart::store::pg
