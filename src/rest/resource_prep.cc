#include "rest/resource_prep.h"

#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "fhir/search_index.h"
#include "fhir/validator.h"
#include "rest/outcome.h"

namespace carechart::rest {

namespace {

json::Value Tag(const char* system, const std::string& code, const std::string& display) {
  auto tag = json::Value::Object();
  tag.set("system", json::Value::String(system));
  tag.set("code", json::Value::String(code));
  if (!display.empty()) {
    tag.set("display", json::Value::String(display));
  }
  return tag;
}

// Replaces the tags of `system` with `tag`, keeping every other tag.
void SetTag(json::Value& meta, const char* system, json::Value tag) {
  json::Value* tags = meta.find("tag");
  if (!tags || !tags->is_array()) {
    tags = &meta.set("tag", json::Value::Array());
  }
  auto& items = tags->items();
  std::erase_if(items, [&](const json::Value& t) { return t.string_at("system") == system; });
  items.push_back(std::move(tag));
}

}  // namespace

ParsedBody ParseJsonBody(const RequestContext& ctx) {
  ParsedBody out;
  std::string_view ct = ctx.http.header("content-type");
  if (!ct.empty() && !http::IsFhirJsonMediaType(ct)) {
    out.error = ErrorResponse(
        {StatusCode::kUnsupportedMediaType,
         "Content-Type '" + std::string(ct) + "' is not supported; send application/fhir+json"});
    return out;
  }
  if (ctx.http.body.empty()) {
    out.error = ErrorResponse(InvalidError("the request body is empty; send a FHIR resource"));
    return out;
  }
  auto parsed = json::Parse(ctx.http.body);
  if (!parsed.ok()) {
    out.error = ErrorResponse(parsed.status());
    return out;
  }
  out.resource = std::move(parsed).value();
  return out;
}

ParsedBody ParseResourceBody(const RequestContext& ctx) {
  ParsedBody out = ParseJsonBody(ctx);
  if (out.error) {
    return out;
  }
  std::vector<fhir::ValidationIssue> issues;
  Status s = CheckResource(out.resource, ctx.type, &issues);
  if (!s.ok()) {
    out.error = fhir::HasErrors(issues) ? IssuesResponse(issues, 422) : ErrorResponse(s);
  }
  return out;
}

Status CheckResource(const json::Value& resource, const std::string& expected_type,
                     std::vector<fhir::ValidationIssue>* issues) {
  std::string_view rt = resource.string_at("resourceType");
  if (rt.empty()) {
    return InvalidError("the body is not a FHIR resource: it has no resourceType", "resourceType");
  }
  if (!expected_type.empty() && rt != expected_type) {
    return InvalidError("resourceType '" + std::string(rt) + "' does not match the URL's type '" +
                            expected_type + "'",
                        "resourceType");
  }
  fhir::ValidationOptions vo;
  vo.expected_type = expected_type;
  *issues = fhir::Validate(resource, vo);
  if (fhir::HasErrors(*issues)) {
    return FirstError(*issues, StatusCode::kUnprocessable);
  }
  if (rt == "SearchParameter") {  // an active one becomes searchable: it must be usable
    return fhir::CheckSearchParameterResource(resource);
  }
  return Status::Ok();
}

store::PreparedWrite PrepareVersion(json::Value resource, const RequestContext& ctx,
                                    const std::string& id, int64_t version,
                                    const std::string& method) {
  store::PreparedWrite w;
  w.type = std::string(resource.string_at("resourceType"));
  w.id = id;
  w.version = version;
  w.last_updated_us = NowMicros();
  w.method = method;
  resource.set_at("id", json::Value::String(id), 1);
  json::Value* meta = resource.find("meta");
  if (!meta || !meta->is_object()) {
    meta = &resource.set_at("meta", json::Value::Object(), 2);
  }
  meta->set_at("versionId", json::Value::String(std::to_string(version)), 0);
  meta->set_at("lastUpdated", json::Value::String(fhir::FormatInstant(w.last_updated_us)), 1);
  const std::string facility = ctx.keep_source_facility ? FacilityOf(resource) : "";
  if (!meta->find("source")) {
    meta->set("source", json::Value::String("urn:carechart:facility:" +
                                            (facility.empty() ? ctx.facility_id : facility)));
  }
  if (facility.empty()) {
    SetTag(*meta, kFacilityTagSystem, Tag(kFacilityTagSystem, ctx.facility_id, ctx.facility_name));
  }
  SetTag(*meta, kAuthorTagSystem, Tag(kAuthorTagSystem, ctx.actor, ""));
  if (w.type == "SearchParameter") {  // live for the writes that follow (search_index.h)
    (void)fhir::ApplySearchParameterResource(resource);
  }
  w.index = fhir::ExtractIndex(resource);
  w.patient_id = fhir::PatientCompartmentOf(resource);
  w.body = json::Write(resource);
  // Compressed here, on the worker, so that the store's single writer need not (D102).
  ctx.store.EncodeBody(w.body, &w.stored_body);
  return w;
}

std::string FacilityOf(const json::Value& resource) {
  const json::Value* meta = resource.find("meta");
  const json::Value* tags = meta ? meta->find("tag") : nullptr;
  if (tags && tags->is_array()) {
    for (const json::Value& t : tags->items()) {
      if (t.string_at("system") == kFacilityTagSystem && !t.string_at("code").empty()) {
        return std::string(t.string_at("code"));
      }
    }
  }
  return "";
}

store::PreparedWrite PrepareDeletion(const std::string& type, const std::string& id,
                                     int64_t version) {
  store::PreparedWrite w;
  w.type = type;
  w.id = id;
  w.version = version;
  w.last_updated_us = NowMicros();
  w.deleted = true;
  w.method = "DELETE";
  if (type == "SearchParameter") {
    fhir::ForgetSearchParameterResource(id);
  }
  return w;
}

store::ResourceVersion AsVersion(const store::PreparedWrite& w) {
  store::ResourceVersion v;
  v.type = w.type;
  v.id = w.id;
  v.version = w.version;
  v.last_updated_us = w.last_updated_us;
  v.deleted = w.deleted;
  v.body = w.body;
  v.method = w.method;
  return v;
}

store::ResourceVersion AsVersion(store::PreparedWrite&& w) {
  std::string body = std::move(w.body);
  store::ResourceVersion v = AsVersion(w);
  v.body = std::move(body);
  return v;
}

}  // namespace carechart::rest
