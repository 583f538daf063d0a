// Copies the write-ahead log into the database file on a thread of its own, so that the writer
// thread (the one that bounds the write rate, D57) only appends to the WAL (D65).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class WalCheckpointer {
 public:
  // New WAL frames (4 KiB pages) since the thread's last pass that wake it for another (PASSIVE)
  // pass; SQLite's default autocheckpoint is 1,000 frames, this store's was 16,384 (D65).
  static constexpr int kStartFrames = kWalAutocheckpointFrames;
  // SQLite restarts the WAL at the next write transaction after a checkpoint that left nothing
  // to copy. The thread never gets there while the writer keeps committing, so once the WAL holds
  // kBackstopFactor × kStartFrames frames the writer checkpoints after a commit itself, as
  // SQLite's autocheckpoint would, when the thread is idle and left at most a quarter of
  // kStartFrames uncopied (or unconditionally at twice that size, which bounds the WAL).
  static constexpr int kBackstopFactor = 4;

  // Opens a connection of its own to `path` and replaces the autocheckpoint of `writer` (which
  // must be in WAL mode) with a WAL hook that wakes the thread. `writer` must be closed before
  // this object is destroyed: its hook points here.
  static StatusOr<std::unique_ptr<WalCheckpointer>> Start(const std::string& path,
                                                          Connection& writer,
                                                          int start_frames = kStartFrames);
  ~WalCheckpointer();

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints run by the thread so far (for tests).
  int64_t checkpoints() const;

 private:
  WalCheckpointer(std::unique_ptr<Connection> conn, int start_frames)
      : conn_(std::move(conn)), start_frames_(start_frames) {}
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames);
  void Run();

  std::unique_ptr<Connection> conn_;  // used by the thread only
  const int start_frames_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::atomic<bool> busy_{false};  // the thread is in a pass
  std::atomic<int> copied_{0};     // WAL frames copied by the thread's last pass
  int last_request_ = 0;           // WAL frames when the thread was last woken (writer's)
  int64_t checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace carechart::store::sqlite
