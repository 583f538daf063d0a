// Search-family handlers beyond HandleSearch (interactions.h), and the searchset Bundle they
// share: compartment search and Patient/$everything.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "http/message.h"
#include "rest/context.h"
#include "store/search_query.h"

namespace carechart::rest {

using SearchParamList = std::vector<std::pair<std::string, std::string>>;

// GET [base]/Patient/[id]/[type] and /Patient/[id]/* (ctx.type "Patient", ctx.id set).
http::Response HandleCompartmentSearch(RequestContext& ctx, const std::string& member_type);
// GET [base]/Patient/[id]/$everything.
http::Response HandleEverything(RequestContext& ctx);

// Adds the form body of a POST .../_search to `params` (415 for another Content-Type).
Status AddFormParams(const RequestContext& ctx, SearchParamList& params);

// True when the request asks for lenient handling of unknown parameters (Prefer).
bool PrefersLenient(const http::Request& request);

// Registers the SearchParameter resources stored in `store` as run-time search parameters
// (fhir::ApplySearchParameterResource); called once when the API starts.
void LoadStoredSearchParameters(store::ResourceStore& store);

// Runs `query` and answers a searchset Bundle: matches, includes (mode "include"), an
// OperationOutcome entry naming `ignored` parameters, and self/first/next links built on
// `link_path` from `used` (the parameters actually applied; _page/_count are set per link).
http::Response SearchsetResponse(RequestContext& ctx, store::SearchQuery& query,
                                 const std::string& link_path, SearchParamList used,
                                 const std::vector<std::string>& ignored);

}  // namespace carechart::rest
