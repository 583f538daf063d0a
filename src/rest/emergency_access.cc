// Break-the-glass (docs/access-policy.md, "Emergency access"):
//   POST [base]/Patient/[id]/$emergency-access            Parameters{reason}: opens a grant
//   GET  [base]/$emergency-access-review                  the privacy officer's queue
//   POST [base]/Basic/[id]/$emergency-access-review       Parameters{note}: marks it reviewed
// Grants are Basic resources (access/break_glass.h) written by the server; access closes by
// itself when the grant's end passes (checked on each request).
#include "access/break_glass.h"
#include "rest/access_hooks.h"
#include "rest/bundle_writer.h"
#include "rest/outcome.h"
#include "rest/resource_prep.h"
#include "rest/write_support.h"

namespace carechart::rest {
namespace {

http::Response PostOnly(const RequestContext& ctx, const char* what) {
  http::Response r =
      ErrorResponse({StatusCode::kMethodNotAllowed,
                     ctx.http.method + " is not allowed on " + what + "; allowed: POST"});
  r.set_header("Allow", "POST");
  return r;
}

// The valueString of the named parameter of a Parameters body ("" when absent).
StatusOr<std::string> StringParameter(const RequestContext& ctx, const std::string& name) {
  ParsedBody body = ParseJsonBody(ctx);
  if (body.error) {
    if (ctx.http.body.empty()) {
      return std::string();
    }
    return InvalidError("the body must be a Parameters resource (application/fhir+json)");
  }
  if (body.resource.string_at("resourceType") != "Parameters") {
    return InvalidError("the body must be a Parameters resource", "resourceType");
  }
  const json::Value* params = body.resource.find("parameter");
  if (params == nullptr || !params->is_array()) {
    return std::string();
  }
  for (const json::Value& p : params->items()) {
    if (p.string_at("name") == name) {
      return std::string(p.string_at("valueString"));
    }
  }
  return std::string();
}

// The caller's role row, or an error response when there is no signed-in user.
StatusOr<const access::RolePolicy*> CallerRole(RequestContext& ctx) {
  access::RequestGuard& g = Guard(ctx);
  if (!g.enforced()) {
    return Status(StatusCode::kForbidden,
                  "emergency access needs a signed-in user (this request has no principal)");
  }
  return &ctx.access_control->policy().RoleOf(*g.who());
}

}  // namespace

http::Response HandleEmergencyAccess(RequestContext& ctx) {
  if (ctx.http.method != "POST") {
    return PostOnly(ctx, "$emergency-access");
  }
  auto role = CallerRole(ctx);
  if (!role.ok()) {
    return ErrorResponse(role.status());
  }
  access::RequestGuard& g = Guard(ctx);
  if (!(*role)->break_glass) {
    return ErrorResponse(g.DenyOperation("$emergency-access", "Patient/" + ctx.id,
                                         "the role " +
                                             std::string(access::RoleName(g.who()->role)) +
                                             " may not open emergency access"));
  }
  auto patient = ctx.store.Read("Patient", ctx.id);
  if (!patient.ok() || patient->deleted) {
    return ErrorResponse(NotFoundError("Patient/" + ctx.id + " is not known"));
  }
  auto reason = StringParameter(ctx, "reason");
  if (!reason.ok()) {
    return ErrorResponse(reason.status());
  }
  if (reason->empty()) {
    return ErrorResponse(InvalidError(
        "emergency access needs a reason: a Parameters body with parameter 'reason' (valueString)",
        "Parameters.parameter.where(name='reason').valueString"));
  }
  int64_t start = NowMicros();
  int64_t end = start + ctx.access_control->policy().config().emergency_access_seconds * 1'000'000;
  json::Value grant = access::NewGrantResource(*g.who(), ctx.id, *reason, start, end);
  store::PreparedWrite w = PrepareVersion(std::move(grant), ctx, NewId(), 1, "POST");
  g.NoteEmergencyGrant(ctx.id, "Basic/" + w.id, *reason);
  Status s = ctx.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(store::CurrentVersion cur, txn.Current(w.type, w.id));
    if (cur.version != 0) {
      return ConflictError("generated id collided; retry");
    }
    return txn.Put(w);
  });
  if (!s.ok()) {
    return ErrorResponse(s);
  }
  ctx.access_control->Invalidate(ctx.id);
  return WriteResponse(201, AsVersion(w), ctx, true);
}

http::Response HandleEmergencyReviewQueue(RequestContext& ctx) {
  if (ctx.http.method == "POST") {
    // POST [base]/$emergency-access-review with Parameters{grant, note}: the same as
    // POST Basic/[id]/$emergency-access-review (for callers whose scopes are read-only).
    auto grant = StringParameter(ctx, "grant");
    if (!grant.ok()) {
      return ErrorResponse(grant.status());
    }
    std::string id = grant->starts_with("Basic/") ? grant->substr(6) : *grant;
    if (!IsValidId(id)) {
      return ErrorResponse(InvalidError(
          "name the grant to mark reviewed: parameter 'grant' (valueString \"Basic/<id>\")",
          "Parameters.parameter.where(name='grant').valueString"));
    }
    ctx.id = id;
    return HandleEmergencyReview(ctx);
  }
  if (ctx.http.method != "GET" && ctx.http.method != "HEAD") {
    http::Response r = ErrorResponse(
        {StatusCode::kMethodNotAllowed,
         ctx.http.method + " is not allowed on $emergency-access-review; allowed: GET, POST"});
    r.set_header("Allow", "GET, POST");
    return r;
  }
  auto role = CallerRole(ctx);
  if (!role.ok()) {
    return ErrorResponse(role.status());
  }
  access::RequestGuard& g = Guard(ctx);
  if (!(*role)->review_break_glass && g.who()->role != auth::Role::kSystem) {
    return ErrorResponse(g.DenyOperation("$emergency-access-review", "",
                                         "only privacy officers review emergency access"));
  }
  auto pending = ctx.access_control->PendingGrants();
  if (!pending.ok()) {
    return ErrorResponse(pending.status());
  }
  BundleWriter bundle("searchset", ctx);
  bundle.SetTotal(static_cast<int64_t>(pending->size()));
  bundle.AddLink("self", ctx.base_url + "/$emergency-access-review");
  for (const auto& v : *pending) {
    bundle.AddSearchEntry(v, "match");
  }
  http::Response r;
  r.set_header("Content-Type", kFhirJson);
  r.body = bundle.Finish();
  return r;
}

http::Response HandleEmergencyReview(RequestContext& ctx) {
  if (ctx.http.method != "POST") {
    return PostOnly(ctx, "$emergency-access-review");
  }
  auto role = CallerRole(ctx);
  if (!role.ok()) {
    return ErrorResponse(role.status());
  }
  access::RequestGuard& g = Guard(ctx);
  if (!(*role)->review_break_glass && g.who()->role != auth::Role::kSystem) {
    return ErrorResponse(g.DenyOperation("$emergency-access-review", "Basic/" + ctx.id,
                                         "only privacy officers review emergency access"));
  }
  auto note = StringParameter(ctx, "note");
  if (!note.ok()) {
    return ErrorResponse(note.status());
  }
  auto planned = CommitVersion(
      ctx.store, "Basic", ctx.id, std::nullopt,
      [&](const store::CurrentVersion& current) -> StatusOr<PlannedWrite> {
        ASSIGN_OR_RETURN(store::ResourceVersion v, ctx.store.Read("Basic", ctx.id));
        if (v.deleted || v.version != current.version) {
          return NotFoundError("Basic/" + ctx.id + " is not known");
        }
        ASSIGN_OR_RETURN(json::Value grant, json::Parse(v.body));
        if (!access::ParseGrant(grant)) {
          return InvalidError("Basic/" + ctx.id + " is not an emergency access grant");
        }
        access::MarkReviewed(grant, *g.who(), *note, NowMicros());
        PlannedWrite p;
        p.write = PrepareVersion(std::move(grant), ctx, ctx.id, current.version + 1, "PUT");
        return p;
      });
  if (!planned.ok()) {
    return ErrorResponse(planned.status());
  }
  return WriteResponse(200, AsVersion(planned->write), ctx, false);
}

}  // namespace carechart::rest
