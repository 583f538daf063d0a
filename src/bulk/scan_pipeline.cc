#include "bulk/scan_pipeline.h"

#include "bulk/export_read.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace carechart::bulk {
namespace {

// Rows copied out of the store's scan: the text of each in one buffer.
struct Batch {
  struct Row {
    size_t type_at, id_at, body_at;
    uint32_t type_size, id_size;
    size_t body_size;
    int64_t last_updated_us;
  };
  std::string bytes;
  std::vector<Row> rows;

  void Add(const store::ScannedVersion& v) {
    Row r;
    r.type_at = bytes.size();
    r.type_size = static_cast<uint32_t>(v.type.size());
    bytes.append(v.type);
    r.id_at = bytes.size();
    r.id_size = static_cast<uint32_t>(v.id.size());
    bytes.append(v.id);
    r.body_at = bytes.size();
    r.body_size = v.body.size();
    bytes.append(v.body);
    r.last_updated_us = v.last_updated_us;
    rows.push_back(r);
  }
  store::ScannedVersion At(const Row& r) const {
    std::string_view all(bytes);
    return {all.substr(r.type_at, r.type_size), all.substr(r.id_at, r.id_size), r.last_updated_us,
            all.substr(r.body_at, r.body_size)};
  }
  void Clear() {
    bytes.clear();
    rows.clear();
  }
};

// Full batches from the reader to the writer, and emptied ones back (their buffers reused).
class BatchQueue {
 public:
  explicit BatchQueue(int capacity) : capacity_(capacity) {}

  // Reader: hands over a full batch (waits while the writer is `capacity` behind); false when
  // the writer has stopped.
  bool Push(std::unique_ptr<Batch> b) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || static_cast<int>(full_.size()) < capacity_; });
    if (stopped_) {
      return false;
    }
    full_.push_back(std::move(b));
    cv_.notify_all();
    return true;
  }
  // Reader: the scan ended with `status`.
  void Finish(Status status) {
    std::lock_guard lock(mu_);
    done_ = true;
    status_ = std::move(status);
    cv_.notify_all();
  }
  // Writer: the next batch, or null when the scan has ended (Status() tells how).
  std::unique_ptr<Batch> Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || done_; });
    if (full_.empty()) {
      return nullptr;
    }
    auto b = std::move(full_.front());
    full_.pop_front();
    cv_.notify_all();
    return b;
  }
  // Writer: stop the reader (an error, or cancelled).
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  void Recycle(std::unique_ptr<Batch> b) {
    b->Clear();
    std::lock_guard lock(mu_);
    if (spare_ == nullptr) {
      spare_ = std::move(b);
    }
  }
  std::unique_ptr<Batch> Fresh() {
    std::lock_guard lock(mu_);
    return spare_ != nullptr ? std::move(spare_) : std::make_unique<Batch>();
  }
  Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  const int capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> full_;
  std::unique_ptr<Batch> spare_;
  bool done_ = false;
  bool stopped_ = false;
  Status status_;
};

Status Stopped() { return Status(StatusCode::kGone, "the export's writer stopped"); }

}  // namespace

Status RunScanPipeline(store::ResourceStore& store, const store::CurrentScan& scan,
                       const std::function<Status(const store::ScannedVersion&)>& write,
                       const std::function<void()>& after_batch,
                       const ScanPipelineOptions& options) {
  BatchQueue queue(options.batches_in_flight);
  std::thread reader([&] {
    std::unique_ptr<Batch> batch = queue.Fresh();
    Status s = ScanExport(store, scan, [&](const store::ScannedVersion& v) -> Status {
      batch->Add(v);
      if (batch->bytes.size() >= options.batch_bytes) {
        if (!queue.Push(std::move(batch))) {
          return Stopped();
        }
        batch = queue.Fresh();
      }
      return Status::Ok();
    });
    if (s.ok() && !batch->rows.empty() && !queue.Push(std::move(batch))) {
      s = Stopped();
    }
    queue.Finish(std::move(s));
  });
  Status result;
  while (auto batch = queue.Pop()) {
    for (const Batch::Row& r : batch->rows) {
      result = write(batch->At(r));
      if (!result.ok()) {
        break;
      }
    }
    queue.Recycle(std::move(batch));
    if (!result.ok()) {
      queue.Stop();
      break;
    }
    if (after_batch) {
      after_batch();
    }
  }
  reader.join();
  if (!result.ok()) {
    return result;
  }
  return queue.status();
}

}  // namespace carechart::bulk
