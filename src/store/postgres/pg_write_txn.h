// The WriteTxn of the PostgreSQL backend: runs inside one READ COMMITTED transaction on a pooled
// connection (see postgres_store.h for the locking that makes it safe across nodes).
#pragma once

#include <cstdint>

#include "store/postgres/pg_conn.h"
#include "store/resource_store.h"

namespace carechart::store::pg {

class PgWriteTxn : public WriteTxn {
 public:
  explicit PgWriteTxn(Connection& conn) : conn_(conn) {}

  StatusOr<CurrentVersion> Current(const std::string& type, const std::string& id) override;
  StatusOr<std::vector<std::string>> SearchIds(const SearchQuery& query, int limit) override;
  Status Put(const PreparedWrite& w) override;
  Status AppendAudit(const AuditLogEntry& entry) override;
  StatusOr<bool> ReplaceIndex(const std::string& type, const std::string& id, int64_t version,
                              const fhir::IndexEntries& index, const std::string& param) override;

  // True when a statement failed in a way that rerunning the whole function may cure (a
  // concurrent create of the same id, a deadlock, a serialisation failure).
  bool retryable() const { return retryable_; }

 private:
  StatusOr<Rows> Run(const std::string& sql, const Args& args);
  Status InsertIndexRows(int64_t pk, const std::string& type, const fhir::IndexEntries& index);

  Connection& conn_;
  bool retryable_ = false;
};

// The advisory-lock key that serialises conditional writes on `type` against creates of it.
int64_t TypeLockKey(const std::string& type);

}  // namespace carechart::store::pg
