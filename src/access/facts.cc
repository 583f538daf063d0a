// ResourceFacts extraction and de-identification (facts.h).
#include "access/facts.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include "fhir/definitions.h"
#include "fhir/json_members.h"
#include "fhir/search_index.h"

namespace carechart::access {
namespace {

// Elements whose codes decide a resource's sensitivity by the configured code rules.
constexpr std::array<std::string_view, 6> kCodedElements{
    "code",        "reasonCode", "medicationCodeableConcept", "valueCodeableConcept",
    "vaccineCode", "category"};

template <typename Fn>
void ForEachCoding(const json::Value* concept_or_list, Fn&& fn) {
  if (concept_or_list == nullptr) {
    return;
  }
  if (concept_or_list->is_array()) {
    for (const json::Value& c : concept_or_list->items()) {
      ForEachCoding(&c, fn);
    }
    return;
  }
  const json::Value* codings = concept_or_list->find("coding");
  if (codings == nullptr || !codings->is_array()) {
    return;
  }
  for (const json::Value& coding : codings->items()) {
    fn(coding.string_at("system"), coding.string_at("code"));
  }
}

void AddCodeSensitivity(const json::Value& resource, const PolicyConfig& config,
                        ResourceFacts& facts) {
  if (config.sensitivity.empty()) {
    return;
  }
  for (std::string_view element : kCodedElements) {
    ForEachCoding(resource.find(element), [&](std::string_view system, std::string_view code) {
      if (code.empty()) {
        return;
      }
      for (const SensitivityRule& rule : config.sensitivity) {
        if (!rule.system.empty() && rule.system != system) {
          continue;
        }
        for (const std::string& prefix : rule.code_prefixes) {
          if (code.starts_with(prefix)) {
            facts.sensitivity.insert(rule.category);
            break;
          }
        }
      }
    });
  }
}

}  // namespace

std::string_view SensitivityCategoryOfLabel(std::string_view code) {
  if (code == "PSY" || code == "PSYTHPN" || code == "MH") {
    return "PSY";
  }
  if (code == "ETH" || code == "SUD" || code == "SUDRD" || code == "ETHUD" || code == "OPIOIDUD") {
    return "ETH";
  }
  if (code == "HIV") {
    return "HIV";
  }
  if (code == "SEX" || code == "STD" || code == "SEXRD" || code == "REPRODUCTIVE") {
    return "SEX";
  }
  return {};
}

namespace {

ResourceFacts FactsOfTree(const json::Value& resource, const PolicyConfig& config,
                          const std::string* stored_patient_id);

}  // namespace

ResourceFacts FactsOf(const json::Value& resource, const PolicyConfig& config) {
  return FactsOfTree(resource, config, nullptr);
}

namespace {

ResourceFacts FactsOfTree(const json::Value& resource, const PolicyConfig& config,
                          const std::string* stored_patient_id) {
  ResourceFacts f;
  f.type = std::string(resource.string_at("resourceType"));
  f.id = std::string(resource.string_at("id"));
  if (const json::Value* meta = resource.find("meta"); meta != nullptr && meta->is_object()) {
    if (const json::Value* tags = meta->find("tag"); tags != nullptr && tags->is_array()) {
      for (const json::Value& tag : tags->items()) {
        if (tag.string_at("system") == kFacilityTagSystem) {
          f.facility_id = std::string(tag.string_at("code"));
        }
      }
    }
    if (const json::Value* labels = meta->find("security");
        labels != nullptr && labels->is_array()) {
      for (const json::Value& label : labels->items()) {
        if (auto c = SensitivityCategoryOfLabel(label.string_at("code")); !c.empty()) {
          f.sensitivity.insert(std::string(c));
        }
      }
    }
  }
  f.patient_id =
      stored_patient_id != nullptr ? *stored_patient_id : fhir::PatientCompartmentOf(resource);
  ForEachCoding(resource.find("category"),
                [&](std::string_view, std::string_view code) { f.categories.emplace_back(code); });
  if (f.type == "Basic") {  // Basic's kind is its code (break-the-glass grants)
    ForEachCoding(resource.find("code"), [&](std::string_view, std::string_view code) {
      f.categories.emplace_back(code);
    });
  }
  AddCodeSensitivity(resource, config, f);
  return f;
}

}  // namespace

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Top-level elements named "Type.<name>" in `expression`; false when the expression may read
// something else (no such path, or a construct that reaches beyond the paths it names).
bool AddPathRoots(std::string_view type, std::string_view expression,
                  std::vector<std::string>& names) {
  for (std::string_view wide :
       {"%resource", "%rootResource", "descendants", "children", "repeat(", "%context"}) {
    if (expression.find(wide) != std::string_view::npos) {
      return false;
    }
  }
  const std::string prefix = std::string(type) + ".";
  bool found = false;
  for (size_t at = expression.find(prefix); at != std::string_view::npos;
       at = expression.find(prefix, at + 1)) {
    if (at > 0 && (IsNameChar(expression[at - 1]) || expression[at - 1] == '.')) {
      continue;  // "SomeObservation." or "x.Observation."
    }
    size_t begin = at + prefix.size();
    size_t end = begin;
    while (end < expression.size() && IsNameChar(expression[end])) {
      ++end;
    }
    if (end == begin) {
      return false;
    }
    names.emplace_back(expression.substr(begin, end - begin));
    found = true;
  }
  return found;
}

std::optional<std::vector<std::string>> ComputeCompartmentMembers(std::string_view type) {
  std::vector<std::string> names;
  if (type == "Patient") {
    return names;  // a Patient is its own compartment: its id
  }
  for (std::string_view code : fhir::PatientCompartmentParams(type)) {
    const fhir::SearchParamDef* def = fhir::FindSearchParam(type, code);
    if (def == nullptr || def->expression.empty()) {
      continue;  // PatientCompartmentOf skips it too
    }
    if (!AddPathRoots(type, def->expression, names)) {
      return std::nullopt;
    }
  }
  return names;
}

// A JSON member named `key` holds element `name`: the name itself, a choice type's
// "<name><Type>" (valueReference for value), or the primitive extension "_<name>".
bool MemberOf(std::string_view key, std::string_view name) {
  if (key.starts_with('_')) {
    key.remove_prefix(1);
  }
  if (!key.starts_with(name)) {
    return false;
  }
  return key.size() == name.size() || (key[name.size()] >= 'A' && key[name.size()] <= 'Z');
}

}  // namespace

const std::optional<std::vector<std::string>>& CompartmentMembers(std::string_view type) {
  static std::mutex mu;
  static std::map<std::string, std::optional<std::vector<std::string>>, std::less<>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(type); it != cache.end()) {
    return it->second;  // map nodes never move: the reference stays valid
  }
  return cache.emplace(std::string(type), ComputeCompartmentMembers(type)).first->second;
}

StatusOr<ResourceFacts> FactsOfStored(std::string_view type, std::string_view body,
                                      const PolicyConfig& config, bool code_sensitivity,
                                      const std::string* stored_patient_id) {
  static const std::optional<std::vector<std::string>> kNoMembers{std::vector<std::string>{}};
  const auto& compartment = stored_patient_id != nullptr ? kNoMembers : CompartmentMembers(type);
  if (!compartment) {
    ASSIGN_OR_RETURN(json::Value full, json::Parse(body));
    return FactsOf(full, config);
  }
  const bool coded = code_sensitivity && !config.sensitivity.empty();
  const bool basic = type == "Basic";
  auto keep = [&](std::string_view key) {
    if (key == "resourceType" || key == "id" || key == "meta" || key == "category" ||
        (basic && key == "code")) {
      return true;
    }
    if (coded &&
        std::find(kCodedElements.begin(), kCodedElements.end(), key) != kCodedElements.end()) {
      return true;
    }
    for (const std::string& name : *compartment) {
      if (MemberOf(key, name)) {
        return true;
      }
    }
    return false;
  };
  ASSIGN_OR_RETURN(json::Value partial, json::ParseTopLevelMembers(body, keep));
  return FactsOfTree(partial, config, stored_patient_id);
}

namespace {

constexpr std::array<std::string_view, 9> kRemoved{
    "name", "identifier", "address", "telecom", "photo", "contact", "text", "note", "alias"};

std::string YearOnly(std::string_view date) { return std::string(date.substr(0, 4)); }

void Scrub(json::Value& v, bool top) {
  if (v.is_array()) {
    for (json::Value& item : v.items()) {
      Scrub(item, false);
    }
    return;
  }
  if (!v.is_object()) {
    return;
  }
  if (top) {
    for (std::string_view key : kRemoved) {
      v.erase(key);
    }
  }
  if (v.find("reference") != nullptr) {
    v.erase("display");  // "Dr Ana Ruiz", "Maria Lopez"
  }
  for (auto& [key, child] : v.members()) {
    if (key == "contained") {
      for (json::Value& c : child.items()) {
        Scrub(c, true);
      }
    } else {
      Scrub(child, false);
    }
  }
}

}  // namespace

void Deidentify(json::Value& resource) {
  Scrub(resource, true);
  for (const char* key : {"birthDate", "deceasedDateTime"}) {
    if (json::Value* d = resource.find(key); d != nullptr && d->is_string()) {
      d->mutable_text() = YearOnly(d->text());
    }
  }
  json::Value* meta = resource.find("meta");
  if (meta == nullptr || !meta->is_object()) {
    meta = &resource.set("meta", json::Value::Object());
  }
  if (json::Value* tags = meta->find("tag"); tags != nullptr && tags->is_array()) {
    std::erase_if(tags->items(), [](const json::Value& t) {
      return t.string_at("system") == kAuthorTagSystem;  // user ids of the authors
    });
  }
  json::Value* security = meta->find("security");
  if (security == nullptr || !security->is_array()) {
    security = &meta->set("security", json::Value::Array());
  }
  auto label = json::Value::Object();
  label.set("system",
            json::Value::String("http://terminology.hl7.org/CodeSystem/v3-ObservationValue"));
  label.set("code", json::Value::String("REDACTED"));
  label.set("display", json::Value::String("redacted"));
  security->push_back(std::move(label));
}

}  // namespace carechart::access
