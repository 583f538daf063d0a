// Choosing the plan of `Observation?code=S|C&value-quantity=gtV` (decisions D58, D60) without a
// statement per search: the code-value-quantity tuples drive when the threshold's range of the
// code's values is small; the code's token rows drive otherwise (they find a page and its
// capped total of 1,001 sooner than the range collects 60,000 tuples of a low threshold on a
// common code). The size of the range is estimated from a sample of the code's values, read
// once per code (one covering index range) and kept ten minutes: the estimate only
// chooses a plan, both plans give the same answer.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class TupleRangeEstimates {
 public:
  // Whether `query`'s code and value are best answered from the tuples: it has such a pair
  // and no driving reference (a patient's Observations), and it is sorted, counted exactly,
  // or its range is estimated cheaper to collect than the code's token rows are to walk until
  // the listing has its keys (a page and its next cursor, or up to the total's cap).
  StatusOr<bool> PreferTuples(Connection& conn, const SearchQuery& query, int64_t now_us);

 private:
  struct Sample {
    int64_t tuples = 0;          // the code's tuples when sampled
    std::vector<double> values;  // every tuples/kSampleSize-th value, ascending
    int64_t taken_us = 0;
  };
  StatusOr<Sample> Take(Connection& conn, const SearchQuery& query, const SearchValue& code,
                        int64_t now_us) const;

  std::mutex mu_;
  std::map<std::string, Sample> samples_;  // by type, system key and code
};

}  // namespace carechart::store::sqlite
