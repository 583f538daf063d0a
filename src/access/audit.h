// The audit trail: an AuditEvent for every read, search, create, update, delete, export, login,
// failed login and denied access (docs/access-policy.md, "Audit").
//
// Each AuditEvent is stored twice in one transaction: as a searchable resource (AuditEvent?
// patient=, agent=/altid=, date=, action=, subtype=) and as an entry of the hash-chained
// audit_log table (store/audit_log.h). Writes are audited inside the transaction of the write
// itself (AuditedStore); everything else goes through AuditTrail's queue, which one thread
// commits in batches through the store's writer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/principal.h"
#include "fhir/json.h"
#include "store/resource_store.h"

namespace carechart::access {

// What happened, in the vocabulary of AuditEvent.
struct AuditRecord {
  char action = 'R';               // C R U D E (AuditEvent.action)
  std::string subtype;             // read, vread, search-type, create, update, patch, delete,
                                   // operation, login, logout ... (restful-interaction codes)
  int outcome = 0;                 // 0 success, 4 minor failure (denied), 8 serious failure
  std::string outcome_desc;        // why a request was denied
  std::string type_code = "rest";  // AuditEvent.type: rest, or 110114 (user authentication)
  std::shared_ptr<const auth::Principal> who;  // null: the server itself
  std::string user_id;                         // for login events without a principal yet
  std::string remote_address;
  std::string facility_id;
  std::vector<std::string> patient_ids;  // entities of role "patient" (the compartments touched)
  std::vector<std::string> resources;    // "Type/id" or "Type/id/_history/v" touched
  std::string query;                     // the request target of a search
  bool emergency = false;                // served under a break-the-glass grant
  std::string emergency_reason;
  int64_t recorded_us = 0;  // 0: now
};

// The AuditEvent resource for `record` (id and meta set), ready for the store.
store::PreparedWrite PrepareAuditEvent(const AuditRecord& record);

// Stores prepared AuditEvents and their log entries in the transaction `txn`.
Status StoreAuditEvents(store::WriteTxn& txn, const std::vector<store::PreparedWrite>& events);

// An asynchronous, batching audit writer for everything that is not a write (reads, searches,
// denials, logins): Record() queues and returns at once; one thread prepares the AuditEvents
// and commits them through the store's writer in batches (group commit), at most one commit
// per `commit_interval` while events keep coming (a quiet trail commits a new event at once).
// Flush() waits until everything queued so far is durable; the destructor flushes.
class AuditTrail {
 public:
  static constexpr std::chrono::milliseconds kDefaultCommitInterval{1000};
  explicit AuditTrail(store::ResourceStore& store,
                      std::chrono::milliseconds commit_interval = kDefaultCommitInterval);
  ~AuditTrail();
  AuditTrail(const AuditTrail&) = delete;
  AuditTrail& operator=(const AuditTrail&) = delete;

  void Record(AuditRecord record);
  void Flush();
  int64_t failures() const;  // batches that could not be stored (logged)

 private:
  void Run();

  store::ResourceStore& store_;
  const std::chrono::milliseconds commit_interval_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<AuditRecord> queue_;
  int64_t queued_ = 0;
  int64_t stored_ = 0;
  int64_t failures_ = 0;
  int flush_waiters_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// Who the current thread's request is, for AuditedStore (set by RequestGuard; nested scopes —
// batch entries — restore the outer one).
struct RequestAudit {
  std::shared_ptr<const auth::Principal> who;
  std::string facility_id;
  std::string remote_address;
  bool emergency = false;
  std::string emergency_reason;
};
class RequestAuditScope {
 public:
  explicit RequestAuditScope(const RequestAudit* audit);
  ~RequestAuditScope();
  RequestAuditScope(const RequestAuditScope&) = delete;
  RequestAuditScope& operator=(const RequestAuditScope&) = delete;
  static const RequestAudit* Current();

 private:
  const RequestAudit* previous_;
};

// A ResourceStore that audits every write function run while a RequestAuditScope is active on
// the calling thread: the function's Puts get one AuditEvent (an entity each), stored with its
// log entry in the same transaction, so the write and its audit commit or fail together.
// Everything else is passed through.
class AuditedStore : public store::ResourceStore {
 public:
  explicit AuditedStore(store::ResourceStore& inner) : inner_(inner) {}

  Status Write(store::WriteFunction fn) override;
  StatusOr<store::ResourceVersion> Read(const std::string& type, const std::string& id) override {
    return inner_.Read(type, id);
  }
  StatusOr<std::vector<std::optional<store::ResourceVersion>>> ReadMany(
      const std::vector<std::pair<std::string, std::string>>& keys) override {
    return inner_.ReadMany(keys);
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
  void Close() override { inner_.Close(); }
  store::StoreStats Stats() const override { return inner_.Stats(); }
  bool EncodeBody(std::string_view body, std::string* stored) const override {
    return inner_.EncodeBody(body, stored);
  }
  // Maintenance, passed through too (none of it is a Put to audit).
  StatusOr<bool> BeginBulkLoad(int64_t expected_resources) override {
    return inner_.BeginBulkLoad(expected_resources);
  }
  Status EndBulkLoad(const IndexBuildProgressFn& progress = {}) override {
    return inner_.EndBulkLoad(progress);
  }
  Status GatherStatistics() override { return inner_.GatherStatistics(); }
  StatusOr<std::vector<bool>> SameIndex(std::span<const store::ResourceVersion> resources,
                                        std::span<const fhir::IndexEntries> index,
                                        const std::string& param) override {
    return inner_.SameIndex(resources, index, param);
  }
  Status ReindexCompleted(const std::string& type, const std::string& param) override {
    return inner_.ReindexCompleted(type, param);
  }

 private:
  store::ResourceStore& inner_;
};

}  // namespace carechart::access
