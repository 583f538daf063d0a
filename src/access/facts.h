// From a stored resource to the facts the policy decides on (policy.h ResourceFacts), and the
// de-identified form served to researchers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/policy.h"
#include "fhir/json.h"

namespace carechart::access {

// Type, id, recording facility (meta.tag), patient compartment, category codes and sensitivity
// (meta.security labels, and codes matching the configured sensitivity rules).
ResourceFacts FactsOf(const json::Value& resource, const PolicyConfig& config);

// FactsOf a stored body without building its whole tree: only the top-level members FactsOf
// reads are parsed (resourceType, id, meta, category, the coded elements of the sensitivity
// rules, and the elements the type's patient-compartment parameters select). Same facts as
// FactsOf(json::Parse(body)); kInvalid when the body is not a JSON object. `type` is the
// stored type (it chooses the members). Without `code_sensitivity` the sensitivity comes from
// meta.security labels only: enough whenever the patient's consent restricts no category (the
// policy reads sensitivity nowhere else), and the coded elements are the larger part to parse.
// `stored_patient_id`: the compartment owner the store keeps beside the body (written from
// the same PatientCompartmentOf), when the read returned it: the compartment's elements are then
// neither parsed nor evaluated.
StatusOr<ResourceFacts> FactsOfStored(std::string_view type, std::string_view body,
                                      const PolicyConfig& config, bool code_sensitivity = true,
                                      const std::string* stored_patient_id = nullptr);

// The top-level members of `type` that its patient-compartment parameters' expressions read, or
// nullopt when that cannot be told from the expressions (FactsOfStored then parses everything).
const std::optional<std::vector<std::string>>& CompartmentMembers(std::string_view type);

// The v3-ActCode sensitivity category a security label stands for ("SUD" counts as "ETH",
// "STD" as "SEX", "PSYTHPN" as "PSY"), or empty when it is not a sensitivity label.
std::string_view SensitivityCategoryOfLabel(std::string_view code);

// The de-identification transform (docs/access-policy.md): removes names, identifiers,
// addresses, telecom, photos, contacts, narrative, notes and the display text of references;
// keeps only the year of birthDate and deceasedDateTime; marks meta.security REDACTED.
void Deidentify(json::Value& resource);

}  // namespace carechart::access
