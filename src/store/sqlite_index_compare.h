// Reindexing on SQLite: whether resources' stored index rows are exactly those their entries
// make. A reindex asks this of every resource it visits, most of whose rows have not changed, so
// the comparison is most of what a reindex costs: it runs on the extraction threads, on reader
// connections, a chunk of resources at a time (IndexRowsSame), and the writer only rewrites what
// differs, comparing once more (IndexRowComparison) inside its transaction (decisions D116).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "fhir/search_index.h"
#include "store/index_row_match.h"
#include "store/resource_store.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// One resource's rows, compared on the writer (ReplaceIndex).
class IndexRowComparison {
 public:
  // Whether the rows of resource key `pk` in every index table (only those of `params`, unless
  // empty) are exactly the rows ForEachIndexRow makes of `ix`: each once, none missing, none
  // more. `conn` must see the rows (the writer, or a reader inside a read transaction).
  StatusOr<bool> Same(Connection& conn, int64_t pk, const std::string& type,
                      const fhir::IndexEntries& ix, const std::vector<int64_t>& params);

 private:
  WantedIndexRows wanted_;
  std::vector<IndexCol> columns_;
};

// For each of `resources` (versions a search read) with its entries `index[i]`: true when its
// stored rows (of `param` only, when given) are exactly those of index[i]. Resources that carry
// their row_key (search pages in key order) are compared by it, a table at a time for the whole
// chunk; others are looked up by (type, id, version). A version changed since it was read may
// answer either way: the writer's ReplaceIndex finds it is no longer current. One read
// transaction on `conn`.
StatusOr<std::vector<bool>> IndexRowsSame(Connection& conn,
                                          std::span<const ResourceVersion> resources,
                                          std::span<const fhir::IndexEntries> index,
                                          const std::string& param);

}  // namespace carechart::store::sqlite
