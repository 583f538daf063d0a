// Choosing a date clause as the driver of a search whose fixed ranks would drive it by a token
// or string clause (decisions D110). The compiler ranks clause types, not values: in
// `Patient?birthdate=ge2025-03-14&gender=female` the `gender` rows drive, every female Patient
// is probed for the birth date in key order, and a range that holds a few dozen Patients walks
// thousands of them to fill a page and count its total (72–79 ms at 10,000 patients). Here the
// date's index rows in the range are counted up to a small cap; under it, collecting them and
// probing each for the other clauses costs at most that many probes, whatever the token's size;
// a wider range drives where the token matches many times more (D111).
// Counts are kept ten minutes per range (PlanCounts): the estimate only chooses a plan, both
// plans give the same answer. Backend-neutral (D114): each store runs the counts on its own
// connection, in its dialect.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "store/plan_counts.h"
#include "store/search_query.h"
#include "store/sql_dialect.h"

namespace carechart::store {

class DateDriverEstimates {
 public:
  // `small_ranges_drive`: whether a range under kMaxDriverRows drives without comparing it with
  // the preferred clause (SQLite). PostgreSQL's planner reorders the joins of the statement
  // itself and does well with small ranges either way, so there (D114) every range drives only
  // where the preferred clause matches kRowsRatio times as many.
  explicit DateDriverEstimates(bool small_ranges_drive = true)
      : small_ranges_drive_(small_ranges_drive) {}

  // A range of fewer index rows than this drives, whatever the other clauses: collecting its
  // keys and probing each for them is a millisecond or two at worst.
  static constexpr int64_t kMaxDriverRows = 1000;
  // A range of up to this many rows drives where the clause the ranks prefer matches more than
  // kRowsRatio times as many resources: the date's plan reads its rows once (tens of
  // milliseconds at this cap), the token's walks its rows in key order probing each for the
  // date, and where the two rarely meet (`Observation?code=<height>&date=ge<two months ago>` at
  // 10,000 patients: 25,925 dated rows, 282,090 heights, 943 matches) it walked 100–600 ms for
  // a first page and its capped total, against 25–40 ms. Wider ranges keep the ranks' plan.
  // Both counts read bounded index ranges (D111); the preferred clause's is capped at
  // kRowsRatio × kMaxDateRows, one count per clause.
  static constexpr int64_t kMaxDateRows = 50000;
  static constexpr int64_t kRowsRatio = 4;

  // The parameter of the date clause that should drive `query` (SearchQuery::driver_param), or
  // "" to leave the compiler's choice: a first page or a later one alike (the order is the
  // same either way), only for a query with no sort, compartment, chain, `_has` or reference
  // clause, one date clause of one value that can drive (DriverRank 1) and at least one clause
  // that the ranks prefer to it (DriverRank 2: a token, string, uri or composite).
  // `run` counts on the store's connection; `dialect` is the store's.
  StatusOr<std::string> Choose(const SqlDialect& dialect, const CountStatement& run,
                               const SearchQuery& query, int64_t now_us);

  // The clause Choose would count (public for the tests): its index in query.clauses, or -1.
  static int Candidate(const SearchQuery& query);

 private:
  // How many resources the clause `c` (of `type`) matches, up to kRowsRatio × kMaxDateRows
  // (over it: that cap + 1); kept ten minutes per clause.
  StatusOr<int64_t> PreferredCount(const SqlDialect& dialect, const CountStatement& run,
                                   const std::string& type, const SearchClause& c, int64_t now_us);

  bool small_ranges_drive_;
  PlanCounts counts_;
};

}  // namespace carechart::store
