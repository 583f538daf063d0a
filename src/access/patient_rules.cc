// Patient and proxy write rules and audit-event redaction (see patient_rules.h).
#include "access/patient_rules.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace carechart::access {

namespace {

// The Patient id a reference names ("Patient/x", "https://host/fhir/Patient/x", with an
// optional /_history/n), or empty.
std::string PatientIdOf(std::string_view ref) {
  if (auto h = ref.find("/_history/"); h != std::string_view::npos) {
    ref = ref.substr(0, h);
  }
  size_t at = ref.rfind("Patient/");
  if (at == std::string_view::npos || (at > 0 && ref[at - 1] != '/')) {
    return {};
  }
  std::string_view id = ref.substr(at + 8);
  if (id.empty() || id.find('/') != std::string_view::npos) {
    return {};
  }
  return std::string(id);
}

void CollectPatientRefs(const json::Value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.members()) {
      if (key == "reference" && child.is_string()) {
        if (std::string id = PatientIdOf(child.text()); !id.empty()) {
          out.push_back(id);
        }
      } else {
        CollectPatientRefs(child, out);
      }
    }
  } else if (v.is_array()) {
    for (const json::Value& item : v.items()) {
      CollectPatientRefs(item, out);
    }
  }
}

bool Contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Status Forbidden(std::string message) { return {StatusCode::kForbidden, std::move(message)}; }

}  // namespace

Status CheckPatientWrite(const std::vector<std::string>& own, const json::Value& resource) {
  std::string_view type = resource.string_at("resourceType");
  if (type == "Patient") {
    return Status::Ok();  // the role table decides (patients do not write Patient by default)
  }
  std::vector<std::string> refs;
  CollectPatientRefs(resource, refs);
  for (const std::string& id : refs) {
    if (!Contains(own, id)) {
      return Forbidden("a patient or proxy may only write about their own records; " +
                       std::string(type) + " refers to Patient/" + id);
    }
  }
  std::string_view status = resource.string_at("status");
  if (type == "Appointment" && status != "proposed" && status != "pending" &&
      status != "cancelled") {
    return Forbidden(
        "a patient or proxy may request (status proposed or pending) or cancel (cancelled) an "
        "Appointment, not set it to '" +
        std::string(status) + "'; book a free Slot with Appointment/$book");
  }
  if (type == "Task" && status != "requested" && status != "cancelled") {
    return Forbidden("a patient or proxy may only request (status requested) or cancel a Task");
  }
  return Status::Ok();
}

bool RedactAuditEventForPatient(const std::vector<std::string>& own, json::Value& event) {
  bool changed = false;
  // A denial's reason may name the record it refused ("may not see Patient/x's record").
  std::string_view desc = event.string_at("outcomeDesc");
  for (size_t at = desc.find("Patient/"); at != std::string_view::npos;
       at = desc.find("Patient/", at + 8)) {
    size_t end = at + 8;
    while (end < desc.size() && (std::isalnum(static_cast<unsigned char>(desc[end])) ||
                                 desc[end] == '-' || desc[end] == '.')) {
      ++end;
    }
    std::string id(desc.substr(at + 8, end - at - 8));
    while (!id.empty() && id.back() == '.') {
      id.pop_back();  // the end of a sentence
    }
    if (!id.empty() && !Contains(own, id)) {
      event.set("outcomeDesc",
                json::Value::String("(details removed: they concern another patient's record)"));
      changed = true;
      break;
    }
  }
  json::Value* entities = event.find("entity");
  if (entities == nullptr || !entities->is_array()) {
    return changed;
  }
  bool others = false;
  for (const json::Value& e : entities->items()) {
    const json::Value* what = e.find("what");
    std::string id = what ? PatientIdOf(what->string_at("reference")) : "";
    if (!id.empty() && !Contains(own, id)) {
      others = true;
    }
  }
  if (!others) {
    return changed;
  }
  // The event also touched other patients: keep only the entities naming this patient.
  json::Value kept = json::Value::Array();
  for (json::Value& e : entities->items()) {
    const json::Value* what = e.find("what");
    std::string id = what ? PatientIdOf(what->string_at("reference")) : "";
    if (!id.empty() && Contains(own, id)) {
      kept.push_back(std::move(e));
    }
  }
  *entities = std::move(kept);
  json::Value* meta = event.find("meta");
  if (meta == nullptr || !meta->is_object()) {
    event.set("meta", json::Value::Object());
    meta = event.find("meta");
  }
  json::Value* security = meta->find("security");
  if (security == nullptr || !security->is_array()) {
    meta->set("security", json::Value::Array());
    security = meta->find("security");
  }
  json::Value label = json::Value::Object();
  label.set("system",
            json::Value::String("http://terminology.hl7.org/CodeSystem/v3-ObservationValue"));
  label.set("code", json::Value::String("REDACTED"));
  label.set("display", json::Value::String("redacted"));
  security->push_back(std::move(label));
  return true;
}

}  // namespace carechart::access
