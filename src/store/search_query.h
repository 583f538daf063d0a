// A parsed FHIR search: what the REST layer hands the store, and what the store's SQL compiler
// turns into one statement. Backend-neutral: the SQLite and PostgreSQL backends share it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/definitions.h"

namespace carechart::store {

enum class Prefix { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp };

// One value of a search parameter (the values of one parameter are ORed).
struct SearchValue {
  Prefix prefix = Prefix::kEq;  // number, date, quantity
  std::string raw;              // the value as sent, after URL decoding
  // token: "system|code", "|code", "system|", "code"; quantity: "number|system|code"
  bool has_system = false;
  std::string system;
  std::string code;
  // date: the range the value covers, microseconds since epoch UTC
  int64_t low = 0;
  int64_t high = 0;
  // number / quantity
  double number = 0;
  // number / quantity: the interval the value's implied precision covers ("100" -> [99.5, 100.5)),
  // used by eq/ne. Both 0: the interval is [number, number].
  double number_low = 0;
  double number_high = 0;
  // string (and token :text): fhir::NormalizeForSearch(raw); when empty, raw is used as is
  std::string normalized;
  // reference: type (may be empty) and id, or an absolute url
  std::string ref_type;
  std::string ref_id;
};

// One parameter occurrence: name[:modifier]=v1,v2 — repeated occurrences are ANDed.
struct SearchClause {
  std::string param;     // e.g. "birthdate", "_id", "_lastUpdated"
  std::string modifier;  // e.g. "exact", "missing", or a type for references; empty if none
  fhir::SearchParamType type = fhir::SearchParamType::kToken;
  std::vector<SearchValue> values;
};

struct SortKey {
  std::string param;  // "_id", "_lastUpdated", or a search parameter
  bool descending = false;
  fhir::SearchParamType type = fhir::SearchParamType::kString;  // of a search parameter
};

struct SearchQuery {
  std::string type;                // resource type; empty for a system-wide search
  std::vector<std::string> types;  // system search: _type=A,B restricts to these types
  std::vector<SearchClause> clauses;
  std::vector<SortKey> sort;
  int count = 20;      // page size (_count); 0 asks only for the total
  int64_t offset = 0;  // rows to skip (paging)
  bool want_total = true;
  // _include / _revinclude values as sent ("Type:param[:target]"), for the REST layer.
  std::vector<std::string> includes;
  std::vector<std::string> revincludes;
};

// Parses query parameters (already URL-decoded, in request order) for `type`. Result-control
// parameters (_count, _sort, _total, _format, _pretty, _summary, _elements) are consumed here.
// An unknown parameter or a malformed value is kInvalid naming the parameter, unless `lenient`,
// in which case it is skipped and reported in `ignored`.
StatusOr<SearchQuery> ParseSearch(std::string_view type,
                                  const std::vector<std::pair<std::string, std::string>>& params,
                                  bool lenient = false,
                                  std::vector<std::string>* ignored = nullptr);

}  // namespace carechart::store
