#include "fhir/search_union_params.h"

namespace carechart::fhir {

std::span<const UnionParam> UnionParams() {
  static constexpr UnionParam kTable[] = {
      {"Observation", "combo-code", {"code", "component-code"}},
      {"Observation",
       "combo-code-value-concept",
       {"code-value-concept", "component-code-value-concept"}},
      {"Observation",
       "combo-code-value-quantity",
       {"code-value-quantity", "component-code-value-quantity"}},
      {"Observation",
       "combo-data-absent-reason",
       {"data-absent-reason", "component-data-absent-reason"}},
      {"Observation", "combo-value-concept", {"value-concept", "component-value-concept"}},
      {"Observation", "combo-value-quantity", {"value-quantity", "component-value-quantity"}},
  };
  return kTable;
}

std::span<const std::string_view> UnionParamParts(std::string_view type, std::string_view param) {
  // Every entry is an Observation parameter starting "combo-": most calls end at the first test.
  if (type != "Observation" || !param.starts_with("combo-")) {
    return {};
  }
  for (const auto& u : UnionParams()) {
    if (u.type == type && u.param == param) {
      return u.parts;
    }
  }
  return {};
}

}  // namespace carechart::fhir
