#include "store/postgres/pg_write_txn.h"

#include <chrono>
#include <cstdio>

#include "store/index_keys.h"
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

// '' for a value equal to `same_as`: optional columns are NOT NULL (they are key columns).
std::string UnlessSame(const std::string& value, const std::string& same_as) {
  return value == same_as ? std::string() : value;
}

std::string NumberText(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The index rows of one write as common table expressions (", iN AS (INSERT ...)") inserting
// every non-empty index table's rows from array arguments: one statement, whatever the number
// of rows. `pk_sql` is the rows' res: a placeholder, or a subquery of an earlier expression.
class IndexInsert {
 public:
  IndexInsert(Args& args, std::string pk_sql) : args_(args), pk_(std::move(pk_sql)) {}

  // `columns` of `table` get `unnest(<arrays>)` (the next `arrays` arguments, appended by the
  // caller right after); `select` picks (and casts) the unnested columns named x1, x2 ...
  void Table(const char* table, const char* columns, int arrays, const std::string& select) {
    std::string list, names;
    for (int i = 1; i <= arrays; ++i) {
      list += (i > 1 ? ", $" : "$") + std::to_string(args_.size() + i);
      names += (i > 1 ? ", x" : "x") + std::to_string(i);
    }
    ctes_ += ", i" + std::to_string(args_.size() + 1) + " AS (INSERT INTO " + table + "(" +
             columns + ") SELECT " + pk_ + ", " + select + " FROM unnest(" + list + ") AS u(" +
             names + ") ON CONFLICT DO NOTHING)";
  }
  Args& args() { return args_; }
  const std::string& ctes() const { return ctes_; }

 private:
  Args& args_;
  std::string pk_;
  std::string ctes_;
};

void AddIndexRows(IndexInsert& ins, const std::string& type, const fhir::IndexEntries& ix);

}  // namespace

int64_t TypeLockKey(const std::string& type) { return ParamKey(type, "carechart:type-lock"); }

StatusOr<Rows> PgWriteTxn::Run(const std::string& sql, const Args& args) {
  StatusOr<Rows> rows = conn_.Run(sql, args);
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
  ASSIGN_OR_RETURN(Rows rows, Run("SELECT version, deleted FROM resource WHERE type = $1 AND "
                                  "id = $2",
                                  Args().Text(type).Text(id)));
  CurrentVersion out;
  if (rows.size()) {
    out.version = rows.Int(0, 0);
    out.deleted = rows.Int(0, 1) != 0;
  }
  return out;
}

StatusOr<std::vector<std::string>> PgWriteTxn::SearchIds(const SearchQuery& query, int limit) {
  // Creates of this type hold the same lock shared until they commit: once we hold it
  // exclusively, every create that could match has committed and the next statement sees it.
  if (!query.type.empty()) {
    RETURN_IF_ERROR(
        Run("SELECT pg_advisory_xact_lock($1)", Args().Int(TypeLockKey(query.type))).status());
  }
  ASSIGN_OR_RETURN(CompiledSql sql,
                   CompileSearch(query, PostgresDialect(), SearchSqlMode::kIds, NowUs(), limit));
  ASSIGN_OR_RETURN(Rows rows, Run(sql.sql, Args().SqlAll(sql.args)));
  std::vector<std::string> ids;
  for (int i = 0; i < rows.size(); ++i) {
    ids.push_back(rows.Text(i, 0));
  }
  return ids;
}

Status PgWriteTxn::Put(const PreparedWrite& w) {
  ASSIGN_OR_RETURN(Rows found, Run("SELECT pk, version FROM resource WHERE type = $1 AND id = $2 "
                                   "FOR UPDATE",
                                   Args().Text(w.type).Text(w.id)));
  bool exists = found.size() > 0;
  int64_t pk = exists ? found.Int(0, 0) : 0;
  int64_t current = exists ? found.Int(0, 1) : 0;
  if (w.version != current + 1) {
    return ConflictError(w.type + "/" + w.id + ": version " + std::to_string(w.version) +
                         " does not follow the current version " + std::to_string(current));
  }
  Args args;
  args.Int(w.version).Int(w.last_updated_us).Int16(w.deleted ? 1 : 0);
  if (w.patient_id.empty()) {
    args.Text("");  // bound as '' and turned into NULL by NULLIF below
  } else {
    args.Text(w.patient_id);
  }
  args.Text(w.method).Bytes(w.body);
  if (exists) {
    // One statement: the current version moves to history, its index rows go, the new version
    // replaces it (every part sees the row as it was before the statement).
    args.Int(pk);
    RETURN_IF_ERROR(
        Run("WITH h AS (INSERT INTO resource_history(seq, res, type, version, last_updated, "
            "superseded, deleted, method, body) SELECT seq, pk, type, version, last_updated, $2, "
            "deleted, method, body FROM resource WHERE pk = $7), "
            "d1 AS (DELETE FROM sp_token WHERE res = $7), "
            "d2 AS (DELETE FROM sp_string WHERE res = $7), "
            "d3 AS (DELETE FROM sp_date WHERE res = $7), "
            "d4 AS (DELETE FROM sp_reference WHERE res = $7), "
            "d5 AS (DELETE FROM sp_quantity WHERE res = $7), "
            "d6 AS (DELETE FROM sp_number WHERE res = $7), "
            "d7 AS (DELETE FROM sp_uri WHERE res = $7), "
            "d8 AS (DELETE FROM sp_composite WHERE res = $7) "
            "UPDATE resource SET version = $1, last_updated = $2, deleted = $3, "
            "patient_id = NULLIF($4, ''), method = $5, seq = nextval('resource_seq'), body = $6 "
            "WHERE pk = $7",
            args)
            .status());
  } else {
    // One statement: the shared type lock (see SearchIds), the row, its index rows.
    args.Text(w.type).Text(w.id).Int(TypeLockKey(w.type));
    IndexInsert ins(args, "(SELECT pk FROM r)");
    if (!w.deleted) {
      AddIndexRows(ins, w.type, w.index);
    }
    return Run("WITH l AS (SELECT pg_advisory_xact_lock_shared($9)), r AS (INSERT INTO "
               "resource(type, id, version, last_updated, deleted, patient_id, method, seq, body) "
               "SELECT $7, $8, $1, $2, $3, NULLIF($4, ''), $5, nextval('resource_seq'), $6 "
               "FROM l RETURNING pk)" +
                   ins.ctes() + " SELECT pk FROM r",
               args)
        .status();
  }
  return w.deleted ? Status::Ok() : InsertIndexRows(pk, w.type, w.index);
}

Status PgWriteTxn::AppendAudit(const AuditLogEntry& entry) {
  // The chain has one head: appenders on every node queue on this lock, then read the head as
  // committed (READ COMMITTED: each statement sees the latest commits).
  RETURN_IF_ERROR(Run("SELECT pg_advisory_xact_lock($1)", Args().Int(kAuditLock)).status());
  ASSIGN_OR_RETURN(Rows last, Run("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", {}));
  int64_t seq = last.size() ? last.Int(0, 0) + 1 : 1;
  std::string prev = last.size() ? last.Text(0, 1) : std::string(kAuditGenesisHash);
  std::string hash = AuditEntryHash(prev, seq, entry.recorded_us, entry.event_id, entry.body);
  return Run("INSERT INTO audit_log(seq, recorded, event_id, body, prev_hash, hash) "
             "VALUES ($1, $2, $3, $4, $5, $6)",
             Args()
                 .Int(seq)
                 .Int(entry.recorded_us)
                 .Text(entry.event_id)
                 .Text(entry.body)
                 .Text(prev)
                 .Text(hash))
      .status();
}

StatusOr<bool> PgWriteTxn::ReplaceIndex(const std::string& type, const std::string& id,
                                        int64_t version, const fhir::IndexEntries& index,
                                        const std::string& param) {
  ASSIGN_OR_RETURN(Rows found, Run("SELECT pk FROM resource WHERE type = $1 AND id = $2 AND "
                                   "version = $3 AND deleted = 0 FOR UPDATE",
                                   Args().Text(type).Text(id).Int(version)));
  if (!found.size()) {
    return false;
  }
  const int64_t pk = found.Int(0, 0);
  static const char* const kTables[] = {"sp_token",    "sp_string", "sp_date", "sp_reference",
                                        "sp_quantity", "sp_number", "sp_uri",  "sp_composite"};
  if (param.empty()) {
    for (const char* table : kTables) {
      RETURN_IF_ERROR(
          Run(std::string("DELETE FROM ") + table + " WHERE res = $1", Args().Int(pk)).status());
    }
    RETURN_IF_ERROR(InsertIndexRows(pk, type, index));
    return true;
  }
  for (const char* table : kTables) {
    RETURN_IF_ERROR(
        Run(std::string("DELETE FROM ") + table + " WHERE res = $1 AND param IN ($2, $3)",
            Args().Int(pk).Int(ParamKey(type, param)).Int(ParamKey(type, param + ":of-type")))
            .status());
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

Status PgWriteTxn::InsertIndexRows(int64_t pk, const std::string& type,
                                   const fhir::IndexEntries& ix) {
  Args args;
  args.Int(pk);
  IndexInsert ins(args, "$1");
  AddIndexRows(ins, type, ix);
  if (ins.ctes().empty()) {
    return Status::Ok();
  }
  // The first expression of the list is a no-op, so every insert can start with ", ".
  return Run("WITH i0 AS (SELECT 1)" + ins.ctes() + " SELECT 1", args).status();
}

namespace {

void AddIndexRows(IndexInsert& ins, const std::string& type, const fhir::IndexEntries& ix) {
  auto key = [&](const std::string& param) { return ParamKey(type, param); };
  if (!ix.tokens.empty()) {
    std::vector<int64_t> params, systems;
    std::vector<std::string> codes, texts;
    for (const auto& e : ix.tokens) {
      params.push_back(key(e.param));
      systems.push_back(SystemKey(e.system));
      codes.push_back(e.code);
      texts.push_back(e.text);
    }
    ins.Table("sp_token", "res, param, sys, code, text", 4, "x1, x2, x3, x4");
    ins.args().IntArray(params).IntArray(systems).TextArray(codes).TextArray(texts);
  }
  if (!ix.strings.empty()) {
    std::vector<int64_t> params;
    std::vector<std::string> normalized, exact;
    for (const auto& e : ix.strings) {
      params.push_back(key(e.param));
      normalized.push_back(e.normalized);
      exact.push_back(UnlessSame(e.exact, e.normalized));
    }
    ins.Table("sp_string", "res, param, normalized, exact", 3, "x1, x2, x3");
    ins.args().IntArray(params).TextArray(normalized).TextArray(exact);
  }
  if (!ix.dates.empty()) {
    std::vector<int64_t> params, lows, highs;
    for (const auto& e : ix.dates) {
      params.push_back(key(e.param));
      lows.push_back(e.low);
      highs.push_back(e.high);
    }
    ins.Table("sp_date", "res, param, low, high", 3, "x1, x2, x3");
    ins.args().IntArray(params).IntArray(lows).IntArray(highs);
  }
  if (!ix.references.empty()) {
    std::vector<int64_t> params;
    std::vector<std::string> ids, types, urls;
    for (const auto& e : ix.references) {
      params.push_back(key(e.param));
      ids.push_back(e.target_id);
      types.push_back(e.target_type);
      urls.push_back(e.url);
    }
    ins.Table("sp_reference", "res, param, target_id, target_type, url", 4, "x1, x2, x3, x4");
    ins.args().IntArray(params).TextArray(ids).TextArray(types).TextArray(urls);
  }
  if (!ix.quantities.empty()) {
    std::vector<int64_t> params, systems;
    std::vector<double> values;
    std::vector<std::string> codes, units;
    for (const auto& e : ix.quantities) {
      params.push_back(key(e.param));
      values.push_back(e.value);
      systems.push_back(SystemKey(e.system));
      codes.push_back(e.code);
      units.push_back(UnlessSame(e.unit, e.code));
    }
    ins.Table("sp_quantity", "res, param, value, sys, code, unit", 5, "x1, x2, x3, x4, x5");
    ins.args().IntArray(params).DoubleArray(values).IntArray(systems).TextArray(codes).TextArray(
        units);
  }
  if (!ix.numbers.empty()) {
    std::vector<int64_t> params;
    std::vector<double> values;
    for (const auto& e : ix.numbers) {
      params.push_back(key(e.param));
      values.push_back(e.value);
    }
    ins.Table("sp_number", "res, param, value", 2, "x1, x2");
    ins.args().IntArray(params).DoubleArray(values);
  }
  if (!ix.uris.empty()) {
    std::vector<int64_t> params;
    std::vector<std::string> uris;
    for (const auto& e : ix.uris) {
      params.push_back(key(e.param));
      uris.push_back(e.uri);
    }
    ins.Table("sp_uri", "res, param, uri", 2, "x1, x2");
    ins.args().IntArray(params).TextArray(uris);
  }
  if (!ix.composites.empty()) {
    // Composite tuples: grp numbers them; absent components (two-part composites) are zeros
    // and ''. lo/hi travel as decimal text into numeric columns.
    std::vector<int64_t> params, groups, s[3];
    std::vector<std::string> t[3], u[3], lo[3], hi[3];
    int64_t grp = 0;
    for (const auto& e : ix.composites) {
      params.push_back(key(e.param));
      groups.push_back(grp++);
      for (size_t i = 0; i < 3; ++i) {
        if (i >= e.parts.size()) {
          s[i].push_back(0);
          t[i].emplace_back();
          u[i].emplace_back();
          lo[i].push_back("0");
          hi[i].push_back("0");
          continue;
        }
        const fhir::CompositePart& p = e.parts[i];
        s[i].push_back(SystemKey(p.system));
        t[i].push_back(p.text);
        u[i].push_back(p.unit);
        lo[i].push_back(p.is_date ? std::to_string(p.low_us) : NumberText(p.low));
        hi[i].push_back(p.is_date ? std::to_string(p.high_us) : NumberText(p.low));
      }
    }
    ins.Table("sp_composite",
              "res, param, grp, s1, t1, u1, lo1, hi1, s2, t2, u2, lo2, hi2, s3, t3, u3, lo3, hi3",
              17,
              "x1, x2, x3, x4, x5, x6::numeric, x7::numeric, x8, x9, x10, x11::numeric, "
              "x12::numeric, x13, x14, x15, x16::numeric, x17::numeric");
    ins.args().IntArray(params).IntArray(groups);
    for (size_t i = 0; i < 3; ++i) {
      ins.args().IntArray(s[i]).TextArray(t[i]).TextArray(u[i]).TextArray(lo[i]).TextArray(hi[i]);
    }
  }
}

}  // namespace

}  // namespace carechart::store::pg
