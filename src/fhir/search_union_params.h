// Search parameters whose values are, by their R4 definitions, exactly the union of two other
// parameters' values of the same resource type: Observation's `combo-*` parameters
// (`combo-code` is `Observation.code | Observation.component.code`, that is `code` plus
// `component-code`; the composites `combo-code-value-*` select `Observation |
// Observation.component` with the same components as `code-value-*` and `component-code-value-*`).
//
// Why it matters: their index rows repeated the parts' rows (13.7% of all index rows of a
// generated load, 20% of an Observation's), so every write stored them twice and every bulk load
// sorted them twice (decisions D59). Their entries are not extracted; a search on one reads the
// rows of its parts (store/search_param_keys.h). search_union_params_test checks the table
// against the definitions.
#pragma once

#include <span>
#include <string_view>

namespace carechart::fhir {

// The parameters whose rows together hold `param`'s values on `type`, or an empty span when
// `param` has rows of its own.
std::span<const std::string_view> UnionParamParts(std::string_view type, std::string_view param);

// Every such parameter (for tests, which check each against the definitions).
struct UnionParam {
  std::string_view type;
  std::string_view param;
  std::string_view parts[2];
};
std::span<const UnionParam> UnionParams();

}  // namespace carechart::fhir
