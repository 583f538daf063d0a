// Output sinks for generated resources: NDJSON files per resource type (Bulk Data style), one
// transaction Bundle file per patient, or NDJSON text in memory.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "synth/sink.h"

namespace carechart::synth {

// DIR/Organization.ndjson, DIR/Patient.ndjson ... written through 1 MiB buffers. Files are
// created on first use, so only types that occur get a file.
class NdjsonDirSink : public ResourceSink {
 public:
  static StatusOr<std::unique_ptr<NdjsonDirSink>> Open(const std::string& dir);
  ~NdjsonDirSink() override;
  void Add(RType type, std::string_view id, std::string_view json) override;
  // Flushes and closes every file; the first write error, if any.
  Status Close();
  // The files written, in the order they were created (reference data first).
  const std::vector<std::string>& files() const { return files_; }
  uint64_t bytes() const { return bytes_; }

 private:
  explicit NdjsonDirSink(std::string dir) : dir_(std::move(dir)) {}
  void FlushType(size_t t);
  std::string dir_;
  std::FILE* out_[static_cast<size_t>(RType::kCount)] = {};
  std::string buf_[static_cast<size_t>(RType::kCount)];
  std::vector<std::string> files_;
  uint64_t bytes_ = 0;
  bool failed_ = false;
};

// DIR/reference-data.json, then DIR/<patient id>.json: each a transaction Bundle whose entries
// PUT their resources (ids kept, so references between files resolve).
class BundleDirSink : public ResourceSink {
 public:
  static StatusOr<std::unique_ptr<BundleDirSink>> Open(const std::string& dir);
  void Add(RType type, std::string_view id, std::string_view json) override;
  void EndGroup(std::string_view name) override;
  Status Close() {
    return failed_ ? InternalError("cannot write in '" + dir_ + "'") : Status::Ok();
  }
  int64_t file_count() const { return file_count_; }
  uint64_t bytes() const { return bytes_; }

 private:
  explicit BundleDirSink(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::string bundle_;
  int64_t file_count_ = 0;
  uint64_t bytes_ = 0;
  bool failed_ = false;
};

// NDJSON text in memory (one resource per line), e.g. to hand to the importer in chunks.
class NdjsonStringSink : public ResourceSink {
 public:
  void Add(RType type, std::string_view id, std::string_view json) override {
    text.append(json);
    text += '\n';
    ++count;
  }
  std::string text;
  int64_t count = 0;
};

}  // namespace carechart::synth
