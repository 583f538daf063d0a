// Conversion of the values a search parameter selects into index entries (search_entries.cc).
// Internal to cc_fhir.
#pragma once

#include <string_view>

#include "fhir/definitions.h"
#include "fhir/path_eval.h"
#include "fhir/search_index.h"

namespace carechart::fhir::search {

// Appends the entries of parameter `code` of type `type` for one selected value.
void AddEntries(std::string_view code, SearchParamType type, const path::Node& node,
                IndexEntries* out);

}  // namespace carechart::fhir::search
