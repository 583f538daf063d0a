// Hand-coded FHIRPath invariants and reference-validator rules (see validator_internal.h).
// Each invariant here is applied only to types whose generated constraint list names its key.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "fhir/primitive_format.h"
#include "fhir/validator_internal.h"

namespace carechart::fhir::validation {
namespace {

// per-1: "If present, start SHALL have a lower value than end" (start.hasValue().not() or
// end.hasValue().not() or (start <= end)). FHIRPath compares values of different precision only
// when they differ within the shared precision: "2023-06-21" <= "2023-06-21T06:20:00Z" is empty,
// so the invariant is not satisfied. With aligned precisions, "equal within the shared precision"
// is "the two ranges overlap".
void CheckPeriodOrder(const json::Value& period, const std::string& location, IssueSink* sink) {
  const std::string_view start = period.string_at("start");
  const std::string_view end = period.string_at("end");
  DateTimeParts sp;
  DateTimeParts ep;
  DateRange s;
  DateRange e;
  if (start.empty() || end.empty() || !ParseDateTimeParts(start, &sp) ||
      !ParseDateTimeParts(end, &ep) || !ParseDateRange(start, &s) || !ParseDateRange(end, &e)) {
    return;
  }
  const bool same_precision = sp.precision == ep.precision && sp.frac_digits == ep.frac_digits;
  const bool ok = same_precision ? s.low <= e.low : s.high < e.low;
  if (!ok) {
    sink->Error("invariant", location,
                "Constraint failed: per-1: 'If present, start SHALL have a lower value than end'");
  }
}

// ras-2: "Must be <= 100" on RiskAssessment.prediction.probabilityDecimal.
void CheckRiskProbability(const json::Value& risk, const std::string& location, IssueSink* sink) {
  const json::Value* predictions = risk.find("prediction");
  if (predictions == nullptr || !predictions->is_array()) {
    return;
  }
  for (size_t i = 0; i < predictions->items().size(); ++i) {
    const json::Value* p = predictions->items()[i].find("probabilityDecimal");
    if (p != nullptr && p->is_number() && std::strtod(p->text().c_str(), nullptr) > 100) {
      sink->Error("invariant", location + ".prediction[" + std::to_string(i) + "]",
                  "Constraint failed: ras-2: 'Must be <= 100'");
    }
  }
}

// ext-1: "Must have either extensions or value[x], not both".
void CheckExtensionContent(const json::Value& ext, const std::string& location, IssueSink* sink) {
  bool has_value = false;
  bool has_extension = false;
  for (const auto& [key, value] : ext.members()) {
    has_extension |= key == "extension";
    has_value |= key.size() > 5 && key.compare(0, 5, "value") == 0;
  }
  if (has_value && has_extension) {
    sink->Error("invariant", location,
                "Constraint failed: ext-1: 'Must have either extensions or value[x], not both'");
  }
}

struct Invariant {
  std::string_view key;
  InvariantCheck check;
};
constexpr Invariant kInvariants[] = {
    {"ext-1", CheckExtensionContent},
    {"per-1", CheckPeriodOrder},
    {"ras-2", CheckRiskProbability},
};

bool IsAbsoluteUrl(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  return std::all_of(s.begin(), s.begin() + colon, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

void CheckBundle(const json::Value& bundle, const std::string& location, IssueSink* sink) {
  if (const json::Value* entries = bundle.find("entry");
      entries != nullptr && entries->is_array()) {
    for (size_t i = 0; i < entries->items().size(); ++i) {
      const std::string_view full_url = entries->items()[i].string_at("fullUrl");
      if (!full_url.empty() && !IsAbsoluteUrl(full_url)) {
        sink->Error("value", location + ".entry[" + std::to_string(i) + "].fullUrl",
                    "The fullUrl must be an absolute URL (not '" + std::string(full_url) + "')");
      }
    }
  }
  if (const json::Value* links = bundle.find("link"); links != nullptr && links->is_array()) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < links->items().size(); ++i) {
      const std::string_view relation = links->items()[i].string_at("relation");
      if (!relation.empty() && !seen.insert(relation).second) {
        sink->Error(
            "invariant", location + ".link[" + std::to_string(i) + "]",
            "The link relationship type '" + std::string(relation) + "' can only occur once");
      }
    }
  }
}

}  // namespace

InvariantCheck FindInvariant(std::string_view key) {
  for (const Invariant& inv : kInvariants) {
    if (inv.key == key) {
      return inv.check;
    }
  }
  return nullptr;
}

void CheckResourceRules(std::string_view type, const json::Value& resource,
                        const std::string& location, IssueSink* sink) {
  if (type == "Bundle") {
    CheckBundle(resource, location, sink);
  }
}

std::string CheckReferenceFormat(std::string_view ref) {
  if (ref.empty() || ref[0] == '#') {
    return ref.empty() ? "Reference.reference is empty" : "";
  }
  if (ref.substr(0, 9) == "urn:uuid:") {
    return primitive::IsValidUuid(ref) ? ""
                                       : "Invalid urn:uuid: reference '" + std::string(ref) + "'";
  }
  if (ref.substr(0, 8) == "urn:oid:") {
    return primitive::IsValidOid(ref) ? ""
                                      : "Invalid urn:oid: reference '" + std::string(ref) + "'";
  }
  if (ref.find("://") != std::string_view::npos) {
    return primitive::IsValidUri(ref) ? "" : "Invalid URL reference '" + std::string(ref) + "'";
  }
  const size_t query = ref.find('?');
  const std::string_view path = ref.substr(0, query);
  std::string_view parts[5];
  size_t n = 0;
  size_t start = 0;
  while (n < 5) {
    const size_t slash = path.find('/', start);
    parts[n++] = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  const std::string bad = "Invalid reference '" + std::string(ref) + "'";
  if (!IsResourceType(parts[0])) {
    return bad + ": unknown resource type '" + std::string(parts[0]) + "'";
  }
  if (query != std::string_view::npos) {
    return n == 1 ? "" : bad;
  }
  const bool shape_ok = (n == 2 || (n == 4 && parts[2] == "_history")) &&
                        primitive::IsValidId(parts[1]) &&
                        (n == 2 || primitive::IsValidId(parts[3]));
  return shape_ok ? "" : bad + ": expected Type/id or Type/id/_history/version";
}

}  // namespace carechart::fhir::validation
