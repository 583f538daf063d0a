#include "bulk/export_request.h"

#include <algorithm>

#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "fhir/json.h"
#include "http/url.h"
#include "store/search_query.h"

namespace carechart::bulk {
namespace {

std::vector<std::string> SplitComma(const std::string& v) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    if (comma == std::string::npos) {
      comma = v.size();
    }
    std::string part = v.substr(pos, comma - pos);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) {
      out.push_back(part);
    }
    pos = comma + 1;
  }
  return out;
}

bool InPatientCompartment(const std::string& type) {
  return type == "Patient" || !fhir::PatientCompartmentParams(type).empty();
}

Status CheckType(ExportLevel level, const std::string& type, const char* param) {
  if (!fhir::IsResourceType(type)) {
    return InvalidError("'" + type + "' in " + param + " is not a FHIR R4 resource type", param);
  }
  if (level != ExportLevel::kSystem && !InPatientCompartment(type)) {
    return InvalidError("'" + type + "' in " + param +
                            " is not in the Patient compartment, so a patient or group export "
                            "cannot contain it (use the system-level $export)",
                        param);
  }
  return Status::Ok();
}

StatusOr<TypeFilter> ParseTypeFilter(ExportLevel level, const std::string& value) {
  size_t q = value.find('?');
  if (q == std::string::npos || q == 0) {
    return InvalidError("_typeFilter '" + value + "' must be Type?search-parameters",
                        "_typeFilter");
  }
  TypeFilter f{value.substr(0, q), value.substr(q + 1)};
  RETURN_IF_ERROR(CheckType(level, f.type, "_typeFilter"));
  auto pairs = http::ParseQuery(f.query);
  if (!pairs) {
    return InvalidError("_typeFilter '" + value + "' has a malformed %-escape", "_typeFilter");
  }
  auto parsed = store::ParseSearch(f.type, *pairs);
  if (!parsed.ok()) {
    return InvalidError("_typeFilter '" + value + "': " + parsed.status().message(), "_typeFilter");
  }
  return f;
}

}  // namespace

std::vector<std::string> SplitTypeFilters(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != ',') {
      continue;
    }
    size_t q = v.find('?', i + 1);
    if (q != std::string::npos && fhir::IsResourceType(v.substr(i + 1, q - i - 1))) {
      out.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(v.substr(start));
  return out;
}

bool IsNdjsonFormat(const std::string& format) {
  return format == "application/fhir+ndjson" || format == "application/ndjson" ||
         format == "ndjson";
}

StatusOr<ExportRequest> ParseExportParameters(
    ExportLevel level, const std::string& group_id,
    const std::vector<std::pair<std::string, std::string>>& params) {
  ExportRequest r;
  r.level = level;
  r.group_id = group_id;
  std::vector<std::string> unknown;
  for (const auto& [k, v] : params) {
    if (k == "_outputFormat") {
      if (!IsNdjsonFormat(v)) {
        return InvalidError("_outputFormat '" + v +
                                "' is not supported; use application/fhir+ndjson (or "
                                "application/ndjson, ndjson)",
                            "_outputFormat");
      }
    } else if (k == "_type") {
      for (const std::string& t : SplitComma(v)) {
        RETURN_IF_ERROR(CheckType(level, t, "_type"));
        if (std::find(r.types.begin(), r.types.end(), t) == r.types.end()) {
          r.types.push_back(t);
        }
      }
    } else if (k == "_since") {
      fhir::DateRange range;
      if (!fhir::ParseDateRange(v, &range)) {
        return InvalidError("_since '" + v + "' is not a FHIR instant (e.g. 2024-01-31T12:00:00Z)",
                            "_since");
      }
      r.since_us = range.low;
    } else if (k == "_typeFilter") {
      for (const std::string& one : SplitTypeFilters(v)) {
        ASSIGN_OR_RETURN(TypeFilter f, ParseTypeFilter(level, one));
        r.type_filters.push_back(std::move(f));
      }
    } else if (k == "_elements") {
      for (const std::string& e : SplitComma(v)) {
        r.elements.push_back(e);
      }
    } else if (k == "patient") {
      // Only from a POST kick-off's Parameters (bulk_api.cc), as Patient/{id} → {id}.
      if (level != ExportLevel::kPatient) {
        return InvalidError(
            "the patient parameter is supported at Patient level only "
            "(POST [base]/Patient/$export)",
            "patient");
      }
      if (std::find(r.patient_ids.begin(), r.patient_ids.end(), v) == r.patient_ids.end()) {
        r.patient_ids.push_back(v);
      }
    } else if (k == "_format") {
      // Negotiated by the router (the status and manifest are JSON).
    } else {
      unknown.push_back(k);
    }
  }
  if (!unknown.empty()) {
    std::string names;
    for (const auto& u : unknown) {
      names += (names.empty() ? "" : ", ") + u;
    }
    return InvalidError(
        "$export does not support the parameter(s) " + names +
            " (supported: _outputFormat, _type, _since, _typeFilter, _elements; patient in a POST)",
        unknown.front());
  }
  // A filter for a type outside _type would never apply: say so rather than ignore it.
  if (!r.types.empty()) {
    for (const TypeFilter& f : r.type_filters) {
      if (std::find(r.types.begin(), r.types.end(), f.type) == r.types.end()) {
        return InvalidError("_typeFilter names " + f.type + ", which _type leaves out",
                            "_typeFilter");
      }
    }
  }
  return r;
}

Status CheckExportRequest(const ExportRequest& request) {
  for (const std::string& t : request.types) {
    RETURN_IF_ERROR(CheckType(request.level, t, "--type"));
  }
  for (const TypeFilter& f : request.type_filters) {
    RETURN_IF_ERROR(ParseTypeFilter(request.level, f.type + "?" + f.query).status());
  }
  return Status::Ok();
}

bool ExportsType(const ExportRequest& request, const std::string& type) {
  if (request.level != ExportLevel::kSystem && !InPatientCompartment(type)) {
    return false;
  }
  return request.types.empty() ||
         std::find(request.types.begin(), request.types.end(), type) != request.types.end();
}

namespace {

json::Value StringArray(const std::vector<std::string>& v) {
  json::Value a = json::Value::Array();
  for (const auto& s : v) {
    a.push_back(json::Value::String(s));
  }
  return a;
}

std::vector<std::string> Strings(const json::Value* v) {
  std::vector<std::string> out;
  if (v != nullptr && v->is_array()) {
    for (const auto& i : v->items()) {
      out.push_back(i.text());
    }
  }
  return out;
}

const char* LevelName(ExportLevel l) {
  return l == ExportLevel::kSystem ? "system" : l == ExportLevel::kPatient ? "patient" : "group";
}

}  // namespace

std::string ExportRequestToJson(const ExportRequest& r) {
  json::Value o = json::Value::Object();
  o.set("level", json::Value::String(LevelName(r.level)));
  o.set("group", json::Value::String(r.group_id));
  o.set("patients", StringArray(r.patient_ids));
  o.set("types", StringArray(r.types));
  if (r.since_us) {
    o.set("since", json::Value::Int(*r.since_us));
  }
  json::Value filters = json::Value::Array();
  for (const auto& f : r.type_filters) {
    filters.push_back(json::Value::String(f.type + "?" + f.query));
  }
  o.set("typeFilters", std::move(filters));
  o.set("elements", StringArray(r.elements));
  o.set("request", json::Value::String(r.request_url));
  return json::Write(o);
}

StatusOr<ExportRequest> ExportRequestFromJson(const std::string& text) {
  ASSIGN_OR_RETURN(json::Value o, json::Parse(text));
  ExportRequest r;
  std::string_view level = o.string_at("level");
  r.level = level == "group"     ? ExportLevel::kGroup
            : level == "patient" ? ExportLevel::kPatient
                                 : ExportLevel::kSystem;
  r.group_id = std::string(o.string_at("group"));
  r.patient_ids = Strings(o.find("patients"));
  r.types = Strings(o.find("types"));
  if (const json::Value* s = o.find("since"); s != nullptr && s->is_number()) {
    r.since_us = std::stoll(s->text());
  }
  for (const std::string& f : Strings(o.find("typeFilters"))) {
    size_t q = f.find('?');
    r.type_filters.push_back({f.substr(0, q), q == std::string::npos ? "" : f.substr(q + 1)});
  }
  r.elements = Strings(o.find("elements"));
  r.request_url = std::string(o.string_at("request"));
  return r;
}

}  // namespace carechart::bulk
