#include "store/sqlite_token_systems.h"

#include "store/index_keys.h"
#include "store/search_param_keys.h"

namespace carechart::store::sqlite {
namespace {

// A clause the one-code join could drive once it knows the code's system.
bool SystemLessCode(const SearchQuery& q, const SearchClause& c) {
  return !q.type.empty() && q.compartment_type.empty() && c.link == ClauseLink::kNone &&
         c.type == fhir::SearchParamType::kToken && c.modifier.empty() && c.values.size() == 1 &&
         !c.values[0].has_system && !c.values[0].code.empty() &&
         internal::StoredUnderOwnKey(q.type, c.param);
}

// The one system key of the code's rows, or nothing when it has none or several: the smallest,
// then whether any row has a larger one.
StatusOr<std::optional<int64_t>> SoleSystem(Connection& conn, int64_t param,
                                            const std::string& code) {
  ASSIGN_OR_RETURN(Statement first, conn.Prepare("SELECT sys FROM sp_token WHERE param = ?1 AND "
                                                 "code = ?2 ORDER BY sys LIMIT 1"));
  first.Bind(1, param);
  first.Bind(2, code);
  ASSIGN_OR_RETURN(bool any, first.Step());
  if (!any) {
    return std::optional<int64_t>();
  }
  const int64_t sys = first.Int(0);
  ASSIGN_OR_RETURN(Statement other, conn.Prepare("SELECT 1 FROM sp_token WHERE param = ?1 AND "
                                                 "code = ?2 AND sys > ?3 LIMIT 1"));
  other.Bind(1, param);
  other.Bind(2, code);
  other.Bind(3, sys);
  ASSIGN_OR_RETURN(bool several, other.Step());
  return several ? std::optional<int64_t>() : std::optional<int64_t>(sys);
}

}  // namespace

StatusOr<std::optional<SearchQuery>> WithSoleTokenSystems(Connection& conn,
                                                          const SearchQuery& query) {
  std::optional<SearchQuery> out;
  for (size_t i = 0; i < query.clauses.size(); ++i) {
    const SearchClause& c = query.clauses[i];
    if (!SystemLessCode(query, c)) {
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<int64_t> sys,
                     SoleSystem(conn, ParamKey(query.type, c.param), c.values[0].code));
    if (!sys) {
      continue;
    }
    if (!out) {
      out = query;
    }
    out->clauses[i].values[0].sole_system_key = sys;
  }
  return out;
}

}  // namespace carechart::store::sqlite
