// Reindexing on PostgreSQL: the comparison of resources' stored index rows with their entries
// that a reindex runs on its extraction threads (ResourceStore::SameIndex, decisions D116).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "fhir/search_index.h"
#include "store/postgres/pg_conn.h"
#include "store/resource_store.h"

namespace carechart::store::pg {

// For each of `resources` with its entries index[i]: true when its stored rows (of `param` only,
// when given) are exactly those of index[i]. Resources without their row_key answer false (the
// writer rewrites them). Each index table is read once for them all, over their keys' range when
// the keys are dense in it, else by the list of keys, in one snapshot on `conn`.
StatusOr<std::vector<bool>> IndexRowsSame(Connection& conn,
                                          std::span<const ResourceVersion> resources,
                                          std::span<const fhir::IndexEntries> index,
                                          const std::string& param);

}  // namespace carechart::store::pg
