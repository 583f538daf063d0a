// Choosing the plan of `Patient?_has:T:patient:<codes>`'s key listing (decisions D88) without
// a statement per search: walking the current Patients in id order and probing each one's
// token rows of the codes costs about a seek per Patient walked, and finds a page of matches
// after page / share Patients, where the share is the part of the Patients that have the codes;
// collecting the codes' patients reads every token row of the codes. A common lab code (106,907
// rows at 10 k patients) walks; a rare one (a few hundred rows) collects, and so does one of a
// few thousand rows held by a few hundred Patients. The codes' rows and their distinct Patients
// are counted up to a cap once per code and kept ten minutes, as are the current Patients: the
// estimate only chooses a plan, both plans give the same answer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/plan_counts.h"
#include "store/search_query.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class PatientWalkEstimates {
 public:
  // Whether `query`'s key listing walks the current Patients: false where PatientWalkClause
  // does not apply; for a later page, what its first page did (its token carries the walk's
  // id); for a first page, whether the walk's estimated probes cost less than the codes' rows.
  StatusOr<bool> Choose(Connection& conn, const SearchQuery& query, int64_t now_us);

  // The choice from the figures (public for the tests): `rows` of the codes (counted up to a
  // cap), `holders` the distinct Patients of those rows, `patients` current, `wanted` matches
  // for the page and its total.
  static bool WalkIsCheaper(int64_t rows, int64_t holders, int64_t patients, int64_t wanted);

 private:
  PlanCounts counts_;
};

}  // namespace carechart::store::sqlite
