// definitions.h over the generated tables (tools/gen-definitions.mjs).
#include "fhir/definitions.h"

#include <algorithm>

#include "fhir/structure.h"

namespace carechart::fhir {

std::string_view SearchParamTypeName(SearchParamType type) {
  switch (type) {
    case SearchParamType::kNumber:
      return "number";
    case SearchParamType::kDate:
      return "date";
    case SearchParamType::kString:
      return "string";
    case SearchParamType::kToken:
      return "token";
    case SearchParamType::kReference:
      return "reference";
    case SearchParamType::kComposite:
      return "composite";
    case SearchParamType::kQuantity:
      return "quantity";
    case SearchParamType::kUri:
      return "uri";
    case SearchParamType::kSpecial:
      return "special";
  }
  return "unknown";
}

std::span<const std::string_view> ResourceTypes() { return structure::ResourceTypeTable(); }

bool IsResourceType(std::string_view name) {
  const auto types = ResourceTypes();
  return std::binary_search(types.begin(), types.end(), name);
}

std::span<const SearchParamDef> SearchParams(std::string_view resource_type) {
  const auto index = structure::SearchParamIndex();
  const auto it = std::lower_bound(
      index.begin(), index.end(), resource_type,
      [](const structure::TypeSearchParams& t, std::string_view n) { return t.type < n; });
  if (it == index.end() || it->type != resource_type) {
    return {};
  }
  return structure::SearchParamTable().subspan(it->begin, it->count);
}

const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view code) {
  const auto params = SearchParams(resource_type);
  const auto it =
      std::lower_bound(params.begin(), params.end(), code,
                       [](const SearchParamDef& p, std::string_view c) { return p.code < c; });
  return it != params.end() && it->code == code ? &*it : nullptr;
}

std::span<const std::string_view> PatientCompartmentParams(std::string_view resource_type) {
  const auto index = structure::CompartmentIndex();
  const auto it = std::lower_bound(
      index.begin(), index.end(), resource_type,
      [](const structure::CompartmentEntry& c, std::string_view n) { return c.type < n; });
  if (it == index.end() || it->type != resource_type) {
    return {};
  }
  return structure::CompartmentParamTable().subspan(it->begin, it->count);
}

}  // namespace carechart::fhir
