#include "rest/outcome.h"

namespace carechart::rest {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalid:
      return 400;
    case StatusCode::kUnprocessable:
      return 422;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kGone:
      return 410;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kPreconditionFailed:
      return 412;
    case StatusCode::kMethodNotAllowed:
      return 405;
    case StatusCode::kUnsupportedMediaType:
      return 415;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kTimeout:
      return 408;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kForbidden:
      return 403;
    case StatusCode::kNotImplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

const char* IssueTypeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "informational";
    case StatusCode::kInvalid:
      return "invalid";
    case StatusCode::kUnprocessable:
      return "processing";
    case StatusCode::kNotFound:
      return "not-found";
    case StatusCode::kGone:
      return "deleted";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kPreconditionFailed:
      return "conflict";
    case StatusCode::kMethodNotAllowed:
      return "not-supported";
    case StatusCode::kUnsupportedMediaType:
      return "not-supported";
    case StatusCode::kTooLarge:
      return "too-costly";
    case StatusCode::kTimeout:
      return "timeout";
    case StatusCode::kUnauthenticated:
      return "login";
    case StatusCode::kForbidden:
      return "forbidden";
    case StatusCode::kNotImplemented:
      return "not-supported";
    case StatusCode::kUnavailable:
      return "transient";
    case StatusCode::kInternal:
      return "exception";
  }
  return "exception";
}

namespace {

const char* SeverityName(fhir::IssueSeverity s) {
  switch (s) {
    case fhir::IssueSeverity::kFatal:
      return "fatal";
    case fhir::IssueSeverity::kError:
      return "error";
    case fhir::IssueSeverity::kWarning:
      return "warning";
    case fhir::IssueSeverity::kInformation:
      return "information";
  }
  return "error";
}

json::Value IssueValue(const char* severity, const std::string& code, const std::string& message,
                       const std::string& location) {
  auto issue = json::Value::Object();
  issue.set("severity", json::Value::String(severity));
  issue.set("code", json::Value::String(code));
  issue.set("diagnostics", json::Value::String(message));
  if (!location.empty()) {
    // R4 has both: `expression` (FHIRPath) is current, `location` is kept for older clients.
    issue.set("location", json::Value::Array()).push_back(json::Value::String(location));
    issue.set("expression", json::Value::Array()).push_back(json::Value::String(location));
  }
  return issue;
}

std::string Wrap(json::Value issues) {
  auto oo = json::Value::Object();
  oo.set("resourceType", json::Value::String("OperationOutcome"));
  oo.set("issue", std::move(issues));
  return json::Write(oo);
}

}  // namespace

std::string OutcomeJson(const std::vector<fhir::ValidationIssue>& issues) {
  auto list = json::Value::Array();
  for (const auto& i : issues) {
    list.push_back(IssueValue(SeverityName(i.severity), i.code, i.message, i.location));
  }
  if (issues.empty()) {
    list.push_back(IssueValue("information", "informational", "All OK", ""));
  }
  return Wrap(std::move(list));
}

std::string OutcomeJson(const Status& status) {
  auto list = json::Value::Array();
  list.push_back(IssueValue(status.ok() ? "information" : "error", IssueTypeFor(status.code()),
                            status.ok() ? "All OK" : status.message(), status.location()));
  return Wrap(std::move(list));
}

std::string InformationOutcome(const std::string& text) {
  auto list = json::Value::Array();
  list.push_back(IssueValue("information", "informational", text, ""));
  return Wrap(std::move(list));
}

http::Response ErrorResponse(const Status& status) {
  http::Response r;
  r.status = HttpStatusFor(status.code());
  r.body = OutcomeJson(status);
  r.set_header("Content-Type", kFhirJson);
  return r;
}

http::Response IssuesResponse(const std::vector<fhir::ValidationIssue>& issues, int http_status) {
  http::Response r;
  r.status = http_status;
  r.body = OutcomeJson(issues);
  r.set_header("Content-Type", kFhirJson);
  return r;
}

Status FirstError(const std::vector<fhir::ValidationIssue>& issues, StatusCode code) {
  for (const auto& i : issues) {
    if (i.severity == fhir::IssueSeverity::kError || i.severity == fhir::IssueSeverity::kFatal) {
      return {code, i.message, i.location};
    }
  }
  return Status::Ok();
}

}  // namespace carechart::rest
