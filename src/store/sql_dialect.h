// What the search compiler needs to know about a SQL engine. SQLite and PostgreSQL share one
// schema and one compiler (search_sql.h); only these details differ between them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace carechart::store {

// A value bound to a statement parameter. User input only ever reaches SQL this way.
using SqlArg = std::variant<int64_t, double, std::string>;

struct CompiledSql {
  std::string sql;
  std::vector<SqlArg> args;  // args[i] binds placeholder i + 1
  // A key listing (SearchSqlMode::kKeys) in another order than the keys' (a chain walked by
  // target, decisions D75): its second column is the order's value, which the next page's
  // cursor carries beside the key.
  bool ordered_by_value = false;
};

class SqlDialect {
 public:
  virtual ~SqlDialect() = default;
  // The placeholder of the 1-based argument `n`; it may appear several times in one statement.
  virtual std::string Placeholder(int n) const = 0;
  // Operator for a case-insensitive LIKE with '\' as escape ("LIKE" in SQLite, "ILIKE" in
  // PostgreSQL).
  virtual std::string_view CaseInsensitiveLike() const = 0;
  // How an index-row column is written inside a correlated probe (EXISTS ... WHERE t.res = r.pk),
  // given "t.code": SQLite needs "+t.code" or it may walk the (param, value) index for every
  // outer row instead of seeking the (res, param) primary key.
  virtual std::string ProbeColumn(std::string_view column) const { return std::string(column); }
  // The column by which a sharded PostgreSQL (Citus) keeps each index row on the shard of the
  // resource that owns it ("compartment_key", decisions D46), or "" (SQLite has none). When
  // set, the search compiler names it beside every join of an index row's `res` to its
  // resource's `pk`, so that the join is co-located; an empty column leaves the SQL unchanged.
  virtual std::string_view CoLocationColumn() const { return {}; }
  // A subquery yielding the integers of a list bound as one argument (see IntListArg), e.g.
  // "SELECT value FROM json_each(?3)" in SQLite, "SELECT unnest(?3::bigint[])" in PostgreSQL.
  // One statement text for any list length keeps the prepared-statement cache small.
  virtual std::string IntListSubquery(const std::string& placeholder) const = 0;
  virtual std::string IntListArg(const std::vector<int64_t>& values) const = 0;
};

// SQLite: "?N" placeholders; LIKE is case-insensitive for ASCII.
const SqlDialect& SqliteDialect();

}  // namespace carechart::store
