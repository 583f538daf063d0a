// Storage format of the SQLite backend (shared in spirit with the PostgreSQL backend).
//
// resource          the current version of every (type, id) ever written, one row each; a
//                   deletion is a version too (deleted = 1, empty body), so the version numbers
//                   of a deleted-then-recreated id continue. `pk` is the row's stable integer key
//                   that every other table uses; `seq` is the position of this version in the
//                   global write order.
// resource_history  every earlier version, keyed by its `seq`; `superseded` is the instant the
//                   next version replaced it, which answers _at without a self-join.
//                   History pages merge the two tables newest-first by `seq`: a single
//                   monotonically increasing counter assigned by the one writer, so the order
//                   is total and stable even when two versions share a timestamp.
// sp_composite      composite parameters, one row per tuple (migration 2).
// audit_log         the hash-chained audit log (migration 3; see audit_log.h). Its bodies are
//                   plain text: the chain's hashes are over that text.
// body_dictionary   zstd dictionaries of compressed resource bodies (migration 10; see
//                   sqlite_body_codec.h): resource.body and resource_history.body hold plain
//                   JSON or a zstd frame naming its dictionary.
// sp_*              search-index rows of the current version, one table per parameter type,
//                   WITHOUT ROWID and clustered by (res, param, ...) so a resource's rows are
//                   replaced and probed (EXISTS, sorting, :missing) by primary key; a secondary
//                   index (param, value...) drives selective searches. `param` is
//                   ParamKey(type, code) and token/quantity systems are SystemKey(uri) (see
//                   index_keys.h) to keep rows short. Optional text columns hold '' rather than
//                   NULL so they can be part of the primary key (which deduplicates entries).
// sp_date_span      per date parameter, the longest closed range (high - low) any of its rows
//                   has had (migration 11, decisions D111): kept by the writer in the same
//                   transaction as the rows (IndexRowBuffer), never lowered, so that a search
//                   reads a lower bound on `high` as a bounded range of `low`.
// schema_version    one row per applied migration.
#include "store/sqlite_schema.h"

#include "store/token_patient.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace carechart::store::sqlite {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Decisions D60. Token rows carry the resource's patient (token_patient.h): the existing rows
// get it from the resources' `patient` reference rows (one Patient, else ''), and the token
// index gains it after the key, so `_has:Observation:patient:code=X` reads one range of the
// code's rows instead of one reference seek per Observation; (param, code, sys, res) keeps the
// rows of one code in key order for the one-code join (D42). store_flag records facts about
// the stored data; composite_tuples_complete (sp_composite holds every resource's tuples) is
// set for a database created with migration 2 (as the heuristic it replaces decided) and by a
// completed `carechart reindex`.
const std::string& Migration6() {
  static const std::string sql = R"sql(
ALTER TABLE sp_token ADD COLUMN patient TEXT NOT NULL DEFAULT '';
CREATE TEMP TABLE token_patient(res INTEGER PRIMARY KEY, patient TEXT NOT NULL);
INSERT INTO temp.token_patient SELECT res, MAX(target_id) FROM sp_reference
  WHERE param IN ()sql" + PatientParamKeyList() +
                                 R"sql() AND target_type = 'Patient'
  GROUP BY res HAVING COUNT(DISTINCT target_id) = 1;
UPDATE sp_token SET patient = p.patient FROM temp.token_patient p WHERE sp_token.res = p.res;
DROP TABLE temp.token_patient;
DROP INDEX IF EXISTS sp_token_value;
CREATE INDEX IF NOT EXISTS sp_token_code ON sp_token(param, code, sys, res, patient);
CREATE TABLE IF NOT EXISTS store_flag(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO store_flag SELECT 'composite_tuples_complete', 1
  WHERE (SELECT applied_us FROM schema_version WHERE version = 1) =
        (SELECT applied_us FROM schema_version WHERE version = 2);
)sql";
  return sql;
}

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> migrations = {
      {1, "initial schema", R"sql(
CREATE TABLE resource(
  pk INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  patient_id TEXT,
  method TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body BLOB NOT NULL,
  UNIQUE(type, id));
CREATE INDEX resource_type_updated ON resource(type, last_updated);
CREATE UNIQUE INDEX resource_seq ON resource(seq);
CREATE INDEX resource_type_seq ON resource(type, seq);
CREATE INDEX resource_patient ON resource(patient_id) WHERE patient_id IS NOT NULL;

CREATE TABLE resource_history(
  seq INTEGER PRIMARY KEY,
  res INTEGER NOT NULL REFERENCES resource(pk),
  type TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  superseded INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  method TEXT NOT NULL,
  body BLOB NOT NULL);
CREATE UNIQUE INDEX history_res_version ON resource_history(res, version);
CREATE INDEX history_type_seq ON resource_history(type, seq);

CREATE TABLE sp_token(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL,
  sys INTEGER NOT NULL, code TEXT NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(res, param, sys, code)) WITHOUT ROWID;
CREATE INDEX sp_token_value ON sp_token(param, code, sys);

CREATE TABLE sp_string(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL,
  normalized TEXT NOT NULL, exact TEXT NOT NULL,
  PRIMARY KEY(res, param, normalized, exact)) WITHOUT ROWID;
CREATE INDEX sp_string_value ON sp_string(param, normalized);

CREATE TABLE sp_date(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL,
  low INTEGER NOT NULL, high INTEGER NOT NULL,
  PRIMARY KEY(res, param, low, high)) WITHOUT ROWID;
CREATE INDEX sp_date_value ON sp_date(param, low, high);

CREATE TABLE sp_reference(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL,
  target_id TEXT NOT NULL, target_type TEXT NOT NULL, url TEXT NOT NULL,
  PRIMARY KEY(res, param, target_id, target_type, url)) WITHOUT ROWID;
CREATE INDEX sp_reference_value ON sp_reference(param, target_id, target_type);

CREATE TABLE sp_quantity(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL,
  value REAL NOT NULL, sys INTEGER NOT NULL, code TEXT NOT NULL, unit TEXT NOT NULL,
  PRIMARY KEY(res, param, value, sys, code, unit)) WITHOUT ROWID;
CREATE INDEX sp_quantity_value ON sp_quantity(param, value);

CREATE TABLE sp_number(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL, value REAL NOT NULL,
  PRIMARY KEY(res, param, value)) WITHOUT ROWID;
CREATE INDEX sp_number_value ON sp_number(param, value);

CREATE TABLE sp_uri(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL, uri TEXT NOT NULL,
  PRIMARY KEY(res, param, uri)) WITHOUT ROWID;
CREATE INDEX sp_uri_value ON sp_uri(param, uri);
)sql"},
      // Composite parameters (code-value-quantity ...): one row per tuple (grp numbers the
      // resource's tuples of a parameter). Each component i uses the columns si (system key),
      // ti (code, id, normalized text), ui (unit, target type, display), loi/hii (value or date
      // range); see fhir::CompositePart. A database made before this migration has no rows
      // here until `carechart reindex` fills them.
      {2, "composite search parameters", R"sql(
CREATE TABLE sp_composite(
  res INTEGER NOT NULL REFERENCES resource(pk), param INTEGER NOT NULL, grp INTEGER NOT NULL,
  s1 INTEGER NOT NULL, t1 TEXT NOT NULL, u1 TEXT NOT NULL, lo1 NOT NULL, hi1 NOT NULL,
  s2 INTEGER NOT NULL, t2 TEXT NOT NULL, u2 TEXT NOT NULL, lo2 NOT NULL, hi2 NOT NULL,
  s3 INTEGER NOT NULL, t3 TEXT NOT NULL, u3 TEXT NOT NULL, lo3 NOT NULL, hi3 NOT NULL,
  PRIMARY KEY(res, param, grp)) WITHOUT ROWID;
CREATE INDEX sp_composite_value ON sp_composite(param, t1, s1);
)sql"},
      // The tamper-evident audit log (format essay in audit_log.h): append-only, enforced by
      // triggers; every entry is chained to the previous one by its SHA-256 hash.
      {3, "audit log", R"sql(
CREATE TABLE audit_log(
  seq INTEGER PRIMARY KEY,
  recorded INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql"},
      // A type's resources in key order (the index is (type, pk)): a listing without a driving
      // clause (GET /fhir/Observation, _lastUpdated only) and a reindex of one type read a page
      // by seeking past the previous key, instead of sorting every resource of the type for
      // each page. (PostgreSQL numbers its own migrations after 3.)
      {4, "resources of a type in key order", R"sql(
CREATE INDEX resource_type_pk ON resource(type);
)sql"},
      // Decisions D58. Composite tuples by their first component and the second's value: a
      // quantity threshold on one code (code-value-quantity, and Observation?code=&
      // value-quantity= answered from it) is a range of this index; it replaces
      // sp_composite_value (param, t1, s1), a prefix of it. References by their source within
      // a parameter, (param, res) and the rest of the key: _has finds the references of
      // thousands of resources (every Observation of a code) in one parameter's rows, which lie
      // together here, instead of one table page per resource.
      {5, "composite tuples by code and value; references by source", R"sql(
DROP INDEX IF EXISTS sp_composite_value;
CREATE INDEX IF NOT EXISTS sp_composite_code_value ON sp_composite(param, t1, s1, lo2);
CREATE INDEX IF NOT EXISTS sp_reference_source ON sp_reference(param, res);
)sql"},
      {6, "patient on token rows; recorded composite-tuple completeness", Migration6().c_str()},
      // Decisions D74. The current Patients by id, (id, type, deleted) so that the index alone
      // answers "is Patient x current, and its key": `Patient?_has:T:patient:<code>` collects
      // the patient ids of the code's token rows, which include deleted Patients, and read each
      // one's row (a table page holding its JSON) for `deleted`. One entry per current Patient.
      // Building it reads the whole resource table once.
      {7, "current Patients by id", R"sql(
CREATE INDEX IF NOT EXISTS resource_current_patient ON resource(id, type, deleted)
  WHERE type = 'Patient' AND deleted = 0;
)sql"},
      // Decisions D86. Token rows by the resource's patient, then code: a patient's rows of one
      // code are one range (Observation?patient=P&code=S|C read every Observation of the
      // patient, 1,400-2,000 for the large records, and probed each for the code), and
      // `Patient?_has:T:patient:<code>` probes one Patient's rows of the code (walking the
      // current Patients in id order) instead of reading every row of the code. The rows
      // without one patient ('') of a code are one range of it too. sp_token is WITHOUT
      // ROWID: the entries end with its key, res included.
      {8, "token rows by patient and code", R"sql(
CREATE INDEX IF NOT EXISTS sp_token_patient ON sp_token(param, patient, code, sys);
)sql"},
      // Decisions D92. A key's type and id without its row, for the types a chain usually
      // targets that are not records of care: a chain's walk (Observation?subject:Patient.name=)
      // found its targets' keys in their index rows, then read each target's row for its id —
      // one cold page each, the JSON's, in a 44 GB file (D85). One entry per such resource (one
      // in a thousand), so writes of clinical resources only test the condition. The type is
      // in the columns because SQLite 3.40 does not take it from the condition. Building it
      // reads the whole resource table once. The list is KeyIdIndexed's (search_sql_values.cc).
      {9, "ids by key of the types chains target", R"sql(
CREATE INDEX IF NOT EXISTS resource_key_id ON resource(pk, type, id)
  WHERE type = 'Patient' OR type = 'Practitioner' OR type = 'PractitionerRole' OR
        type = 'Organization' OR type = 'Location' OR type = 'Group' OR
        type = 'RelatedPerson' OR type = 'Device' OR type = 'Medication';
)sql"},
      // Decisions D101-D103. The zstd dictionaries of compressed resource bodies
      // (sqlite_body_dictionaries.h): never deleted, since the bodies compressed with one keep
      // needing it. `seq` is the database's version count when it was trained.
      {10, "dictionaries of compressed resource bodies", R"sql(
CREATE TABLE IF NOT EXISTS body_dictionary(
  id INTEGER PRIMARY KEY,
  created_us INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  bytes BLOB NOT NULL);
)sql"},
      // Decisions D111. A date range's index rows as bounded ranges of sp_date_value: a match
      // of `ge`, `gt` or `ap` has `high` at least some instant, which bounds `low` only given
      // the parameter's longest closed range (the span); rows without a start have low =
      // INT64_MIN (one range of the index), rows without an end high = INT64_MAX, kept apart
      // in a partial index (few: an active CarePlan's or Coverage's period). Filling the
      // spans reads sp_date_value once.
      {11, "longest closed date range per parameter; open-ended date rows", R"sql(
CREATE TABLE IF NOT EXISTS sp_date_span(
  param INTEGER PRIMARY KEY,
  span INTEGER NOT NULL);
INSERT OR REPLACE INTO sp_date_span(param, span)
  SELECT param, MAX(high - low) FROM sp_date
  WHERE low > -9223372036854775807 - 1 AND high < 9223372036854775807 GROUP BY param;
CREATE INDEX IF NOT EXISTS sp_date_open_end ON sp_date(param, low)
  WHERE high = 9223372036854775807;
)sql"},
  };
  return migrations;
}

StatusOr<int64_t> AppliedVersion(Connection& conn) {
  RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY, "
                "applied_us INTEGER NOT NULL, description TEXT NOT NULL)"));
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

Status Apply(Connection& conn, const Migration& m, int64_t now_us) {
  RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  Status s = conn.Exec(m.sql);
  if (s.ok()) {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("INSERT INTO schema_version(version, applied_us, description) "
                                  "VALUES (?1, ?2, ?3)"));
    s = stmt.Bind(1, int64_t{m.version}).Bind(2, now_us).Bind(3, m.description).Run();
  }
  if (s.ok()) {
    s = conn.Exec("COMMIT");
  }
  if (!s.ok()) {
    (void)conn.Exec("ROLLBACK");
    return Status(s.code(), "schema migration " + std::to_string(m.version) + " (" + m.description +
                                ") failed: " + s.message());
  }
  return Status::Ok();
}

// A secondary index: its name, its definition after the name, and whether a bulk load keeps it
// up to date row by row rather than dropping it and building it once at the end. Kept are the
// indexes whose keys grow with the load within a few groups (type with seq, time or pk; a
// parameter with the resource's pk), so each new row lands on one of a few hot leaves, while a
// build at the end reads and sorts every row (D59, D63).
struct SecondaryIndex {
  const char* name;
  const char* on;
  bool kept_during_bulk_load;
};

// The secondary indexes of the migrations above, exactly as they create them. A migration that
// adds, drops or changes a secondary index must change this list too (sqlite_store_test checks
// that the two agree).
const std::vector<SecondaryIndex>& SecondaryIndexes() {
  static const std::vector<SecondaryIndex> indexes = {
      {"resource_type_updated", "ON resource(type, last_updated)", true},
      {"resource_type_seq", "ON resource(type, seq)", true},
      {"resource_type_pk", "ON resource(type)", true},
      {"resource_patient", "ON resource(patient_id) WHERE patient_id IS NOT NULL", true},
      {"resource_current_patient",
       "ON resource(id, type, deleted) WHERE type = 'Patient' AND deleted = 0", true},
      {"resource_key_id",
       "ON resource(pk, type, id) WHERE type = 'Patient' OR type = 'Practitioner' OR "
       "type = 'PractitionerRole' OR type = 'Organization' OR type = 'Location' OR "
       "type = 'Group' OR type = 'RelatedPerson' OR type = 'Device' OR type = 'Medication'",
       true},
      {"sp_token_code", "ON sp_token(param, code, sys, res, patient)", false},
      {"sp_token_patient", "ON sp_token(param, patient, code, sys)", false},
      {"sp_string_value", "ON sp_string(param, normalized)", false},
      {"sp_date_value", "ON sp_date(param, low, high)", false},
      {"sp_date_open_end", "ON sp_date(param, low) WHERE high = 9223372036854775807", true},
      {"sp_reference_value", "ON sp_reference(param, target_id, target_type)", false},
      {"sp_reference_source", "ON sp_reference(param, res)", true},
      {"sp_quantity_value", "ON sp_quantity(param, value)", false},
      {"sp_number_value", "ON sp_number(param, value)", false},
      {"sp_uri_value", "ON sp_uri(param, uri)", false},
      {"sp_composite_code_value", "ON sp_composite(param, t1, s1, lo2)", false},
  };
  return indexes;
}

}  // namespace

Status DropSecondaryIndexes(Connection& conn) {
  for (const SecondaryIndex& index : SecondaryIndexes()) {
    if (!index.kept_during_bulk_load) {
      RETURN_IF_ERROR(conn.Exec(std::string("DROP INDEX IF EXISTS ") + index.name));
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<std::string>> MissingSecondaryIndexes(Connection& conn) {
  std::set<std::string> present;
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("SELECT name FROM sqlite_master WHERE type = 'index'"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      break;
    }
    present.insert(stmt.Text(0));
  }
  std::vector<std::string> missing;
  for (const SecondaryIndex& index : SecondaryIndexes()) {
    if (!present.contains(index.name)) {
      missing.emplace_back(index.name);
    }
  }
  return missing;
}

Status CreateSecondaryIndex(Connection& conn, const std::string& name) {
  for (const SecondaryIndex& index : SecondaryIndexes()) {
    if (name == index.name) {
      return conn.Exec(std::string("CREATE INDEX IF NOT EXISTS ") + index.name + " " + index.on);
    }
  }
  return Status(StatusCode::kInternal, "no secondary index named " + name);
}

Status EnsureSecondaryIndexes(Connection& conn) {
  // A read first, so that a store with all its indexes takes no write lock here.
  ASSIGN_OR_RETURN(std::vector<std::string> missing, MissingSecondaryIndexes(conn));
  for (const std::string& name : missing) {
    RETURN_IF_ERROR(CreateSecondaryIndex(conn, name));
  }
  return Status::Ok();
}

int CurrentSchemaVersion() { return Migrations().back().version; }

StatusOr<bool> CompositeTuplesComplete(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT value FROM store_flag WHERE name = "
                                                "'composite_tuples_complete'"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row && stmt.Int(0) == 1;
}

Status SetCompositeTuplesComplete(Connection& conn) {
  return conn.Exec(
      "INSERT OR REPLACE INTO store_flag(name, value) VALUES ('composite_tuples_complete', 1)");
}

Status MigrateSchema(Connection& conn, int64_t now_us) {
  ASSIGN_OR_RETURN(int64_t applied, AppliedVersion(conn));
  if (applied > CurrentSchemaVersion()) {
    return Status(StatusCode::kInternal,
                  "the database has schema version " + std::to_string(applied) +
                      ", newer than this build supports (" +
                      std::to_string(CurrentSchemaVersion()) + "): upgrade carechart");
  }
  for (const Migration& m : Migrations()) {
    if (m.version > applied) {
      RETURN_IF_ERROR(Apply(conn, m, now_us));
    }
  }
  return Status::Ok();
}

}  // namespace carechart::store::sqlite
