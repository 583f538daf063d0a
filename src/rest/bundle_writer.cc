#include "rest/bundle_writer.h"

#include "fhir/datetime.h"
#include "fhir/json.h"
#include "rest/scope_check.h"

namespace carechart::rest {

std::string JsonString(std::string_view text) {
  return json::Write(json::Value::String(std::string(text)));
}

BundleWriter::BundleWriter(std::string_view bundle_type, const RequestContext& ctx)
    : ctx_(ctx), type_(bundle_type) {}

void BundleWriter::AddLink(std::string_view relation, const std::string& url) {
  if (!links_.empty()) {
    links_ += ',';
  }
  links_ += "{\"relation\":" + JsonString(relation) + ",\"url\":" + JsonString(url) + "}";
}

void BundleWriter::BeginEntry() {
  if (!entries_.empty()) {
    entries_ += ',';
  }
}

void BundleWriter::AddSearchEntry(const store::ResourceVersion& v, std::string_view mode) {
  if (!ResourceInScope(ctx_, v)) {
    return;  // the token's SMART scopes do not cover this resource (type or category)
  }
  BeginEntry();
  entries_ += "{\"fullUrl\":" + JsonString(ctx_.base_url + "/" + v.type + "/" + v.id);
  entries_ += ",\"resource\":";
  entries_ += RenderBody(v.body, ctx_, /*pretty=*/false);
  entries_ += ",\"search\":{\"mode\":" + JsonString(mode) + "}}";
}

void BundleWriter::AddOutcomeEntry(const std::string& outcome_json) {
  BeginEntry();
  entries_ += "{\"resource\":" + outcome_json + ",\"search\":{\"mode\":\"outcome\"}}";
}

void BundleWriter::AddHistoryEntry(const store::ResourceVersion& v) {
  if (!ResourceInScope(ctx_, v)) {
    return;  // the token's SMART scopes do not cover this resource (type or category)
  }
  BeginEntry();
  std::string full_url = ctx_.base_url + "/" + v.type + "/" + v.id;
  entries_ += "{\"fullUrl\":" + JsonString(full_url);
  if (!v.deleted && !v.body.empty()) {
    entries_ += ",\"resource\":";
    entries_ += RenderBody(v.body, ctx_, /*pretty=*/false);
  }
  std::string method = v.deleted ? "DELETE" : (v.method.empty() ? "PUT" : v.method);
  std::string url = method == "POST" ? v.type : v.type + "/" + v.id;
  std::string status = v.deleted ? "204 No Content" : (v.version == 1 ? "201 Created" : "200 OK");
  entries_ +=
      ",\"request\":{\"method\":" + JsonString(method) + ",\"url\":" + JsonString(url) + "}";
  entries_ += ",\"response\":{\"status\":" + JsonString(status) +
              ",\"etag\":" + JsonString("W/\"" + std::to_string(v.version) + "\"") +
              ",\"lastModified\":" + JsonString(fhir::FormatInstant(v.last_updated_us)) + "}}";
}

std::string BundleWriter::Finish() {
  std::string out = "{\"resourceType\":\"Bundle\",\"id\":" + JsonString(NewId());
  out += ",\"meta\":{\"lastUpdated\":" + JsonString(fhir::FormatInstant(NowMicros())) + "}";
  out += ",\"type\":" + JsonString(type_);
  if (total_ >= 0) {
    out += ",\"total\":" + std::to_string(total_);
  }
  if (!links_.empty()) {
    out += ",\"link\":[" + links_ + "]";
  }
  if (!entries_.empty()) {
    out += ",\"entry\":[" + entries_ + "]";
  }
  out += "}";
  if (ctx_.pretty) {
    auto parsed = json::Parse(out, {.max_depth = 1000});
    if (parsed.ok()) {
      return json::Write(*parsed, {.pretty = true});
    }
  }
  return out;
}

}  // namespace carechart::rest
