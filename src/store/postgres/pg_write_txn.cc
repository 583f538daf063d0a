#include "store/postgres/pg_write_txn.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <variant>

#include "store/index_keys.h"
#include "store/index_rows.h"
#include "store/postgres/pg_compartment_key.h"
#include "store/postgres/pg_copy.h"
#include "store/postgres/postgres_store.h"
#include "store/search_sql.h"

namespace carechart::store::pg {
namespace {

// Advisory-lock key of the audit chain's head ("audit" + a version byte).
constexpr int64_t kAuditLock = 0x6175646974000001;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ", dN AS (DELETE FROM <table> WHERE res = $<n> AND compartment_key = $<n + 1>)" for every
// index table.
std::string DeleteIndexCtes(int n) {
  std::string out;
  for (size_t t = 0; t < kIndexTableCount; ++t) {
    out += ", d" + std::to_string(t + 1) + " AS (DELETE FROM " + kIndexTables[t] +
           " WHERE res = $" + std::to_string(n) + " AND compartment_key = $" +
           std::to_string(n + 1) + ")";
  }
  return out;
}

std::string KeyOf(const PreparedWrite& w) { return CompartmentKey(w.type, w.id, w.patient_id); }

// " AND compartment_key = $<n>" when the key of (type, id) follows from them (then appending it
// to `args`), so that Citus can send the statement to one shard; "" otherwise.
std::string KeyPredicate(const std::string& type, const std::string& id, Args& args, int n,
                         const char* alias = "") {
  std::optional<std::string> key = KeyFromTypeAndId(type, id);
  if (!key) {
    return "";
  }
  args.Text(*key);
  return std::string(" AND ") + alias + "compartment_key = $" + std::to_string(n);
}

std::string NumberText(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The index rows of one or more writes as common table expressions (", iN AS (INSERT ...)")
// inserting every non-empty index table's rows from array arguments: one statement, whatever the
// number of rows. `pk_sql` and `key_sql` are the rows' res and compartment_key: placeholders, or
// subqueries of an earlier expression; without them (several resources) each table's res and key
// values are arrays of their own.
class IndexInsert {
 public:
  IndexInsert(Args& args, std::string pk_sql, std::string key_sql)
      : args_(args), pk_(std::move(pk_sql)), key_(std::move(key_sql)) {}
  explicit IndexInsert(Args& args) : args_(args), pk_("r0"), key_("k0"), per_row_pk_(true) {}
  bool per_row_pk() const { return per_row_pk_; }

  // `columns` of `table` get `unnest(<arrays>)` (the next `arrays` arguments, appended by the
  // caller right after, after the res and key arrays when per_row_pk()); `select` picks (and
  // casts) the unnested columns named x1, x2 ...
  void Table(const char* table, const std::string& columns, int arrays, const std::string& select) {
    const int lead = per_row_pk_ ? 2 : 0;  // the res and key arrays
    std::string list, names = per_row_pk_ ? "r0, k0" : "";
    for (int i = 0; i < lead + arrays; ++i) {
      list += (i ? ", $" : "$") + std::to_string(args_.size() + 1 + i);
    }
    for (int i = 1; i <= arrays; ++i) {
      names += (names.empty() ? "x" : ", x") + std::to_string(i);
    }
    ctes_ += ", i" + std::to_string(args_.size() + 1) + " AS (INSERT INTO " + table +
             "(res, compartment_key, " + columns + ") SELECT " + pk_ + ", " + key_ + ", " + select +
             " FROM unnest(" + list + ") AS u(" + names + ") ON CONFLICT DO NOTHING)";
  }
  Args& args() { return args_; }
  const std::string& ctes() const { return ctes_; }

 private:
  Args& args_;
  std::string pk_;
  std::string key_;
  bool per_row_pk_ = false;
  std::string ctes_;
};

// The index entries of one resource, with its row's pk and key (used when
// IndexInsert::per_row_pk()).
struct IndexSource {
  int64_t pk = 0;
  std::string key;
  const std::string* type = nullptr;
  const fhir::IndexEntries* index = nullptr;
  // The whole resource's entries when `index` holds one parameter's (token rows' patient, D60).
  const fhir::IndexEntries* patient_of = nullptr;
};

// Also adds the date rows' ranges to `spans`.
void AddIndexRows(IndexInsert& ins, const std::vector<IndexSource>& sources,
                  LongestDateSpans& spans);
void AddIndexRows(IndexInsert& ins, const std::string& type, const fhir::IndexEntries& ix,
                  LongestDateSpans& spans, const fhir::IndexEntries* patient_of = nullptr) {
  AddIndexRows(ins, {IndexSource{0, "", &type, &ix, patient_of}}, spans);
}

}  // namespace

int64_t TypeLockKey(const std::string& type) { return ParamKey(type, "carechart:type-lock"); }

Connection::Plan SearchPlan(const SearchQuery& q) {
  if (!q.driver_param.empty()) {
    return Connection::Plan::kPerRun;
  }
  for (const SearchClause& c : q.clauses) {
    if (c.type == fhir::SearchParamType::kDate || c.type == fhir::SearchParamType::kNumber ||
        c.type == fhir::SearchParamType::kQuantity) {
      return Connection::Plan::kPerRun;
    }
  }
  return Connection::Plan::kCached;
}

StatusOr<Rows> PgWriteTxn::Run(const std::string& sql, const Args& args, Connection::Plan plan) {
  StatusOr<Rows> rows = conn_.Run(sql, args, plan);
  if (!rows.ok()) {
    const std::string& state = conn_.last_sqlstate();
    if (state == PgError::kUniqueViolation || state == PgError::kDeadlock ||
        state == PgError::kSerializationFailure) {
      retryable_ = true;
    }
  }
  return rows;
}

StatusOr<CurrentVersion> PgWriteTxn::Current(const std::string& type, const std::string& id) {
  if (pending_keys_.contains({type, id})) {
    for (const PreparedWrite& w : pending_) {
      if (w.type == type && w.id == id) {
        return CurrentVersion{w.version, w.deleted};
      }
    }
  }
  if (auto it = known_.find({type, id}); it != known_.end()) {
    return it->second;
  }
  Args args;
  args.Text(type).Text(id);
  std::string key = KeyPredicate(type, id, args, 3);
  ASSIGN_OR_RETURN(
      Rows rows,
      Run("SELECT version, deleted FROM resource WHERE type = $1 AND id = $2" + key, args));
  CurrentVersion out;
  if (rows.size()) {
    out.version = rows.Int(0, 0);
    out.deleted = rows.Int(0, 1) != 0;
  }
  return out;
}

Status PgWriteTxn::Prefetch(const std::vector<std::pair<std::string, std::string>>& keys) {
  std::vector<std::string> types, ids;
  for (const auto& key : keys) {
    if (!pending_keys_.contains(key) && !known_.contains(key)) {
      types.push_back(key.first);
      ids.push_back(key.second);
    }
  }
  if (types.empty()) {
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Rows rows,
                   Run("SELECT r.type, r.id, r.version, r.deleted FROM unnest($1::text[], "
                       "$2::text[]) AS k(type, id) JOIN resource r ON r.type = k.type COLLATE "
                       "\"C\" AND r.id = k.id COLLATE \"C\"",
                       Args().TextArray(types).TextArray(ids)));
  for (size_t i = 0; i < types.size(); ++i) {
    known_[{types[i], ids[i]}] = CurrentVersion{};  // absent unless found below
  }
  for (int i = 0; i < rows.size(); ++i) {
    known_[{rows.Text(i, 0), rows.Text(i, 1)}] =
        CurrentVersion{rows.Int(i, 2), rows.Int(i, 3) != 0};
  }
  return Status::Ok();
}

StatusOr<std::vector<std::string>> PgWriteTxn::SearchIds(const SearchQuery& query, int limit) {
  RETURN_IF_ERROR(Flush());
  // Creates of this type hold the same lock shared until they commit: once we hold it
  // exclusively, every create that could match has committed and the next statement sees it.
  if (!query.type.empty()) {
    RETURN_IF_ERROR(
        Run("SELECT pg_advisory_xact_lock($1)", Args().Int(TypeLockKey(query.type))).status());
  }
  ASSIGN_OR_RETURN(CompiledSql sql,
                   CompileSearch(query, PostgresDialect(), SearchSqlMode::kIds, NowUs(), limit));
  ASSIGN_OR_RETURN(Rows rows, Run(sql.sql, Args().SqlAll(sql.args), SearchPlan(query)));
  std::vector<std::string> ids;
  for (int i = 0; i < rows.size(); ++i) {
    ids.push_back(rows.Text(i, 0));
  }
  return ids;
}

Status PgWriteTxn::Put(const PreparedWrite& w) {
  if (w.version == 1) {
    // A create: no row to lock (a concurrent create of the same id meets resource_key when
    // the waiting creates go in, and the whole write function is rerun).
    if (!pending_keys_.insert({w.type, w.id}).second) {
      return ConflictError(w.type + "/" + w.id + ": version 1 is written twice");
    }
    pending_.push_back(w);
    known_.erase({w.type, w.id});
    return Status::Ok();
  }
  RETURN_IF_ERROR(Flush());
  Args find;
  find.Text(w.type).Text(w.id);
  std::string find_key = KeyPredicate(w.type, w.id, find, 3);
  ASSIGN_OR_RETURN(Rows found, Run("SELECT pk, version, compartment_key FROM resource WHERE type = "
                                   "$1 AND id = $2" +
                                       find_key + " FOR UPDATE",
                                   find));
  bool exists = found.size() > 0;
  int64_t pk = exists ? found.Int(0, 0) : 0;
  int64_t current = exists ? found.Int(0, 1) : 0;
  if (w.version != current + 1) {
    // Another transaction (on this node or another) committed a version after this write
    // function read the current one without a lock: rerun it, so that it reads the new version
    // (and, with If-Match, answers 412 itself). Decisions D39.
    retryable_ = current >= w.version;
    return ConflictError(w.type + "/" + w.id + ": version " + std::to_string(w.version) +
                         " does not follow the current version " + std::to_string(current));
  }
  // A deletion stays where the resource is; a version that names another patient moves it.
  const std::string old_key = found.Text(0, 2);
  const std::string key = w.deleted ? old_key : KeyOf(w);
  Args args;
  args.Int(w.version).Int(w.last_updated_us).Int16(w.deleted ? 1 : 0);
  args.Text(w.patient_id);  // '' is turned into NULL by NULLIF below
  args.Text(w.method).Bytes(w.body);
  args.Int(pk).Text(old_key);
  // (version > 1 follows an existing row.) One statement: the current version moves to history,
  // its index rows go, the new version replaces it (every part sees the row as it was before the
  // statement).
  const std::string to_history =
      "WITH h AS (INSERT INTO resource_history(seq, res, type, version, last_updated, "
      "superseded, deleted, method, body, compartment_key) SELECT seq, pk, type, version, "
      "last_updated, $2, deleted, method, body, compartment_key FROM resource WHERE pk = $7 AND "
      "compartment_key = $8)" +
      DeleteIndexCtes(7);
  if (key == old_key) {
    RETURN_IF_ERROR(Run(to_history +
                            " UPDATE resource SET version = $1, last_updated = $2, deleted = $3, "
                            "patient_id = NULLIF($4, ''), method = $5, seq = "
                            "nextval('resource_seq'), body = $6 WHERE pk = $7 AND "
                            "compartment_key = $8",
                        args)
                        .status());
  } else {
    RETURN_IF_ERROR(Move(to_history, args, w, pk, old_key, key));
  }
  if (known_.contains({w.type, w.id})) {
    known_[{w.type, w.id}] = CurrentVersion{w.version, w.deleted};
  }
  return w.deleted ? Status::Ok() : InsertIndexRows(pk, key, w.type, w.index);
}

Status PgWriteTxn::Move(const std::string& to_history, Args& args, const PreparedWrite& w,
                        int64_t pk, const std::string& old_key, const std::string& key) {
  // The key is the distribution column, which Citus does not let an UPDATE change: the rows are
  // inserted under the new key and deleted under the old one, keeping pk, seq values and
  // history (decisions D46). Rare (a resource filed under the wrong patient, corrected), so
  // several statements. 1. As any update: the current version to history, its index rows gone.
  RETURN_IF_ERROR(Run(to_history + " SELECT 1", args).status());
  // 2. The new version under the new key.
  args.Text(key).Text(w.type).Text(w.id);
  RETURN_IF_ERROR(Run("INSERT INTO resource(pk, compartment_key, type, id, version, last_updated, "
                      "deleted, patient_id, method, seq, body) SELECT $7, $9, $10, $11, $1, $2, "
                      "$3, NULLIF($4, ''), $5, nextval('resource_seq'), $6",
                      args)
                      .status());
  // 3. The history, then the old row, then where (type, id) lives.
  Args move = Args().Int(pk).Text(old_key).Text(key).Text(w.type).Text(w.id);
  RETURN_IF_ERROR(
      Run("WITH m AS (DELETE FROM resource_history WHERE res = $1 AND compartment_key = $2 "
          "RETURNING seq, res, type, version, last_updated, superseded, deleted, method, body) "
          "INSERT INTO resource_history(seq, res, type, version, last_updated, superseded, "
          "deleted, method, body, compartment_key) SELECT seq, res, type, version, last_updated, "
          "superseded, deleted, method, body, $3 FROM m",
          move)
          .status());
  return Run("WITH k AS (UPDATE resource_key SET compartment_key = $3 WHERE type = $4 AND id = "
             "$5) DELETE FROM resource WHERE pk = $1 AND compartment_key = $2",
             move)
      .status();
}

Status PgWriteTxn::Flush() {
  if (!pending_.empty()) {
    std::vector<PreparedWrite> writes = std::move(pending_);
    pending_.clear();
    pending_keys_.clear();
    // The bulk path costs four round trips whatever the number of rows; a create alone, one.
    constexpr size_t kBulkFrom = 4;
    if (writes.size() >= kBulkFrom) {
      RETURN_IF_ERROR(CreateMany(writes));
    } else {
      for (const PreparedWrite& w : writes) {
        RETURN_IF_ERROR(CreateOne(w));
      }
    }
  }
  return RaiseDateSpans();
}

Status PgWriteTxn::RaiseDateSpans() {
  if (date_spans_.empty()) {
    return Status::Ok();
  }
  std::vector<std::pair<int64_t, int64_t>> longer = span_cache_.Longer(date_spans_.spans());
  date_spans_.clear();
  if (longer.empty()) {
    return Status::Ok();  // the usual case: no statement
  }
  // What is committed (READ COMMITTED: this statement's snapshot), learnt for later writes.
  std::vector<int64_t> params;
  for (const auto& [param, span] : longer) {
    params.push_back(param);
  }
  ASSIGN_OR_RETURN(Rows read, Run("SELECT param, span FROM sp_date_span WHERE param = ANY($1)",
                                  Args().IntArray(params)));
  std::map<int64_t, int64_t> stored;
  for (int i = 0; i < read.size(); ++i) {
    const int64_t param = read.Int(i, 0), span = read.Int(i, 1);
    stored[param] = span;
    // A transaction reads its own writes: a span it raised is not committed (yet).
    if (!raised_.contains(param)) {
      span_cache_.Learn(param, span);
    }
  }
  std::erase_if(longer, [&](const std::pair<int64_t, int64_t>& p) {
    auto it = stored.find(p.first);
    return it != stored.end() && p.second <= it->second;
  });
  if (longer.empty()) {
    return Status::Ok();
  }
  // Only now an upsert: PostgreSQL locks the conflicting row even when the update's WHERE is
  // false, which would make every write of a parameter wait for the others' commits. Sorted by
  // parameter, so two writers lock in the same order.
  std::sort(longer.begin(), longer.end());
  std::vector<int64_t> spans;
  params.clear();
  for (const auto& [param, span] : longer) {
    params.push_back(param);
    spans.push_back(span);
    raised_.insert(param);
  }
  return Run("INSERT INTO sp_date_span(param, span) SELECT * FROM unnest($1::bigint[], "
             "$2::bigint[]) ON CONFLICT (param) DO UPDATE SET span = excluded.span WHERE "
             "excluded.span > sp_date_span.span",
             Args().IntArray(params).IntArray(spans))
      .status();
}

std::vector<std::pair<int64_t, int64_t>> DateSpanCache::Longer(
    const std::vector<std::pair<int64_t, int64_t>>& spans) const {
  std::vector<std::pair<int64_t, int64_t>> out;
  std::lock_guard lock(mu_);
  for (const auto& [param, span] : spans) {
    auto it = committed_.find(param);
    if (it == committed_.end() || span > it->second) {
      out.emplace_back(param, span);
    }
  }
  return out;
}

void DateSpanCache::Learn(int64_t param, int64_t span) {
  std::lock_guard lock(mu_);
  int64_t& known = committed_[param];
  known = std::max(known, span);
}

Status PgWriteTxn::CreateOne(const PreparedWrite& w) {
  // One statement: the shared type lock (see SearchIds), the row, its index rows.
  // resource_key's primary key is what makes (type, id) unique (decisions D46).
  Args args;
  args.Int(w.version).Int(w.last_updated_us).Int16(w.deleted ? 1 : 0);
  args.Text(w.patient_id);  // '' is turned into NULL by NULLIF below
  args.Text(w.method).Bytes(w.body);
  args.Text(w.type).Text(w.id).Int(TypeLockKey(w.type)).Text(KeyOf(w));
  IndexInsert ins(args, "(SELECT pk FROM r)", "$10");
  if (!w.deleted) {
    AddIndexRows(ins, w.type, w.index, date_spans_);
  }
  return Run("WITH l AS (SELECT pg_advisory_xact_lock_shared($9)), r AS (INSERT INTO "
             "resource(type, id, version, last_updated, deleted, patient_id, method, seq, body, "
             "compartment_key) SELECT $7, $8, $1, $2, $3, NULLIF($4, ''), $5, "
             "nextval('resource_seq'), $6, $10 FROM l RETURNING pk), k AS (INSERT INTO "
             "resource_key(type, id, compartment_key) VALUES ($7, $8, $10))" +
                 ins.ctes() + " SELECT pk FROM r",
             args)
      .status();
}

Status PgWriteTxn::CreateMany(const std::vector<PreparedWrite>& writes) {
  // 1. The shared lock of every type written (see SearchIds), then a pk and a seq per row.
  std::set<int64_t> lock_set;
  for (const PreparedWrite& w : writes) {
    lock_set.insert(TypeLockKey(w.type));
  }
  std::vector<int64_t> locks(lock_set.begin(), lock_set.end());
  ASSIGN_OR_RETURN(
      Rows keys,
      Run("SELECT nextval(pg_get_serial_sequence('resource', 'pk')), nextval('resource_seq') "
          "FROM (SELECT count(pg_advisory_xact_lock_shared(k)) FROM unnest($1::bigint[]) k) l, "
          "generate_series(1, $2)",
          Args().IntArray(locks).Int(static_cast<int64_t>(writes.size()))));
  if (keys.size() != static_cast<int>(writes.size())) {
    return InternalError("PostgreSQL handed out " + std::to_string(keys.size()) + " keys for " +
                         std::to_string(writes.size()) + " creates");
  }
  // 2. The resource rows by COPY.
  CopyText rows;
  std::vector<IndexSource> sources;
  std::vector<std::string> types, ids, compartment_keys;  // resource_key's rows
  for (size_t i = 0; i < writes.size(); ++i) {
    const PreparedWrite& w = writes[i];
    const int64_t pk = keys.Int(static_cast<int>(i), 0);
    std::string key = KeyOf(w);
    rows.Int(pk).Text(w.type).Text(w.id).Int(w.version).Int(w.last_updated_us);
    rows.Int(w.deleted ? 1 : 0).NullIfEmpty(w.patient_id).Text(w.method);
    rows.Int(keys.Int(static_cast<int>(i), 1)).Bytea(w.body).Text(key);
    rows.EndRow();
    types.push_back(w.type);
    ids.push_back(w.id);
    compartment_keys.push_back(key);
    if (!w.deleted) {
      sources.push_back({pk, std::move(key), &w.type, &w.index});
    }
  }
  Status copied = conn_.CopyIn(
      "COPY resource(pk, type, id, version, last_updated, deleted, patient_id, method, seq, "
      "body, compartment_key) FROM STDIN",
      rows.data());
  if (!copied.ok()) {
    if (conn_.last_sqlstate() == PgError::kUniqueViolation ||
        conn_.last_sqlstate() == PgError::kDeadlock) {
      retryable_ = true;
    }
    return copied;
  }
  // 3. Where each (type, id) lives (its primary key makes them unique), and every index row of
  // them, in one statement.
  Args args;
  args.TextArray(types).TextArray(ids).TextArray(compartment_keys);
  IndexInsert ins(args);
  AddIndexRows(ins, sources, date_spans_);
  return Run("WITH i0 AS (INSERT INTO resource_key(type, id, compartment_key) SELECT * FROM "
             "unnest($1::text[], $2::text[], $3::text[]))" +
                 ins.ctes() + " SELECT 1",
             args)
      .status();
}

Status PgWriteTxn::AppendAudit(const AuditLogEntry& entry) {
  audit_.push_back(entry);  // chained by WriteAudit(), right before COMMIT
  return Status::Ok();
}

Status PgWriteTxn::WriteAudit() {
  if (audit_.empty()) {
    return Status::Ok();
  }
  // The chain has one head: appenders on every node queue on this lock, then read the head as
  // committed (READ COMMITTED: each statement sees the latest commits). The lock is held until
  // COMMIT has flushed, so it is taken last: the next appender waits for this lock, one
  // statement and the commit, not for the transaction's other work (decisions D47).
  RETURN_IF_ERROR(Run("SELECT pg_advisory_xact_lock($1)", Args().Int(kAuditLock)).status());
  ASSIGN_OR_RETURN(Rows last, Run("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", {}));
  int64_t seq = last.size() ? last.Int(0, 0) : 0;
  std::string prev = last.size() ? last.Text(0, 1) : std::string(kAuditGenesisHash);
  std::vector<int64_t> seqs, recorded;
  std::vector<std::string> ids, bodies, prevs, hashes;
  for (const AuditLogEntry& entry : audit_) {
    ++seq;
    std::string hash = AuditEntryHash(prev, seq, entry.recorded_us, entry.event_id, entry.body);
    seqs.push_back(seq);
    recorded.push_back(entry.recorded_us);
    ids.push_back(entry.event_id);
    bodies.push_back(entry.body);
    prevs.push_back(std::move(prev));
    hashes.push_back(hash);
    prev = std::move(hash);
  }
  audit_.clear();
  return Run("INSERT INTO audit_log(seq, recorded, event_id, body, prev_hash, hash) "
             "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], "
             "$5::text[], $6::text[])",
             Args()
                 .IntArray(seqs)
                 .IntArray(recorded)
                 .TextArray(ids)
                 .TextArray(bodies)
                 .TextArray(prevs)
                 .TextArray(hashes))
      .status();
}

StatusOr<bool> PgWriteTxn::ReplaceIndex(const std::string& type, const std::string& id,
                                        int64_t version, const fhir::IndexEntries& index,
                                        const std::string& param) {
  RETURN_IF_ERROR(Flush());
  Args find;
  find.Text(type).Text(id).Int(version);
  std::string find_key = KeyPredicate(type, id, find, 4);
  ASSIGN_OR_RETURN(Rows found, Run("SELECT pk, compartment_key FROM resource WHERE type = $1 AND "
                                   "id = $2 AND version = $3 AND deleted = 0" +
                                       find_key + " FOR UPDATE",
                                   find));
  if (!found.size()) {
    return false;
  }
  const int64_t pk = found.Int(0, 0);
  const std::string key = found.Text(0, 1);
  if (param.empty()) {
    for (const char* table : kIndexTables) {
      RETURN_IF_ERROR(
          Run(std::string("DELETE FROM ") + table + " WHERE res = $1 AND compartment_key = $2",
              Args().Int(pk).Text(key))
              .status());
    }
    RETURN_IF_ERROR(InsertIndexRows(pk, key, type, index));
    return true;
  }
  for (const char* table : kIndexTables) {
    RETURN_IF_ERROR(Run(std::string("DELETE FROM ") + table +
                            " WHERE res = $1 AND compartment_key = $2 AND param IN ($3, $4)",
                        Args()
                            .Int(pk)
                            .Text(key)
                            .Int(ParamKey(type, param))
                            .Int(ParamKey(type, param + ":of-type")))
                        .status());
  }
  fhir::IndexEntries only = EntriesOfParam(index, param);
  RETURN_IF_ERROR(InsertIndexRows(pk, key, type, only, &index));
  return true;
}

Status PgWriteTxn::InsertIndexRows(int64_t pk, const std::string& key, const std::string& type,
                                   const fhir::IndexEntries& ix,
                                   const fhir::IndexEntries* patient_of) {
  Args args;
  args.Int(pk).Text(key);
  IndexInsert ins(args, "$1", "$2");
  AddIndexRows(ins, type, ix, date_spans_, patient_of);
  if (ins.ctes().empty()) {
    return Status::Ok();
  }
  // The first expression of the list is a no-op, so every insert can start with ", ".
  return Run("WITH i0 AS (SELECT 1)" + ins.ctes() + " SELECT 1", args).status();
}

namespace {

void AddIndexRows(IndexInsert& ins, const std::vector<IndexSource>& sources,
                  LongestDateSpans& spans) {
  // Every table's rows, column by column (index_rows.h maps entries to rows for both backends).
  std::array<std::vector<int64_t>, kIndexTableCount> res;
  std::array<std::vector<std::string>, kIndexTableCount> keys;
  std::array<std::vector<std::vector<IndexCol>>, kIndexTableCount> columns;
  for (const IndexSource& source : sources) {
    ForEachIndexRow(
        *source.type, *source.index,
        [&](int table, std::initializer_list<IndexCol> row) {
          if (table == kDateTable) {  // param, low, high
            const IndexCol* c = row.begin();
            spans.Add(std::get<int64_t>(c[0]), std::get<int64_t>(c[1]), std::get<int64_t>(c[2]));
          }
          std::vector<std::vector<IndexCol>>& cols = columns[table];
          cols.resize(row.size());
          size_t i = 0;
          for (const IndexCol& v : row) {
            cols[i++].push_back(v);
          }
          res[table].push_back(source.pk);
          keys[table].push_back(source.key);
        },
        source.patient_of);
  }
  for (size_t table = 0; table < kIndexTableCount; ++table) {
    if (res[table].empty()) {
      continue;
    }
    const std::vector<std::vector<IndexCol>>& cols = columns[table];
    // A column holding doubles (sp_quantity/sp_number values, sp_composite bounds, where dates
    // are integers and numbers doubles) travels as exact decimal text cast to numeric, which the
    // insert then assigns to the column's own type without loss.
    std::vector<bool> decimal(cols.size());
    std::string select;
    for (size_t c = 0; c < cols.size(); ++c) {
      decimal[c] = std::any_of(cols[c].begin(), cols[c].end(),
                               [](const IndexCol& v) { return std::holds_alternative<double>(v); });
      select += (c ? ", x" : "x") + std::to_string(c + 1) + (decimal[c] ? "::numeric" : "");
    }
    ins.Table(kIndexTables[table], kIndexColumns[table], static_cast<int>(cols.size()), select);
    if (ins.per_row_pk()) {
      ins.args().IntArray(res[table]).TextArray(keys[table]);
    }
    for (size_t c = 0; c < cols.size(); ++c) {
      if (decimal[c]) {
        std::vector<std::string> texts;
        for (const IndexCol& v : cols[c]) {
          texts.push_back(std::holds_alternative<double>(v) ? NumberText(std::get<double>(v))
                                                            : std::to_string(std::get<int64_t>(v)));
        }
        ins.args().TextArray(texts);
      } else if (std::holds_alternative<int64_t>(cols[c].front())) {
        std::vector<int64_t> ints;
        for (const IndexCol& v : cols[c]) {
          ints.push_back(std::get<int64_t>(v));
        }
        ins.args().IntArray(ints);
      } else {
        std::vector<std::string> texts;
        for (const IndexCol& v : cols[c]) {
          texts.emplace_back(std::get<std::string_view>(v));
        }
        ins.args().TextArray(texts);
      }
    }
  }
}

}  // namespace

}  // namespace carechart::store::pg
