#include "store/sqlite_write_txn.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <initializer_list>
#include <iterator>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "store/index_keys.h"
#include "store/index_rows.h"
#include "store/search_sql.h"
#include "store/sqlite_body_codec.h"
#include "store/sqlite_index_compare.h"

namespace carechart::store::sqlite {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

StatusOr<int64_t> MaxSeq(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("SELECT MAX(COALESCE((SELECT MAX(seq) FROM resource), 0), "
                                "COALESCE((SELECT MAX(seq) FROM resource_history), 0))"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

StatusOr<SqliteWriteTxn::Found> SqliteWriteTxn::Find(const std::string& type,
                                                     const std::string& id) {
  std::string key;
  key.reserve(type.size() + 1 + id.size());
  key.append(type).push_back('/');
  key.append(id);
  if (auto it = found_.find(key); it != found_.end()) {
    return it->second;
  }
  ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("SELECT pk, version, deleted FROM resource WHERE type = ?1 AND id = ?2"));
  stmt.BindStaticText(1, type).BindStaticText(2, id);  // both outlive stmt
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  Found f;
  if (row) {
    f.pk = stmt.Int(0);
    f.version = stmt.Int(1);
    f.deleted = stmt.Int(2) != 0;
  }
  found_.emplace(std::move(key), f);
  return f;
}

StatusOr<CurrentVersion> SqliteWriteTxn::Current(const std::string& type, const std::string& id) {
  ASSIGN_OR_RETURN(Found f, Find(type, id));
  CurrentVersion out;
  out.version = f.version;
  out.deleted = f.deleted;
  return out;
}

// Index rows held back beyond this many are inserted at once: a bound on the buffer's memory
// (about 100 bytes a row) that still sorts thousands of rows per flush.
constexpr size_t kFlushRows = 16384;

Status SqliteWriteTxn::Flush() { return pending_rows_.Flush(conn_); }

StatusOr<std::vector<std::string>> SqliteWriteTxn::SearchIds(const SearchQuery& query, int limit) {
  RETURN_IF_ERROR(Flush());  // the search reads index rows
  ASSIGN_OR_RETURN(CompiledSql sql,
                   CompileSearch(query, SqliteDialect(), SearchSqlMode::kIds, NowUs(), limit));
  ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(sql.sql));
  stmt.BindAll(sql.args);
  std::vector<std::string> ids;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return ids;
    }
    ids.push_back(stmt.Text(0));
  }
}

Status SqliteWriteTxn::Put(const PreparedWrite& w) {
  // Callers ask Current() right before Put() of the same id: Find() answers both with one seek.
  ASSIGN_OR_RETURN(Found found, Find(w.type, w.id));
  found_.erase(w.type + "/" + w.id);  // this Put changes the row
  const bool exists = found.version > 0;
  int64_t pk = found.pk;
  int64_t current = found.version;
  if (w.version != current + 1) {
    return ConflictError(w.type + "/" + w.id + ": version " + std::to_string(w.version) +
                         " does not follow the current version " + std::to_string(current));
  }
  int64_t seq = ++next_seq_;
  const std::string_view body = StoredBody(w);  // valid until the next Put
  if (exists) {
    RETURN_IF_ERROR(MoveCurrentToHistory(pk, w.last_updated_us));
    RETURN_IF_ERROR(DeleteIndexRows(pk));
    ASSIGN_OR_RETURN(Statement update,
                     conn_.Prepare("UPDATE resource SET version = ?1, last_updated = ?2, "
                                   "deleted = ?3, patient_id = ?4, method = ?5, seq = ?6, "
                                   "body = ?7 WHERE pk = ?8"));
    update.Bind(1, w.version).Bind(2, w.last_updated_us).Bind(3, int64_t{w.deleted});
    update.BindOptionalText(4, w.patient_id).Bind(5, w.method).Bind(6, seq);
    RETURN_IF_ERROR(update.BindStaticBlob(7, body).Bind(8, pk).Run());  // body outlives update
  } else {
    ASSIGN_OR_RETURN(Statement insert,
                     conn_.Prepare("INSERT INTO resource(type, id, version, last_updated, "
                                   "deleted, patient_id, method, seq, body) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    insert.Bind(1, w.type).Bind(2, w.id).Bind(3, w.version).Bind(4, w.last_updated_us);
    insert.Bind(5, int64_t{w.deleted}).BindOptionalText(6, w.patient_id).Bind(7, w.method);
    RETURN_IF_ERROR(insert.Bind(8, seq).BindStaticBlob(9, body).Run());  // body outlives insert
    pk = conn_.LastInsertRowid();
  }
  if (w.deleted) {
    return Status::Ok();
  }
  if (counts_ != nullptr) {
    counts_->Add(w.type, w.body);
  }
  pending_rows_.Add(pk, w.type, w.index);
  return pending_rows_.size() >= kFlushRows ? Flush() : Status::Ok();
}

std::string_view SqliteWriteTxn::StoredBody(const PreparedWrite& w) {
  if (w.deleted || w.body.empty()) {
    return w.body;
  }
  BodyCodec& codec = conn_.body_codec();
  // A frame made by another store's codec (never in practice: the REST layer encodes with the
  // store it writes to) would name a dictionary this database may lack: checked, it is cheap.
  if (!w.stored_body.empty() && codec.HasDictionary(BodyCodec::DictionaryIdOf(w.stored_body))) {
    return w.stored_body;
  }
  return codec.Encode(w.body, &encoded_) ? std::string_view(encoded_) : std::string_view(w.body);
}

Status SqliteWriteTxn::AppendAudit(const AuditLogEntry& entry) {
  int64_t seq = 1;
  std::string prev(kAuditGenesisHash);
  {  // the head of the chain; the statement is reset before the insert
    ASSIGN_OR_RETURN(Statement last,
                     conn_.Prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool has_last, last.Step());
    if (has_last) {
      seq = last.Int(0) + 1;
      prev = last.Text(1);
    }
  }
  std::string hash = AuditEntryHash(prev, seq, entry.recorded_us, entry.event_id, entry.body);
  ASSIGN_OR_RETURN(Statement insert,
                   conn_.Prepare("INSERT INTO audit_log(seq, recorded, event_id, body, prev_hash, "
                                 "hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  insert.Bind(1, seq).Bind(2, entry.recorded_us).Bind(3, entry.event_id).Bind(4, entry.body);
  return insert.Bind(5, prev).Bind(6, hash).Run();
}

Status SqliteWriteTxn::MoveCurrentToHistory(int64_t pk, int64_t superseded_us) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn_.Prepare("INSERT INTO resource_history(seq, res, type, version, "
                                 "last_updated, superseded, deleted, method, body) "
                                 "SELECT seq, pk, type, version, last_updated, ?2, deleted, "
                                 "method, body FROM resource WHERE pk = ?1"));
  return stmt.Bind(1, pk).Bind(2, superseded_us).Run();
}

Status SqliteWriteTxn::DeleteIndexRows(int64_t pk) {
  RETURN_IF_ERROR(Flush());  // rows of `pk` may be held back
  for (const char* table : kIndexTables) {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn_.Prepare(std::string("DELETE FROM ") + table + " WHERE res = ?1"));
    RETURN_IF_ERROR(stmt.Bind(1, pk).Run());
  }
  return Status::Ok();
}

StatusOr<bool> SqliteWriteTxn::ReplaceIndex(const std::string& type, const std::string& id,
                                            int64_t version, const fhir::IndexEntries& index,
                                            const std::string& param) {
  RETURN_IF_ERROR(Flush());  // SameIndexRows reads the stored rows
  ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("SELECT pk FROM resource WHERE type = ?1 AND id = ?2 AND version = ?3 AND "
                    "deleted = 0"));
  stmt.Bind(1, type).Bind(2, id).Bind(3, version);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return false;
  }
  const int64_t pk = stmt.Int(0);
  // Most reindexes change few resources' rows (a new parameter, a fixed expression): comparing
  // is a read of the resource's clustered rows, rewriting is a delete and an insert in every
  // secondary index, so unchanged rows are left alone.
  ASSIGN_OR_RETURN(bool same,
                   comparison_.Same(conn_, pk, type, index, ReindexedParamKeys(type, param)));
  if (same) {
    return true;
  }
  if (param.empty()) {
    RETURN_IF_ERROR(DeleteIndexRows(pk));
    pending_rows_.Add(pk, type, index);
    RETURN_IF_ERROR(Flush());
    return true;
  }
  // One parameter: its rows (in whichever table, :of-type rows included) and its entries only.
  for (const char* table : kIndexTables) {
    ASSIGN_OR_RETURN(Statement del, conn_.Prepare(std::string("DELETE FROM ") + table +
                                                  " WHERE res = ?1 AND param IN (?2, ?3)"));
    RETURN_IF_ERROR(del.Bind(1, pk)
                        .Bind(2, ParamKey(type, param))
                        .Bind(3, ParamKey(type, param + ":of-type"))
                        .Run());
  }
  pending_rows_.Add(pk, type, EntriesOfParam(index, param), &index);
  RETURN_IF_ERROR(Flush());
  return true;
}

}  // namespace carechart::store::sqlite
