#include "store/sqlite_writer.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "store/sqlite_write_txn.h"

namespace carechart::store::sqlite {

StatusOr<std::unique_ptr<Writer>> Writer::Start(std::unique_ptr<Connection> conn,
                                                int max_group_delay_us, int max_group_size,
                                                std::shared_ptr<BodyWriteCounts> counts) {
  ASSIGN_OR_RETURN(int64_t max_seq, MaxSeq(*conn));
  // No foreign-key enforcement on the writer (D51): an immediate check makes every multi-row
  // INSERT of index rows open a statement journal, and releasing one walks the in-memory
  // sub-journal of the write function's savepoint from its start, so a large write function was
  // quadratic in the pages it touched. The writer inserts index rows only for the row it has just
  // written and never deletes a resource row; `PRAGMA foreign_key_check` still verifies it.
  RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = OFF"));
  std::unique_ptr<Writer> writer(new Writer(std::move(conn), max_seq, max_group_delay_us,
                                            std::max(1, max_group_size), std::move(counts)));
  writer->thread_ = std::thread([w = writer.get()] { w->Run(); });
  return writer;
}

Writer::Writer(std::unique_ptr<Connection> conn, int64_t max_seq, int max_group_delay_us,
               int max_group_size, std::shared_ptr<BodyWriteCounts> counts)
    : conn_(std::move(conn)),
      next_seq_(max_seq),
      seq_at_start_(max_seq),
      counts_(std::move(counts)),
      max_group_delay_us_(max_group_delay_us),
      max_group_size_(max_group_size) {}

Writer::~Writer() { Close(); }

Status Writer::Write(WriteFunction fn, bool ahead) {
  Item item;
  item.fn = std::move(fn);
  return Enqueue(item, ahead);
}

Status Writer::Configure(std::function<Status(Connection&)> fn) {
  Item item;
  item.configure = std::move(fn);
  return Enqueue(item, /*ahead=*/false);
}

Status Writer::Enqueue(Item& item, bool ahead) {
  std::unique_lock lock(mu_);
  if (closing_) {
    return Status(StatusCode::kUnavailable, "the store is closed");
  }
  if (ahead) {
    queue_.push_front(&item);
  } else {
    queue_.push_back(&item);
  }
  lock.unlock();
  queued_cv_.notify_one();
  item.done.acquire();
  return item.status;
}

void Writer::Close() {
  std::lock_guard close_lock(close_mu_);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  queued_cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

StoreStats Writer::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Writer::Run() {
  while (true) {
    std::vector<Item*> group = TakeGroup();
    if (group.empty()) {
      return;  // closing and drained
    }
    CommitGroup(std::move(group));
  }
}

std::vector<Writer::Item*> Writer::TakeGroup() {
  std::unique_lock lock(mu_);
  queued_cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
  // Writes arrived together last time: give the other writers a moment to join this group.
  // A lone writer (last group of one) is never delayed.
  if (last_group_size_ > 1 && max_group_delay_us_ > 0 && !closing_) {
    queued_cv_.wait_for(lock, std::chrono::microseconds(max_group_delay_us_), [&] {
      return static_cast<int>(queue_.size()) >= max_group_size_ ||
             queue_.size() >= last_group_size_ || closing_;
    });
  }
  std::vector<Item*> group;
  if (!queue_.empty() && queue_.front()->configure) {  // alone, outside any transaction
    group.push_back(queue_.front());
    queue_.pop_front();
    return group;
  }
  while (!queue_.empty() && static_cast<int>(group.size()) < max_group_size_ &&
         !queue_.front()->configure) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  last_group_size_ = group.size();
  return group;
}

Status Writer::RunFunction(Item& item, bool in_savepoint) {
  if (in_savepoint) {
    RETURN_IF_ERROR(conn_->Exec("SAVEPOINT w"));
  }
  SqliteWriteTxn txn(*conn_, next_seq_, counts_.get());
  Status s;
  try {
    s = item.fn(txn);
    if (s.ok()) {
      s = txn.Flush();  // the index rows its Puts held back
    }
  } catch (const std::exception& e) {
    s = InternalError(std::string("write function threw: ") + e.what());
  } catch (...) {
    s = InternalError("write function threw");
  }
  if (!conn_->InTransaction()) {
    return s.ok() ? InternalError("the transaction was rolled back") : s;
  }
  if (!in_savepoint) {
    return s;  // on error the caller rolls the transaction back
  }
  if (!s.ok()) {
    (void)conn_->Exec("ROLLBACK TO w");
  }
  Status released = conn_->Exec("RELEASE w");
  return s.ok() ? released : s;
}

void Writer::CommitGroup(std::vector<Item*> group) {
  if (group.size() == 1 && group[0]->configure) {
    try {
      group[0]->status = group[0]->configure(*conn_);
    } catch (const std::exception& e) {
      group[0]->status = InternalError(std::string("writer configuration threw: ") + e.what());
    }
    Finish(group);
    return;
  }
  Status begin = conn_->Exec("BEGIN IMMEDIATE");
  if (!begin.ok()) {
    for (Item* item : group) {
      item->status = begin;
    }
    Finish(group);
    return;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    // The group's first function runs without a savepoint (D90): nothing precedes it in the
    // transaction, so on error the transaction is rolled back instead, and SQLite keeps no
    // sub-journal copy of every existing page it changes (for a kept-index Bundle ~2,600 pages,
    // ~10 MB copied into freshly allocated memory per write).
    group[i]->status = RunFunction(*group[i], /*in_savepoint=*/i > 0);
    if (i == 0 && !group[0]->status.ok()) {
      // Undoing the first function is undoing the transaction; the rest run as a new group (if
      // the ROLLBACK itself failed, their BEGIN fails and they get that error).
      if (conn_->InTransaction()) {
        (void)conn_->Exec("ROLLBACK");
      }
      std::vector<Item*> rest(group.begin() + 1, group.end());
      group.resize(1);
      Finish(group);
      if (!rest.empty()) {
        CommitGroup(std::move(rest));
      }
      return;
    }
    if (!conn_->InTransaction()) {
      // SQLite rolled the whole transaction back (e.g. I/O error, disk full): the functions run
      // so far are lost; report it to them and run the rest as a new group.
      Status lost(StatusCode::kUnavailable,
                  "the write transaction was aborted: " + group[i]->status.message());
      for (size_t j = 0; j < i; ++j) {
        group[j]->status = lost;
      }
      std::vector<Item*> rest(group.begin() + i + 1, group.end());
      group.resize(i + 1);
      Finish(group);
      if (!rest.empty()) {
        CommitGroup(std::move(rest));
      }
      return;
    }
  }
  Status commit = conn_->Exec("COMMIT");
  if (!commit.ok()) {
    if (conn_->InTransaction()) {
      (void)conn_->Exec("ROLLBACK");
    }
    for (Item* item : group) {
      item->status = Status(commit.code(), "commit failed: " + commit.message());
    }
  }
  {
    std::lock_guard lock(mu_);
    stats_.commits += commit.ok() ? 1 : 0;
  }
  Finish(group);
}

void Writer::Finish(const std::vector<Item*>& group) {
  {
    std::lock_guard lock(mu_);
    for (Item* item : group) {
      ++stats_.writes;
      stats_.failed_writes += item->status.ok() ? 0 : 1;
    }
  }
  // After release() the caller may return and destroy its Item: touch nothing after it.
  for (Item* item : group) {
    item->done.release();
  }
}

}  // namespace carechart::store::sqlite
