// HL7 v2 -> FHIR R4: ADT A01/A02/A03/A04/A05/A08/A11/A12/A13/A31/A40 and ORU^R01 (docs/hl7v2.md).
// The mapper decides what to write; the processor (processor.h) supplies current resources,
// patient lookups and commits everything in one transaction.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/json.h"
#include "hl7v2/mapping_config.h"
#include "hl7v2/message.h"

namespace carechart::hl7v2 {

// What the mapper may ask of the processor while planning one message's writes.
class MapContext {
 public:
  virtual ~MapContext() = default;
  virtual const MappingConfig& config() const = 0;
  virtual const FacilityEntry& facility() const = 0;  // the sender's facility (MSH-4)
  // The current resource: planned earlier for this message, or committed; nullopt when absent
  // or deleted.
  virtual StatusOr<std::optional<json::Value>> Get(const std::string& type,
                                                   const std::string& id) = 0;
  // Plans a new version of `resource` (resourceType and id set), based on what Get() saw.
  virtual Status Put(json::Value resource) = 0;
  // Plans a version whose content comes from the message alone (no read of the current one).
  virtual Status PutBlind(json::Value resource) = 0;
  // Creates `resource` when its id does not exist yet; leaves an existing one alone.
  virtual Status Ensure(json::Value resource) = 0;
  // The id of the patient holding one of these identifiers (system, value), following
  // replaced-by links of merged patients; empty when none.
  virtual StatusOr<std::string> FindPatient(
      const std::vector<std::pair<std::string, std::string>>& identifiers) = 0;
  // The current resources of the patient compartment of `patient_id` (for merges).
  virtual StatusOr<std::vector<json::Value>> Compartment(const std::string& patient_id) = 0;
  // The segment being mapped, for error messages about the resources it yields.
  virtual void SetSource(const std::string& segment, int sequence) = 0;
};

// Whether the message type and event are mapped; false with an error (code 200/201) otherwise.
bool IsSupported(const Message& m, Error* error);

// Plans every write `m` yields. False with `error` (segment, field, reason) when the message
// cannot be mapped; a store failure is returned as code 207 with its text.
bool MapMessage(const Message& m, MapContext& ctx, Error* error);

// FHIR dateTime from an HL7 DTM/TS ("" when empty); false when malformed.
bool ToFhirDateTime(std::string_view hl7, const std::string& default_tz, std::string* out);

// Deterministic short hash (32 hex characters of SHA-256).
std::string Hash32(std::string_view text);

}  // namespace carechart::hl7v2
