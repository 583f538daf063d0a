// Where generated resources go: one call per resource with its compact JSON text.
#pragma once

#include <cstdint>
#include <string_view>

namespace carechart::synth {

enum class RType : uint8_t {
  kOrganization,
  kLocation,
  kPractitioner,
  kPractitionerRole,
  kPatient,
  kCoverage,
  kEncounter,
  kCondition,
  kAllergyIntolerance,
  kObservation,
  kDiagnosticReport,
  kServiceRequest,
  kMedicationRequest,
  kMedicationDispense,
  kImmunization,
  kProcedure,
  kImagingStudy,
  kCarePlan,
  kCareTeam,
  kClaim,
  kExplanationOfBenefit,
  kCount
};
std::string_view TypeName(RType t);

class ResourceSink {
 public:
  virtual ~ResourceSink() = default;
  // `json` is one complete resource (no newline); it is only valid during the call.
  virtual void Add(RType type, std::string_view id, std::string_view json) = 0;
  // The end of a group: the shared reference data (name "reference-data") or one patient's
  // record (name: the patient id).
  virtual void EndGroup(std::string_view name) {}
};

}  // namespace carechart::synth
