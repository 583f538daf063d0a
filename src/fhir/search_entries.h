// Conversion of the values a search parameter selects into index entries (search_entries.cc).
// Internal to cc_fhir.
#pragma once

#include <string_view>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/json.h"
#include "fhir/search_index.h"
#include "fhir/structure.h"

namespace carechart::fhir::search {

// One value a SearchParameter expression selected, with its FHIR type (nullptr for a
// BackboneElement or a value computed by the expression).
struct Node {
  const json::Value* value = nullptr;
  const structure::TypeInfo* type = nullptr;
};

// Appends the entries of parameter `code` of type `type` for one selected value.
void AddEntries(std::string_view code, SearchParamType type, const Node& node, IndexEntries* out);

// The entries of one composite component (all of `type`, made by AddEntries with an empty code)
// as composite parts (see CompositePart for the columns each type uses).
std::vector<CompositePart> CompositeParts(SearchParamType type, const IndexEntries& entries);

// The resource type named by a reference: "Patient/1", ".../Patient/1/_history/2" → "Patient";
// empty for local, urn: and unparsable references.
std::string_view ReferenceType(std::string_view reference);

// What resolve() returns without a store (search_index.cc): a stub {"resourceType": "<Type>"} for
// a reference that names its type (ReferenceType), else nullptr. Enough for `resolve() is X` and
// `resolve().ofType(X)`; the stubs live for the whole process.
const json::Value* ReferenceStub(std::string_view reference);

}  // namespace carechart::fhir::search
