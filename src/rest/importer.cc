// The import pipeline (see importer.h): reader thread → workers → committer (the calling thread).
//
// Units are numbered in input order. Workers take them from `todo_` and put what they made into
// `done_`; the committer takes `done_` in number order, appends the prepared versions to the
// current batch and stores the batch in one ResourceStore::Write once it holds batch_size
// resources (or when the next unit is slow to come, so a transaction waiting for earlier input
// never waits long). Inside that write every version is checked against the version it was
// prepared for; the few that went stale (the same id twice in flight, or a concurrent writer)
// are prepared again after the commit and stored by a second write. The reader blocks once
// `max_in_flight_` units are submitted and not yet committed, which bounds memory.
#include "rest/importer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "rest/import_entries.h"
#include "rest/import_input.h"

namespace carechart::rest {

namespace {

using import::Pending;
using import::PreparedUnit;
using import::UnitPreparer;

struct Unit {
  uint64_t seq = 0;
  bool ndjson = false;  // else one whole document
  std::string name;
  std::string text;
  int64_t first_line = 1;
  int64_t bytes_after = 0;  // input bytes (over all files) consumed once this unit is done
};

// Waits this long for the next unit before storing a partial batch.
constexpr auto kPartialBatchWait = std::chrono::milliseconds(5);

}  // namespace

class Importer::Pipeline {
 public:
  Pipeline(Importer& owner, const ImportProgressFn& progress, int64_t bytes_total)
      : owner_(owner), progress_(progress), bytes_total_(bytes_total) {
    int workers = owner.options_.workers;
    if (workers <= 0) {
      workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    workers_ = workers;
    size_t per_batch = std::max<size_t>(
        1, owner.options_.batch_size / std::max<size_t>(1, owner.options_.chunk_lines));
    max_in_flight_ = 2 * per_batch + 2 * static_cast<size_t>(workers) + 2;
  }

  // Reader side. Blocks while too much is in flight; false once the import is stopping.
  bool Submit(Unit unit) {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return submitted_ - released_ < max_in_flight_ || stop_; });
    if (stop_) {
      return false;
    }
    unit.seq = submitted_++;
    todo_.push_back(std::move(unit));
    work_cv_.notify_one();
    return true;
  }

  // A file-level problem found by the reader (cannot open, unreadable .gz).
  void FileError(const Status& s) {
    std::lock_guard lock(mu_);
    reader_errors_.push_back(s);
  }

  bool stopping() const { return stop_.load(); }

  void CountFile() {
    std::lock_guard lock(mu_);
    ++owner_.stats_.files;
  }

  // Runs `read` on a reader thread, the workers, and the committer on this thread.
  Status Run(const std::function<void(Pipeline&)>& read) {
    if (owner_.options_.defer_indexes) {
      const int64_t expected = owner_.options_.expected_resources > 0
                                   ? owner_.options_.expected_resources
                                   : bytes_total_ / 1024;
      // Whether the indexes were deferred or kept, EndBulkLoad follows: it also ends the load's
      // connection settings (and finds the indexes present when they were kept).
      RETURN_IF_ERROR(owner_.store_.BeginBulkLoad(expected).status());
    }
    Status s = RunStages(read);
    if (owner_.options_.defer_indexes) {
      Status built = owner_.store_.EndBulkLoad([&](int done, int total) {
        if (progress_) {
          ImportProgress p = LastProgress();
          p.indexes_built = done;
          p.indexes_total = total;
          progress_(p);
        }
      });
      if (s.ok() && !built.ok()) {
        return built;
      }
    }
    return s;
  }

 private:
  Status RunStages(const std::function<void(Pipeline&)>& read) {
    std::vector<std::thread> threads;
    for (int i = 0; i < workers_; ++i) {
      threads.emplace_back([this] { Work(); });
    }
    std::thread reader([&] {
      read(*this);
      std::lock_guard lock(mu_);
      input_closed_ = true;
      done_cv_.notify_all();
    });
    Commit();
    reader.join();
    {
      std::lock_guard lock(mu_);
      workers_stop_ = true;
      work_cv_.notify_all();
    }
    for (auto& t : threads) {
      t.join();
    }
    for (const Status& s : reader_errors_) {
      Record(s.message());
      if (first_error_.ok()) {
        first_error_ = s;
      }
    }
    return store_error_.ok() ? first_error_ : store_error_;
  }

  struct Finished {
    Unit unit;
    PreparedUnit prepared;
  };

  void Work() {
    UnitPreparer preparer(owner_.store_, owner_.api_, owner_.options_);
    while (true) {
      Unit unit;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return !todo_.empty() || workers_stop_; });
        if (todo_.empty()) {
          return;
        }
        unit = std::move(todo_.front());
        todo_.pop_front();
      }
      PreparedUnit out;
      if (!stop_.load()) {
        if (unit.ndjson) {
          preparer.Ndjson(unit.name, unit.text, unit.first_line, &out);
        } else {
          preparer.Document(unit.name, unit.text, committed_upto_.load() >= unit.seq, &out);
        }
      }
      unit.text.clear();
      unit.text.shrink_to_fit();
      std::lock_guard lock(mu_);
      uint64_t seq = unit.seq;
      done_.emplace(seq, Finished{std::move(unit), std::move(out)});
      if (seq == next_) {
        done_cv_.notify_one();
      }
    }
  }

  // The committer: takes finished units in order and stores them in large batches.
  void Commit() {
    UnitPreparer preparer(owner_.store_, owner_.api_, owner_.options_);
    while (true) {
      std::optional<Finished> f;
      {
        std::unique_lock lock(mu_);
        auto ready = [&] {
          return done_.count(next_) > 0 || (input_closed_ && next_ == submitted_);
        };
        if (!batch_.empty()) {
          if (!done_cv_.wait_for(lock, kPartialBatchWait, ready)) {
            lock.unlock();
            Flush(preparer);
            continue;
          }
        } else {
          done_cv_.wait(lock, ready);
        }
        auto it = done_.find(next_);
        if (it == done_.end()) {
          break;  // input closed and everything taken
        }
        f = std::move(it->second);
        done_.erase(it);
        ++next_;
      }
      Take(std::move(*f), preparer);
      if (batch_.size() >= owner_.options_.batch_size) {
        Flush(preparer);
      }
    }
    Flush(preparer);
  }

  void Take(Finished f, UnitPreparer& preparer) {
    PreparedUnit& p = f.prepared;
    if (p.retry_transaction) {
      Flush(preparer);  // everything before it is stored now
      PreparedUnit again;
      preparer.Transaction(p.retry_where, *p.retry_transaction, true, &again);
      p = std::move(again);
    }
    if (!p.store_error.ok()) {
      Stop();
      if (store_error_.ok()) {
        store_error_ = p.store_error;
      }
    }
    if (!p.file_error.ok()) {
      Record(p.file_error.message());
      if (first_error_.ok()) {
        first_error_ = p.file_error;
      }
      if (owner_.options_.stop_on_error) {
        Stop();
      }
    }
    ImportStats& st = owner_.stats_;
    st.entries_failed += p.failed;
    st.unchanged += p.unchanged;
    st.resources_written += p.written_by_transaction;
    for (std::string& e : p.errors) {
      Record(std::move(e));
    }
    if (p.failed > 0 && owner_.options_.stop_on_error) {
      Stop();
    }
    entries_taken_ += p.entries;
    for (Pending& w : p.writes) {
      batch_.push_back(std::move(w));
    }
    batch_units_ += 1;
    last_unit_ = std::move(f.unit);
    if (batch_.empty()) {
      Release();
    }
  }

  void Record(std::string message) {
    if (owner_.stats_.errors.size() < owner_.options_.max_errors_kept) {
      owner_.stats_.errors.push_back(std::move(message));
    }
  }

  void Stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    space_cv_.notify_all();
  }

  // Stores the batch; units up to the last one taken count as committed afterwards.
  void Flush(UnitPreparer& preparer) {
    if (!batch_.empty() && store_error_.ok()) {
      std::vector<Pending> stale;
      Status s = WriteBatch(batch_, &stale);
      for (int round = 0; s.ok() && !stale.empty() && round < 8; ++round) {
        std::vector<Pending> again;
        for (Pending& p : stale) {
          auto needed = preparer.Reprepare(p);
          if (!needed.ok()) {
            s = needed.status();
            break;
          }
          if (*needed) {
            again.push_back(std::move(p));
          } else {
            ++owner_.stats_.unchanged;
          }
        }
        stale.clear();
        if (s.ok()) {
          s = WriteBatch(again, &stale);
        }
      }
      if (s.ok() && !stale.empty()) {
        for (const Pending& p : stale) {
          Record(p.where + ": changed by another writer during the import; run it again");
        }
        owner_.stats_.entries_failed += static_cast<int64_t>(stale.size());
      }
      if (!s.ok()) {
        store_error_ = s;
        Stop();
      }
    }
    batch_.clear();
    Release();
  }

  // One store transaction; versions that are not the ones the writes were prepared against go
  // to `stale` instead.
  Status WriteBatch(std::vector<Pending>& writes, std::vector<Pending>* stale) {
    if (writes.empty()) {
      return Status::Ok();
    }
    std::vector<size_t> stale_at;
    int64_t written = 0;
    std::vector<std::pair<std::string, std::string>> keys;
    for (const Pending& p : writes) {
      keys.emplace_back(p.write.type, p.write.id);
    }
    Status s = owner_.store_.Write([&](store::WriteTxn& txn) -> Status {
      stale_at.clear();
      written = 0;
      RETURN_IF_ERROR(txn.Prefetch(keys));  // one round trip on PostgreSQL, not one per write
      std::map<std::pair<std::string, std::string>, int64_t> in_batch;
      for (size_t i = 0; i < writes.size(); ++i) {
        const Pending& p = writes[i];
        auto key = std::make_pair(p.write.type, p.write.id);
        int64_t now = 0;
        if (auto it = in_batch.find(key); it != in_batch.end()) {
          now = it->second;
        } else {
          ASSIGN_OR_RETURN(store::CurrentVersion cur, txn.Current(p.write.type, p.write.id));
          now = cur.version;
        }
        if (now != p.expected) {
          stale_at.push_back(i);
          in_batch[key] = now;
          continue;
        }
        RETURN_IF_ERROR(txn.Put(p.write));
        in_batch[key] = p.write.version;
        ++written;
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      return s;
    }
    ++owner_.stats_.commits;
    owner_.stats_.resources_written += written;
    for (size_t i : stale_at) {
      stale->push_back(std::move(writes[i]));
    }
    return Status::Ok();
  }

  // The units taken so far are finished: let the reader go on, and report progress.
  void Release() {
    if (batch_units_ == 0) {
      return;
    }
    {
      std::lock_guard lock(mu_);
      released_ += batch_units_;
      committed_upto_.store(next_);
      space_cv_.notify_all();
    }
    batch_units_ = 0;
    if (progress_) {
      progress_(LastProgress());
    }
  }

  // Where the committer stands after the units released so far.
  ImportProgress LastProgress() const {
    ImportProgress p;
    p.file = last_unit_.name;
    p.bytes_done = last_unit_.bytes_after;
    p.bytes_total = bytes_total_;
    p.resources_done = entries_taken_;
    p.resources_in_file = p.bytes_done > 0 && bytes_total_ > 0
                              ? static_cast<int64_t>(static_cast<double>(entries_taken_) *
                                                     static_cast<double>(bytes_total_) /
                                                     static_cast<double>(p.bytes_done))
                              : entries_taken_;
    p.resources_written = owner_.stats_.resources_written;
    p.entries_failed = owner_.stats_.entries_failed;
    return p;
  }

  Importer& owner_;
  const ImportProgressFn& progress_;
  const int64_t bytes_total_;
  int workers_ = 1;
  size_t max_in_flight_ = 8;

  std::mutex mu_;
  std::condition_variable work_cv_;          // workers wait for units
  std::condition_variable done_cv_;          // the committer waits for the next unit
  std::condition_variable space_cv_;         // the reader waits for room
  std::deque<Unit> todo_;                    // guarded by mu_
  std::map<uint64_t, Finished> done_;        // guarded by mu_
  uint64_t submitted_ = 0;                   // guarded by mu_
  uint64_t released_ = 0;                    // guarded by mu_
  uint64_t next_ = 0;                        // guarded by mu_: the next unit to take
  bool input_closed_ = false;                // guarded by mu_
  bool workers_stop_ = false;                // guarded by mu_
  std::atomic<bool> stop_{false};            // written under mu_
  std::atomic<uint64_t> committed_upto_{0};  // every unit below it is stored
  std::vector<Status> reader_errors_;        // guarded by mu_

  // Committer thread only.
  std::vector<Pending> batch_;
  uint64_t batch_units_ = 0;
  Unit last_unit_;
  int64_t entries_taken_ = 0;
  Status store_error_ = Status::Ok();
  Status first_error_ = Status::Ok();
};

Importer::Importer(store::ResourceStore& store, ApiOptions api, ImportOptions options)
    : store_(store), api_(std::move(api)), options_(options) {}

Importer::Importer(store::ResourceStore& store, ApiOptions api, size_t batch_size)
    : store_(store), api_(std::move(api)) {
  options_.batch_size = batch_size;
}

Importer::~Importer() = default;

namespace {

// Splits one input into units for `pipeline`; `bytes_base` is the size of the inputs before it.
template <typename Pipeline>
Status ReadInto(Pipeline& pipeline, const std::string& name, ImportInput& input, int64_t bytes_base,
                size_t chunk_lines) {
  import::ReadCallbacks callbacks;
  callbacks.ndjson = [&](std::string lines, int64_t first_line, int64_t offset) {
    Unit u;
    u.ndjson = true;
    u.name = name;
    u.text = std::move(lines);
    u.first_line = first_line;
    u.bytes_after = bytes_base + offset;
    return pipeline.Submit(std::move(u));
  };
  callbacks.document = [&](std::string text, int64_t offset) {
    Unit u;
    u.name = name;
    u.text = std::move(text);
    u.bytes_after = bytes_base + offset;
    return pipeline.Submit(std::move(u));
  };
  return import::SplitInput(input, chunk_lines, callbacks);
}

}  // namespace

Status Importer::ImportPaths(const std::vector<std::string>& paths,
                             const ImportProgressFn& progress) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, import::ListImportFiles(paths));
  int64_t total = 0;
  for (const std::string& f : files) {
    total += import::FileBytes(f);
  }
  Pipeline pipeline(*this, progress, total);
  return pipeline.Run([&](Pipeline& p) {
    int64_t base = 0;
    for (const std::string& f : files) {
      if (p.stopping()) {
        break;
      }
      p.CountFile();
      auto input = OpenImportFile(f);
      if (!input.ok()) {
        p.FileError(input.status());
      } else if (Status s = ReadInto(p, f, **input, base, options_.chunk_lines); !s.ok()) {
        p.FileError(s);
      }
      base += import::FileBytes(f);
    }
  });
}

Status Importer::ImportFile(const std::string& path, const ImportProgressFn& progress) {
  return ImportPaths({path}, progress);
}

Status Importer::ImportStream(const std::string& name, ImportInput& input,
                              const ImportProgressFn& progress) {
  Pipeline pipeline(*this, progress, input.Size());
  return pipeline.Run([&](Pipeline& p) {
    p.CountFile();
    if (Status s = ReadInto(p, name, input, 0, options_.chunk_lines); !s.ok()) {
      p.FileError(s);
    }
  });
}

Status Importer::ImportText(const std::string& name, const std::string& text,
                            const ImportProgressFn& progress) {
  auto input = ImportInputFromText(text);
  return ImportStream(name, *input, progress);
}

Status Importer::ImportGenerated(const std::function<Status(const NdjsonFeed& feed)>& produce,
                                 const ImportProgressFn& progress) {
  Pipeline pipeline(*this, progress, 0);
  return pipeline.Run([&](Pipeline& p) {
    std::map<std::string, int64_t> next_line;
    NdjsonFeed feed = [&](const std::string& name, std::string lines) {
      int64_t& line = next_line.try_emplace(name, 1).first->second;
      Unit u;
      u.ndjson = true;
      u.name = name;
      u.first_line = line;
      line += std::count(lines.begin(), lines.end(), '\n');
      u.text = std::move(lines);
      return p.Submit(std::move(u));
    };
    if (Status s = produce(feed); !s.ok()) {
      p.FileError(s);
    }
  });
}

}  // namespace carechart::rest
