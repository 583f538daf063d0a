#include "rest/context.h"
#include "rest/scope_check.h"

#include <chrono>
#include <random>

#include "fhir/datetime.h"
#include "fhir/summary.h"
#include "rest/outcome.h"

namespace carechart::rest {

namespace {

bool IsResponseShapingParam(std::string_view name) {
  return name == "_format" || name == "_pretty" || name == "_summary" || name == "_elements";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> RequestContext::SearchParams() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : http.query) {
    if (!IsResponseShapingParam(p.first)) {
      out.push_back(p);
    }
  }
  return out;
}

ReturnPreference PreferredReturn(const http::Request& request) {
  std::string_view prefer = request.header("prefer");
  if (prefer.find("return=minimal") != std::string_view::npos) {
    return ReturnPreference::kMinimal;
  }
  if (prefer.find("return=OperationOutcome") != std::string_view::npos) {
    return ReturnPreference::kOperationOutcome;
  }
  return ReturnPreference::kRepresentation;
}

std::string RenderBody(const std::string& stored_json, const RequestContext& ctx, bool pretty) {
  bool filter = !ctx.elements.empty() || !ctx.summary.empty();
  if (!pretty && !filter) {
    return stored_json;
  }
  auto parsed = json::Parse(stored_json);
  if (!parsed.ok()) {
    return stored_json;  // stored bodies are valid JSON; serve as stored
  }
  json::Value& resource = *parsed;
  if (ctx.summary == "true") {
    fhir::ApplySummary(resource);
  } else if (ctx.summary == "text") {
    fhir::ApplyElements(resource, {"text"});
  } else if (ctx.summary == "data") {
    // Everything but the narrative: list every other top-level element.
    std::vector<std::string> keep;
    for (const auto& [name, value] : resource.members()) {
      if (name != "text") {
        keep.push_back(name);
      }
    }
    fhir::ApplyElements(resource, keep);
  } else if (!ctx.elements.empty()) {
    fhir::ApplyElements(resource, ctx.elements);
  }
  return json::Write(resource, {.pretty = pretty});
}

http::Response VersionResponse(int status, const store::ResourceVersion& version,
                               const RequestContext& ctx) {
  const std::string& m = ctx.http.method;
  if ((m == "GET" || m == "HEAD") && !ResourceInScope(ctx, version)) {
    // A granular scope (patient/Observation.rs?category=...) that this resource falls outside.
    return ErrorResponse(
        {StatusCode::kForbidden, "the access token's scopes do not cover " + version.type + "/" +
                                     version.id + " (its category is outside the granted scopes)"});
  }
  http::Response r;
  r.status = status;
  r.set_header("Content-Type", kFhirJson);
  r.set_header("ETag", "W/\"" + std::to_string(version.version) + "\"");
  r.set_header("Last-Modified", fhir::FormatHttpDate(version.last_updated_us));
  r.body = RenderBody(version.body, ctx, ctx.pretty);
  return r;
}

http::Response WriteResponse(int status, const store::ResourceVersion& version,
                             const RequestContext& ctx, bool set_location) {
  http::Response r = VersionResponse(status, version, ctx);
  if (set_location) {
    r.set_header("Location", ctx.base_url + "/" + version.type + "/" + version.id + "/_history/" +
                                 std::to_string(version.version));
  }
  switch (PreferredReturn(ctx.http)) {
    case ReturnPreference::kMinimal:
      r.body.clear();
      r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                     [](const auto& h) { return h.first == "Content-Type"; }),
                      r.headers.end());
      break;
    case ReturnPreference::kOperationOutcome:
      r.body = InformationOutcome(version.type + "/" + version.id + " version " +
                                  std::to_string(version.version) + " stored");
      break;
    case ReturnPreference::kRepresentation:
      break;
  }
  return r;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  // RFC 9562 version 7 layout: unix_ts_ms (48 bits), ver (4), rand_a (12); var (2), rand_b (62).
  uint64_t a = (ms << 16) | 0x7000ULL | (rng() & 0x0FFFULL);
  uint64_t b = (rng() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[37];
  snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
           static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
           static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace carechart::rest
