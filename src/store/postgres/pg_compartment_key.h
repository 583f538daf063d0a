// The compartment key every clinical row of the PostgreSQL schema carries (migration 7,
// decisions D46): the distribution column under Citus, so that a patient's resources, their
// history and their index rows live on one shard.
#pragma once

#include <optional>
#include <string>

#include "fhir/definitions.h"

namespace carechart::store::pg {

// A version's key: the id of the patient whose compartment it is in (a Patient: its own id);
// a resource outside every patient compartment (Organization, Practitioner, Medication, an
// Observation without a subject ...) gets its own "Type/id", so such resources spread over the
// shards instead of piling up on one. Ids cannot contain '/', so the two kinds never collide.
inline std::string CompartmentKey(const std::string& type, const std::string& id,
                                  const std::string& patient_id) {
  if (type == "Patient") {
    return id;
  }
  if (patient_id.empty() || fhir::PatientCompartmentParams(type).empty()) {
    return type + "/" + id;
  }
  return patient_id;
}

// The key of (type, id) when the type alone decides it (a Patient, or a type that is never in a
// patient compartment): reads by id then name the key, which lets Citus send them to one shard.
// nullopt for the types whose instances belong to a patient (the key is in resource_key).
inline std::optional<std::string> KeyFromTypeAndId(const std::string& type, const std::string& id) {
  if (type == "Patient") {
    return id;
  }
  if (fhir::PatientCompartmentParams(type).empty()) {
    return type + "/" + id;
  }
  return std::nullopt;
}

}  // namespace carechart::store::pg
