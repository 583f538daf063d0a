// The single writer of the SQLite backend, with group commit.
//
// Write() queues a function and blocks. The writer thread takes every queued function (up to
// max_group_size), opens one BEGIN IMMEDIATE transaction, runs each function after the first
// inside its own SAVEPOINT (an error rolls back to it: that function alone is undone and gets its
// error; the first one's error rolls the transaction back and the rest run as a new group),
// commits once (one WAL fsync under synchronous=FULL) and only then wakes the callers. When the
// commit fails, every function of the group gets the error and nothing of the group remains.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "store/resource_store.h"
#include "store/sqlite_body_trainer.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class Writer {
 public:
  // Takes ownership of the (migrated) write connection and starts the writer thread.
  // `counts` (may be null) is told the type of every body stored (sqlite_body_trainer.h).
  static StatusOr<std::unique_ptr<Writer>> Start(std::unique_ptr<Connection> conn,
                                                 int max_group_delay_us, int max_group_size,
                                                 std::shared_ptr<BodyWriteCounts> counts = nullptr);
  // The version count (seq) of the database when the writer started.
  int64_t seq_at_start() const { return seq_at_start_; }
  ~Writer();  // Close()s

  // Thread-safe. Returns once `fn`'s group is committed (or failed); kUnavailable after Close().
  // `ahead`: queued before the writes already waiting (the store's own small writes that the
  // waiting ones should see, such as a body dictionary, D103).
  Status Write(WriteFunction fn, bool ahead = false);
  // Thread-safe. Runs `fn` on the writer connection between two transactions, alone, for the
  // connection settings SQLite refuses inside one (such as `PRAGMA temp_store`). Returns its
  // status once it has run; kUnavailable after Close().
  Status Configure(std::function<Status(Connection&)> fn);
  // Commits what is queued, then stops the thread. Idempotent; Write() afterwards fails.
  void Close();
  StoreStats Stats() const;

 private:
  struct Item {
    WriteFunction fn;
    std::function<Status(Connection&)> configure;  // set: a Configure() item, run alone
    Status status;
    // Released once `status` is final. One per caller, so a commit wakes exactly the callers of
    // its group (a shared condition variable would wake every waiting thread on every commit).
    std::binary_semaphore done{0};
  };

  Writer(std::unique_ptr<Connection> conn, int64_t max_seq, int max_group_delay_us,
         int max_group_size, std::shared_ptr<BodyWriteCounts> counts);
  void Run();
  std::vector<Item*> TakeGroup();
  void CommitGroup(std::vector<Item*> group);
  // Runs one function of the group: in its own SAVEPOINT, or (the group's first) directly in
  // the transaction (whose ROLLBACK then undoes it: CommitGroup's part).
  Status RunFunction(Item& item, bool in_savepoint);
  Status Enqueue(Item& item, bool ahead);
  void Finish(const std::vector<Item*>& group);

  std::unique_ptr<Connection> conn_;  // used by the writer thread only
  int64_t next_seq_;                  // writer thread only
  const int64_t seq_at_start_;
  std::shared_ptr<BodyWriteCounts> counts_;
  const int max_group_delay_us_;
  const int max_group_size_;
  size_t last_group_size_ = 0;  // writer thread only

  mutable std::mutex mu_;
  std::condition_variable queued_cv_;  // writer waits for work
  std::deque<Item*> queue_;            // guarded by mu_
  bool closing_ = false;               // guarded by mu_
  StoreStats stats_;                   // guarded by mu_
  std::mutex close_mu_;                // serialises Close()
  std::thread thread_;
};

}  // namespace carechart::store::sqlite
