// Internal to the importer: lets more transaction Bundles wait for their commit at once than
// there are workers computing.
//
// Why: a transaction Bundle is stored by the worker that prepared it, through the store's group
// commit, and the worker waits for that commit. With one worker per core, a group held at most
// one or two Bundles, and when a load keeps the indexes (a load smaller than the database, D37)
// each commit rewrites every value-index leaf its rows touched: ~19 KB written per resource at
// 200 patients. More Bundles per group share those leaves (D63). So the importer runs more
// worker threads than cores, but a thread computes only while it holds one of `cores` CPU slots,
// and it gives its slot back while it waits in Write: the waiting Bundles pile up into one group
// while the slots keep the cores busy preparing the next ones.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>  // W-TEMP
#include <mutex>
#include <semaphore>
#include <string>

#include "store/resource_store.h"

namespace carechart::rest::import {

// The CPU slots shared by the workers of one import.
using CpuSlots = std::counting_semaphore<1024>;

// Holds writes back until `size` of them wait, or `longest` has passed since the first, then lets
// them go together: they reach the store's queue within microseconds of each other, and its
// group commit stores them in one transaction, each in its own savepoint (a failing one is
// undone alone). Waiting costs no throughput as long as other threads are computing meanwhile.
class WriteGroups {
 public:
  WriteGroups(size_t size, std::chrono::milliseconds longest) : size_(size), longest_(longest) {}

  // Blocks until this caller's group is released.
  void Join() {
    std::unique_lock lock(mu_);
    const uint64_t group = released_;
    if (++waiting_ >= size_) {
      ReleaseLocked();
      return;
    }
    if (!cv_.wait_for(lock, longest_, [&] { return released_ != group; })) {
      ReleaseLocked();  // the group did not fill up in time (the input is ending, or slow)
    }
  }

 private:
  void ReleaseLocked() {
    ++released_;
    waiting_ = 0;
    cv_.notify_all();
  }

  const size_t size_;
  const std::chrono::milliseconds longest_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t waiting_ = 0;     // guarded by mu_
  uint64_t released_ = 0;  // guarded by mu_: groups released so far
};

// One per worker thread: the store as the worker sees it. Everything goes to `inner`; Write first
// gives the thread's slot back (if it holds one).
class SlotReleasingStore : public store::ResourceStore {
 public:
  SlotReleasingStore(store::ResourceStore& inner, CpuSlots& slots, WriteGroups* groups)
      : inner_(inner), slots_(slots), groups_(groups) {}

  // Takes a slot for the work that follows (blocks while every slot is taken).
  void Acquire() {
    if (!held_) {
      slots_.acquire();
      held_ = true;
    }
  }
  // Gives the slot back, if held.
  void Release() {
    if (held_) {
      held_ = false;
      slots_.release();
    }
  }

  Status Write(store::WriteFunction fn) override {
    Release();  // the commit is the writer thread's work: let another worker compute meanwhile
    if (groups_) {
      groups_->Join();
    }
    return inner_.Write(std::move(fn));
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
  void Close() override {}  // the import does not own the store
  store::StoreStats Stats() const override { return inner_.Stats(); }

 private:
  store::ResourceStore& inner_;
  CpuSlots& slots_;
  WriteGroups* groups_;  // null: each write goes to the store at once
  bool held_ = false;
};

}  // namespace carechart::rest::import
