// PATCH [type]/[id] and PATCH [type]?search with JSON Patch (http.html#patch).
#include "fhir/validator.h"
#include "rest/access_hooks.h"
#include "rest/interactions.h"
#include "rest/json_patch.h"
#include "rest/outcome.h"
#include "rest/portal_ops.h"
#include "rest/resource_prep.h"
#include "rest/scope_check.h"
#include "rest/write_support.h"

namespace carechart::rest {

http::Response HandlePatch(RequestContext& ctx) {
  std::string_view ct = ctx.http.header("content-type");
  if (http::MediaType(ct) != "application/json-patch+json") {
    return ErrorResponse({StatusCode::kUnsupportedMediaType,
                          "PATCH needs Content-Type application/json-patch+json (JSON Patch); '" +
                              std::string(ct) + "' is not supported"});
  }
  auto patch = json::Parse(ctx.http.body);
  if (!patch.ok()) {
    return ErrorResponse(patch.status());
  }
  if (!patch->is_array()) {
    return ErrorResponse(InvalidError("a JSON Patch document must be an array"));
  }

  if (ctx.id.empty()) {  // conditional patch
    auto ids = MatchConditionalRequest(ctx, "patch");
    if (!ids.ok()) {
      return ErrorResponse(ids.status());
    }
    if (ids->empty()) {
      return ErrorResponse(
          NotFoundError("the conditional patch matches no " + ctx.type + "; it needs exactly one"));
    }
    ctx.id = (*ids)[0];
  }

  std::optional<int64_t> required;
  if (auto h = ctx.http.header("if-match"); !h.empty()) {
    int64_t v = 0;
    if (!ParseIfMatch(h, &v)) {
      return ErrorResponse(InvalidError("If-Match must be a version ETag such as W/\"3\""));
    }
    required = v;
  }
  std::vector<fhir::ValidationIssue> issues;
  auto planned = CommitVersion(
      ctx.store, ctx.type, ctx.id, required,
      [&](const store::CurrentVersion& current) -> StatusOr<PlannedWrite> {
        if (current.version == 0) {
          return NotFoundError(ctx.type + "/" + ctx.id + " is not known");
        }
        if (current.deleted) {
          return Status(StatusCode::kGone, ctx.type + "/" + ctx.id + " has been deleted");
        }
        auto stored = ctx.store.ReadVersion(ctx.type, ctx.id, current.version);
        if (!stored.ok()) {
          return stored.status();
        }
        RETURN_IF_ERROR(CheckWriteScopes(ctx, 'u', nullptr, &*stored));
        RETURN_IF_ERROR(Guard(ctx).CheckStored(access::Action::kUpdate, *stored));
        ASSIGN_OR_RETURN(json::Value resource, json::Parse(stored->body));
        RETURN_IF_ERROR(ApplyJsonPatch(*patch, resource));
        if (resource.string_at("resourceType") != ctx.type || resource.string_at("id") != ctx.id) {
          return UnprocessableError("a patch may not change resourceType or id");
        }
        issues = fhir::Validate(resource, {.expected_type = ctx.type});
        if (fhir::HasErrors(issues)) {
          return FirstError(issues, StatusCode::kUnprocessable);
        }
        RETURN_IF_ERROR(CheckWriteScopes(ctx, 'u', &resource, nullptr));
        RETURN_IF_ERROR(Guard(ctx).CheckWrite(access::Action::kUpdate, resource));
        PlannedWrite p;
        if (ctx.type == "Appointment") {
          RETURN_IF_ERROR(PlanSlotRelease(ctx, resource, ctx.id, &p));  // as an update does
        }
        p.write = PrepareVersion(std::move(resource), ctx, ctx.id, current.version + 1, "PATCH");
        return p;
      });
  if (!planned.ok()) {
    if (fhir::HasErrors(issues)) {
      return IssuesResponse(issues, 422);
    }
    return ErrorResponse(planned.status());
  }
  return WriteResponse(200, AsVersion(planned->write), ctx, false);
}

}  // namespace carechart::rest
