// What a Bulk Data export asks for (https://hl7.org/fhir/uv/bulkdata/export.html): the level
// (system, all patients, a Group), the types, _since, _typeFilter and _elements; parsed from the
// kick-off request's parameters (or the command line) and kept as JSON in the jobs table so a job
// can be run again after a restart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace carechart::bulk {

enum class ExportLevel { kSystem, kPatient, kGroup };

struct TypeFilter {
  std::string type;   // e.g. "Observation"
  std::string query;  // the search after '?', e.g. "code=http://loinc.org|4548-4&date=ge2020"
};

struct ExportRequest {
  ExportLevel level = ExportLevel::kSystem;
  std::string group_id;                  // kGroup: the Group whose members are exported
  std::vector<std::string> patient_ids;  // kPatient: only these patients (empty: every patient)
  std::vector<std::string> types;        // _type; empty: every type the level allows
  std::optional<int64_t> since_us;       // _since: resources updated at or after
  std::vector<TypeFilter> type_filters;  // _typeFilter; several for one type are ORed
  std::vector<std::string> elements;     // _elements ("Type.elem" or "elem")
  std::string request_url;               // the kick-off URL, echoed in the manifest
};

// The output formats accepted for _outputFormat (the spec's full name and its abbreviations).
bool IsNdjsonFormat(const std::string& format);

// The filters of one _typeFilter value: values may be joined by commas, but a search may hold
// commas too (code=a,b), so it is split only at a comma followed by "ResourceType?".
std::vector<std::string> SplitTypeFilters(const std::string& value);

// Parses the kick-off parameters (URL-decoded, in order). Unknown parameters, bad values, types
// that are not resource types (or not in the Patient compartment for patient and group levels),
// and filters whose search does not parse are kInvalid naming the parameter.
StatusOr<ExportRequest> ParseExportParameters(
    ExportLevel level, const std::string& group_id,
    const std::vector<std::pair<std::string, std::string>>& params);

// Checks the types, filters and elements of a request built by hand (the command line).
Status CheckExportRequest(const ExportRequest& request);

// Whether `type` is exported by `request` at all (its level and _type).
bool ExportsType(const ExportRequest& request, const std::string& type);

std::string ExportRequestToJson(const ExportRequest& request);
StatusOr<ExportRequest> ExportRequestFromJson(const std::string& text);

}  // namespace carechart::bulk
