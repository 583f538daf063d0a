// Search-index entries of one resource: what the store writes into its sp_* tables.
//
// Entries are computed once per write, from the R4 SearchParameter FHIRPath expressions, outside
// the store's writer thread; the store only inserts them (in the same transaction as the resource).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/json.h"

namespace carechart::fhir {

struct TokenEntry {
  std::string param;   // search parameter code, e.g. "identifier"
  std::string system;  // empty when the coding has none
  std::string code;
  std::string text;  // display / CodeableConcept.text, for :text
};

struct StringEntry {
  std::string param;
  std::string normalized;  // case- and accent-folded, for the default "starts with" match
  std::string exact;       // as in the resource, for :exact
};

// A date/dateTime/instant/Period as the closed range of instants it covers, in microseconds since
// the Unix epoch (UTC). "2020" covers 2020-01-01T00:00:00 .. 2020-12-31T23:59:59.999999.
struct DateEntry {
  std::string param;
  int64_t low = 0;
  int64_t high = 0;
};

struct ReferenceEntry {
  std::string param;
  std::string target_type;  // e.g. "Patient"; empty for an absolute URL or canonical
  std::string target_id;    // e.g. "123"
  std::string url;          // the reference as written when it is absolute or canonical
};

struct QuantityEntry {
  std::string param;
  double value = 0;
  std::string system;
  std::string code;
  std::string unit;
};

struct NumberEntry {
  std::string param;
  double value = 0;
};

struct UriEntry {
  std::string param;
  std::string uri;
};

// One component value of a composite entry, in the columns a component of any type uses:
//   token      system, text = code, unit = display text
//   quantity   system, text = code, unit = unit, low = value
//   number     low = value
//   date       is_date, low_us/high_us = the range
//   reference  text = target id (or the absolute URL), unit = target type
//   string     text = normalized, unit = exact; uri: text = uri
struct CompositePart {
  std::string system;
  std::string text;
  std::string unit;
  double low = 0;
  bool is_date = false;
  int64_t low_us = 0;
  int64_t high_us = 0;
};

// One tuple of a composite parameter (e.g. code-value-quantity): the components of one element
// the composite's expression selects (an Observation, one Observation.component ...), so that
// `code$value` matches only when both hold on the same element.
struct CompositeEntry {
  std::string param;
  std::vector<CompositePart> parts;  // one per component, in the definition's order
};

struct IndexEntries {
  std::vector<TokenEntry> tokens;
  std::vector<StringEntry> strings;
  std::vector<DateEntry> dates;
  std::vector<ReferenceEntry> references;
  std::vector<QuantityEntry> quantities;
  std::vector<NumberEntry> numbers;
  std::vector<UriEntry> uris;
  std::vector<CompositeEntry> composites;
};

// Computes the index entries of `resource` (a resource with resourceType) for every search
// parameter of its type that the extractor can evaluate. Thread-safe; never fails on valid FHIR.
IndexEntries ExtractIndex(const json::Value& resource);
// Only the entries of the parameters named in `only` (R4's and run-time ones alike; empty: every
// parameter): a reindex of one parameter needs its entries and `patient`'s (token rows carry the
// patient), not the two dozen others of the type.
IndexEntries ExtractIndex(const json::Value& resource, std::span<const std::string_view> only);

// Whether ExtractIndex skips the expressions that fhirpath::AnalyzeAbsence shows select nothing
// from this resource (the default). Tests turn it off to check the entries are the same.
void SetIndexShortcuts(bool enabled);
// Whether ExtractIndex walks the expressions that are plain member paths (`Observation.code`,
// `Resource.meta.tag`, unions and `as` of such) directly instead of through the FHIRPath
// evaluator (the default; fhirpath::MemberPath). Tests turn it off to check the entries are the
// same.
void SetIndexMemberPaths(bool enabled);

// The id of the Patient whose compartment `resource` belongs to (the Patient itself for a
// Patient), or empty. Uses the R4 Patient CompartmentDefinition.
std::string PatientCompartmentOf(const json::Value& resource);

// How many search parameters ExtractIndex evaluates: `covered` of `total`, counted over every
// (resource type, parameter) pair of the R4 definitions. Every parameter with an expression is
// evaluated (cc_fhirpath), composites included; `not_covered` names the others as "Type.code"
// (the special `near`, and _text, _content, _query, which have no expression).
struct IndexCoverage {
  int covered = 0;
  int total = 0;
  std::vector<std::string> not_covered;
};
IndexCoverage SearchIndexCoverage();

// Run-time search parameters (definitions.h, CustomSearchParam): an active SearchParameter
// resource with a base, a type other than composite/special and an expression that compiles
// becomes a parameter of its bases, indexed by ExtractIndex from then on. A SearchParameter that is
// not active unregisters. kInvalid naming the element when an active one cannot be used; else the
// bases skipped because R4 already defines the code there.
StatusOr<std::vector<std::string>> ApplySearchParameterResource(
    const json::Value& search_parameter);
// The checks of ApplySearchParameterResource without registering (for validating a write).
Status CheckSearchParameterResource(const json::Value& search_parameter);
// A SearchParameter resource deleted: its parameters go.
void ForgetSearchParameterResource(std::string_view id);

// Case- and accent-folding used for string search (both when indexing and when querying).
std::string NormalizeForSearch(std::string_view text);

}  // namespace carechart::fhir
