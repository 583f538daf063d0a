// Internals of the validator shared between its files. Not a public API of cc_fhir.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/json.h"
#include "fhir/structure.h"
#include "fhir/validator.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhir::validation {

// Collects issues; `location` is the FHIRPath of the offending node.
class IssueSink {
 public:
  explicit IssueSink(std::vector<ValidationIssue>* issues) : issues_(issues) {}
  void Error(std::string_view code, std::string location, std::string message) {
    Add(IssueSeverity::kError, code, std::move(location), std::move(message));
  }
  void Add(IssueSeverity severity, std::string_view code, std::string location,
           std::string message) {
    issues_->push_back({severity, std::string(code), std::move(location), std::move(message)});
  }

 private:
  std::vector<ValidationIssue>* issues_;
};

// Evaluates the error-severity constraints of `constraints` (ElementDefinition.constraint, see
// validator_invariants.cc) on `focus`, a value of `resource` (itself contained in `root`, or
// `root` itself), and reports each one that fails as an "invariant" issue at `location`.
void CheckConstraints(std::span<const structure::ConstraintInfo> constraints,
                      const fhirpath::Item& focus, const json::Value& resource,
                      const json::Value& root, const std::string& location, IssueSink* sink);

// How many constraints the validator evaluates, and the keys it skips (with the reason).
struct ConstraintCoverage {
  int evaluated = 0;  // error severity, compiled
  int errors = 0;     // error severity in total
  // Error-severity constraints not evaluated: key, reason.
  std::vector<std::pair<std::string_view, std::string_view>> skipped;
};
ConstraintCoverage Coverage();

// Whether constraints that a glance at the JSON proves to hold are skipped (the default); tests
// turn it off to check that the results are the same. Affects every thread.
void SetConstraintShortcuts(bool enabled);

// Business rules of the reference validator that are not R4 invariants but are cheap and safe,
// keyed by resource type (e.g. Bundle.entry.fullUrl must be absolute).
void CheckResourceRules(std::string_view type, const json::Value& resource,
                        const std::string& location, IssueSink* sink);

// Reference.reference: "Type/id", "Type/id/_history/v", "#local", absolute URL, urn:uuid:,
// urn:oid:, or a conditional reference "Type?query" (transactions). Returns "" when valid.
std::string CheckReferenceFormat(std::string_view reference);

}  // namespace carechart::fhir::validation
