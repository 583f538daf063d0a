// The search-index tables and the one mapping of a resource's index entries to their rows, shared
// by every backend: SQLite binds the rows one at a time (sqlite_write_txn.cc), PostgreSQL sends
// each table's columns as arrays (postgres/pg_write_txn.cc). The tables themselves are created by
// each backend's schema (sqlite_schema.cc, postgres/pg_schema.cc) with these columns in this
// order.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fhir/search_index.h"
#include "store/index_keys.h"
#include "store/token_patient.h"

namespace carechart::store {

// Table numbers (the first argument of ForEachIndexRow's sink) index these arrays.
inline constexpr const char* kIndexTables[] = {"sp_token",     "sp_string",   "sp_date",
                                               "sp_reference", "sp_quantity", "sp_number",
                                               "sp_uri",       "sp_composite"};
inline constexpr size_t kIndexTableCount = std::size(kIndexTables);
// Each table's columns after res, in the order ForEachIndexRow hands them out.
inline constexpr const char* kIndexColumns[] = {
    "param, sys, code, text, patient",  // patient: token_patient.h (decisions D60)
    "param, normalized, exact",
    "param, low, high",
    "param, target_id, target_type, url",
    "param, value, sys, code, unit",
    "param, value",
    "param, uri",
    "param, grp, s1, t1, u1, lo1, hi1, s2, t2, u2, lo2, hi2, s3, t3, u3, lo3, hi3"};
inline constexpr int kTokenTable = 0;
inline constexpr int kDateTable = 2;
// sp_token's key is (res, param, sys, code); text is not: the first row of a key wins.
inline constexpr size_t kTokenKeyColumns = 3;

// One column value of an index row as it is bound.
using IndexCol = std::variant<int64_t, double, std::string_view>;

namespace index_rows_internal {
// '' for a value equal to `same_as`: optional columns are NOT NULL (they are key columns).
inline std::string_view UnlessSame(const std::string& value, const std::string& same_as) {
  return value == same_as ? std::string_view() : std::string_view(value);
}
}  // namespace index_rows_internal

// Calls sink(table, {columns after res}) for every index row of `ix`, in the column order of the
// table. The one place that maps entries to rows: writing and comparing, on every backend, use it.
// _id and _lastUpdated are searched and sorted on the resource row's own columns (see
// IsResourceColumnParam in search_sql.cc), so their entries get no rows: about two fewer rows
// per resource, out of some 17, to write and to keep in the secondary indexes.
// Token rows carry the resource's patient (token_patient.h), taken from `patient_of` when
// given: the whole resource's entries, when `ix` holds only one parameter's.
template <typename Sink>
void ForEachIndexRow(const std::string& type, const fhir::IndexEntries& ix, const Sink& sink,
                     const fhir::IndexEntries* patient_of = nullptr) {
  using index_rows_internal::UnlessSame;
  const std::string_view patient =
      ix.tokens.empty() ? std::string_view() : TokenRowPatient(type, patient_of ? *patient_of : ix);
  for (const auto& e : ix.tokens) {
    if (e.param == "_id") {
      continue;
    }
    sink(0, {ParamKey(type, e.param), SystemKey(e.system), e.code, e.text, patient});
  }
  for (const auto& e : ix.strings) {
    sink(1, {ParamKey(type, e.param), e.normalized, UnlessSame(e.exact, e.normalized)});
  }
  for (const auto& e : ix.dates) {
    if (e.param == "_lastUpdated") {
      continue;
    }
    sink(2, {ParamKey(type, e.param), e.low, e.high});
  }
  for (const auto& e : ix.references) {
    sink(3, {ParamKey(type, e.param), e.target_id, e.target_type, e.url});
  }
  for (const auto& e : ix.quantities) {
    sink(4, {ParamKey(type, e.param), e.value, SystemKey(e.system), e.code,
             UnlessSame(e.unit, e.code)});
  }
  for (const auto& e : ix.numbers) {
    sink(5, {ParamKey(type, e.param), e.value});
  }
  for (const auto& e : ix.uris) {
    sink(6, {ParamKey(type, e.param), e.uri});
  }
  // Composite tuples: grp numbers them; absent components (two-part composites) are zeros and ''.
  int64_t grp = 0;
  for (const auto& e : ix.composites) {
    std::array<IndexCol, 3 * 5> parts;
    for (size_t i = 0; i < 3; ++i) {
      IndexCol* c = &parts[i * 5];
      if (i >= e.parts.size()) {
        c[0] = int64_t{0}, c[1] = std::string_view(), c[2] = std::string_view();
        c[3] = int64_t{0}, c[4] = int64_t{0};
        continue;
      }
      const fhir::CompositePart& p = e.parts[i];
      c[0] = SystemKey(p.system), c[1] = std::string_view(p.text), c[2] = std::string_view(p.unit);
      if (p.is_date) {
        c[3] = p.low_us, c[4] = p.high_us;
      } else {
        c[3] = p.low, c[4] = p.low;
      }
    }
    sink(7, {ParamKey(type, e.param), grp++, parts[0], parts[1], parts[2], parts[3], parts[4],
             parts[5], parts[6], parts[7], parts[8], parts[9], parts[10], parts[11], parts[12],
             parts[13], parts[14]});
  }
}

// The entries of search parameter `param` (with its ":of-type" entries) alone: what reindexing
// one parameter writes.
inline fhir::IndexEntries EntriesOfParam(const fhir::IndexEntries& index,
                                         const std::string& param) {
  fhir::IndexEntries only;
  const std::string of_type = param + ":of-type";
  auto keep = [&](const auto& from, auto& to) {
    for (const auto& e : from) {
      if (e.param == param || e.param == of_type) {
        to.push_back(e);
      }
    }
  };
  keep(index.tokens, only.tokens);
  keep(index.strings, only.strings);
  keep(index.dates, only.dates);
  keep(index.references, only.references);
  keep(index.quantities, only.quantities);
  keep(index.numbers, only.numbers);
  keep(index.uris, only.uris);
  keep(index.composites, only.composites);
  return only;
}

// Decisions D111: the longest closed range (high - low) of each date parameter among some date
// rows, to raise sp_date_span with in the rows' own transaction. Open-ended rows (low INT64_MIN
// or high INT64_MAX) have none: they are read apart. A span is capped at 2^62 µs (146,000
// years, beyond any range of years 1-9999), so that a bound less a span never leaves 64 bits:
// PostgreSQL fails such a subtraction where SQLite would go to floating point.
class LongestDateSpans {
 public:
  static constexpr int64_t kMaxSpan = int64_t{1} << 62;

  void Add(int64_t param, int64_t low, int64_t high) {
    if (low == std::numeric_limits<int64_t>::min() || high == std::numeric_limits<int64_t>::max()) {
      return;
    }
    // Extraction gives low <= high (a backwards Period is the range between its instants).
    const __int128 wide = static_cast<__int128>(high) - low;
    const int64_t span = wide < 0 ? 0 : wide > kMaxSpan ? kMaxSpan : static_cast<int64_t>(wide);
    for (auto& [p, longest] : spans_) {  // a handful of parameters per write: a list
      if (p == param) {
        longest = std::max(longest, span);
        return;
      }
    }
    spans_.emplace_back(param, span);
  }
  // (param, longest span) pairs, each parameter once.
  const std::vector<std::pair<int64_t, int64_t>>& spans() const { return spans_; }
  bool empty() const { return spans_.empty(); }
  void clear() { spans_.clear(); }

 private:
  std::vector<std::pair<int64_t, int64_t>> spans_;
};

}  // namespace carechart::store
