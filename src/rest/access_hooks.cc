// The REST layer's calls into the access policy (access_hooks.h).
#include "rest/access_hooks.h"

#include <algorithm>
#include <tuple>

#include "access/break_glass.h"
#include "rest/outcome.h"
#include "rest/scope_check.h"

namespace carechart::rest {

access::RequestGuard& Guard(RequestContext& ctx) {
  if (!ctx.guard) {
    ctx.guard = std::make_shared<access::RequestGuard>(ctx.access_control, ctx.principal,
                                                       ctx.facility_id, ctx.http.remote_address);
  }
  return *ctx.guard;
}

std::optional<http::Response> DenyType(RequestContext& ctx, access::Action action,
                                       const std::string& type) {
  if (Status s = Guard(ctx).CheckType(action, type); !s.ok()) {
    return ErrorResponse(s);
  }
  return std::nullopt;
}

std::optional<http::Response> GuardRead(RequestContext& ctx, store::ResourceVersion& version,
                                        access::Action action) {
  access::RequestGuard& g = Guard(ctx);
  if (!g.enforced()) {
    return std::nullopt;
  }
  if (Status s = g.CheckStored(action, version); !s.ok()) {
    return ErrorResponse(s);
  }
  if (g.rewrites_bodies() && !version.deleted) {
    version.body = g.Render(version.body);
  }
  return std::nullopt;
}

namespace {

// Granular SMART scopes bound writes too (the role table and reach come after).
Status WriteScopes(const RequestContext& ctx, access::Action action, const json::Value* resource,
                   const store::ResourceVersion* existing) {
  char letter = action == access::Action::kCreate   ? 'c'
                : action == access::Action::kUpdate ? 'u'
                : action == access::Action::kDelete ? 'd'
                                                    : 0;
  return letter == 0 ? Status::Ok() : CheckWriteScopes(ctx, letter, resource, existing);
}

}  // namespace

std::optional<http::Response> GuardWrite(RequestContext& ctx, access::Action action,
                                         const json::Value* resource,
                                         const store::ResourceVersion* existing) {
  if (Status s = WriteScopes(ctx, action, resource, existing); !s.ok()) {
    return ErrorResponse(s);
  }
  access::RequestGuard& g = Guard(ctx);
  if (!g.enforced()) {
    return std::nullopt;
  }
  if (existing != nullptr && !existing->deleted) {
    if (Status s = g.CheckStored(action, *existing); !s.ok()) {
      return ErrorResponse(s);
    }
  }
  if (resource != nullptr) {
    if (Status s = g.CheckWrite(action, *resource); !s.ok()) {
      return ErrorResponse(s);
    }
  }
  return std::nullopt;
}

Status GuardEntry(RequestContext& ctx, access::Action action, const json::Value* resource,
                  const store::ResourceVersion* existing) {
  RETURN_IF_ERROR(WriteScopes(ctx, action, resource, existing));
  access::RequestGuard& g = Guard(ctx);
  if (!g.enforced()) {
    return Status::Ok();
  }
  if (existing != nullptr && !existing->deleted) {
    if (existing->type == "AuditEvent") {  // the audit trail is append-only, in Bundles too
      return {StatusCode::kMethodNotAllowed,
              "AuditEvent/" + existing->id +
                  " may not be changed or deleted: the audit trail is "
                  "append-only"};
    }
    RETURN_IF_ERROR(g.CheckStored(action, *existing));
  }
  return resource != nullptr ? g.CheckWrite(action, *resource) : Status::Ok();
}

void GuardSearchQuery(RequestContext& ctx, store::SearchQuery& query) {
  NarrowSearchToScopes(ctx, query);  // granular scopes: a category clause, or no total
  access::RequestGuard& g = Guard(ctx);
  g.RestrictSearch(query);
  if (g.enforced() && !g.exact_search()) {
    // Rows are checked one by one after paging: a count would include rows this user may not
    // see (and leak how many there are), so none is given. Pages may come out shorter.
    query.want_total = false;
  }
}

void GuardSearchResult(RequestContext& ctx, store::SearchResult& result, access::Action action) {
  access::RequestGuard& g = Guard(ctx);
  if (g.FilterResult(result, action) > 0) {
    result.total = -1;
  }
}

namespace {

// The audit subtype of a routed read (restful-interaction codes), or empty for writes (those
// are audited in their own transaction).
std::string ReadSubtype(const RequestContext& ctx) {
  const std::string& m = ctx.http.method;
  bool search_post = m == "POST" && ctx.http.path.ends_with("/_search");
  if (m != "GET" && m != "HEAD" && !search_post) {
    return ctx.http.path.find('$') != std::string::npos ? "operation" : "";
  }
  if (ctx.http.path.find('$') != std::string::npos) {
    return "operation";
  }
  if (ctx.http.path.find("/_history") != std::string::npos) {
    return ctx.version.empty() ? "history-instance" : "vread";
  }
  if (!ctx.id.empty() && ctx.operation.empty() && !search_post &&
      ctx.http.path.find('/', ctx.http.path.find(ctx.id)) == std::string::npos) {
    return "read";
  }
  return ctx.type.empty() ? "search-system" : "search-type";
}

}  // namespace

// A refused write's subtype and AuditEvent.action (writes that succeed are audited with them).
std::pair<std::string, char> WriteSubtype(const std::string& method) {
  if (method == "POST") {
    return {"create", 'C'};
  }
  if (method == "PUT") {
    return {"update", 'U'};
  }
  if (method == "PATCH") {
    return {"patch", 'U'};
  }
  if (method == "DELETE") {
    return {"delete", 'D'};
  }
  return {"", 'R'};
}

void FinishAccess(RequestContext& ctx, http::Response& response) {
  if (!ctx.principal || ctx.access_control == nullptr) {
    return;
  }
  access::RequestGuard& g = Guard(ctx);
  if (g.emergency_used()) {
    response.set_header(access::kEmergencyHeader,
                        g.consent_overridden() ? "consent-overridden" : "granted");
    response.set_header("Warning", "199 carechart \"" + g.emergency_note() + "\"");
  }
  std::string subtype = ReadSubtype(ctx);
  char action = subtype == "operation" ? 'E' : 'R';
  if (subtype.empty() && (response.status == 401 || response.status == 403)) {
    std::tie(subtype, action) = WriteSubtype(ctx.http.method);
  }
  if (!subtype.empty()) {  // (denials the guard made are audited already)
    g.AuditAccess(action, subtype, ctx.http.target, response.status);
  }
}

std::optional<http::Response> CheckFacilityClaim(RequestContext& ctx) {
  access::RequestGuard& g = Guard(ctx);
  if (!g.enforced() || g.reaches_everyone()) {
    return std::nullopt;
  }
  const auto& mine = g.who()->facility_ids;
  if (std::find(mine.begin(), mine.end(), ctx.facility_id) != mine.end()) {
    return std::nullopt;
  }
  return ErrorResponse(
      g.DenyOperation("X-Carechart-Facility", "Organization/" + ctx.facility_id,
                      "X-Carechart-Facility names Organization/" + ctx.facility_id +
                          ", which is not one of the facilities of " + g.who()->user_id));
}

std::optional<http::Response> RefuseAuditEventChange(const RequestContext& ctx) {
  const std::string& m = ctx.http.method;
  if (ctx.type != "AuditEvent" || !(m == "PUT" || m == "PATCH" || m == "DELETE")) {
    return std::nullopt;
  }
  http::Response r = ErrorResponse(
      {StatusCode::kMethodNotAllowed,
       m + " is not allowed on AuditEvent: the audit trail is append-only (allowed: GET, POST)"});
  r.set_header("Allow", "GET, POST");
  return r;
}

}  // namespace carechart::rest
