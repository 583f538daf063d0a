// The WriteTxn of the PostgreSQL backend: runs inside one READ COMMITTED transaction on a pooled
// connection (see postgres_store.h for the locking that makes it safe across nodes).
//
// Creates (version 1) are not sent one by one: they wait in the transaction until something
// needs the database to hold them (a search, an update, a reindex, the commit) and then go in
// together, the resource rows by COPY and every index row in one multi-row statement (decisions
// D44). Fewer than four creates go in as one INSERT statement each. Current() answers for waiting
// creates itself.
//
// Each date parameter's longest closed range (sp_date_span, decisions D111/D113) is raised by
// Flush(), which runs before any search of the transaction and before COMMIT: a search's
// snapshot never holds a date row longer than its parameter's span.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/index_rows.h"
#include "store/postgres/pg_conn.h"
#include "store/resource_store.h"

namespace carechart::store::pg {

// The sp_date_span values this process has read as committed (decisions D113). A span only
// grows, so a write whose ranges are no longer than what was read needs no statement at all;
// only a longer one reads the table (and learns it) and, still longer, raises it. Shared by the
// store's transactions; only values read from the table are learnt, never a transaction's own
// raise, which may roll back.
class DateSpanCache {
 public:
  // The (param, span) pairs of `spans` longer than the span read for their parameter.
  std::vector<std::pair<int64_t, int64_t>> Longer(
      const std::vector<std::pair<int64_t, int64_t>>& spans) const;
  void Learn(int64_t param, int64_t span);

 private:
  mutable std::mutex mu_;
  std::unordered_map<int64_t, int64_t> committed_;
};

class PgWriteTxn : public WriteTxn {
 public:
  PgWriteTxn(Connection& conn, DateSpanCache& spans) : conn_(conn), span_cache_(spans) {}

  StatusOr<CurrentVersion> Current(const std::string& type, const std::string& id) override;
  StatusOr<std::vector<std::string>> SearchIds(const SearchQuery& query, int limit) override;
  Status Prefetch(const std::vector<std::pair<std::string, std::string>>& keys) override;
  Status Put(const PreparedWrite& w) override;
  Status AppendAudit(const AuditLogEntry& entry) override;
  StatusOr<bool> ReplaceIndex(const std::string& type, const std::string& id, int64_t version,
                              const fhir::IndexEntries& index, const std::string& param) override;

  // Writes the creates waiting in this transaction and raises the spans of every date row
  // written so far (see above); the store calls it before COMMIT.
  Status Flush();
  // Chains and inserts the audit-log entries appended in this transaction, under the chain's
  // lock; the store calls it last, after Flush(), so that the lock is held only until COMMIT.
  Status WriteAudit();

  // True when a statement failed in a way that rerunning the whole function may cure (a
  // concurrent create of the same id, a deadlock, a serialisation failure).
  bool retryable() const { return retryable_; }

 private:
  StatusOr<Rows> Run(const std::string& sql, const Args& args,
                     Connection::Plan plan = Connection::Plan::kCached);
  // `patient_of`: the whole resource's entries when `ix` is one parameter's (token rows' patient).
  Status InsertIndexRows(int64_t pk, const std::string& key, const std::string& type,
                         const fhir::IndexEntries& ix,
                         const fhir::IndexEntries* patient_of = nullptr);
  // Put of a version whose compartment key differs from the stored one's (pg_write_txn.cc).
  Status Move(const std::string& to_history, Args& args, const PreparedWrite& w, int64_t pk,
              const std::string& old_key, const std::string& key);
  Status CreateOne(const PreparedWrite& w);
  Status CreateMany(const std::vector<PreparedWrite>& writes);
  Status RaiseDateSpans();

  Connection& conn_;
  DateSpanCache& span_cache_;
  LongestDateSpans date_spans_;  // of the date rows written and not yet raised
  std::set<int64_t> raised_;     // parameters whose span this transaction has upserted
  bool retryable_ = false;
  std::vector<PreparedWrite> pending_;                          // creates not yet sent
  std::set<std::pair<std::string, std::string>> pending_keys_;  // their (type, id)
  // Current versions fetched by Prefetch (and kept up to date by this transaction's updates).
  std::map<std::pair<std::string, std::string>, CurrentVersion> known_;
  std::vector<AuditLogEntry> audit_;  // AppendAudit's entries, for WriteAudit()
};

// The advisory-lock key that serialises conditional writes on `type` against creates of it.
int64_t TypeLockKey(const std::string& type);

// How a search's statements are planned (pg_conn.h, decisions D114): for their values each
// time when a clause compares ranges (dates, numbers, quantities), whose selectivity depends on
// the values — a generic plan of `Observation?patient=&code=&date=ge` ran 22 ms against 4, of a
// date-driven search 1.1 s against 35 ms — or when the store chose the driver; otherwise
// cached, since planning such a statement costs about a millisecond each time.
Connection::Plan SearchPlan(const SearchQuery& q);

}  // namespace carechart::store::pg
