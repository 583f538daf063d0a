// Internals of the search compiler shared by search_sql.cc and search_sql_values.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sql_dialect.h"

namespace carechart::store::internal {

// Accumulates bound arguments; Arg() returns the placeholder to splice into the SQL text.
class ArgList {
 public:
  explicit ArgList(const SqlDialect& dialect) : dialect_(dialect) {}
  // Typed overloads (not one SqlArg parameter): constructing the variant in place avoids a
  // GCC 12 -Wmaybe-uninitialized false positive.
  std::string Arg(int64_t value) {
    args_.emplace_back(std::in_place_type<int64_t>, value);
    return Last();
  }
  std::string Arg(double value) {
    args_.emplace_back(std::in_place_type<double>, value);
    return Last();
  }
  std::string Arg(std::string value) {
    args_.emplace_back(std::in_place_type<std::string>, std::move(value));
    return Last();
  }
  const SqlDialect& dialect() const { return dialect_; }
  std::vector<SqlArg>& args() { return args_; }

 private:
  std::string Last() const { return dialect_.Placeholder(static_cast<int>(args_.size())); }

  const SqlDialect& dialect_;
  std::vector<SqlArg> args_;
};

// The sp_* table holding parameters of `type`, or nullptr for special.
const char* IndexTable(fhir::SearchParamType type);

// A predicate over the index row alias `t` matching one value of `clause`, e.g.
// "(t.sys = ?3 AND t.code = ?4)". Fails for unsupported modifiers.
StatusOr<std::string> ValuePredicate(const SearchClause& clause, const SearchValue& value,
                                     int64_t now_us, ArgList& args);

// A date predicate of a stored range [low_col, high_col] against the value's range and prefix
// (FHIR R4 search semantics); also used for _lastUpdated on the resource row.
std::string DatePredicate(const std::string& low_col, const std::string& high_col,
                          const SearchValue& value, int64_t now_us, ArgList& args);

// " FROM sp_date t WHERE ..." or " FROM (<SELECT t.res AS res ...> UNION ALL ...) t": the
// index rows (or their keys, column res) matching any value of the date clause `c`, each
// value's rows as bounded ranges of the (param, low, high) index where its prefix implies them
// (a plain `high > ?` would read every row of the parameter before its range: a second for an
// Observation date at 10,000 patients). `keys` gives the parameter's keys (" = ?k" or
// " IN (...)") afresh at each call, once per range. Both schemas keep each date parameter's
// longest closed range in sp_date_span and the rows without an end in the partial index
// sp_date_open_end (SQLite migration 11, PostgreSQL 12; decisions D111, D113), so a lower bound
// on `high` bounds `low` too.
StatusOr<std::string> DateIndexRows(const SearchClause& c, int64_t now_us, ArgList& args,
                                    const std::function<StatusOr<std::string>()>& keys);

// Whether resource_key_id (SQLite migration 9, decisions D92) holds the rows of `type`: the
// types a chain usually targets that are not records of care (Patient, Practitioner, ...), one
// resource in a thousand at 10 k patients. The list is the index's condition in
// sqlite_schema.cc; SearchSqlPlan.ChainTargetsIdsComeFromTheKeyIndex checks that they agree.
bool KeyIdIndexed(std::string_view type);

// Escapes LIKE wildcards ('%', '_', '\') with '\'.
std::string EscapeLike(const std::string& text);

}  // namespace carechart::store::internal
