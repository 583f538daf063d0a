// Terminology-based token modifiers (:in, :not-in, :above, :below) answered from the ValueSet and
// CodeSystem resources stored in the server itself (Carechart has no external terminology
// service; see docs/search.md).
#pragma once

#include "core/status.h"
#include "store/resource_store.h"
#include "store/search_query.h"

namespace carechart::store {

// The most codes one expansion may produce (each becomes a bound SQL argument).
constexpr size_t kMaxExpandedCodes = 5000;

// Rewrites every token clause of `query` (chained and _has clauses too) that uses
//   :in=<ValueSet url>      into the plain code list of the ValueSet's expansion
//   :not-in=<ValueSet url>  into :not with that list
//   :below=system|code      into the code and its descendants in the stored CodeSystem `system`
//   :above=system|code      into the code and its ancestors
// ValueSets expand from expansion.contains when present, else from compose.include (listed
// concepts, a whole system — every code of a stored complete CodeSystem, else any code of the
// system — is-a/descendent-of filters over a stored CodeSystem, other ValueSets), minus
// compose.exclude. A hierarchy is the `concept` nesting of a stored CodeSystem. kInvalid naming
// the parameter when the ValueSet or CodeSystem is not stored, or the definition cannot be
// expanded (e.g. an unsupported filter).
Status ExpandTerminologyModifiers(ResourceStore& store, SearchQuery& query);

}  // namespace carechart::store
