// Internals of the validator shared between its files. Not a public API of cc_fhir.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fhir/json.h"
#include "fhir/validator.h"

namespace carechart::fhir::validation {

// Collects issues; `location` is the FHIRPath of the offending node.
class IssueSink {
 public:
  explicit IssueSink(std::vector<ValidationIssue>* issues) : issues_(issues) {}
  void Error(std::string_view code, std::string location, std::string message) {
    issues_->push_back(
        {IssueSeverity::kError, std::string(code), std::move(location), std::move(message)});
  }

 private:
  std::vector<ValidationIssue>* issues_;
};

// A FHIRPath invariant coded by hand (those that need no general FHIRPath engine). It runs on
// the JSON object of the type that declares the constraint (e.g. per-1 on each Period). Which
// invariants run is decided by the generated constraint-key list of each type, never by hand.
using InvariantCheck = void (*)(const json::Value& object, const std::string& location,
                                IssueSink* sink);

// The checker of constraint `key` (e.g. "per-1"), or nullptr when it needs the FHIRPath engine.
InvariantCheck FindInvariant(std::string_view key);

// Business rules of the reference validator that are not R4 invariants but are cheap and safe,
// keyed by resource type (e.g. Bundle.entry.fullUrl must be absolute).
void CheckResourceRules(std::string_view type, const json::Value& resource,
                        const std::string& location, IssueSink* sink);

// Reference.reference: "Type/id", "Type/id/_history/v", "#local", absolute URL, urn:uuid:,
// urn:oid:, or a conditional reference "Type?query" (transactions). Returns "" when valid.
std::string CheckReferenceFormat(std::string_view reference);

}  // namespace carechart::fhir::validation
