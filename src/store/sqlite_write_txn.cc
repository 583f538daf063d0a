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

namespace carechart::store::sqlite {
namespace {

// One column value of an index row, as it is bound (and read back: every column's affinity keeps
// the type it is bound with).
using Col = IndexCol;

// A row as comparable bytes: the table, then each column typed (i/d/t) and exact.
void AppendColumn(std::string& out, const Col& c) {
  if (const int64_t* i = std::get_if<int64_t>(&c)) {
    out += 'i';
    out.append(reinterpret_cast<const char*>(i), sizeof *i);
  } else if (const double* d = std::get_if<double>(&c)) {
    out += 'd';
    out.append(reinterpret_cast<const char*>(d), sizeof *d);
  } else {
    std::string_view t = std::get<std::string_view>(c);
    const uint32_t n = static_cast<uint32_t>(t.size());
    out += 't';
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(t);
  }
}

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
  std::vector<int64_t> params;
  if (!param.empty()) {
    params = {ParamKey(type, param), ParamKey(type, param + ":of-type")};
  }
  ASSIGN_OR_RETURN(bool same, SameIndexRows(pk, type, index, params));
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

StatusOr<bool> SqliteWriteTxn::SameIndexRows(int64_t pk, const std::string& type,
                                             const fhir::IndexEntries& ix,
                                             const std::vector<int64_t>& params) {
  auto wanted_param = [&](int64_t param) {
    return params.empty() || std::find(params.begin(), params.end(), param) != params.end();
  };
  // The rows wanted, encoded, each once (the first row of a token key wins, as OR IGNORE does),
  // with whether a stored row was found equal. Hashed, not ordered: a reindex compares every
  // resource, and ordered sets of these strings (long shared prefixes: table, parameter,
  // system) spent a quarter of the writer thread in memcmp (D115).
  std::unordered_map<std::string, bool> want;
  std::unordered_set<std::string> token_keys;
  ForEachIndexRow(type, ix, [&](int table, std::initializer_list<Col> cols) {
    if (!wanted_param(std::get<int64_t>(*cols.begin()))) {
      return;
    }
    std::string row(1, static_cast<char>('0' + table));
    size_t n = 0;
    for (const Col& c : cols) {
      AppendColumn(row, c);
      if (table == kTokenTable && ++n == kTokenKeyColumns && !token_keys.insert(row).second) {
        return;
      }
    }
    want.emplace(std::move(row), false);
  });
  // Every stored row must be a wanted one, each found once, and every wanted one found.
  size_t found = 0;
  std::string encoded;
  for (size_t table = 0; table < std::size(kIndexTables); ++table) {
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(std::string("SELECT * FROM ") +
                                                   kIndexTables[table] + " WHERE res = ?1"));
    stmt.Bind(1, pk);
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) {
        break;
      }
      if (!wanted_param(stmt.Int(1))) {
        continue;
      }
      encoded.assign(1, static_cast<char>('0' + table));
      for (int c = 1; c < stmt.ColumnCount(); ++c) {
        switch (stmt.Type(c)) {
          case Statement::ColumnType::kNull:
            return false;  // NOT NULL columns: a NULL is a damaged row, rewrite it
          case Statement::ColumnType::kInteger:
            AppendColumn(encoded, Col(stmt.Int(c)));
            break;
          case Statement::ColumnType::kFloat:
            AppendColumn(encoded, Col(stmt.Double(c)));
            break;
          case Statement::ColumnType::kText:
            AppendColumn(encoded, Col(stmt.TextView(c)));
            break;
        }
      }
      auto it = want.find(encoded);
      if (it == want.end() || it->second) {
        return false;  // a row not wanted, or the same row twice
      }
      it->second = true;
      ++found;
    }
  }
  return found == want.size();
}

}  // namespace carechart::store::sqlite
