// The search compiler: SearchQuery -> one SQL statement over the shared schema (see
// sqlite_schema.cc for the tables). Backend-neutral; SQL text never contains user input, which
// is always bound through CompiledSql::args.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sql_dialect.h"

namespace carechart::store {

enum class SearchSqlMode {
  // columns: type, id, version, last_updated, deleted, method, body, pk, then one column per
  // sort key (the values a PageCursor records); sorted, at most count + 1 rows (the extra row
  // tells that a next page exists), after the query's cursor or offset
  kPage,
  kCount,  // one column: the number of matches (at most kEstimateLimit for estimate_total)
  kIds,    // one column: id; at most `limit` rows (conditional interactions)
  // one column: pk, in the default order (unsorted queries only), after the query's cursor; at
  // most `limit` rows when `limit` > 0 — a page (and a first page's total) from one evaluation
  // of the key set, reading index rows only where it can (decisions D49)
  kKeys,
};

// Compiles `query`. `limit` is used by kIds and kKeys only. `now_us` anchors the `ap` date prefix.
StatusOr<CompiledSql> CompileSearch(const SearchQuery& query, const SqlDialect& dialect,
                                    SearchSqlMode mode, int64_t now_us, int limit = 0);

// When `query` holds a code and a value that the code-value-quantity tuples can answer
// (decisions D58), that composite clause: one value whose components are the code (a token)
// and the threshold (a quantity). The store decides whether the tuples drive (D60).
std::optional<SearchClause> CompositeTupleOf(const SearchQuery& query);

// How strongly a clause drives the key set, as the compiler ranks it: 3 a reference, 2 a token,
// string, uri, composite, chain or `_has`, 1 a date, number or quantity, 0 never (`:missing`,
// `:not`, `:text`, `:contains`, `ne`, `_id`/`_lastUpdated`). The highest drives; a store that
// estimates otherwise says so (SearchQuery::driver_param, decisions D110).
int DriverRank(const SearchClause& clause);

// When `query` is `Patient?_has:T:patient:<codes>` alone (T with R4's `patient`, a plain token
// clause whose every value names a code; no sort, _since or compartment), the linked token
// clause: its key listing may walk the current Patients in id order (decisions D88), which the
// store chooses by setting SearchQuery::walk_has_patients. nullptr otherwise.
const SearchClause* PatientWalkClause(const SearchQuery& query);

// Whether a completed reindex of `type` (empty: every type) and `param` (empty: every parameter)
// rewrote the composite tuples that CompositeTupleOf's plans read: a store that recorded them
// incomplete may then use them (decisions D62).
bool ReindexFillsPlannedTuples(const std::string& type, const std::string& param);

// One level of _include/_revinclude: the current resources that `sources` (resource keys) refer
// to, or that refer to them, per `specs` — one statement for all of them. Columns: type, id,
// version, last_updated, deleted, method, body, pk; at most `limit` rows.
StatusOr<CompiledSql> CompileIncludes(const std::vector<IncludeSpec>& specs,
                                      const std::vector<int64_t>& source_pks,
                                      const SqlDialect& dialect, int limit);

// PageCursor::values: a sort value as read from a page row ("n" NULL, "i<int>", "r<real>",
// "s<text>"), and back.
std::string EncodeSortValue(const SqlArg* value);  // nullptr: NULL

}  // namespace carechart::store
