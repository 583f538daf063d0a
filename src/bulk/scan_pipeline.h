// A system export's two threads: one reads the store's scan (ResourceStore::ScanCurrent) into
// batches, the calling thread writes them, so that reading the database and writing the files
// overlap on two cores (decisions D54).
#pragma once

#include <functional>

#include "core/status.h"
#include "store/resource_store.h"

namespace carechart::bulk {

struct ScanPipelineOptions {
  size_t batch_bytes = 4 << 20;  // a batch is handed over at this many bytes of rows
  int batches_in_flight = 4;     // read ahead of the writer by at most this many batches
};

// Runs ScanExport(store, scan) (export_read.h) on a reader thread and calls `write` on the calling
// thread for every version, in the scan's order; `after_batch` (may be empty) after each batch.
// Memory: at most `batches_in_flight` + 2 batches. The first error of either side stops both and is
// returned; `write` returning kGone (a cancellation) is passed on the same way.
Status RunScanPipeline(store::ResourceStore& store, const store::CurrentScan& scan,
                       const std::function<Status(const store::ScannedVersion&)>& write,
                       const std::function<void()>& after_batch,
                       const ScanPipelineOptions& options = {});

}  // namespace carechart::bulk
