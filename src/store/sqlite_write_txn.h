// The WriteTxn of the SQLite backend: runs on the writer thread inside the group's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/resource_store.h"
#include "store/sqlite_body_trainer.h"
#include "store/sqlite_db.h"
#include "store/sqlite_index_buffer.h"
#include "store/sqlite_index_compare.h"

namespace carechart::store::sqlite {

class SqliteWriteTxn : public WriteTxn {
 public:
  // `next_seq` is the writer's global version counter (see sqlite_schema.cc), advanced per Put.
  // `counts` (may be null) is told the type of every body stored, for the dictionary trainer.
  SqliteWriteTxn(Connection& conn, int64_t& next_seq, BodyWriteCounts* counts = nullptr)
      : conn_(conn), next_seq_(next_seq), counts_(counts) {}

  StatusOr<CurrentVersion> Current(const std::string& type, const std::string& id) override;
  StatusOr<std::vector<std::string>> SearchIds(const SearchQuery& query, int limit) override;
  Status Put(const PreparedWrite& w) override;
  Status AppendAudit(const AuditLogEntry& entry) override;
  StatusOr<bool> ReplaceIndex(const std::string& type, const std::string& id, int64_t version,
                              const fhir::IndexEntries& index, const std::string& param) override;

  // Inserts the index rows that Puts hold back (see IndexRowBuffer). The writer calls it when a
  // write function returns successfully; every read or delete of index rows here calls it first.
  Status Flush();

  // For backend maintenance run as a write function (bulk-load index handling). Such functions
  // call no Put (rows held back would not be visible to their SQL).
  Connection& connection() { return conn_; }

 private:
  // The current row of (type, id); version 0 when there is none.
  struct Found {
    int64_t pk = 0;
    int64_t version = 0;
    bool deleted = false;
  };
  StatusOr<Found> Find(const std::string& type, const std::string& id);
  Status MoveCurrentToHistory(int64_t pk, int64_t superseded_us);
  Status DeleteIndexRows(int64_t pk);
  // The bytes to store for `w`'s body: its stored_body when the codec knows that frame's
  // dictionary (made on the preparing thread, D102), else compressed here, else the JSON.
  std::string_view StoredBody(const PreparedWrite& w);

  Connection& conn_;
  int64_t& next_seq_;
  BodyWriteCounts* counts_;
  std::string encoded_;  // StoredBody's output when it compresses here
  // The Find()s of this write function, each until a Put changes its row: a transaction asks
  // Current() of every entry before it Puts them all, the importer just before each Put.
  std::unordered_map<std::string, Found> found_;
  // Index rows of this write function's Puts not yet inserted.
  IndexRowBuffer pending_rows_;
  IndexRowComparison comparison_;  // ReplaceIndex's
};

// The largest seq stored (0 for an empty database): the writer continues after it.
StatusOr<int64_t> MaxSeq(Connection& conn);

}  // namespace carechart::store::sqlite
