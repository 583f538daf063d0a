#include "store/sqlite_tuple_estimates.h"

#include <algorithm>

#include "store/index_keys.h"
#include "store/search_sql.h"

namespace carechart::store::sqlite {
namespace {

constexpr size_t kSampleSize = 256;
constexpr int64_t kSampleLifetimeUs = 600'000'000;  // a code's values drift slowly
constexpr size_t kMaxCodes = 4096;                  // then the cache starts over
// CPU of one token row walked (with its quantity probe) over one range tuple collected, from
// the 1,000-patient corpus: 4 µs against 0.44 µs (docs/search.md, D61).
constexpr double kProbeCost = 10;

// The fraction of `sorted` on the matching side of the threshold `v`; -1 when the prefix does
// not describe one side (eq and ap select a narrow band: the range is small).
double FractionMatching(const std::vector<double>& sorted, const SearchValue& v) {
  const auto below = std::lower_bound(sorted.begin(), sorted.end(), v.number) - sorted.begin();
  const auto upto = std::upper_bound(sorted.begin(), sorted.end(), v.number) - sorted.begin();
  const double n = static_cast<double>(sorted.size());
  switch (v.prefix) {
    case Prefix::kGt:
    case Prefix::kSa:
      return (n - static_cast<double>(upto)) / n;
    case Prefix::kGe:
      return (n - static_cast<double>(below)) / n;
    case Prefix::kLt:
    case Prefix::kEb:
      return static_cast<double>(below) / n;
    case Prefix::kLe:
      return static_cast<double>(upto) / n;
    case Prefix::kNe:
      return 1;
    default:
      return -1;
  }
}

}  // namespace

StatusOr<TupleRangeEstimates::Sample> TupleRangeEstimates::Take(Connection& conn,
                                                                const SearchQuery& query,
                                                                const SearchValue& code,
                                                                int64_t now_us) const {
  std::string sql = "SELECT lo2 FROM sp_composite WHERE param = ?1 AND t1 = ?2";
  if (code.has_system) {
    sql += " AND s1 = ?3";
  }
  ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
  s.Bind(1, ParamKey(query.type, "code-value-quantity")).Bind(2, code.code);
  if (code.has_system) {
    s.Bind(3, SystemKey(code.system));
  }
  std::vector<double> all;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      break;
    }
    all.push_back(s.Double(0));
  }
  std::sort(all.begin(), all.end());
  Sample out;
  out.tuples = static_cast<int64_t>(all.size());
  out.taken_us = now_us;
  const size_t step = std::max<size_t>(1, all.size() / kSampleSize);
  for (size_t i = 0; i < all.size(); i += step) {
    out.values.push_back(all[i]);
  }
  return out;
}

StatusOr<bool> TupleRangeEstimates::PreferTuples(Connection& conn, const SearchQuery& q,
                                                 int64_t now_us) {
  for (const SearchClause& c : q.clauses) {
    if (c.type == fhir::SearchParamType::kReference && c.link == ClauseLink::kNone &&
        c.modifier.empty()) {
      return false;  // a reference drives (a patient's Observations): the tuple would be a probe
    }
  }
  const std::optional<SearchClause> tuple = CompositeTupleOf(q);
  if (!tuple) {
    return false;
  }
  if (!q.sort.empty() || q.count == 0 || !q.compartment_type.empty()) {
    return true;  // every match is read: the range never loses
  }
  const SearchValue& code = tuple->values[0].components[0];
  const SearchValue& value = tuple->values[0].components[1];
  const std::string key =
      q.type + '|' + (code.has_system ? "s" + code.system : "") + '|' + code.code;
  Sample sample;
  bool cached = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = samples_.find(key);
    if (it != samples_.end() && now_us - it->second.taken_us < kSampleLifetimeUs) {
      sample = it->second;
      cached = true;
    }
  }
  if (!cached) {
    ASSIGN_OR_RETURN(sample, Take(conn, q, code, now_us));
    std::lock_guard<std::mutex> lock(mu_);
    if (samples_.size() >= kMaxCodes) {
      samples_.clear();
    }
    samples_[key] = sample;
  }
  if (sample.values.empty()) {
    return true;  // no tuple of the code: the range is empty
  }
  const double fraction = FractionMatching(sample.values, value);
  if (fraction < 0) {
    return true;
  }
  // The keys the listing needs: a page (and its next cursor), or up to the total's cap; every
  // match for an exact total (PageByKeys).
  const int64_t cap = q.total_limit > 0 ? q.total_limit : (q.estimate_total ? kEstimateLimit : 0);
  const bool counts = q.want_total && !q.after;
  if (counts && cap == 0) {
    return true;
  }
  const double wanted =
      static_cast<double>(counts ? std::max<int64_t>(cap, q.count) + 1 : q.count + 1);
  const double tuples = static_cast<double>(sample.tuples);
  const double range = std::max(1.0, fraction * tuples);
  // The code's token rows walked until `wanted` matches (or all of them), against the range's
  // tuples, each walked row costing a quantity probe (kProbeCost range tuples).
  const double walked = std::min(tuples, wanted * tuples / range);
  return range < kProbeCost * walked;
}

}  // namespace carechart::store::sqlite
