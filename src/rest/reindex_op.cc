// $reindex (see reindex_op.h). The job reads and writes through the same store as the API: reads
// use their own connections, and each batch is one short write function on the shared writer, so
// searches and writes go on while it runs.
#include "rest/reindex_op.h"

#include <cstdio>

#include "auth/scopes.h"
#include "fhir/definitions.h"
#include "fhir/json.h"
#include "rest/outcome.h"

namespace carechart::rest {
namespace {

// Administrators, the server itself, and backend services whose system-level scopes let them
// update every resource type concerned (a reindex rewrites their index rows).
bool MayReindex(const RequestContext& ctx, const std::string& type) {
  if (ctx.principal == nullptr) {  // no auth module in front (unit tests, embedded use)
    return true;
  }
  const auth::Principal& p = *ctx.principal;
  if (p.role == auth::Role::kAdministrator || p.role == auth::Role::kSystem) {
    return true;
  }
  if (p.role != auth::Role::kBackendService) {
    return false;
  }
  for (std::string_view t : fhir::ResourceTypes()) {
    if ((type.empty() || t == type) &&
        (!auth::ScopesAllow(p, t, 'u', nullptr) || auth::OnlyPatientScopes(p, t, 'u'))) {
      return false;
    }
  }
  return true;
}

json::Value Param(const std::string& name, json::Value value, const char* kind) {
  json::Value p = json::Value::Object();
  p.set("name", json::Value::String(name));
  p.set(kind, std::move(value));
  return p;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

ReindexJob::~ReindexJob() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

http::Response ReindexJob::Handle(RequestContext& ctx) {
  std::string type;
  for (const auto& [k, v] : ctx.http.query) {
    if (k == "type") {
      type = v;
    }
  }
  if (!MayReindex(ctx, type)) {
    return ErrorResponse({StatusCode::kForbidden,
                          "$reindex is for administrators (or a backend service with system "
                          "update scopes on the types reindexed)"});
  }
  const std::string& m = ctx.http.method;
  if (m == "POST") {
    return Start(ctx);
  }
  if (m == "GET" || m == "HEAD") {
    return Report();
  }
  http::Response r = ErrorResponse(
      {StatusCode::kMethodNotAllowed, m + " is not allowed on $reindex; allowed: GET, POST"});
  r.set_header("Allow", "GET, POST");
  return r;
}

http::Response ReindexJob::Start(RequestContext& ctx) {
  store::ReindexOptions options;
  for (const auto& [k, v] : ctx.http.query) {
    if (k == "type") {
      options.type = v;
    } else if (k == "param") {
      options.param = v;
    } else if (k != "_format" && k != "_pretty") {
      return ErrorResponse(
          InvalidError("unknown $reindex parameter '" + k + "' (type and param are known)", k));
    }
  }
  // Checked here so that a bad name is a 400 now, not a failed job later.
  if (!options.type.empty() && !fhir::IsResourceType(options.type)) {
    return ErrorResponse(
        InvalidError("type: '" + options.type + "' is not a FHIR R4 resource type", "type"));
  }
  if (!options.param.empty() &&
      (options.type.empty() || fhir::FindSearchParam(options.type, options.param) == nullptr)) {
    return ErrorResponse(InvalidError(
        "param: '" + options.param + "' is not a search parameter of " +
            (options.type.empty() ? std::string("the type (param needs type)") : options.type),
        "param"));
  }
  std::lock_guard lock(mu_);
  if (state_ == "running") {
    return ErrorResponse(ConflictError("a reindex is already running (GET $reindex shows it)"));
  }
  if (thread_.joinable()) {
    thread_.join();  // the previous job has finished
  }
  state_ = "running";
  error_.clear();
  type_ = options.type;
  param_ = options.param;
  progress_ = {};
  options.stop = &stop_;
  options.on_progress = [this](const store::ReindexProgress& p) {
    std::lock_guard lock(mu_);
    progress_ = p;
  };
  thread_ = std::thread([this, options] {
    auto result = store::Reindex(store_, options);
    std::lock_guard lock(mu_);
    if (result.ok()) {
      progress_ = *result;
      state_ = "done";
    } else {
      state_ = "failed";
      error_ = result.status().message();
    }
  });
  http::Response r;
  r.status = 202;
  r.set_header("Content-Type", kFhirJson);
  r.set_header("Content-Location", ctx.base_url + "/$reindex");
  r.body = InformationOutcome(
      "reindex started" +
      (type_.empty() ? std::string(" for every resource type") : " for " + type_) +
      (param_.empty() ? "" : ", parameter " + param_) + "; GET $reindex shows its progress");
  return r;
}

http::Response ReindexJob::Report() const {
  std::lock_guard lock(mu_);
  json::Value out = json::Value::Object();
  out.set("resourceType", json::Value::String("Parameters"));
  json::Value params = json::Value::Array();
  params.push_back(Param("status", json::Value::String(state_), "valueCode"));
  if (!type_.empty()) {
    params.push_back(Param("type", json::Value::String(type_), "valueString"));
  }
  if (!param_.empty()) {
    params.push_back(Param("param", json::Value::String(param_), "valueString"));
  }
  params.push_back(
      Param("total", json::Value::Number(std::to_string(progress_.total)), "valueInteger"));
  params.push_back(
      Param("done", json::Value::Number(std::to_string(progress_.done)), "valueInteger"));
  params.push_back(
      Param("reindexed", json::Value::Number(std::to_string(progress_.reindexed)), "valueInteger"));
  params.push_back(  // of those visited, how many had rows that differed and were rewritten
      Param("rewritten", json::Value::Number(std::to_string(progress_.differing)), "valueInteger"));
  params.push_back(
      Param("seconds", json::Value::Number(Number(progress_.seconds)), "valueDecimal"));
  params.push_back(Param("rate", json::Value::Number(Number(progress_.rate())), "valueDecimal"));
  if (!error_.empty()) {
    params.push_back(Param("error", json::Value::String(error_), "valueString"));
  }
  out.set("parameter", std::move(params));
  http::Response r;
  r.status = 200;
  r.set_header("Content-Type", kFhirJson);
  r.body = json::Write(out);
  return r;
}

}  // namespace carechart::rest
