// Where the REST layer asks the access policy (src/access): every point at which a resource
// leaves the API (read, vread, history, search matches and includes, compartment search,
// $everything) or enters it (create, update, patch, delete), plus the request's audit entry.
// All of these are no-ops for in-process requests (no principal): import, HL7, start-up.
#pragma once

#include <string>

#include "access/access_control.h"
#include "http/message.h"
#include "rest/context.h"

namespace carechart::rest {

// The request's guard (created on first use from ctx.principal and ctx.access).
access::RequestGuard& Guard(RequestContext& ctx);

// Type-level check (the role table): an error response when the role may not touch the type.
std::optional<http::Response> DenyType(RequestContext& ctx, access::Action action,
                                       const std::string& type);

// A stored version about to be served: an error response when it may not be seen; otherwise
// `version.body` is replaced by what may be served (de-identified for researchers).
std::optional<http::Response> GuardRead(RequestContext& ctx, store::ResourceVersion& version,
                                        access::Action action = access::Action::kRead);

// A write: `resource` is the new content (null for a delete), `existing` the current version
// (null when none). An error response when the write is not allowed.
std::optional<http::Response> GuardWrite(RequestContext& ctx, access::Action action,
                                         const json::Value* resource,
                                         const store::ResourceVersion* existing);

// The same for one entry of a transaction Bundle, as a Status (kForbidden when refused).
Status GuardEntry(RequestContext& ctx, access::Action action, const json::Value* resource,
                  const store::ResourceVersion* existing);

// Search: narrows the query before it runs and filters its result afterwards.
void GuardSearchQuery(RequestContext& ctx, store::SearchQuery& query);
void GuardSearchResult(RequestContext& ctx, store::SearchResult& result, access::Action action);

// After routing: flags responses that emergency access enabled (header and, for Bundles and
// resources, nothing else is changed) and records the request's AuditEvent for reads.
void FinishAccess(RequestContext& ctx, http::Response& response);

// X-Carechart-Facility may only name one of the signed-in user's facilities (roles reaching
// every facility may name any): 403 otherwise.
std::optional<http::Response> CheckFacilityClaim(RequestContext& ctx);

// True for AuditEvent writes the API refuses (405): the audit trail is append-only.
std::optional<http::Response> RefuseAuditEventChange(const RequestContext& ctx);

// Break-the-glass and its review (emergency_access.cc).
http::Response HandleEmergencyAccess(RequestContext& ctx);  // POST Patient/[id]/$emergency-access
http::Response HandleEmergencyReviewQueue(RequestContext& ctx);  // GET $emergency-access-review
http::Response HandleEmergencyReview(
    RequestContext& ctx);  // POST Basic/[id]/$emergency-access-review

}  // namespace carechart::rest
