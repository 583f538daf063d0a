#include "store/sqlite_write_txn.h"

#include <chrono>

#include "store/index_keys.h"
#include "store/search_sql.h"

namespace carechart::store::sqlite {
namespace {

const char* const kIndexTables[] = {"sp_token",    "sp_string", "sp_date", "sp_reference",
                                    "sp_quantity", "sp_number", "sp_uri",  "sp_composite"};

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// '' for a value equal to `same_as`: optional columns are NOT NULL (they are key columns).
std::string_view UnlessSame(const std::string& value, const std::string& same_as) {
  return value == same_as ? std::string_view() : std::string_view(value);
}

}  // namespace

StatusOr<int64_t> MaxSeq(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("SELECT MAX(COALESCE((SELECT MAX(seq) FROM resource), 0), "
                                "COALESCE((SELECT MAX(seq) FROM resource_history), 0))"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

StatusOr<CurrentVersion> SqliteWriteTxn::Current(const std::string& type, const std::string& id) {
  ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("SELECT version, deleted FROM resource WHERE type = ?1 AND id = ?2"));
  stmt.Bind(1, type).Bind(2, id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  CurrentVersion out;
  if (row) {
    out.version = stmt.Int(0);
    out.deleted = stmt.Int(1) != 0;
  }
  return out;
}

StatusOr<std::vector<std::string>> SqliteWriteTxn::SearchIds(const SearchQuery& query, int limit) {
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
  ASSIGN_OR_RETURN(Statement find,
                   conn_.Prepare("SELECT pk, version FROM resource WHERE type = ?1 AND id = ?2"));
  find.Bind(1, w.type).Bind(2, w.id);
  ASSIGN_OR_RETURN(bool exists, find.Step());
  int64_t pk = exists ? find.Int(0) : 0;
  int64_t current = exists ? find.Int(1) : 0;
  if (w.version != current + 1) {
    return ConflictError(w.type + "/" + w.id + ": version " + std::to_string(w.version) +
                         " does not follow the current version " + std::to_string(current));
  }
  int64_t seq = ++next_seq_;
  if (exists) {
    RETURN_IF_ERROR(MoveCurrentToHistory(pk, w.last_updated_us));
    RETURN_IF_ERROR(DeleteIndexRows(pk));
    ASSIGN_OR_RETURN(Statement update,
                     conn_.Prepare("UPDATE resource SET version = ?1, last_updated = ?2, "
                                   "deleted = ?3, patient_id = ?4, method = ?5, seq = ?6, "
                                   "body = ?7 WHERE pk = ?8"));
    update.Bind(1, w.version).Bind(2, w.last_updated_us).Bind(3, int64_t{w.deleted});
    update.BindOptionalText(4, w.patient_id).Bind(5, w.method).Bind(6, seq);
    RETURN_IF_ERROR(update.BindBlob(7, w.body).Bind(8, pk).Run());
  } else {
    ASSIGN_OR_RETURN(Statement insert,
                     conn_.Prepare("INSERT INTO resource(type, id, version, last_updated, "
                                   "deleted, patient_id, method, seq, body) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    insert.Bind(1, w.type).Bind(2, w.id).Bind(3, w.version).Bind(4, w.last_updated_us);
    insert.Bind(5, int64_t{w.deleted}).BindOptionalText(6, w.patient_id).Bind(7, w.method);
    RETURN_IF_ERROR(insert.Bind(8, seq).BindBlob(9, w.body).Run());
    pk = conn_.LastInsertRowid();
  }
  return w.deleted ? Status::Ok() : InsertIndexRows(pk, w.type, w.index);
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
  if (param.empty()) {
    RETURN_IF_ERROR(DeleteIndexRows(pk));
    RETURN_IF_ERROR(InsertIndexRows(pk, type, index));
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
  fhir::IndexEntries only;
  auto keep = [&](const auto& from, auto& to) {
    for (const auto& e : from) {
      if (e.param == param || e.param == param + ":of-type") {
        to.push_back(e);
      }
    }
  };
  keep(index.tokens, only.tokens);
  keep(index.strings, only.strings);
  keep(index.dates, only.dates);
  keep(index.references, only.references);
  keep(index.quantities, only.quantities);
  keep(index.numbers, only.numbers);
  keep(index.uris, only.uris);
  keep(index.composites, only.composites);
  RETURN_IF_ERROR(InsertIndexRows(pk, type, only));
  return true;
}

Status SqliteWriteTxn::InsertIndexRows(int64_t pk, const std::string& type,
                                       const fhir::IndexEntries& ix) {
  // OR IGNORE: an element repeated in a resource yields duplicate entries; one row is enough.
  for (const auto& e : ix.tokens) {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare("INSERT OR IGNORE INTO sp_token VALUES "
                                                "(?1, ?2, ?3, ?4, ?5)"));
    s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, SystemKey(e.system));
    RETURN_IF_ERROR(s.Bind(4, e.code).Bind(5, e.text).Run());
  }
  for (const auto& e : ix.strings) {
    ASSIGN_OR_RETURN(Statement s,
                     conn_.Prepare("INSERT OR IGNORE INTO sp_string VALUES (?1, ?2, ?3, ?4)"));
    s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, e.normalized);
    RETURN_IF_ERROR(s.Bind(4, UnlessSame(e.exact, e.normalized)).Run());
  }
  for (const auto& e : ix.dates) {
    ASSIGN_OR_RETURN(Statement s,
                     conn_.Prepare("INSERT OR IGNORE INTO sp_date VALUES (?1, ?2, ?3, ?4)"));
    RETURN_IF_ERROR(
        s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, e.low).Bind(4, e.high).Run());
  }
  for (const auto& e : ix.references) {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare("INSERT OR IGNORE INTO sp_reference VALUES "
                                                "(?1, ?2, ?3, ?4, ?5)"));
    s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, e.target_id).Bind(4, e.target_type);
    RETURN_IF_ERROR(s.Bind(5, e.url).Run());
  }
  for (const auto& e : ix.quantities) {
    ASSIGN_OR_RETURN(Statement s, conn_.Prepare("INSERT OR IGNORE INTO sp_quantity VALUES "
                                                "(?1, ?2, ?3, ?4, ?5, ?6)"));
    s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, e.value).Bind(4, SystemKey(e.system));
    RETURN_IF_ERROR(s.Bind(5, e.code).Bind(6, UnlessSame(e.unit, e.code)).Run());
  }
  for (const auto& e : ix.numbers) {
    ASSIGN_OR_RETURN(Statement s,
                     conn_.Prepare("INSERT OR IGNORE INTO sp_number VALUES (?1, ?2, ?3)"));
    RETURN_IF_ERROR(s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, e.value).Run());
  }
  for (const auto& e : ix.uris) {
    ASSIGN_OR_RETURN(Statement s,
                     conn_.Prepare("INSERT OR IGNORE INTO sp_uri VALUES (?1, ?2, ?3)"));
    RETURN_IF_ERROR(s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, e.uri).Run());
  }
  // Composite tuples: grp numbers them per parameter; absent components (two-part composites)
  // are zeros and ''.
  int64_t grp = 0;
  for (const auto& e : ix.composites) {
    ASSIGN_OR_RETURN(Statement s,
                     conn_.Prepare("INSERT OR IGNORE INTO sp_composite VALUES (?1, ?2, ?3, "
                                   "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                                   "?14, ?15, ?16, ?17, ?18)"));
    s.Bind(1, pk).Bind(2, ParamKey(type, e.param)).Bind(3, grp++);
    for (size_t i = 0; i < 3; ++i) {
      const int base = 4 + static_cast<int>(i) * 5;
      if (i >= e.parts.size()) {
        s.Bind(base, int64_t{0}).Bind(base + 1, "").Bind(base + 2, "");
        s.Bind(base + 3, int64_t{0}).Bind(base + 4, int64_t{0});
        continue;
      }
      const fhir::CompositePart& p = e.parts[i];
      s.Bind(base, SystemKey(p.system)).Bind(base + 1, p.text).Bind(base + 2, p.unit);
      if (p.is_date) {
        s.Bind(base + 3, p.low_us).Bind(base + 4, p.high_us);
      } else {
        s.Bind(base + 3, p.low).Bind(base + 4, p.low);
      }
    }
    RETURN_IF_ERROR(s.Run());
  }
  return Status::Ok();
}

}  // namespace carechart::store::sqlite
