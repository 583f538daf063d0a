// Search-index entries of one resource: what the store writes into its sp_* tables.
//
// Entries are computed once per write, from the R4 SearchParameter FHIRPath expressions, outside
// the store's writer thread; the store only inserts them (in the same transaction as the resource).
#pragma once

#include <cstdint>
#include <string>
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

struct IndexEntries {
  std::vector<TokenEntry> tokens;
  std::vector<StringEntry> strings;
  std::vector<DateEntry> dates;
  std::vector<ReferenceEntry> references;
  std::vector<QuantityEntry> quantities;
  std::vector<NumberEntry> numbers;
  std::vector<UriEntry> uris;
};

// Computes the index entries of `resource` (a resource with resourceType) for every search
// parameter of its type that the extractor can evaluate. Thread-safe; never fails on valid FHIR.
IndexEntries ExtractIndex(const json::Value& resource);

// The id of the Patient whose compartment `resource` belongs to (the Patient itself for a
// Patient), or empty. Uses the R4 Patient CompartmentDefinition.
std::string PatientCompartmentOf(const json::Value& resource);

// How many search parameters ExtractIndex evaluates: `covered` of `total`, counted over every
// (resource type, parameter) pair of the R4 definitions. Every parameter with an expression is
// evaluated (cc_fhirpath) except composite and special ones.
struct IndexCoverage {
  int covered = 0;
  int total = 0;
};
IndexCoverage SearchIndexCoverage();

// Case- and accent-folding used for string search (both when indexing and when querying).
std::string NormalizeForSearch(std::string_view text);

}  // namespace carechart::fhir
