#include "store/sqlite_date_driver.h"

#include "store/search_param_keys.h"
#include "store/search_sql.h"
#include "store/search_sql_internal.h"

namespace carechart::store::sqlite {

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
  ASSIGN_OR_RETURN(int64_t param_rows, counts_.Count(conn, param_sql, p.args(), now_us));
  if (param_rows > kMaxParamRows) {
    return std::string();
  }
  internal::ArgList a(SqliteDialect());
  ASSIGN_OR_RETURN(std::string pred, internal::ValuePredicate(c, c.values[0], now_us, a));
  const std::string sql = "SELECT COUNT(*) FROM (SELECT 1 FROM sp_date t WHERE t.param" +
                          internal::ParamKeysSql(q.type, c.param, a) + " AND " + pred + " LIMIT " +
                          a.Arg(kMaxDriverRows) + ")";
  ASSIGN_OR_RETURN(int64_t rows, counts_.Count(conn, sql, a.args(), now_us));
  return rows < kMaxDriverRows ? c.param : std::string();
}

}  // namespace carechart::store::sqlite
