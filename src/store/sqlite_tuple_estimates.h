// Choosing the plan of `Observation?code=S|C&value-quantity=gtV` (decisions D58, D61, D76)
// without a statement per search: the code-value-quantity tuples drive when the threshold's
// range of the code's values is small; the code's token rows drive otherwise (they find a page
// sooner than the range collects 60,000 tuples of a low threshold on a common code), and then
// the range counts the first page's total, since counting up to the cap from the range's index
// rows costs a fraction of walking the token rows to the cap. The size of the range is
// estimated from a sample of the code's values, taken once per code with a bounded number of
// seeks and kept ten minutes: the estimate only chooses a plan, every plan gives the same answer.
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

enum class TuplePlan {
  kParameters,       // no tuple, or the code's token rows list the page and count it
  kTuples,           // the tuple range lists the page and counts the total
  kCountFromTuples,  // the token rows list the page; the tuple range counts the total
};

class TupleRangeEstimates {
 public:
  // The cheapest plan for `query`: kParameters when it has no code-value pair or a reference
  // drives it (a patient's Observations); kTuples when it is sorted, counted exactly or its
  // range is estimated cheaper to collect than the code's token rows are to walk; else
  // kCountFromTuples where a first page counts a capped total, kParameters where it counts none.
  StatusOr<TuplePlan> Choose(Connection& conn, const SearchQuery& query, int64_t now_us);

  struct Sample {
    int64_t tuples = 0;          // the code's tuples (estimated above kCountedRows token rows)
    std::vector<double> values;  // up to kSampleSize of the code's values, ascending
    int64_t taken_us = 0;
  };
  // Samples the code's values (public for the tests): one seek per value at evenly spaced keys
  // over each system's token rows, never a read of all of them.
  static StatusOr<Sample> Take(Connection& conn, const std::string& type, const SearchValue& code,
                               int64_t now_us);

 private:
  std::mutex mu_;
  std::map<std::string, Sample> samples_;  // by type, system key and code
};

}  // namespace carechart::store::sqlite
