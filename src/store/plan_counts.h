// Counts that only choose a plan (decisions D88, D110, D114): a COUNT statement's result kept
// for ten minutes per statement and arguments, so that a search pays for its estimate once, not
// per request. A stale count can only pick the slower of two plans that give the same answer.
// Backend-neutral: the caller says how to run the statement.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sql_dialect.h"

namespace carechart::store {

// Runs `sql` (one integer column, one row) with `args` on a backend's connection.
using CountStatement =
    std::function<StatusOr<int64_t>(const std::string& sql, const std::vector<SqlArg>& args)>;

class PlanCounts {
 public:
  static constexpr int64_t kLifetimeUs = 600'000'000;  // what they count drifts slowly
  static constexpr size_t kMaxEntries = 4096;          // then the cache starts over

  // `sql`'s count of the last ten minutes, else `run`'s.
  StatusOr<int64_t> Count(const CountStatement& run, const std::string& sql,
                          const std::vector<SqlArg>& args, int64_t now_us);

 private:
  struct Entry {
    int64_t n = 0;
    int64_t taken_us = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by statement and arguments
};

}  // namespace carechart::store
