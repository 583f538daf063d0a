// Consent resources to ConsentRestrictions (profile described in consent.h).
#include "access/consent.h"

#include "access/facts.h"
#include "fhir/datetime.h"

namespace carechart::access {
namespace {

bool CoversNow(const json::Value& provision, int64_t now_us) {
  const json::Value* period = provision.find("period");
  if (period == nullptr || !period->is_object()) {
    return true;
  }
  fhir::DateRange r;
  if (auto start = period->string_at("start");
      !start.empty() && fhir::ParseDateRange(start, &r) && r.low > now_us) {
    return false;
  }
  if (auto end = period->string_at("end");
      !end.empty() && fhir::ParseDateRange(end, &r) && r.high < now_us) {
    return false;
  }
  return true;
}

bool HasEmergencyPurpose(const json::Value& provision) {
  const json::Value* purposes = provision.find("purpose");
  if (purposes == nullptr || !purposes->is_array()) {
    return false;
  }
  for (const json::Value& p : purposes->items()) {
    if (p.string_at("code") == "ETREAT") {
      return true;
    }
  }
  return false;
}

void Walk(const json::Value& provision, int64_t now_us, ConsentRestrictions& out) {
  if (!provision.is_object() || !CoversNow(provision, now_us)) {
    return;
  }
  if (provision.string_at("type") == "deny") {
    bool binding = HasEmergencyPurpose(provision);
    bool any_label = false;
    if (const json::Value* labels = provision.find("securityLabel");
        labels != nullptr && labels->is_array()) {
      for (const json::Value& label : labels->items()) {
        std::string_view category = SensitivityCategoryOfLabel(label.string_at("code"));
        if (category.empty()) {
          continue;
        }
        any_label = true;
        out.categories.insert(std::string(category));
        if (binding) {
          out.categories_binding_in_emergency.insert(std::string(category));
        }
      }
    }
    if (!any_label) {
      out.whole_record = true;
      out.whole_record_binding_in_emergency = out.whole_record_binding_in_emergency || binding;
    }
  }
  if (const json::Value* nested = provision.find("provision");
      nested != nullptr && nested->is_array()) {
    for (const json::Value& p : nested->items()) {
      Walk(p, now_us, out);
    }
  }
}

}  // namespace

ConsentRestrictions RestrictionsFrom(const std::vector<json::Value>& consents, int64_t now_us) {
  ConsentRestrictions out;
  for (const json::Value& c : consents) {
    if (c.string_at("resourceType") != "Consent" || c.string_at("status") != "active") {
      continue;
    }
    const json::Value* provision = c.find("provision");
    if (provision == nullptr) {
      continue;
    }
    ConsentRestrictions before = out;
    Walk(*provision, now_us, out);
    if (out.whole_record != before.whole_record || out.categories != before.categories) {
      out.consent_ids.emplace_back(c.string_at("id"));
    }
  }
  return out;
}

}  // namespace carechart::access
