// $validate (resource-operation-validate): checks a resource without storing it.
#include "fhir/validator.h"
#include "rest/interactions.h"
#include "rest/outcome.h"

namespace carechart::rest {

http::Response HandleValidate(RequestContext& ctx) {
  if (ctx.http.method != "POST") {
    return ErrorResponse({StatusCode::kMethodNotAllowed, "$validate needs POST with a resource"});
  }
  auto parsed = json::Parse(ctx.http.body);
  if (!parsed.ok()) {
    return ErrorResponse(parsed.status());
  }
  json::Value resource = std::move(parsed).value();
  // The body is the resource itself or a Parameters with a "resource" parameter.
  if (resource.string_at("resourceType") == "Parameters" && ctx.type != "Parameters") {
    const json::Value* found = nullptr;
    if (const json::Value* list = resource.find("parameter"); list && list->is_array()) {
      for (const auto& p : list->items()) {
        if (p.string_at("name") == "resource") {
          found = p.find("resource");
        }
      }
    }
    if (!found) {
      return ErrorResponse(
          InvalidError("the Parameters has no 'resource' parameter", "Parameters.parameter"));
    }
    json::Value inner = *found;
    resource = std::move(inner);
  }
  fhir::ValidationOptions options;
  options.expected_type = ctx.type;
  auto issues = fhir::Validate(resource, options);
  if (!ctx.id.empty()) {
    std::string_view body_id = resource.string_at("id");
    if (body_id != ctx.id) {
      issues.push_back({fhir::IssueSeverity::kError, "invalid", "id",
                        "the resource id does not match the id in the URL ('" + ctx.id + "')"});
    }
  }
  http::Response r;
  r.status = 200;
  r.set_header("Content-Type", kFhirJson);
  r.body = OutcomeJson(issues);
  return r;
}

}  // namespace carechart::rest
