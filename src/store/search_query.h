// A parsed FHIR search: what the REST layer hands the store, and what the store's SQL compiler
// turns into one statement. Backend-neutral: the SQLite and PostgreSQL backends share it.
#pragma once

#include <cstdint>
#include <optional>
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
  // composite: one value per component ("code$value" -> 2), each parsed with its component's
  // type (so a quantity component keeps its prefix: "http://loinc.org|8480-6$gt100")
  std::vector<SearchValue> components;
  // token without a system: set by a store (SQLite) that found, in the search's own read
  // transaction, that every index row of the code under its parameter carries this system key;
  // the code then drives as that system|code does (decisions D83). Not a user's input.
  std::optional<int64_t> sole_system_key;
};

// How a clause reaches the resources its condition is about.
enum class ClauseLink : unsigned char {
  kNone,   // the condition is on the resource itself
  kChain,  // subject:Patient.name=x — `param` is a reference parameter of the resource; the
           // clause holds when a resource it refers to satisfies one of `linked`
  kHas,    // _has:Observation:patient:code=x — `param` is a reference parameter of
           // linked[0].target_type; the clause holds when a resource of that type referring to
           // this one through `param` satisfies linked[0]
};

// One parameter occurrence: name[:modifier]=v1,v2 — repeated occurrences are ANDed.
struct SearchClause {
  std::string param;     // e.g. "birthdate", "_id", "_lastUpdated"
  std::string modifier;  // e.g. "exact", "missing", or a type for references; empty if none
  fhir::SearchParamType type = fhir::SearchParamType::kToken;
  std::vector<SearchValue> values;
  // composite: the types of its components, in order (the definition's)
  std::vector<fhir::SearchParamType> component_types;
  // Chained and reverse-chained search (see ClauseLink). For kChain, one alternative per target
  // type that defines the chained parameter (ORed); for kHas exactly one. Each alternative has
  // `target_type` set and is itself a clause (possibly linked again: chains nest).
  ClauseLink link = ClauseLink::kNone;
  std::string target_type;
  std::vector<SearchClause> linked;
};

// One _include or _revinclude, parsed.
//   _include=Observation:subject[:Patient] — resources the matches refer to through the parameter
//   _revinclude=Provenance:target          — resources of that type referring to the matches
struct IncludeSpec {
  bool reverse = false;     // _revinclude
  bool iterate = false;     // :iterate — applies to included resources too (bounded depth)
  std::string source_type;  // the type holding the reference; empty: any (the "*" wildcard)
  std::string param;        // reference parameter of source_type; "*": every one
  std::vector<std::string> target_types;  // only these targets; empty: any
};

// Keyset paging: the position after the last row of the previous page (see decisions.md D12).
struct PageCursor {
  int64_t pk = 0;                   // the row's key (the last sort key)
  std::vector<std::string> values;  // one encoded sort value per SortKey (see search_sql.cc)
  // Bundle.total as the first page reported it, carried in the token so that later pages do not
  // count again (decisions D35): -1 when it reported none; unset when the token carries none.
  std::optional<int64_t> total = std::nullopt;
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
  // _total=estimate: a count is wanted but may stop at kEstimateLimit matches (total then omitted).
  bool estimate_total = false;
  // When > 0, counting stops after this many matches and a larger total is reported as -1
  // (Bundle.total omitted). 0 counts every match. ParseSearch sets kDefaultTotalLimit unless
  // _total=accurate (0) or _total=estimate (kEstimateLimit); internal queries count everything.
  int64_t total_limit = 0;
  // _include / _revinclude values as sent ("Type:param[:target]"), for the REST layer.
  std::vector<std::string> includes;
  std::vector<std::string> revincludes;
  // The same, parsed and checked: the store returns their resources in SearchResult::included.
  std::vector<IncludeSpec> include_specs;
  // Keyset paging (_page): rows after this position in the sort order; offset is then ignored.
  std::optional<PageCursor> after;
  // Compartment search (Patient/123/Observation, Patient/123/*, $everything): only resources
  // in the compartment of compartment_type/compartment_id (per the R4 CompartmentDefinition),
  // plus the compartment's owner itself when include_owner.
  std::string compartment_type;
  std::string compartment_id;
  bool include_owner = false;
  // $everything?_since: resources updated at or after this instant.
  std::optional<int64_t> since_us;
  // Set by a store whose sp_composite holds every composite tuple of every current resource and
  // has the (param, t1, s1, lo2) index (SQLite, schema migration 5, decisions D58): the
  // compiler may then answer `code=X&value-quantity=gtY` from the code-value-quantity tuples.
  bool composite_tuples_indexed = false;
  // Set by a store (SQLite) that estimated it cheaper (decisions D88): the key listing of
  // `Patient?_has:T:patient:<codes>` (PatientWalkClause) walks the current Patients in id order,
  // probing each one's token rows of the codes, instead of collecting the codes' patients.
  bool walk_has_patients = false;
  // Set by a store (SQLite) that counted few rows in its range (decisions D110): the parameter
  // of a date clause that drives the key set instead of the token or string clause the
  // compiler's fixed ranks would choose (`Patient?birthdate=ge2025-03-14&gender=female`).
  // Both plans give the same matches in the same order; only the work differs.
  std::string driver_param;
};

// The most matches a _total=estimate count looks at.
constexpr int64_t kEstimateLimit = 10000;
// The most matches counted for Bundle.total when the client does not send _total (D35, D78):
// a first page then lists at most this many keys past its own, whatever the corpus size.
constexpr int64_t kDefaultTotalLimit = 100;
// How many levels of _include:iterate / _revinclude:iterate are followed.
constexpr int kMaxIncludeDepth = 3;
// The most resources included per page (all levels).
constexpr int kMaxIncluded = 1000;
// The most levels of chaining (a.b.c=) and nested _has.
constexpr int kMaxChainDepth = 4;

// Parses query parameters (already URL-decoded, in request order) for `type`. Result-control
// parameters (_count, _sort, _total, _format, _pretty, _summary, _elements) are consumed here.
// An unknown parameter or a malformed value is kInvalid naming the parameter, unless `lenient`,
// in which case it is skipped and reported in `ignored`. `type` is empty for a system search
// (then _type restricts the types, and other parameters must be defined by every one of them).
// _page (a keyset cursor from a next link) is decoded into `after`.
StatusOr<SearchQuery> ParseSearch(std::string_view type,
                                  const std::vector<std::pair<std::string, std::string>>& params,
                                  bool lenient = false,
                                  std::vector<std::string>* ignored = nullptr);

// The opaque _page token for the position after `cursor`, for a query sorted by `sort`.
std::string EncodePageToken(const std::vector<SortKey>& sort, const PageCursor& cursor);
// Decodes a _page token; kInvalid when it is malformed or was made for another _sort.
StatusOr<PageCursor> DecodePageToken(const std::vector<SortKey>& sort, std::string_view token);

}  // namespace carechart::store
