#include "store/sqlite_checkpointer.h"

#include <sqlite3.h>

namespace carechart::store::sqlite {

StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                  Connection& writer,
                                                                  int start_frames) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path, false));
  std::unique_ptr<WalCheckpointer> self(new WalCheckpointer(std::move(conn), start_frames));
  // Replaces the hook that `PRAGMA wal_autocheckpoint` installed (SQLite keeps one per
  // connection): from now on the writer's commits only append to the WAL.
  sqlite3_wal_hook(writer.raw(), &WalCheckpointer::OnCommit, self.get());
  self->thread_ = std::thread([c = self.get()] { c->Run(); });
  return self;
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

int64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mu_);
  return checkpoints_;
}

// On the writer's thread, after each commit, with the write lock already released.
int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int frames) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (frames < c->last_request_) {
    c->last_request_ = 0;  // the WAL was restarted
  }
  const int backstop = kBackstopFactor * c->start_frames_;
  const bool idle = !c->busy_.load();
  if ((frames >= backstop && idle && frames - c->copied_.load() <= c->start_frames_ / 4) ||
      frames >= 2 * backstop) {
    // Copies what the thread has not (a commit or two), so that the next transaction restarts
    // the WAL. A busy thread makes it return at once; the next commit tries again.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  // Each pass copies a page once however often it changed since the last: woken for every
  // commit, the thread would copy the pages every commit rewrites (index leaves) every time.
  if (idle && (frames - c->last_request_ >= c->start_frames_ || frames >= backstop)) {
    c->last_request_ = frames;
    {
      std::lock_guard lock(c->mu_);
      c->requested_ = true;
    }
    c->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return requested_ || stopping_; });
    if (stopping_) {
      return;
    }
    requested_ = false;
    busy_ = true;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, never waits for the writer or the readers.
    // A failure (busy, I/O) leaves the frames in the WAL for the next attempt or the backstop.
    int copied = 0;
    if (sqlite3_wal_checkpoint_v2(conn_->raw(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  &copied) == SQLITE_OK) {
      copied_ = copied;
    }
    busy_ = false;
    lock.lock();
    ++checkpoints_;
  }
}

}  // namespace carechart::store::sqlite
