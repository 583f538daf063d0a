// Partial parsing of a JSON object: only the top-level members a caller asks for become a tree.
// Kept apart from json.h so that the many files including json.h do not depend on it.
#pragma once

#include <functional>
#include <string_view>

#include "core/status.h"
#include "fhir/json.h"

namespace carechart::json {

// Parses only the top-level members of a JSON object whose key `keep` accepts; the others are
// skipped without being converted or fully validated (simdjson on-demand). For reading a few
// facts out of a stored resource (the access check) without building the tree of the whole
// body. kInvalid when the text is not a JSON object.
StatusOr<Value> ParseTopLevelMembers(std::string_view text,
                                     const std::function<bool(std::string_view)>& keep);

}  // namespace carechart::json
