#include "store/sqlite_patient_walk.h"

#include <algorithm>

#include "store/search_param_keys.h"
#include "store/search_sql.h"
#include "store/search_sql_internal.h"
#include "store/sqlite_readers.h"

namespace carechart::store::sqlite {
namespace {

// The codes' token rows counted at most, and their distinct Patients: a covering range of
// ~16,000 index entries, a few milliseconds once per code. Beyond it the collection costs more than
// any walk of a page.
constexpr int64_t kCountedRows = 16384;
// CPU of one Patient walked (an entry of resource_current_patient and a seek in
// sp_token_patient) over one token row collected (an index entry and its patient put in the
// distinct set): measured on the 1,000-patient corpus (D88).
constexpr double kProbeCost = 8;

}  // namespace

bool PatientWalkEstimates::WalkIsCheaper(int64_t rows, int64_t holders, int64_t patients,
                                         int64_t wanted) {
  if (patients <= 0) {
    return false;
  }
  // The Patients with the codes: counted where every row was (a code of a few thousand rows
  // held by a few hundred Patients, 10 rows each, walked ten times the Patients the old guess
  // said, D93); beyond the cap, guessed as one per row up to every Patient. The walk finds
  // `wanted` of them after wanted / share Patients, or walks them all.
  const int64_t with_codes = rows < kCountedRows ? holders : rows;
  const double share = std::min(
      1.0, static_cast<double>(std::max<int64_t>(with_codes, 1)) / static_cast<double>(patients));
  const double walked =
      std::min(static_cast<double>(patients), static_cast<double>(wanted) / share);
  const double walk = kProbeCost * walked;
  return walk < static_cast<double>(rows);  // counted up to a cap: at least that many to collect
}

StatusOr<bool> PatientWalkEstimates::Choose(Connection& conn, const SearchQuery& q,
                                            int64_t now_us) {
  const SearchClause* alt = PatientWalkClause(q);
  if (alt == nullptr) {
    return false;
  }
  if (q.after) {  // a later page goes on as its first page went: a walk's token carries the id
    return q.after->values.size() == 1;
  }
  ASSIGN_OR_RETURN(
      int64_t patients,
      counts_.Count(CountOn(conn),
                    "SELECT COUNT(*) FROM resource WHERE type = 'Patient' AND deleted = 0", {},
                    now_us));
  // The codes' rows up to the cap; where that was all of them, their distinct Patients too
  // (the '' rows' Patients are few, D60). Beyond the cap the distinct set would cost ~3 ms a
  // code at 10 k for a figure the choice does not use.
  auto counted = [&](const char* select, const char* column) -> StatusOr<int64_t> {
    internal::ArgList a(SqliteDialect());
    std::string sql = std::string(select) + " FROM (SELECT " + column +
                      " FROM sp_token t WHERE t.param" +
                      internal::ParamKeysSql(alt->target_type, alt->param, a) + " AND (";
    for (size_t i = 0; i < alt->values.size(); ++i) {
      ASSIGN_OR_RETURN(std::string pred, internal::ValuePredicate(*alt, alt->values[i], now_us, a));
      sql += (i ? " OR " : "") + pred;
    }
    sql += ") LIMIT " + a.Arg(kCountedRows) + ")";
    return counts_.Count(CountOn(conn), sql, a.args(), now_us);
  };
  ASSIGN_OR_RETURN(int64_t rows, counted("SELECT COUNT(*)", "1"));
  int64_t holders = 0;
  if (rows < kCountedRows) {
    ASSIGN_OR_RETURN(holders, counted("SELECT COUNT(DISTINCT NULLIF(patient, ''))", "t.patient"));
  }
  // The matches the first page's listing reads: the page and its next cursor, or up to the
  // total's cap past it (PageByKeys), or every one for an exact total.
  const int64_t cap = q.total_limit > 0 ? q.total_limit : (q.estimate_total ? kEstimateLimit : 0);
  int64_t wanted = q.count + 1;
  if (q.want_total) {
    wanted = cap > 0 ? std::max<int64_t>(cap, q.count) + 1 : patients;
  }
  return WalkIsCheaper(rows, holders, patients, wanted);
}

}  // namespace carechart::store::sqlite
