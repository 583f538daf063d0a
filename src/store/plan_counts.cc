#include "store/plan_counts.h"

#include "store/search_sql.h"

namespace carechart::store {

StatusOr<int64_t> PlanCounts::Count(const CountStatement& run, const std::string& sql,
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
  ASSIGN_OR_RETURN(entry.n, run(sql, args));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxEntries) {
    entries_.clear();
  }
  entries_[key] = entry;
  return entry.n;
}

}  // namespace carechart::store
