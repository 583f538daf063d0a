// Subsetting a resource for the `_summary=true` and `_elements` search/read parameters (FHIR R4
// §3.1.1.5.8 / §3.1.1.5.9). Both edit the resource in place and mark it with the meta.tag
// http://terminology.hl7.org/CodeSystem/v3-ObservationValue|SUBSETTED (added once).
#pragma once

#include <string>
#include <vector>

#include "fhir/json.h"

namespace carechart::fhir {

// `_summary=true`: keeps `resourceType`, `id`, `meta`, the mandatory (min >= 1) top-level elements
// and every element marked isSummary. Backbone elements that are kept are filtered by the same
// rule (isSummary only); complex datatypes that are kept are kept whole. A `_x` primitive
// companion follows its element. A resource of unknown type is left unchanged (and not tagged).
void ApplySummary(json::Value& resource);

// `_elements=a,b,...`: keeps `resourceType`, `id`, `meta`, the mandatory top-level elements and
// the listed top-level elements with their `_x` companions. "value" or "value[x]" selects every
// `value<Type>` of a choice element; a dotted entry ("name.family") keeps its top-level element.
void ApplyElements(json::Value& resource, const std::vector<std::string>& elements);

}  // namespace carechart::fhir
