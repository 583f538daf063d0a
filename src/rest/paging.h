// Paging parameters shared by search and history: _count and _offset, and the links built from
// them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "rest/bundle_writer.h"

namespace carechart::rest {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Reads a non-negative integer parameter; `out` keeps its value when the parameter is absent.
Status ReadIntParam(const QueryParams& params, const std::string& name, int64_t max, int64_t* out);

// Removes and returns the value of `name` (last occurrence), or empty.
std::string TakeParam(QueryParams& params, const std::string& name);

// "base/path?k=v&..." with values percent-encoded.
std::string LinkUrl(const std::string& base_and_path, const QueryParams& params);

// Adds self, first, previous and next links for a page at `offset` of `count` items.
void AddPagingLinks(BundleWriter& bundle, const std::string& base_and_path, QueryParams params,
                    int64_t offset, int64_t count, bool has_more);

}  // namespace carechart::rest
