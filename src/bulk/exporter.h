// Runs one Bulk Data export into a folder of NDJSON files: the engine behind both the $export
// jobs of the server and `carechart export`. Reads page by page (keyset pages through
// ReadExportPage), writes the stored JSON as is (only _elements re-serialises), and holds at most
// one page in memory (plus, for patient and group exports, a 64-bit hash per exported resource,
// about 40 bytes in a hash set, to skip resources that sit in several exported compartments).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bulk/export_request.h"
#include "bulk/ndjson_output.h"
#include "core/status.h"
#include "store/resource_store.h"

namespace carechart::bulk {

struct ExportProgress {
  int64_t resources = 0;  // written so far
  int64_t bytes = 0;      // written so far (uncompressed)
  int64_t done = 0;       // units done: resources (system level) or patients
  int64_t total = -1;     // units in all; -1 unknown
  const char* unit = "resources";
};

struct ExportRunOptions {
  OutputLimits limits;
  int page_size = 1000;
  // Resources changed after this instant are exported as they were at it (their earlier version
  // from history), and resources created after it are left out; 0: no bound.
  int64_t transaction_time_us = 0;
  // With a transaction time, a system export reads the store in chunks of this many rows, each
  // its own snapshot (CurrentScan::chunk_rows, D91).
  int scan_chunk_rows = 10000;
  const std::atomic<bool>* cancel = nullptr;  // checked between pages: kCancelled when set
  std::function<void(const ExportProgress&)> progress;  // after every page
};

struct ExportResult {
  std::vector<OutputFile> files;        // resources, per type
  std::vector<OutputFile> error_files;  // OperationOutcome NDJSON (missing group members ...)
  int64_t resources = 0;
  int64_t bytes = 0;
};

// Writes the export into `out_dir` (which must exist and be empty). kNotFound when the Group of a
// group export does not exist; kCancelled when cancelled.
StatusOr<ExportResult> RunExport(store::ResourceStore& store, const ExportRequest& request,
                                 const std::string& out_dir, const ExportRunOptions& options);

// The Patient ids a Group's active members name (Patient/x references); other members are
// reported in `problems`.
StatusOr<std::vector<std::string>> GroupPatientIds(store::ResourceStore& store,
                                                   const std::string& group_id,
                                                   std::vector<std::string>* problems);

}  // namespace carechart::bulk
