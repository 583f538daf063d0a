// Following a search's _include/_revinclude from the page's matches, level by level (up to
// kMaxIncludeDepth, at most kMaxIncluded resources, each once and never a match): the walk is the
// same on every backend; only running one level's compiled SQL differs.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/resource_store.h"
#include "store/search_query.h"
#include "store/search_sql.h"
#include "store/sql_dialect.h"

namespace carechart::store {

// Runs one level's statement; returns each row's pk (column 7) and version (columns 0..6).
using IncludeLevelRunner =
    std::function<StatusOr<std::vector<std::pair<int64_t, ResourceVersion>>>(const CompiledSql&)>;

Status FollowIncludes(const SearchQuery& q, const std::vector<int64_t>& match_pks,
                      const SqlDialect& dialect, const IncludeLevelRunner& run_level,
                      std::vector<ResourceVersion>* included);

}  // namespace carechart::store
