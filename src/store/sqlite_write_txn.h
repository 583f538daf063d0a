// The WriteTxn of the SQLite backend: runs on the writer thread inside the group's transaction.
#pragma once

#include <cstdint>

#include "store/resource_store.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class SqliteWriteTxn : public WriteTxn {
 public:
  // `next_seq` is the writer's global version counter (see sqlite_schema.cc), advanced per Put.
  SqliteWriteTxn(Connection& conn, int64_t& next_seq) : conn_(conn), next_seq_(next_seq) {}

  StatusOr<CurrentVersion> Current(const std::string& type, const std::string& id) override;
  StatusOr<std::vector<std::string>> SearchIds(const SearchQuery& query, int limit) override;
  Status Put(const PreparedWrite& w) override;
  Status AppendAudit(const AuditLogEntry& entry) override;
  StatusOr<bool> ReplaceIndex(const std::string& type, const std::string& id, int64_t version,
                              const fhir::IndexEntries& index, const std::string& param) override;

 private:
  Status MoveCurrentToHistory(int64_t pk, int64_t superseded_us);
  Status DeleteIndexRows(int64_t pk);
  Status InsertIndexRows(int64_t pk, const std::string& type, const fhir::IndexEntries& index);

  Connection& conn_;
  int64_t& next_seq_;
};

// The largest seq stored (0 for an empty database): the writer continues after it.
StatusOr<int64_t> MaxSeq(Connection& conn);

}  // namespace carechart::store::sqlite
