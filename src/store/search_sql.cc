// The search compiler: one statement per page.
//
// Shape of a compiled page query:
//
//   SELECT r.type, r.id, ... FROM
//     (SELECT DISTINCT t.res AS pk FROM sp_token t WHERE t.param = ?1 AND (...)) d  -- driver
//     CROSS JOIN resource r
//   WHERE r.pk = d.pk AND r.type = ?2 AND r.deleted = 0
//     AND EXISTS (SELECT 1 FROM sp_date t WHERE t.res = r.pk AND t.param = ?3 AND (...))
//   ORDER BY <sort keys> NULLS LAST, r.pk LIMIT ?n OFFSET ?m
//
// The most selective-looking positive clause (reference > token/string/uri > date/number/
// quantity) drives the loop through its (param, value...) index; every other clause is a
// correlated EXISTS probing the index-table's primary key (res, param, ...). CROSS JOIN pins
// that join order in SQLite, which has no statistics by default; PostgreSQL treats it as a plain
// join and plans with its own statistics. Without a usable driver the query walks
// resource(type, last_updated).
#include "store/search_sql.h"

#include <cctype>

#include "store/index_keys.h"
#include "store/search_sql_internal.h"

namespace carechart::store {
namespace {

using fhir::SearchParamType;
using internal::ArgList;

class SqliteDialectImpl : public SqlDialect {
 public:
  std::string Placeholder(int n) const override { return "?" + std::to_string(n); }
  std::string_view CaseInsensitiveLike() const override { return "LIKE"; }
  std::string ProbeColumn(std::string_view column) const override {
    return "+" + std::string(column);
  }
};

// Rewrites the index-row columns ("t.x") of a predicate as the dialect's probe columns.
std::string AsProbe(const std::string& pred, const SqlDialect& dialect) {
  std::string out;
  for (size_t i = 0; i < pred.size(); ++i) {
    bool alias =
        pred.compare(i, 2, "t.") == 0 &&
        (i == 0 || !(std::isalnum(static_cast<unsigned char>(pred[i - 1])) || pred[i - 1] == '_'));
    if (!alias) {
      out += pred[i];
      continue;
    }
    size_t end = i + 2;
    while (end < pred.size() &&
           (std::isalnum(static_cast<unsigned char>(pred[end])) || pred[end] == '_')) {
      ++end;
    }
    out += dialect.ProbeColumn(pred.substr(i, end - i));
    i = end - 1;
  }
  return out;
}

bool IsResourceColumnParam(const std::string& param) {
  return param == "_id" || param == "_lastUpdated";
}

int DriverRank(const SearchClause& c) {
  if (IsResourceColumnParam(c.param) || c.modifier == "missing" || c.modifier == "not" ||
      c.modifier == "text" || c.modifier == "contains" || c.values.empty()) {
    return 0;
  }
  for (const SearchValue& v : c.values) {
    if (v.prefix == Prefix::kNe) {
      return 0;
    }
  }
  switch (c.type) {
    case SearchParamType::kReference:
      return 3;
    case SearchParamType::kToken:
    case SearchParamType::kString:
    case SearchParamType::kUri:
      return 2;
    case SearchParamType::kDate:
    case SearchParamType::kNumber:
    case SearchParamType::kQuantity:
      return 1;
    default:
      return 0;
  }
}

// "(pred1 OR pred2 ...)" over the index row alias t.
StatusOr<std::string> ValuesDisjunction(const SearchClause& c, int64_t now_us, ArgList& a) {
  std::string out = "(";
  for (size_t i = 0; i < c.values.size(); ++i) {
    ASSIGN_OR_RETURN(std::string pred, internal::ValuePredicate(c, c.values[i], now_us, a));
    out += (i ? " OR " : "") + pred;
  }
  return out + ")";
}

StatusOr<std::string> ResourceColumnClause(const SearchClause& c, int64_t now_us, ArgList& a) {
  if (!c.modifier.empty()) {
    return InvalidError("modifier :" + c.modifier + " is not supported for " + c.param);
  }
  std::string out = "(";
  for (size_t i = 0; i < c.values.size(); ++i) {
    out += i ? " OR " : "";
    if (c.param == "_id") {
      out += "r.id = " + a.Arg(c.values[i].raw);
    } else {
      out += internal::DatePredicate("r.last_updated", "r.last_updated", c.values[i], now_us, a);
    }
  }
  return out + ")";
}

StatusOr<std::string> ParamKeyOf(const SearchQuery& q, const SearchClause& c, ArgList& a) {
  if (q.type.empty()) {
    return InvalidError("search parameter " + c.param +
                        " needs a resource type (system search supports _id, _lastUpdated, _type)");
  }
  return a.Arg(ParamKey(q.type, c.param));
}

// A correlated condition on r for clause c.
StatusOr<std::string> ExistsClause(const SearchQuery& q, const SearchClause& c, int64_t now_us,
                                   ArgList& a) {
  if (IsResourceColumnParam(c.param)) {
    return ResourceColumnClause(c, now_us, a);
  }
  const char* table = internal::IndexTable(c.type);
  if (table == nullptr) {
    return InvalidError("search parameter " + c.param +
                        " (composite or special) is not supported yet");
  }
  ASSIGN_OR_RETURN(std::string key, ParamKeyOf(q, c, a));
  std::string probe =
      std::string("SELECT 1 FROM ") + table + " t WHERE t.res = r.pk AND t.param = " + key;
  if (c.modifier == "missing") {
    bool missing = !c.values.empty() && c.values[0].raw == "true";
    return (missing ? "NOT EXISTS (" : "EXISTS (") + probe + ")";
  }
  ASSIGN_OR_RETURN(std::string preds, ValuesDisjunction(c, now_us, a));
  return (c.modifier == "not" ? "NOT EXISTS (" : "EXISTS (") + probe + " AND " +
         AsProbe(preds, a.dialect()) + ")";
}

StatusOr<std::string> DriverSubquery(const SearchQuery& q, const SearchClause& c, int64_t now_us,
                                     ArgList& a) {
  ASSIGN_OR_RETURN(std::string key, ParamKeyOf(q, c, a));
  ASSIGN_OR_RETURN(std::string preds, ValuesDisjunction(c, now_us, a));
  return std::string("(SELECT DISTINCT t.res AS pk FROM ") + internal::IndexTable(c.type) +
         " t WHERE t.param = " + key + " AND " + preds + ") d";
}

StatusOr<std::string> SortExpression(const SearchQuery& q, const SortKey& k, ArgList& a) {
  if (k.param == "_id") {
    return std::string("r.id");
  }
  if (k.param == "_lastUpdated") {
    return std::string("r.last_updated");
  }
  const char* table = internal::IndexTable(k.type);
  if (table == nullptr || q.type.empty()) {
    return InvalidError("cannot sort by " + k.param);
  }
  const char* col = "t.value";
  if (k.type == SearchParamType::kDate) {
    col = k.descending ? "t.high" : "t.low";
  } else if (k.type == SearchParamType::kString) {
    col = "t.normalized";
  } else if (k.type == SearchParamType::kToken) {
    col = "t.code";
  } else if (k.type == SearchParamType::kReference) {
    col = "t.target_id";
  } else if (k.type == SearchParamType::kUri) {
    col = "t.uri";
  }
  return std::string("(SELECT ") + (k.descending ? "MAX(" : "MIN(") + col + ") FROM " + table +
         " t WHERE t.res = r.pk AND t.param = " + a.Arg(ParamKey(q.type, k.param)) + ")";
}

StatusOr<std::string> OrderBy(const SearchQuery& q, ArgList& a) {
  std::string out = " ORDER BY ";
  for (const SortKey& k : q.sort) {
    ASSIGN_OR_RETURN(std::string expr, SortExpression(q, k, a));
    out += expr + (k.descending ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
  }
  return out + "r.pk";
}

// FROM and WHERE, shared by the page, count and id queries.
StatusOr<std::string> FromWhere(const SearchQuery& q, int64_t now_us, ArgList& a) {
  int driver = -1, best = 0;
  for (size_t i = 0; i < q.clauses.size(); ++i) {
    int rank = DriverRank(q.clauses[i]);
    if (rank > best) {
      best = rank;
      driver = static_cast<int>(i);
    }
  }
  std::string from = " FROM resource r", where = " WHERE r.deleted = 0";
  if (driver >= 0) {
    ASSIGN_OR_RETURN(std::string sub, DriverSubquery(q, q.clauses[driver], now_us, a));
    from = " FROM " + sub + " CROSS JOIN resource r";
    where += " AND r.pk = d.pk";
  }
  if (!q.type.empty()) {
    where += " AND r.type = " + a.Arg(q.type);
  } else if (!q.types.empty()) {
    where += " AND r.type IN (";
    for (size_t i = 0; i < q.types.size(); ++i) {
      where += (i ? ", " : "") + a.Arg(q.types[i]);
    }
    where += ")";
  }
  for (size_t i = 0; i < q.clauses.size(); ++i) {
    if (static_cast<int>(i) == driver) {
      continue;
    }
    ASSIGN_OR_RETURN(std::string cond, ExistsClause(q, q.clauses[i], now_us, a));
    where += " AND " + cond;
  }
  return from + where;
}

}  // namespace

const SqlDialect& SqliteDialect() {
  static const SqliteDialectImpl dialect;
  return dialect;
}

StatusOr<CompiledSql> CompileSearch(const SearchQuery& query, const SqlDialect& dialect,
                                    SearchSqlMode mode, int64_t now_us, int limit) {
  ArgList a(dialect);
  ASSIGN_OR_RETURN(std::string from_where, FromWhere(query, now_us, a));
  CompiledSql out;
  switch (mode) {
    case SearchSqlMode::kCount:
      out.sql = "SELECT COUNT(*)" + from_where;
      break;
    case SearchSqlMode::kIds:
      out.sql = "SELECT r.id" + from_where + " ORDER BY r.pk LIMIT " + a.Arg(int64_t{limit});
      break;
    case SearchSqlMode::kPage: {
      ASSIGN_OR_RETURN(std::string order, OrderBy(query, a));
      out.sql = "SELECT r.type, r.id, r.version, r.last_updated, r.deleted, r.method, r.body" +
                from_where + order + " LIMIT " + a.Arg(int64_t{query.count});
      out.sql += " OFFSET " + a.Arg(query.offset);
      break;
    }
  }
  out.args = std::move(a.args());
  return out;
}

}  // namespace carechart::store
