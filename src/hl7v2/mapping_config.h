// Mapping tables for HL7 v2 -> FHIR (code systems, identifier systems, facilities, status and
// class tables). Configuration, not code: defaults ship in src/hl7v2/default_mapping.json; a
// JSON file given with --hl7-config overrides them entry by entry.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace carechart::hl7v2 {

struct Coding {
  std::string system, code, display;
};

struct FacilityEntry {
  std::string id;    // Organization id
  std::string name;  // display name
};

struct MappingConfig {
  std::string timezone = "+00:00";  // for HL7 times without an offset
  std::string facility_id_prefix = "hl7-";
  std::map<std::string, FacilityEntry> facilities;             // MSH-4 namespace id -> Organization
  std::string identifier_system_template;                      // "{authority}" is replaced
  std::map<std::string, std::string> identifier_systems;       // assigning authority -> system
  std::map<std::string, std::string> identifier_type_systems;  // CX-5 type -> system
  std::map<std::string, std::string> coding_systems;           // HL7 name of coding system -> URI
  std::string local_code_system_template;                      // "{system}" is replaced
  std::map<std::string, std::string> gender;
  std::map<std::string, std::string> name_use;
  std::map<std::string, Coding> patient_class;
  Coding default_class;
  std::map<std::string, std::string> encounter_status;  // trigger event -> Encounter.status
  std::map<std::string, std::string> observation_status;
  std::map<std::string, std::string> report_status;
  std::map<std::string, std::string> order_status;
  std::map<std::string, std::string> interpretation;
  std::string interpretation_system;

  // The Organization (facility) for an MSH-4 namespace id: configured, or prefix + sanitised id.
  FacilityEntry FacilityFor(std::string_view msh4) const;
  // The identifier system for an assigning authority (and identifier type when unmapped).
  std::string IdentifierSystem(std::string_view authority, std::string_view universal_id,
                               std::string_view universal_type, std::string_view id_type) const;
  // The FHIR system URI for an HL7 coding system name (LN -> http://loinc.org); empty for "".
  std::string CodeSystem(std::string_view hl7_system) const;
};

// The built-in defaults (default_mapping.json).
const MappingConfig& DefaultMapping();
// Defaults overridden by the JSON file at `path` (empty: the defaults). Errors name the file
// and the table.
StatusOr<MappingConfig> LoadMapping(const std::string& path);
// Defaults overridden by JSON text.
StatusOr<MappingConfig> ParseMapping(std::string_view json_text, const std::string& name);

// A FHIR id made of [A-Za-z0-9.-] from any text (others become '-'), at most 64 characters.
std::string SanitizeId(std::string_view s);

}  // namespace carechart::hl7v2
