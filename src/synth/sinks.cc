#include "synth/sinks.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace carechart::synth {

namespace {

constexpr size_t kBufferBytes = 1 << 20;

Status MakeDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return InternalError("cannot create the directory '" + dir + "': " + ec.message());
  }
  return Status::Ok();
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

StatusOr<std::unique_ptr<NdjsonDirSink>> NdjsonDirSink::Open(const std::string& dir) {
  RETURN_IF_ERROR(MakeDir(dir));
  return std::unique_ptr<NdjsonDirSink>(new NdjsonDirSink(dir));
}

NdjsonDirSink::~NdjsonDirSink() { (void)Close(); }

void NdjsonDirSink::Add(RType type, std::string_view id, std::string_view json) {
  size_t t = static_cast<size_t>(type);
  if (!out_[t]) {
    std::string path = dir_ + "/" + std::string(TypeName(type)) + ".ndjson";
    out_[t] = std::fopen(path.c_str(), "wb");
    if (!out_[t]) {
      failed_ = true;
      return;
    }
    files_.push_back(path);
    buf_[t].reserve(kBufferBytes + 64 * 1024);
  }
  std::string& b = buf_[t];
  b.append(json);
  b += '\n';
  if (b.size() >= kBufferBytes) {
    FlushType(t);
  }
}

void NdjsonDirSink::FlushType(size_t t) {
  std::string& b = buf_[t];
  if (b.empty() || !out_[t]) {
    return;
  }
  if (std::fwrite(b.data(), 1, b.size(), out_[t]) != b.size()) {
    failed_ = true;
  }
  bytes_ += b.size();
  b.clear();
}

Status NdjsonDirSink::Close() {
  for (size_t t = 0; t < static_cast<size_t>(RType::kCount); ++t) {
    if (!out_[t]) {
      continue;
    }
    FlushType(t);
    if (std::fclose(out_[t]) != 0) {
      failed_ = true;
    }
    out_[t] = nullptr;
  }
  if (failed_) {
    return InternalError("cannot write NDJSON files in '" + dir_ + "'");
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<BundleDirSink>> BundleDirSink::Open(const std::string& dir) {
  RETURN_IF_ERROR(MakeDir(dir));
  return std::unique_ptr<BundleDirSink>(new BundleDirSink(dir));
}

void BundleDirSink::Add(RType type, std::string_view id, std::string_view json) {
  if (bundle_.empty()) {
    bundle_.reserve(1 << 20);
    bundle_ = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  } else {
    bundle_ += ',';
  }
  bundle_ += R"({"resource":)";
  bundle_.append(json);
  bundle_ += R"(,"request":{"method":"PUT","url":")";
  bundle_.append(TypeName(type));
  bundle_ += '/';
  bundle_.append(id);
  bundle_ += "\"}}";
}

void BundleDirSink::EndGroup(std::string_view name) {
  if (bundle_.empty()) {
    return;
  }
  bundle_ += "]}\n";
  std::string path = dir_ + "/" + std::string(name) + ".json";
  if (!WriteFile(path, bundle_)) {
    failed_ = true;
  }
  bytes_ += bundle_.size();
  ++file_count_;
  bundle_.clear();
}

}  // namespace carechart::synth
