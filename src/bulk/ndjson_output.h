// NDJSON output files of an export: one series of files per resource type, a new file when the
// current one reaches the resource or byte limit, optionally gzip-compressed (zlib).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace carechart::bulk {

struct OutputFile {
  std::string type;  // resource type (or "OperationOutcome" for error files)
  std::string name;  // file name inside the output folder, e.g. "Observation-2.ndjson"
  int64_t count = 0;
  int64_t bytes = 0;  // uncompressed
};

struct OutputLimits {
  int64_t max_resources_per_file = 100000;
  // Served files are read into memory whole (the HTTP layer has no streaming body): keep it small.
  int64_t max_bytes_per_file = 32ll << 20;
  bool gzip = false;  // ".ndjson.gz" files
};

class NdjsonOutput {
 public:
  NdjsonOutput(std::string dir, OutputLimits limits);
  ~NdjsonOutput();
  NdjsonOutput(const NdjsonOutput&) = delete;
  NdjsonOutput& operator=(const NdjsonOutput&) = delete;

  // Appends one resource (compact JSON, no newline) to the type's current file.
  Status Append(std::string_view type, std::string_view json);
  // Closes every file; the list of files written, in the order they were started.
  StatusOr<std::vector<OutputFile>> Finish();

  int64_t resources() const { return resources_; }
  int64_t bytes() const { return bytes_; }

 private:
  struct Sink;
  Status Rotate(std::string_view type, Sink& sink);

  std::string dir_;
  OutputLimits limits_;
  std::map<std::string, std::unique_ptr<Sink>, std::less<>> sinks_;
  std::vector<OutputFile> files_;
  int64_t resources_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace carechart::bulk
