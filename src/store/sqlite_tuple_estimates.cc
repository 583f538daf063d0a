#include "store/sqlite_tuple_estimates.h"

#include <algorithm>
#include <limits>

#include "store/index_keys.h"
#include "store/search_sql.h"

namespace carechart::store::sqlite {
namespace {

constexpr size_t kSampleSize = 256;
constexpr int64_t kSampleLifetimeUs = 600'000'000;  // a code's values drift slowly
constexpr size_t kMaxCodes = 4096;                  // then the cache starts over
// Token rows of one code counted exactly before the count is extrapolated over their key span:
// a covering range of ~16,000 index entries, a few milliseconds read once per code.
constexpr int64_t kCountedRows = 16384;
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

// One system's share of a code's tuples: their estimated number and sampled values.
struct SystemSample {
  double tuples = 0;
  std::vector<double> values;  // ascending
};

// Samples the tuples of (code, system key `sys`): the code's token rows (param, code, sys, res)
// lie in key order, so a seek at each of kSampleSize evenly spaced keys between the code's
// first and last resource finds one Observation of the code, spread over the whole table
// whatever order its values were written in, and its tuple's value is one primary-key probe.
// Rows of the code without a quantity (no tuple) are sampled too, so the tuples are the token
// rows counted (exactly up to kCountedRows, beyond that over their key span) times the share
// of probes that found a tuple.
StatusOr<SystemSample> SampleSystem(Connection& conn, const std::string& type,
                                    const std::string& code, int64_t sys) {
  const int64_t token_param = ParamKey(type, "code");
  const std::string rows = "FROM sp_token WHERE param = ?1 AND code = ?2 AND sys = ?3";
  auto bind = [&](Statement& s) { s.Bind(1, token_param).Bind(2, code).Bind(3, sys); };
  SystemSample out;
  int64_t first = 0, last = 0;
  {
    // Two seeks (MIN and MAX together would scan the range).
    ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT (SELECT res " + rows +
                                               " ORDER BY res LIMIT 1), (SELECT res " + rows +
                                               " ORDER BY res DESC LIMIT 1)"));
    bind(s);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row || s.IsNull(0)) {
      return out;
    }
    first = s.Int(0);
    last = s.Int(1);
  }
  double token_rows = 0;
  {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT COUNT(*), MAX(res) FROM (SELECT res " +
                                               rows + " ORDER BY res LIMIT ?4)"));
    bind(s);
    s.Bind(4, kCountedRows);
    ASSIGN_OR_RETURN(bool row, s.Step());
    const int64_t counted = row ? s.Int(0) : 0;
    token_rows = static_cast<double>(counted);
    if (counted >= kCountedRows && s.Int(1) > first) {
      token_rows *=
          static_cast<double>(last - first + 1) / static_cast<double>(s.Int(1) - first + 1);
    }
  }
  ASSIGN_OR_RETURN(Statement seek,
                   conn.Prepare("SELECT res " + rows + " AND res >= ?4 ORDER BY res LIMIT 1"));
  // By primary key (res, param): "+t1" and "+s1" keep SQLite, which has no statistics, from
  // walking the code's whole (param, t1, s1, lo2) range instead.
  ASSIGN_OR_RETURN(Statement probe,
                   conn.Prepare("SELECT lo2 FROM sp_composite WHERE res = ?1 AND param = ?2 "
                                "AND +t1 = ?3 AND +s1 = ?4"));
  probe.Bind(2, ParamKey(type, "code-value-quantity")).Bind(3, code).Bind(4, sys);
  bind(seek);
  int64_t probes = 0, found = 0, next = first;
  const double step = static_cast<double>(last - first) / static_cast<double>(kSampleSize);
  for (size_t i = 0; i < kSampleSize && next <= last; ++i) {
    const int64_t at = std::max(next, first + static_cast<int64_t>(step * static_cast<double>(i)));
    seek.Reset();
    seek.Bind(4, at);
    ASSIGN_OR_RETURN(bool row, seek.Step());
    if (!row) {
      break;
    }
    const int64_t res = seek.Int(0);
    next = res + 1;  // a rare code: every row once, never the same twice
    ++probes;
    probe.Reset();
    probe.Bind(1, res);
    while (true) {
      ASSIGN_OR_RETURN(bool value, probe.Step());
      if (!value) {
        break;
      }
      ++found;
      out.values.push_back(probe.Double(0));
    }
  }
  std::sort(out.values.begin(), out.values.end());
  out.tuples =
      probes > 0 ? token_rows * static_cast<double>(found) / static_cast<double>(probes) : 0;
  return out;
}

// The token systems (keys) the code is stored under: one seek per system (a skip scan of
// (param, code, sys, ...)), for a code searched without its system.
StatusOr<std::vector<int64_t>> SystemsOf(Connection& conn, const std::string& type,
                                         const std::string& code) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT sys FROM sp_token WHERE param = ?1 AND "
                                             "code = ?2 AND sys > ?3 ORDER BY sys LIMIT 1"));
  s.Bind(1, ParamKey(type, "code")).Bind(2, code);
  std::vector<int64_t> out;
  int64_t after = std::numeric_limits<int64_t>::min();
  while (out.size() < kSampleSize) {
    s.Reset();
    s.Bind(3, after);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      break;
    }
    after = s.Int(0);
    out.push_back(after);
  }
  return out;
}

}  // namespace

StatusOr<TupleRangeEstimates::Sample> TupleRangeEstimates::Take(Connection& conn,
                                                                const std::string& type,
                                                                const SearchValue& code,
                                                                int64_t now_us) {
  return InReadTxn(conn, [&]() -> StatusOr<Sample> {
    std::vector<int64_t> systems;
    if (code.has_system) {
      systems.push_back(SystemKey(code.system));
    } else {
      ASSIGN_OR_RETURN(systems, SystemsOf(conn, type, code.code));
    }
    std::vector<SystemSample> parts;
    double tuples = 0;
    for (int64_t sys : systems) {
      ASSIGN_OR_RETURN(SystemSample part, SampleSystem(conn, type, code.code, sys));
      tuples += part.tuples;
      parts.push_back(std::move(part));
    }
    Sample out;
    out.tuples = static_cast<int64_t>(tuples + 0.5);
    out.taken_us = now_us;
    // Several systems: each contributes values in proportion to its tuples.
    for (const SystemSample& part : parts) {
      if (part.values.empty()) {
        continue;
      }
      const size_t want =
          parts.size() == 1
              ? part.values.size()
              : std::max<size_t>(1, static_cast<size_t>(static_cast<double>(kSampleSize) *
                                                        part.tuples / std::max(1.0, tuples)));
      for (size_t i = 0; i < want; ++i) {
        out.values.push_back(part.values[i * part.values.size() / want]);
      }
    }
    std::sort(out.values.begin(), out.values.end());
    return out;
  });
}

StatusOr<TuplePlan> TupleRangeEstimates::Choose(Connection& conn, const SearchQuery& q,
                                                int64_t now_us) {
  for (const SearchClause& c : q.clauses) {
    if (c.type == fhir::SearchParamType::kReference && c.link == ClauseLink::kNone &&
        c.modifier.empty()) {
      return TuplePlan::kParameters;  // a reference drives (a patient's Observations)
    }
  }
  const std::optional<SearchClause> tuple = CompositeTupleOf(q);
  if (!tuple) {
    return TuplePlan::kParameters;
  }
  if (!q.sort.empty() || q.count == 0 || !q.compartment_type.empty()) {
    return TuplePlan::kTuples;  // every match is read: the range never loses
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
    ASSIGN_OR_RETURN(sample, Take(conn, q.type, code, now_us));
    std::lock_guard<std::mutex> lock(mu_);
    if (samples_.size() >= kMaxCodes) {
      samples_.clear();
    }
    samples_[key] = sample;
  }
  if (sample.values.empty()) {
    return TuplePlan::kTuples;  // no tuple of the code: the range is empty
  }
  const double fraction = FractionMatching(sample.values, value);
  if (fraction < 0) {
    return TuplePlan::kTuples;
  }
  const double tuples = static_cast<double>(std::max<int64_t>(1, sample.tuples));
  const double range = std::max(1.0, fraction * tuples);
  // The cost of walking the code's token rows until `wanted` matches (or all of them), each
  // row a quantity probe worth kProbeCost range tuples.
  auto walk = [&](double wanted) { return kProbeCost * std::min(tuples, wanted * tuples / range); };
  const double page = static_cast<double>(q.count) + 1;  // the page and its next cursor
  const int64_t cap = q.total_limit > 0 ? q.total_limit : (q.estimate_total ? kEstimateLimit : 0);
  if (!q.want_total || q.after) {
    return range < walk(page) ? TuplePlan::kTuples : TuplePlan::kParameters;
  }
  if (cap == 0) {
    return TuplePlan::kTuples;  // an exact total reads every match
  }
  // The range lists the page with the total at once; or the token rows list the page and the
  // range counts up to the cap from its index rows (never worse than walking to the cap).
  const double apart = walk(page) + std::min(range, static_cast<double>(cap) + 1);
  return range <= apart ? TuplePlan::kTuples : TuplePlan::kCountFromTuples;
}

}  // namespace carechart::store::sqlite
