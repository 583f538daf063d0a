// FHIR terminology operations over the ValueSets and CodeSystems stored in the server (there is
// no external terminology service): ValueSet/$expand (type and instance level, GET and POST;
// url, valueSet, filter, count, offset), CodeSystem/$lookup and ValueSet/$validate-code.
// Expansion follows what the search's :in modifier knows (store/search_terminology.h) and keeps
// displays: compose.include of concept lists, of whole stored CodeSystems, of filters (concept
// is-a / descendent-of / in, and property = / in over concept properties) and of other
// ValueSets, minus compose.exclude; or a stored expansion. Used by the web apps' code search.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/message.h"
#include "store/resource_store.h"

namespace carechart::rest {

// The answer to a terminology operation, or nullopt when `parts` (the path under /fhir) names
// none. Errors are OperationOutcomes naming the parameter.
std::optional<http::Response> HandleTerminologyOperation(store::ResourceStore& store,
                                                         const http::Request& request,
                                                         const std::vector<std::string>& parts);

}  // namespace carechart::rest
