#include "bulk/ndjson_output.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace carechart::bulk {

// An open file: a stdio stream with a large buffer, or a zlib gzip stream.
struct NdjsonOutput::Sink {
  std::FILE* plain = nullptr;
  gzFile gz = nullptr;
  size_t file_index = 0;  // into files_
  int series = 0;         // 1, 2, ... per type

  // False on a write error (errno tells which).
  bool Write(std::string_view data) {
    return plain != nullptr ? std::fwrite(data.data(), 1, data.size(), plain) == data.size()
                            : gzwrite(gz, data.data(), static_cast<unsigned>(data.size())) ==
                                  static_cast<int>(data.size());
  }
  Status Close(const std::string& path) {
    int rc = 0;
    if (plain != nullptr) {
      rc = std::fclose(plain);
      plain = nullptr;
    } else if (gz != nullptr) {
      rc = gzclose(gz) == Z_OK ? 0 : -1;
      gz = nullptr;
    }
    return rc == 0 ? Status::Ok()
                   : InternalError("cannot close " + path + ": " + std::strerror(errno));
  }
};

NdjsonOutput::NdjsonOutput(std::string dir, OutputLimits limits)
    : dir_(std::move(dir)), limits_(limits) {}

NdjsonOutput::~NdjsonOutput() {
  for (auto& [type, sink] : sinks_) {
    (void)sink->Close("");
  }
}

Status NdjsonOutput::Rotate(std::string_view type, Sink& sink) {
  if (sink.plain != nullptr || sink.gz != nullptr) {
    RETURN_IF_ERROR(sink.Close(dir_ + "/" + files_[sink.file_index].name));
  }
  ++sink.series;
  OutputFile f;
  f.type = std::string(type);
  f.name = f.type + "-" + std::to_string(sink.series) + (limits_.gzip ? ".ndjson.gz" : ".ndjson");
  std::string path = dir_ + "/" + f.name;
  if (limits_.gzip) {
    // Level 1: several times faster than the default for ~20% larger files.
    sink.gz = gzopen(path.c_str(), "wb1");
    if (sink.gz != nullptr) {
      gzbuffer(sink.gz, 1 << 20);
    }
  } else {
    sink.plain = std::fopen(path.c_str(), "wb");
    if (sink.plain != nullptr) {
      std::setvbuf(sink.plain, nullptr, _IOFBF, 1 << 20);
    }
  }
  if (sink.plain == nullptr && sink.gz == nullptr) {
    return InternalError("cannot create " + path + ": " + std::strerror(errno));
  }
  sink.file_index = files_.size();
  files_.push_back(std::move(f));
  return Status::Ok();
}

Status NdjsonOutput::Append(std::string_view type, std::string_view json) {
  auto it = sinks_.find(type);
  if (it == sinks_.end()) {
    it = sinks_.emplace(std::string(type), std::make_unique<Sink>()).first;
    RETURN_IF_ERROR(Rotate(type, *it->second));
  }
  Sink& sink = *it->second;
  OutputFile* f = &files_[sink.file_index];
  int64_t size = static_cast<int64_t>(json.size()) + 1;
  if (f->count > 0 && (f->count >= limits_.max_resources_per_file ||
                       f->bytes + size > limits_.max_bytes_per_file)) {
    RETURN_IF_ERROR(Rotate(type, sink));
    f = &files_[sink.file_index];
  }
  if (!sink.Write(json) || !sink.Write("\n")) {
    return InternalError("cannot write " + dir_ + "/" + f->name + ": " + std::strerror(errno));
  }
  f->count += 1;
  f->bytes += size;
  resources_ += 1;
  bytes_ += size;
  return Status::Ok();
}

StatusOr<std::vector<OutputFile>> NdjsonOutput::Finish() {
  for (auto& [type, sink] : sinks_) {
    RETURN_IF_ERROR(sink->Close(dir_ + "/" + files_[sink->file_index].name));
  }
  sinks_.clear();
  return files_;
}

}  // namespace carechart::bulk
