// Re-extracting the search index of stored resources: after an upgrade that indexes more (e.g.
// composite parameters, schema migration 2), or for a search parameter that changed.
//
// Resources are read in key order in batches (one read statement each, never blocking writers),
// their index entries computed on every core (fhir::ExtractIndex), and each batch written by the
// store's one writer in a write function of its own: API writes interleave between batches, so
// they wait at most one batch. A resource changed meanwhile keeps the index its own write made.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "store/resource_store.h"

namespace carechart::store {

struct ReindexProgress {
  int64_t total = 0;      // resources to visit (counted at the start)
  int64_t done = 0;       // visited so far
  int64_t reindexed = 0;  // index rows replaced (done minus those changed meanwhile)
  int64_t differing = 0;  // of those visited, how many had stored rows that differed (rewritten)
  double seconds = 0;     // since the start
  // Where the calling thread spent them (to see which stage limits the rate): waiting for the
  // next page to be read, extracting (with the pool), and waiting for the previous write.
  double read_wait_seconds = 0;
  double extract_seconds = 0;
  double write_wait_seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(done) / seconds : 0; }
};

struct ReindexOptions {
  std::string type;   // only this resource type; empty: every type
  std::string param;  // only this search parameter's rows (needs `type`); empty: all
  int batch = 2000;   // resources per read and per write function
  int threads = 0;    // extraction threads; 0: one per core
  // Called after each batch is written (from the calling thread).
  std::function<void(const ReindexProgress&)> on_progress;
  // Set to stop after the current batch: the result is then kUnavailable ("stopped").
  const std::atomic<bool>* stop = nullptr;
};

// Runs a reindex to completion; the final progress, or the first error (kInvalid naming --type
// or --param when they name nothing).
StatusOr<ReindexProgress> Reindex(ResourceStore& store, const ReindexOptions& options);

}  // namespace carechart::store
