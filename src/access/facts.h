// From a stored resource to the facts the policy decides on (policy.h ResourceFacts), and the
// de-identified form served to researchers.
#pragma once

#include "access/policy.h"
#include "fhir/json.h"

namespace carechart::access {

// Type, id, recording facility (meta.tag), patient compartment, category codes and sensitivity
// (meta.security labels, and codes matching the configured sensitivity rules).
ResourceFacts FactsOf(const json::Value& resource, const PolicyConfig& config);

// The v3-ActCode sensitivity category a security label stands for ("SUD" counts as "ETH",
// "STD" as "SEX", "PSYTHPN" as "PSY"), or empty when it is not a sensitivity label.
std::string_view SensitivityCategoryOfLabel(std::string_view code);

// The de-identification transform (docs/access-policy.md): removes names, identifiers,
// addresses, telecom, photos, contacts, narrative, notes and the display text of references;
// keeps only the year of birthDate and deceasedDateTime; marks meta.security REDACTED.
void Deidentify(json::Value& resource);

}  // namespace carechart::access
