#include "bulk/bulk_api.h"

#include <zlib.h>

#include <fstream>
#include <sstream>

#include "auth/scopes.h"
#include "bulk/export_request.h"
#include "bulk/exporter.h"
#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "http/url.h"
#include "rest/outcome.h"

namespace carechart::bulk {
namespace {

constexpr const char* kNdjson = "application/fhir+ndjson";
constexpr int kRetryAfterSeconds = 2;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

http::Response NotAllowed(const http::Request& req, const char* allow) {
  http::Response r =
      rest::ErrorResponse({StatusCode::kMethodNotAllowed,
                           req.method + " is not allowed on " + req.path + "; allowed: " + allow});
  r.set_header("Allow", allow);
  return r;
}

std::string RequestUrl(const http::Request& req, const std::string& base_url) {
  std::string_view target = req.target;
  target.remove_prefix(std::min<size_t>(target.size(), 5));  // "/fhir"
  return base_url + std::string(target);
}

http::Response Accepted(const std::string& status_url, const std::string& text) {
  http::Response r;
  r.status = 202;
  r.set_header("Content-Location", status_url);
  r.set_header("Content-Type", rest::kFhirJson);
  r.body = rest::InformationOutcome(text);
  return r;
}

// Bulk Data is for SMART Backend Services (client credentials, system/ scopes) and the server's
// own work; a clinician or a patient gets a record through Patient/{id}/$everything, where the
// access policy applies resource by resource. Every bulk URL (kick-off, status, files) is checked:
// job ids are unguessable, but a URL must not be a bearer capability on its own. `interaction` is
// 'r' for export (every requested type, or "*" when no _type is given) and 'c' for $import.
std::optional<http::Response> RefuseUnlessBackend(const auth::Principal* principal,
                                                  const http::Request& req, char interaction) {
  if (principal == nullptr || principal->role == auth::Role::kSystem) {
    return std::nullopt;  // in-process use: no authentication configured
  }
  if (principal->role != auth::Role::kBackendService) {
    return rest::ErrorResponse(
        {StatusCode::kForbidden,
         "Bulk Data is for backend services (SMART Backend Services with system/ scopes); to get "
         "one patient's record use GET /fhir/Patient/{id}/$everything"});
  }
  std::vector<std::string> types;
  for (const auto& [k, v] : req.query) {
    if (k != "_type") {
      continue;
    }
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t comma = v.find(',', pos);
      if (comma == std::string::npos) {
        comma = v.size();
      }
      if (comma > pos) {
        types.push_back(v.substr(pos, comma - pos));
      }
      pos = comma + 1;
    }
  }
  if (types.empty()) {
    types.push_back("*");
  }
  for (const auto& type : types) {
    if (!auth::ScopesAllow(*principal, type, interaction)) {
      return rest::ErrorResponse(
          {StatusCode::kForbidden,
           "the token lacks scope " + std::string("system/") + type + "." +
               std::string(1, interaction) +
               (type == "*" ? " (or name the types you may read with _type)" : "")});
    }
  }
  return std::nullopt;
}

// Granular SMART scopes (system/Observation.rs?category=laboratory) bound an export too: the
// job runs later without the token, so each requested type the token sees only through
// category-restricted scopes gets those categories as a `category` search, ANDed into the
// client's own _typeFilter for the type (or added as one). kForbidden when that cannot be said.
Status ApplyGranularScopes(const auth::Principal* principal,
                           std::vector<std::pair<std::string, std::string>>& params) {
  if (principal == nullptr) {
    return Status::Ok();
  }
  // One filter per _typeFilter parameter, so that a clause can be ANDed into each.
  std::vector<std::pair<std::string, std::string>> split;
  for (auto& [k, v] : params) {
    if (k != "_typeFilter") {
      split.emplace_back(std::move(k), std::move(v));
      continue;
    }
    for (std::string& one : SplitTypeFilters(v)) {
      split.emplace_back("_typeFilter", std::move(one));
    }
  }
  params = std::move(split);
  std::vector<std::string> types;
  for (const auto& [k, v] : params) {
    if (k == "_type") {
      for (size_t pos = 0; pos <= v.size();) {
        size_t comma = std::min(v.find(',', pos), v.size());
        if (comma > pos) {
          types.push_back(v.substr(pos, comma - pos));
        }
        pos = comma + 1;
      }
    }
  }
  if (types.empty()) {
    auto wildcard = auth::GranularScopesOnly(*principal, "*", "r");
    if (wildcard && !wildcard->empty()) {
      return {StatusCode::kForbidden,
              "the token reads only some categories of every type: name the types to export with "
              "_type so that its granular scopes can be applied"};
    }
    return Status::Ok();  // a plain system/*.r scope: nothing is hidden
  }
  for (const std::string& type : types) {
    auto granular = auth::GranularScopesOnly(*principal, type, "r");
    if (!granular || granular->empty()) {
      continue;
    }
    const fhir::SearchParamDef* def = fhir::FindSearchParam(type, "category");
    if (def == nullptr || def->type != fhir::SearchParamType::kToken) {
      return {StatusCode::kForbidden, "the token's scopes on " + type +
                                          " are restricted by category, which " + type +
                                          " cannot be searched by: export refused"};
    }
    std::string values;
    for (const auth::ResourceScope& g : *granular) {
      values +=
          (values.empty() ? "" : ",") +
          (g.category_system.empty() ? g.category_code : g.category_system + "|" + g.category_code);
    }
    std::string clause = "category=" + http::PercentEncode(values);
    bool own_filter = false;
    for (auto& [k, v] : params) {
      if (k == "_typeFilter" && v.starts_with(type + "?")) {
        v += "&" + clause;
        own_filter = true;
      }
    }
    if (!own_filter) {
      params.emplace_back("_typeFilter", type + "?" + clause);
    }
  }
  return Status::Ok();
}

http::Response ExportKickoff(BulkJobs& jobs, store::ResourceStore& store, const http::Request& req,
                             const std::string& base_url, ExportLevel level,
                             const std::string& group_id, const auth::Principal* principal) {
  if (req.method != "GET") {
    return NotAllowed(req, "GET");
  }
  if (Lower(req.header("prefer")).find("respond-async") == std::string::npos) {
    return rest::ErrorResponse(InvalidError(
        "$export runs asynchronously: send the header 'Prefer: respond-async' (Bulk Data "
        "Access IG), then poll the Content-Location of the 202 response"));
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : req.query) {
    if (k != "_pretty") {
      params.emplace_back(k, v);
    }
  }
  if (Status s = ApplyGranularScopes(principal, params); !s.ok()) {
    return rest::ErrorResponse(s);
  }
  auto request = ParseExportParameters(level, group_id, params);
  if (!request.ok()) {
    return rest::ErrorResponse(request.status());
  }
  if (level == ExportLevel::kGroup) {
    auto group = store.Read("Group", group_id);
    if (!group.ok() || group->deleted) {
      return rest::ErrorResponse(NotFoundError("Group/" + group_id + " is not known"));
    }
  }
  request->request_url = RequestUrl(req, base_url);
  auto id = jobs.SubmitExport(*request, base_url);
  if (!id.ok()) {
    return rest::ErrorResponse(id.status());
  }
  return Accepted(base_url + "/_bulk/" + *id,
                  "export job " + *id + " accepted; poll the Content-Location for its status");
}

http::Response ImportKickoff(BulkJobs& jobs, const http::Request& req,
                             const std::string& base_url) {
  if (req.method != "POST") {
    return NotAllowed(req, "POST");
  }
  if (Lower(req.header("prefer")).find("respond-async") == std::string::npos) {
    return rest::ErrorResponse(
        InvalidError("$import runs asynchronously: send the header 'Prefer: respond-async'"));
  }
  std::string type = http::MediaType(req.header("content-type"));
  if (!IsNdjsonFormat(type)) {
    return rest::ErrorResponse(
        {StatusCode::kUnsupportedMediaType,
         "$import takes an NDJSON body (Content-Type: application/fhir+ndjson), one resource "
         "per line; got '" +
             std::string(req.header("content-type")) + "'"});
  }
  if (!req.query.empty()) {
    return rest::ErrorResponse(
        InvalidError("$import takes no parameters; got '" + req.query.front().first + "'",
                     req.query.front().first));
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return rest::ErrorResponse(InvalidError("the $import body is empty: send NDJSON resources"));
  }
  auto id = jobs.SubmitImport(req.body, RequestUrl(req, base_url), base_url);
  if (!id.ok()) {
    return rest::ErrorResponse(id.status());
  }
  return Accepted(base_url + "/_bulk/" + *id,
                  "import job " + *id + " accepted; poll the Content-Location for its status");
}

http::Response JobStatus(BulkJobs& jobs, const http::Request& req, const std::string& base_url,
                         const std::string& id) {
  if (req.method == "DELETE") {
    auto cancelled = jobs.Cancel(id);
    if (!cancelled.ok()) {
      return rest::ErrorResponse(cancelled.status());
    }
    if (!*cancelled) {
      return rest::ErrorResponse(NotFoundError("no bulk data job " + id));
    }
    http::Response r;
    r.status = 202;
    r.set_header("Content-Type", rest::kFhirJson);
    r.body = rest::InformationOutcome("job " + id + " cancelled; its files were removed");
    return r;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    return NotAllowed(req, "GET, DELETE");
  }
  auto job = jobs.Get(id);
  if (!job.ok()) {
    return rest::ErrorResponse(job.status());
  }
  if (!*job) {
    return rest::ErrorResponse(
        NotFoundError("no bulk data job " + id + " (unknown, cancelled or expired)"));
  }
  const JobRecord& j = **job;
  if (j.state == "queued" || j.state == "running") {
    http::Response r;
    r.status = 202;
    r.set_header("X-Progress", j.progress.empty() ? j.state : j.progress);
    r.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
    return r;
  }
  if (j.state == "failed") {
    http::Response r = rest::ErrorResponse(
        InternalError("the bulk data " + j.kind + " job " + id + " failed: " + j.error));
    return r;
  }
  http::Response r;
  r.set_header("Content-Type", "application/json");
  r.set_header("Expires", fhir::FormatHttpDate(j.updated_us +
                                               jobs.options().expire_seconds * int64_t{1000000}));
  // File URLs on the base this request came through (the port or host may have changed since
  // the kick-off, e.g. after a restart).
  r.body = j.result;
  std::string from = "\"" + j.base_url + "/_bulk/";
  std::string to = "\"" + base_url + "/_bulk/";
  if (from != to) {
    for (size_t at = r.body.find(from); at != std::string::npos;
         at = r.body.find(from, at + to.size())) {
      r.body.replace(at, from.size(), to);
    }
  }
  return r;
}

bool SafeName(const std::string& name) {
  if (name.empty() || name[0] == '.') {
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

http::Response JobFile(BulkJobs& jobs, const http::Request& req, const std::string& id,
                       const std::string& rel) {
  if (req.method != "GET" && req.method != "HEAD") {
    return NotAllowed(req, "GET");
  }
  auto job = jobs.Get(id);
  if (!job.ok()) {
    return rest::ErrorResponse(job.status());
  }
  if (!*job || (*job)->state != "completed") {
    return rest::ErrorResponse(
        NotFoundError("no completed bulk data job " + id + " (unknown, running or expired)"));
  }
  std::ifstream in(jobs.JobDir(id) + "/out/" + rel, std::ios::binary);
  if (!in) {
    return rest::ErrorResponse(NotFoundError("job " + id + " has no file " + rel));
  }
  std::ostringstream content;
  content << in.rdbuf();
  http::Response r;
  r.set_header("Content-Type", kNdjson);
  r.body = std::move(content).str();
  if (Lower(req.header("accept-encoding")).find("gzip") != std::string::npos) {
    r.body = Gzip(r.body);
    r.set_header("Content-Encoding", "gzip");
  }
  return r;
}

}  // namespace

std::string Gzip(const std::string& data) {
  z_stream zs{};
  // 15 + 16: a gzip wrapper; level 1 is several times faster than 6 for ~20% more bytes.
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::optional<http::Response> HandleBulkRequest(BulkJobs& jobs, store::ResourceStore& store,
                                                const http::Request& req,
                                                const std::string& base_url,
                                                const std::vector<std::string>& parts,
                                                const auth::Principal* principal) {
  size_t n = parts.size();
  bool is_bulk = (n >= 1 && (parts[n - 1] == "$export" || parts[0] == "$import")) ||
                 (n >= 2 && parts[0] == "_bulk");
  if (is_bulk) {
    char interaction = (n == 1 && parts[0] == "$import") ? 'c' : 'r';
    if (auto refused = RefuseUnlessBackend(principal, req, interaction)) {
      return refused;
    }
  }
  if (n == 1 && parts[0] == "$export") {
    return ExportKickoff(jobs, store, req, base_url, ExportLevel::kSystem, "", principal);
  }
  if (n == 2 && parts[0] == "Patient" && parts[1] == "$export") {
    return ExportKickoff(jobs, store, req, base_url, ExportLevel::kPatient, "", principal);
  }
  if (n == 3 && parts[0] == "Group" && parts[2] == "$export") {
    return ExportKickoff(jobs, store, req, base_url, ExportLevel::kGroup, parts[1], principal);
  }
  if (n == 1 && parts[0] == "$import") {
    return ImportKickoff(jobs, req, base_url);
  }
  if (n < 2 || parts[0] != "_bulk") {
    return std::nullopt;
  }
  const std::string& id = parts[1];
  if (!SafeName(id)) {
    return rest::ErrorResponse(NotFoundError("no bulk data job " + id));
  }
  if (n == 2) {
    return JobStatus(jobs, req, base_url, id);
  }
  if (n == 3 && SafeName(parts[2])) {
    return JobFile(jobs, req, id, parts[2]);
  }
  if (n == 4 && parts[2] == "errors" && SafeName(parts[3])) {
    return JobFile(jobs, req, id, "errors/" + parts[3]);
  }
  return rest::ErrorResponse(NotFoundError("no bulk data file at " + req.path));
}

}  // namespace carechart::bulk
