#include "bulk/bulk_api.h"

#include <zlib.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "auth/scopes.h"
#include "bulk/export_request.h"
#include "bulk/exporter.h"
#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "fhir/json.h"
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

// The client a job belongs to: the OAuth client of a backend service's token; empty for
// in-process use without authentication (no owner: anyone may see the job).
std::string OwnerOf(const auth::Principal* principal) {
  if (principal == nullptr || principal->role == auth::Role::kSystem) {
    return "";
  }
  return principal->client_id;
}

// A job's status, cancellation and files are for the client that started it: its id is
// unguessable, but it travels in logs and manifests, so knowing it must not be enough.
std::optional<http::Response> RefuseUnlessOwner(const JobRecord& job,
                                                const auth::Principal* principal) {
  std::string asker = OwnerOf(principal);
  std::string owner = JobOwner(job);
  if (asker.empty() || owner == asker) {
    return std::nullopt;
  }
  return rest::ErrorResponse({StatusCode::kForbidden, "bulk data job " + job.id +
                                                          " was started by another client; only "
                                                          "that client may see or cancel it"});
}

// The parameters of a POST kick-off (Bulk Data v2): a FHIR Parameters resource whose
// parameters are the GET query's (_outputFormat, _since, _type, _typeFilter, _elements, as
// value[x] strings, instants or codes) plus `patient` (valueReference Patient/{id}, repeatable).
StatusOr<std::vector<std::pair<std::string, std::string>>> ExportParametersFromBody(
    const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return out;
  }
  ASSIGN_OR_RETURN(json::Value p, json::Parse(body));
  if (!p.is_object() || p.string_at("resourceType") != "Parameters") {
    return InvalidError("the body of a POST $export must be a FHIR Parameters resource",
                        "resourceType");
  }
  const json::Value* list = p.find("parameter");
  if (list == nullptr) {
    return out;
  }
  if (!list->is_array()) {
    return InvalidError("Parameters.parameter must be an array", "Parameters.parameter");
  }
  int index = 0;
  for (const json::Value& item : list->items()) {
    std::string path = "Parameters.parameter[" + std::to_string(index++) + "]";
    std::string name(item.string_at("name"));
    if (name.empty()) {
      return InvalidError(path + " has no name", path + ".name");
    }
    if (name == "patient") {
      const json::Value* ref = item.find("valueReference");
      std::string_view target = ref != nullptr ? ref->string_at("reference") : "";
      if (!target.starts_with("Patient/") || target.size() <= 8) {
        return InvalidError(path + " (patient) needs valueReference.reference 'Patient/{id}'",
                            path + ".valueReference");
      }
      out.emplace_back("patient", std::string(target.substr(8)));
      continue;
    }
    const json::Value* value = nullptr;
    for (const char* key : {"valueString", "valueInstant", "valueCode", "valueDateTime"}) {
      if ((value = item.find(key)) != nullptr) {
        break;
      }
    }
    if (value == nullptr || !value->is_string()) {
      return InvalidError(path + " (" + name + ") needs a valueString (or valueInstant, valueCode)",
                          path);
    }
    out.emplace_back(name, value->text());
  }
  return out;
}

http::Response ExportKickoff(BulkJobs& jobs, store::ResourceStore& store, const http::Request& req,
                             const std::string& base_url, ExportLevel level,
                             const std::string& group_id, const auth::Principal* principal) {
  if (req.method != "GET" && req.method != "POST") {
    return NotAllowed(req, "GET, POST");
  }
  if (Lower(req.header("prefer")).find("respond-async") == std::string::npos) {
    return rest::ErrorResponse(InvalidError(
        "$export runs asynchronously: send the header 'Prefer: respond-async' (Bulk Data "
        "Access IG), then poll the Content-Location of the 202 response"));
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : req.query) {
    if (k == "patient") {
      return rest::ErrorResponse(InvalidError(
          "the patient parameter of $export is only accepted in a POST Parameters body",
          "patient"));
    }
    if (k != "_pretty" && k != "_format") {
      params.emplace_back(k, v);
    }
  }
  if (req.method == "POST") {
    auto from_body = ExportParametersFromBody(req.body);
    if (!from_body.ok()) {
      return rest::ErrorResponse(from_body.status());
    }
    for (auto& kv : *from_body) {
      params.push_back(std::move(kv));
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
  auto id = jobs.SubmitExport(*request, base_url, OwnerOf(principal));
  if (!id.ok()) {
    return rest::ErrorResponse(id.status());
  }
  return Accepted(base_url + "/_bulk/" + *id,
                  "export job " + *id + " accepted; poll the Content-Location for its status");
}

http::Response ImportKickoff(BulkJobs& jobs, const http::Request& req, const std::string& base_url,
                             const auth::Principal* principal) {
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
  auto id = jobs.SubmitImport(req.body, RequestUrl(req, base_url), base_url, OwnerOf(principal));
  if (!id.ok()) {
    return rest::ErrorResponse(id.status());
  }
  return Accepted(base_url + "/_bulk/" + *id,
                  "import job " + *id + " accepted; poll the Content-Location for its status");
}

http::Response JobStatus(BulkJobs& jobs, const http::Request& req, const std::string& base_url,
                         const std::string& id, const auth::Principal* principal) {
  if (req.method == "DELETE") {
    auto existing = jobs.Get(id);
    if (!existing.ok()) {
      return rest::ErrorResponse(existing.status());
    }
    if (*existing) {
      if (auto refused = RefuseUnlessOwner(**existing, principal)) {
        return *refused;
      }
    }
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
  if (auto refused = RefuseUnlessOwner(j, principal)) {
    return *refused;
  }
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

// `file` gzip-compressed next to it (`file`.gz), made once on the first download that asks for
// gzip and reused after; streamed through zlib, so memory stays small whatever the file size.
StatusOr<std::string> GzippedCopy(const std::string& file) {
  namespace fs = std::filesystem;
  std::string gz = file + ".gz";
  std::error_code ec;
  if (fs::exists(gz, ec)) {
    return gz;
  }
  static std::atomic<uint64_t> counter{0};
  std::string tmp = gz + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  std::ifstream in(file, std::ios::binary);
  gzFile out = gzopen(tmp.c_str(), "wb1");  // level 1: several times faster than 6, ~20% larger
  if (!in || out == nullptr) {
    if (out != nullptr) {
      gzclose(out);
    }
    fs::remove(tmp, ec);
    return InternalError("cannot compress " + file);
  }
  std::vector<char> buf(1 << 16);
  bool ok = true;
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    ok = n == 0 || gzwrite(out, buf.data(), static_cast<unsigned>(n)) == n;
  }
  ok = (gzclose(out) == Z_OK) && ok && in.eof();
  if (ok) {
    fs::rename(tmp, gz, ec);  // atomic: a concurrent download sees the whole file or none
    ok = !ec;
  }
  if (!ok) {
    fs::remove(tmp, ec);
    return InternalError("cannot compress " + file);
  }
  return gz;
}

http::Response JobFile(BulkJobs& jobs, const http::Request& req, const std::string& id,
                       const std::string& rel, const auth::Principal* principal) {
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
  if (auto refused = RefuseUnlessOwner(**job, principal)) {
    return *refused;
  }
  std::string path = jobs.JobDir(id) + "/out/" + rel;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return rest::ErrorResponse(NotFoundError("job " + id + " has no file " + rel));
  }
  http::Response r;
  r.set_header("Content-Type", kNdjson);
  r.set_header("Vary", "Accept-Encoding");
  if (Lower(req.header("accept-encoding")).find("gzip") != std::string::npos) {
    auto gz = GzippedCopy(path);
    if (!gz.ok()) {
      return rest::ErrorResponse(gz.status());
    }
    path = *gz;
    r.set_header("Content-Encoding", "gzip");
  }
  r.body_file = path;  // streamed from disk by the server (a HEAD gets only its length)
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
    return ImportKickoff(jobs, req, base_url, principal);
  }
  if (n < 2 || parts[0] != "_bulk") {
    return std::nullopt;
  }
  const std::string& id = parts[1];
  if (!SafeName(id)) {
    return rest::ErrorResponse(NotFoundError("no bulk data job " + id));
  }
  if (n == 2) {
    return JobStatus(jobs, req, base_url, id, principal);
  }
  if (n == 3 && SafeName(parts[2]) && parts[2].ends_with(".ndjson")) {
    return JobFile(jobs, req, id, parts[2], principal);
  }
  if (n == 4 && parts[2] == "errors" && SafeName(parts[3]) && parts[3].ends_with(".ndjson")) {
    return JobFile(jobs, req, id, "errors/" + parts[3], principal);
  }
  return rest::ErrorResponse(NotFoundError("no bulk data file at " + req.path));
}

}  // namespace carechart::bulk
