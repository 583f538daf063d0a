// The search compiler: SearchQuery -> one SQL statement over the shared schema (see
// sqlite_schema.cc for the tables). Backend-neutral; SQL text never contains user input, which
// is always bound through CompiledSql::args.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sql_dialect.h"

namespace carechart::store {

enum class SearchSqlMode {
  kPage,   // columns: type, id, version, last_updated, deleted, method, body; sorted and paged
  kCount,  // one column: the number of matches
  kIds,    // one column: id; at most `limit` rows (conditional interactions)
};

// Compiles `query`. `limit` is used by kIds only. `now_us` anchors the `ap` date prefix.
StatusOr<CompiledSql> CompileSearch(const SearchQuery& query, const SqlDialect& dialect,
                                    SearchSqlMode mode, int64_t now_us, int limit = 0);

}  // namespace carechart::store
