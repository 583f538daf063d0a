// Internal to the importer: CPU slots for its workers, and the store view that gives a worker's
// slot back while its transaction waits for the commit.
//
// Why (decisions D70): a transaction Bundle is stored by the worker that prepared it, which then
// waits for its group commit. With one worker per core, at most that many Bundles ever wait
// together, so a commit held one or two Bundles and each paid its own WAL append and fsync and
// rewrote the index leaves it touched. The importer runs more worker threads than cores, and a
// worker prepares only while it holds one of `cores` slots: a worker waiting for its commit holds
// none, so others prepare meanwhile and their Bundles queue behind the commit in progress, and
// the store's writer takes all of them as one group (each in its own savepoint, so a failing
// Bundle still rolls back alone).
#pragma once

#include <functional>
#include <semaphore>
#include <string>
#include <utility>

#include "store/resource_store.h"

namespace carechart::rest::import {

// `slots` CPU slots; a worker holds one while it prepares. Release() gives back the calling
// thread's slot if it holds one: a transaction that has waited for its commit finishes without
// taking a slot again, because it still holds its resource locks, which a slot holder may be
// waiting for (taking a slot there deadlocked the Synthea import).
class CpuSlots {
 public:
  explicit CpuSlots(int slots) : free_(slots) {}
  void Acquire() {
    free_.acquire();
    held_ = true;
  }
  void Release() {
    if (held_) {
      held_ = false;
      free_.release();
    }
  }

 private:
  std::counting_semaphore<> free_;
  static inline thread_local bool held_ = false;  // a thread works for one pipeline at a time
};

// The store as the workers see it: every call goes to `inner`; Write() releases the calling
// worker's slot (the rest of its unit runs without one, see CpuSlots), and tells `waiting` (+1
// before, -1 after), so that the importer can start a thread for the slot. Only threads holding a
// slot may call Write().
class SlotReleasingStore : public store::ResourceStore {
 public:
  SlotReleasingStore(store::ResourceStore& inner, CpuSlots& slots, std::function<void(int)> waiting)
      : inner_(inner), slots_(slots), waiting_(std::move(waiting)) {}

  Status Write(store::WriteFunction fn) override {
    waiting_(+1);
    slots_.Release();
    Status s = inner_.Write(std::move(fn));
    waiting_(-1);
    return s;
  }
  StatusOr<store::ResourceVersion> Read(const std::string& type, const std::string& id) override {
    return inner_.Read(type, id);
  }
  StatusOr<store::ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                               int64_t version) override {
    return inner_.ReadVersion(type, id, version);
  }
  StatusOr<store::HistoryPage> History(const store::HistoryQuery& query) override {
    return inner_.History(query);
  }
  StatusOr<store::SearchResult> Search(const store::SearchQuery& query) override {
    return inner_.Search(query);
  }
  Status ScanCurrent(const store::CurrentScan& scan, const store::ScanFunction& fn) override {
    return inner_.ScanCurrent(scan, fn);
  }
  void Close() override {}  // the importer does not own the store
  store::StoreStats Stats() const override { return inner_.Stats(); }

 private:
  store::ResourceStore& inner_;
  CpuSlots& slots_;
  std::function<void(int)> waiting_;
};

}  // namespace carechart::rest::import
