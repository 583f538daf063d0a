// Counts that only choose a plan (decisions D88, D110): a COUNT statement's result kept for ten
// minutes per statement and arguments, so that a search pays for its estimate once, not per
// request. A stale count can only pick the slower of two plans that give the same answer.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sql_dialect.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class PlanCounts {
 public:
  static constexpr int64_t kLifetimeUs = 600'000'000;  // what they count drifts slowly
  static constexpr size_t kMaxEntries = 4096;          // then the cache starts over

  // `sql` (one integer column, one row) on `conn` in a read transaction, or its count of the
  // last ten minutes.
  StatusOr<int64_t> Count(Connection& conn, const std::string& sql, const std::vector<SqlArg>& args,
                          int64_t now_us);

 private:
  struct Entry {
    int64_t n = 0;
    int64_t taken_us = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by statement and arguments
};

}  // namespace carechart::store::sqlite
