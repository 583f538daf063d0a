// OperationOutcome responses: how a Status or a list of validation issues reaches the client.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "fhir/validator.h"
#include "http/message.h"

namespace carechart::rest {

// HTTP status for a StatusCode (one-to-one; see core/status.h).
int HttpStatusFor(StatusCode code);
// OperationOutcome.issue.code (http://hl7.org/fhir/issue-type) for a StatusCode.
const char* IssueTypeFor(StatusCode code);

// An OperationOutcome JSON document with one issue per entry.
std::string OutcomeJson(const std::vector<fhir::ValidationIssue>& issues);
std::string OutcomeJson(const Status& status);
// An information-level OperationOutcome ("All OK", "Resource created" ...).
std::string InformationOutcome(const std::string& text);

// A complete error response for `status`.
http::Response ErrorResponse(const Status& status);
// A 422 (or `http_status`) response listing validation issues.
http::Response IssuesResponse(const std::vector<fhir::ValidationIssue>& issues, int http_status);

// The first error among `issues` as a Status (for callers that only need one).
Status FirstError(const std::vector<fhir::ValidationIssue>& issues, StatusCode code);

constexpr const char* kFhirJson = "application/fhir+json; charset=utf-8";

}  // namespace carechart::rest
