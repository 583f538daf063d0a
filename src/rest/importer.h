// Loading resources from files or streams (FHIR Bundles and NDJSON, plain or gzip) through the
// same validation and preparation as the REST API, fast and with constant memory.
//
// The import is a pipeline (importer.cc): one reader thread splits the input into units (a chunk
// of NDJSON lines, or one Bundle), N workers parse, validate, resolve and prepare every version
// (serialised, indexed) in parallel, and one committer stores the prepared versions of many
// units in one large store transaction, in input order. At most a fixed number of units is in
// flight, so memory does not grow with the input: a 2 GB NDJSON file is never read whole.
//
// What each input means:
// - NDJSON lines and the entries of Bundles other than transactions are upserts: a resource with
//   an id is stored under that id (PUT semantics); without one, its first identifier
//   (system|value) picks the resource it matches, else a new id is assigned. A resource whose
//   content equals the stored version (ignoring meta.versionId/lastUpdated) is left alone, so
//   re-running an import creates no duplicates and bumps no versions. Invalid entries are
//   counted and reported; the rest is imported.
// - A transaction Bundle is imported with the REST transaction's semantics (all of it or nothing
//   of it; rest/bundle_processing.h), except that a POST entry whose fullUrl is urn:uuid:<uuid>
//   keeps that uuid as its id (as an upsert), which makes re-imports idempotent. A conditional
//   reference that matches nothing is retried once all earlier input is committed, so inputs
//   may be given in dependency order (providers first) and still be processed in parallel.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "rest/fhir_api.h"
#include "store/resource_store.h"

namespace carechart::rest {

struct ImportOptions {
  int workers = 0;  // threads that parse and prepare; 0: one per core
  size_t batch_size =
      10000;                 // resources per store transaction (NDJSON and non-transaction Bundles)
  size_t chunk_lines = 500;  // NDJSON lines per unit of work
  bool stop_on_error = false;       // stop reading at the first rejected entry or Bundle
  bool validate = true;             // false only for trusted generated data (demo-data)
  bool keep_facility_tags = false;  // trust the facility meta.tag in the data (see context.h)
  size_t max_errors_kept = 100;
  // Let the store skip its secondary-index upkeep during the import and build the indexes once
  // at the end, when the import is at least as large as the store (ResourceStore::BeginBulkLoad).
  // Searches run meanwhile are correct but slower: for command-line loads, not for a server.
  bool defer_indexes = false;
  int64_t expected_resources = 0;  // the import's size for that choice; 0: input bytes / 1 KiB
};

struct ImportProgress {
  std::string file;               // the file being read
  int64_t resources_done = 0;     // entries finished (written, unchanged or rejected)
  int64_t resources_in_file = 0;  // estimate of the total entries, from the bytes read so far
  int64_t bytes_done = 0;         // input bytes (compressed, for .gz) behind resources_done
  int64_t bytes_total = 0;        // input bytes of everything to import (0: unknown)
  int64_t resources_written = 0;
  int64_t entries_failed = 0;
  // After the last entry is stored, a load that deferred the store's search indexes builds them
  // (ImportOptions::defer_indexes): how many of how many are built (indexes_total 0: no build).
  int indexes_built = 0;
  int indexes_total = 0;
};
using ImportProgressFn = std::function<void(const ImportProgress&)>;

struct ImportStats {
  int64_t files = 0;
  int64_t resources_written = 0;  // versions stored
  int64_t unchanged = 0;          // entries whose content was already stored as is
  int64_t entries_failed = 0;
  int64_t commits = 0;  // store transactions made by the committer (transactions not counted)
  // "file:line (Type): path: message" or "file: entry N (Type): ...", the first max_errors_kept
  std::vector<std::string> errors;
};

// A source of bytes (a file, a download, a pipe). Read() fills up to `n` bytes and returns how
// many (0 at the end); Offset() is how far into the source the bytes read so far reach, in its
// own units (compressed bytes for gzip), for progress.
class ImportInput {
 public:
  virtual ~ImportInput() = default;
  virtual StatusOr<size_t> Read(char* buffer, size_t n) = 0;
  virtual int64_t Offset() const = 0;
  virtual int64_t Size() const { return 0; }  // total in Offset() units; 0: unknown
};

// A file, plain or gzip (detected by content, so .ndjson.gz and .json.gz both work).
StatusOr<std::unique_ptr<ImportInput>> OpenImportFile(const std::string& path);
// Text already in memory.
std::unique_ptr<ImportInput> ImportInputFromText(std::string text);

// Thread-compatible: one import at a time per Importer; it may run next to a server writing to
// the same store.
class Importer {
 public:
  Importer(store::ResourceStore& store, ApiOptions api, ImportOptions options = {});
  // Compatibility with callers that only chose a batch size.
  Importer(store::ResourceStore& store, ApiOptions api, size_t batch_size);
  ~Importer();

  // Imports files and folders (a folder's *.json, *.ndjson and their .gz, sorted by name), in
  // the order given. Fails (without importing anything) when a path cannot be read, and later
  // only when the store fails; rejected entries are in stats().
  Status ImportPaths(const std::vector<std::string>& paths, const ImportProgressFn& progress = {});
  Status ImportFile(const std::string& path, const ImportProgressFn& progress = {});
  // Imports one stream: NDJSON, or one Bundle or resource. `name` is used in messages.
  Status ImportStream(const std::string& name, ImportInput& input,
                      const ImportProgressFn& progress = {});
  Status ImportText(const std::string& name, const std::string& text,
                    const ImportProgressFn& progress = {});

  // For generators: `produce` runs on the reader thread and hands over NDJSON text (complete
  // lines) through `feed`, which blocks while enough is in flight and returns false once the
  // import is stopping.
  using NdjsonFeed = std::function<bool(const std::string& name, std::string lines)>;
  Status ImportGenerated(const std::function<Status(const NdjsonFeed& feed)>& produce,
                         const ImportProgressFn& progress = {});

  // Totals over every import made with this Importer.
  const ImportStats& stats() const { return stats_; }

 private:
  class Pipeline;
  store::ResourceStore& store_;
  ApiOptions api_;
  ImportOptions options_;
  ImportStats stats_;
};

}  // namespace carechart::rest
