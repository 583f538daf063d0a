#include "store/sqlite_date_driver.h"

#include "store/search_param_keys.h"
#include "store/search_sql.h"
#include "store/search_sql_internal.h"

namespace carechart::store::sqlite {
namespace {

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
