// SMART scope enforcement inside the FHIR API (the scopes themselves: src/auth/scopes.h).
// Every request with a Principal is checked at type level before it is routed (403 naming the
// missing scope), and every resource the API emits passes ResourceInScope() first: search
// matches and includes, history entries, compartment and $everything results, reads. Without a
// Principal (in-process work: import, HL7, demo loading, unit tests) nothing is checked.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/message.h"
#include "rest/bundle_processing.h"
#include "rest/context.h"

namespace carechart::rest {

// The type-level check for the request routed by `parts` (the path below /fhir): 403 with an
// OperationOutcome naming the missing scope, or nullopt when the scopes allow it.
std::optional<http::Response> CheckRequestScopes(const RequestContext& ctx,
                                                 const std::vector<std::string>& parts);

// The write entries of a transaction (its GET entries are routed, and checked, one by one).
std::optional<http::Response> CheckTransactionScopes(const RequestContext& ctx,
                                                     const ParsedBundle& bundle);

// May this stored resource be returned to the request's Principal? (read or search scope on its
// type, and its category for granular scopes). True without a Principal.
bool ResourceInScope(const RequestContext& ctx, const store::ResourceVersion& version);

}  // namespace carechart::rest
