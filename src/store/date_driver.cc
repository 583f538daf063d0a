#include "store/date_driver.h"

#include "store/search_param_keys.h"
#include "store/search_sql.h"
#include "store/search_sql_internal.h"

namespace carechart::store {

int DateDriverEstimates::Candidate(const SearchQuery& q) {
  if (!q.sort.empty() || !q.compartment_type.empty() || q.type.empty() || q.clauses.size() < 2) {
    return -1;
  }
  int date = -1;
  bool ranked_higher = false;
  for (size_t i = 0; i < q.clauses.size(); ++i) {
    const SearchClause& c = q.clauses[i];
    const int rank = DriverRank(c);
    if (c.link != ClauseLink::kNone || rank > 2) {
      return -1;  // a chain or `_has` (walked plans of their own) or a reference drives
    }
    if (c.type == fhir::SearchParamType::kDate && rank == 1) {
      if (c.values.size() != 1 || date >= 0) {
        return -1;  // one date clause of one value: one range to count
      }
      date = static_cast<int>(i);
    } else if (rank == 2) {
      ranked_higher = true;
    }
  }
  return ranked_higher ? date : -1;
}

StatusOr<int64_t> DateDriverEstimates::PreferredCount(const SqlDialect& dialect,
                                                      const CountStatement& run,
                                                      const std::string& type,
                                                      const SearchClause& c, int64_t now_us) {
  constexpr int64_t kCap = kRowsRatio * kMaxDateRows;
  const char* table = internal::IndexTable(c.type);
  const bool plain = c.type == fhir::SearchParamType::kToken ||
                     c.type == fhir::SearchParamType::kString ||
                     c.type == fhir::SearchParamType::kUri;
  if (table != nullptr && plain && (c.modifier.empty() || c.modifier == "exact")) {
    // Its index rows alone, which exist only for current resources: a resource with two rows
    // of the clause counts twice, which an estimate allows; reading each row's resource (the
    // compiler's count of a one-code join) took ten times as long.
    internal::ArgList a(dialect);
    std::string preds;
    for (const SearchValue& v : c.values) {
      ASSIGN_OR_RETURN(std::string pred, internal::ValuePredicate(c, v, now_us, a));
      preds += (preds.empty() ? "" : " OR ") + pred;
    }
    const std::string sql = std::string("SELECT COUNT(*) FROM (SELECT 1 FROM ") + table +
                            " t WHERE t.param" + internal::ParamKeysSql(type, c.param, a) +
                            " AND (" + preds + ") LIMIT " + a.Arg(kCap + 1) + ") x";
    return counts_.Count(run, sql, a.args(), now_us);
  }
  SearchQuery other;
  other.type = type;
  other.clauses = {c};
  other.total_limit = kCap;
  ASSIGN_OR_RETURN(CompiledSql count, CompileSearch(other, dialect, SearchSqlMode::kCount, now_us));
  ASSIGN_OR_RETURN(int64_t n, counts_.Count(run, count.sql, count.args, now_us));
  return n < 0 ? kCap + 1 : n;  // -1: over the cap
}

StatusOr<std::string> DateDriverEstimates::Choose(const SqlDialect& dialect,
                                                  const CountStatement& run, const SearchQuery& q,
                                                  int64_t now_us) {
  const int date = Candidate(q);
  if (date < 0) {
    return std::string();
  }
  const SearchClause& c = q.clauses[static_cast<size_t>(date)];
  // The range's rows, read as bounded ranges of the index (D111), counted up to a cap.
  internal::ArgList a(dialect);
  ASSIGN_OR_RETURN(std::string rows, internal::DateIndexRows(c, now_us, a, [&] {
                     return StatusOr<std::string>(internal::ParamKeysSql(q.type, c.param, a));
                   }));
  const std::string sql =
      "SELECT COUNT(*) FROM (SELECT 1" + rows + " LIMIT " + a.Arg(kMaxDateRows) + ") x";
  ASSIGN_OR_RETURN(int64_t date_rows, counts_.Count(run, sql, a.args(), now_us));
  if (date_rows < kMaxDriverRows && small_ranges_drive_) {
    return c.param;
  }
  if (date_rows >= kMaxDateRows) {
    return std::string();
  }
  // A wider range drives only where the clause the ranks prefer matches many more resources.
  // That clause's count is capped at a fixed multiple of kMaxDateRows, not of this range, so
  // that it is one cached count per clause (a common code's), whatever the dates asked.
  const SearchClause* preferred = nullptr;
  for (const SearchClause& clause : q.clauses) {
    if (DriverRank(clause) == 2) {
      preferred = &clause;  // the first of the highest rank, as the compiler takes
      break;
    }
  }
  ASSIGN_OR_RETURN(int64_t other_rows, PreferredCount(dialect, run, q.type, *preferred, now_us));
  return other_rows > kRowsRatio * date_rows ? c.param : std::string();
}

}  // namespace carechart::store
