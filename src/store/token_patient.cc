#include "store/token_patient.h"

#include <set>

#include "fhir/definitions.h"
#include "store/index_keys.h"

namespace carechart::store {
namespace {

const std::set<std::string_view>& TypesWithPatientParam() {
  static const std::set<std::string_view> types = [] {
    std::set<std::string_view> out;
    for (std::string_view t : fhir::ResourceTypes()) {
      for (const fhir::SearchParamDef& p : fhir::SearchParams(t)) {  // R4's list only
        if (p.code == "patient" && p.type == fhir::SearchParamType::kReference) {
          out.insert(t);
        }
      }
    }
    return out;
  }();
  return types;
}

}  // namespace

bool HasR4PatientParam(std::string_view type) { return TypesWithPatientParam().contains(type); }

std::string_view TokenRowPatient(std::string_view type, const fhir::IndexEntries& ix) {
  std::string_view found;
  bool checked = false;
  for (const fhir::ReferenceEntry& e : ix.references) {
    if (e.param != "patient" || e.target_type != "Patient") {
      continue;
    }
    if (!checked) {  // only now: most resources of most types have no `patient` entry
      if (!HasR4PatientParam(type)) {
        return {};
      }
      checked = true;
    }
    if (found.empty()) {
      found = e.target_id;
    } else if (found != e.target_id) {
      return {};  // several patients: the search reads this resource's reference rows
    }
  }
  return found;
}

std::string PatientParamKeyList() {
  std::string out;
  for (std::string_view t : TypesWithPatientParam()) {
    out += (out.empty() ? "" : ", ") + std::to_string(ParamKey(t, "patient"));
  }
  return out;
}

}  // namespace carechart::store
