#include "store/sqlite_date_driver.h"

#include "store/search_param_keys.h"
#include "store/search_sql.h"
#include "store/search_sql_internal.h"

namespace carechart::store::sqlite {
namespace {

constexpr int64_t kLifetimeUs = 600'000'000;  // a range's row count drifts slowly
constexpr size_t kMaxRanges = 4096;           // then the cache starts over

bool Plain(const SearchClause& c) {
  if (c.link != ClauseLink::kNone || c.values.empty() || c.param.empty() || c.param[0] == '_') {
    return false;  // chains, _has, and _id/_lastUpdated (read from the resource row)
  }
  for (const SearchValue& v : c.values) {
    if (v.prefix == Prefix::kNe) {
      return false;
    }
  }
  return c.modifier.empty() || c.modifier == "exact";
}

}  // namespace

int DateDriverEstimates::Candidate(const SearchQuery& q) {
  if (!q.sort.empty() || !q.compartment_type.empty() || q.type.empty() || q.clauses.size() < 2) {
    return -1;
  }
  int date = -1;
  bool ranked_higher = false;
  for (size_t i = 0; i < q.clauses.size(); ++i) {
    const SearchClause& c = q.clauses[i];
    if (c.link != ClauseLink::kNone || c.type == fhir::SearchParamType::kReference) {
      return -1;  // a chain, _has or reference drives, ranked above any token
    }
    if (!Plain(c)) {
      continue;
    }
    switch (c.type) {
      case fhir::SearchParamType::kDate:
        if (c.values.size() != 1 || date >= 0) {
          return -1;  // one date clause of one value: one range to count
        }
        date = static_cast<int>(i);
        break;
      case fhir::SearchParamType::kToken:
      case fhir::SearchParamType::kString:
      case fhir::SearchParamType::kUri:
        ranked_higher = true;
        break;
      default:
        break;
    }
  }
  return ranked_higher ? date : -1;
}

StatusOr<std::string> DateDriverEstimates::Choose(Connection& conn, const SearchQuery& q,
                                                  int64_t now_us) {
  const int date = Candidate(q);
  if (date < 0) {
    return std::string();
  }
  const SearchClause& c = q.clauses[static_cast<size_t>(date)];
  // The parameter's rows first: a range predicate such as `ge` (`high > ?` over an index on
  // (param, low, high)) is not bounded by the index, so counting its rows, and driving by
  // them, reads every row of the parameter up to the cap.
  internal::ArgList p(SqliteDialect());
  const std::string param_sql = "SELECT COUNT(*) FROM (SELECT 1 FROM sp_date t WHERE t.param" +
                                internal::ParamKeysSql(q.type, c.param, p) + " LIMIT " +
                                p.Arg(kMaxParamRows + 1) + ")";
  ASSIGN_OR_RETURN(int64_t param_rows, Cached(conn, param_sql, p.args(), now_us));
  if (param_rows > kMaxParamRows) {
    return std::string();
  }
  internal::ArgList a(SqliteDialect());
  ASSIGN_OR_RETURN(std::string pred, internal::ValuePredicate(c, c.values[0], now_us, a));
  const std::string sql = "SELECT COUNT(*) FROM (SELECT 1 FROM sp_date t WHERE t.param" +
                          internal::ParamKeysSql(q.type, c.param, a) + " AND " + pred + " LIMIT " +
                          a.Arg(kMaxDriverRows) + ")";
  ASSIGN_OR_RETURN(int64_t rows, Cached(conn, sql, a.args(), now_us));
  return rows < kMaxDriverRows ? c.param : std::string();
}

StatusOr<int64_t> DateDriverEstimates::Cached(Connection& conn, const std::string& sql,
                                              const std::vector<SqlArg>& args, int64_t now_us) {
  std::string key = sql;
  for (const SqlArg& arg : args) {
    key += '\x1f' + EncodeSortValue(&arg);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(key);
    if (it != counts_.end() && now_us - it->second.taken_us < kLifetimeUs) {
      return it->second.n;
    }
  }
  Count count;
  count.taken_us = now_us;
  RETURN_IF_ERROR(InReadTxn(conn, [&]() -> Status {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
    s.BindAll(args);
    ASSIGN_OR_RETURN(bool row, s.Step());
    count.n = row ? s.Int(0) : 0;
    return Status::Ok();
  }));
  std::lock_guard<std::mutex> lock(mu_);
  if (counts_.size() >= kMaxRanges) {
    counts_.clear();
  }
  counts_[key] = count;
  return count.n;
}

}  // namespace carechart::store::sqlite
