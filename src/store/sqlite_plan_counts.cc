#include "store/sqlite_plan_counts.h"

#include "store/search_sql.h"

namespace carechart::store::sqlite {

StatusOr<int64_t> PlanCounts::Count(Connection& conn, const std::string& sql,
                                    const std::vector<SqlArg>& args, int64_t now_us) {
  std::string key = sql;
  for (const SqlArg& arg : args) {
    key += '\x1f' + EncodeSortValue(&arg);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && now_us - it->second.taken_us < kLifetimeUs) {
      return it->second.n;
    }
  }
  Entry entry;
  entry.taken_us = now_us;
  RETURN_IF_ERROR(InReadTxn(conn, [&]() -> Status {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
    s.BindAll(args);
    ASSIGN_OR_RETURN(bool row, s.Step());
    entry.n = row ? s.Int(0) : 0;
    return Status::Ok();
  }));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxEntries) {
    entries_.clear();
  }
  entries_[key] = entry;
  return entry.n;
}

}  // namespace carechart::store::sqlite
