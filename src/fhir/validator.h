// Validation of a resource against the R4 StructureDefinitions (generated tables).
#pragma once

#include <string>
#include <vector>

#include "fhir/json.h"

namespace carechart::fhir {

enum class IssueSeverity { kFatal, kError, kWarning, kInformation };

struct ValidationIssue {
  IssueSeverity severity = IssueSeverity::kError;
  // OperationOutcome.issue.code (http://hl7.org/fhir/issue-type): "structure", "required",
  // "value", "code-invalid", "invariant", "invalid", "too-long" ...
  std::string code;
  // FHIRPath location, e.g. "Patient.name[0].given[1]".
  std::string location;
  std::string message;
};

struct ValidationOptions {
  // When set, the resource must be of this type (e.g. the type in the URL).
  std::string expected_type;
};

// Validates `resource`: resourceType, unknown elements, element types and primitive formats,
// cardinality, required bindings, choice types, contained resources, reference format, empty
// values. Returns every issue found (errors and warnings); the resource is valid when none is an
// error or fatal. Thread-safe.
std::vector<ValidationIssue> Validate(const json::Value& resource,
                                      const ValidationOptions& options = {});

bool HasErrors(const std::vector<ValidationIssue>& issues);

}  // namespace carechart::fhir
