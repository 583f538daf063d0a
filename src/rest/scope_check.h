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

// A write (letter 'c', 'u' or 'd'): the content written (null for a delete) and the version it
// replaces (null for a create) must both be inside a scope allowing the letter, so a granular
// scope (patient/Observation.cu?category=laboratory) neither creates nor changes, nor turns into
// or out of, a resource of another category. kForbidden naming the scope otherwise.
Status CheckWriteScopes(const RequestContext& ctx, char letter, const json::Value* resource,
                        const store::ResourceVersion* existing);

// Search: when the token sees only some categories of the searched type, adds a `category`
// clause so that pages and Bundle.total count only what the token may see; when that cannot be
// expressed (system and multi-type searches, types without a `category` parameter), asks for no
// total instead (a count would reveal how many hidden resources exist).
void NarrowSearchToScopes(const RequestContext& ctx, store::SearchQuery& query);

// True when the token's scopes hide some resources of `type` (empty: of any type), so a count
// of them (history totals) must not be shown.
bool ScopesHideSome(const RequestContext& ctx, const std::string& type);

}  // namespace carechart::rest
