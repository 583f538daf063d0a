// The parameter keys under which a search parameter's index rows are stored. Most parameters
// have rows under their own key; a union of two others (Observation's combo-*, see
// fhir/search_union_params.h) is read from its parts' rows, since the writer stores none for it
// (decisions D59). Databases written before still hold combo-* rows: they are never read (the
// parts' rows hold the same values) and `carechart reindex` removes them.
#pragma once

#include <string>
#include <string_view>

#include "store/search_sql_internal.h"

namespace carechart::store::internal {

// " = ?k", or " IN (?k1, ?k2)" for a union parameter: the comparison of a `param` column with
// the keys of `param` on `type`.
std::string ParamKeysSql(std::string_view type, std::string_view param, ArgList& args);

// "?k", or "?k1, ?k2": the same keys as items of a longer IN list.
std::string ParamKeyList(std::string_view type, std::string_view param, ArgList& args);

// Whether `param`'s rows are stored under its own key alone: each resource then has at most one
// row per value, which a driver walking rows in key order relies on.
bool StoredUnderOwnKey(std::string_view type, std::string_view param);

}  // namespace carechart::store::internal
