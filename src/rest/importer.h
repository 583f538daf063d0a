// Loading resources from files (FHIR Bundles or NDJSON) through the same validation and
// preparation as the REST API, written in large transactions.
//
// Bundles of type transaction are imported with the REST transaction's semantics (all entries or
// none, per file; rest/bundle_processing.h). Other Bundles and NDJSON: whole-file parsing, urn:uuid
// and conditional references resolved, invalid entries skipped and reported, one store
// transaction per batch of resources. Streaming and parallel parsing come later.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "fhir/json.h"
#include "rest/fhir_api.h"
#include "store/resource_store.h"

namespace carechart::rest {

struct ImportProgress {
  std::string file;
  int64_t resources_done = 0;
  int64_t resources_in_file = 0;
};

struct ImportStats {
  int64_t files = 0;
  int64_t resources_written = 0;
  int64_t entries_failed = 0;
  std::vector<std::string> errors;  // "file: entry N (Type): location: message", first 100
};

class Importer {
 public:
  Importer(store::ResourceStore& store, ApiOptions options, size_t batch_size = 1000);

  // Imports one file: a Bundle (its entries' resources) or NDJSON (one resource per line).
  // Invalid entries are counted and reported in stats(); the rest is imported. Fails only when
  // the file cannot be read or parsed at all, or the store fails.
  Status ImportFile(const std::string& path,
                    const std::function<void(const ImportProgress&)>& progress = {});

  // Imports already-read text; `name` is used in progress and error messages.
  Status ImportText(const std::string& name, const std::string& text,
                    const std::function<void(const ImportProgress&)>& progress = {});

  const ImportStats& stats() const { return stats_; }

 private:
  struct Pending;
  Status Flush(std::vector<Pending>& batch);
  // A Bundle of type transaction: all of it or nothing, with the REST transaction's semantics.
  Status ImportTransaction(const std::string& path, json::Value& bundle,
                           const std::function<void(const ImportProgress&)>& progress);
  void Fail(const std::string& where, const std::string& message);

  store::ResourceStore& store_;
  ApiOptions options_;
  size_t batch_size_;
  ImportStats stats_;
};

}  // namespace carechart::rest
