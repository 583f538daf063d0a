// Storage format of the PostgreSQL backend: the SQLite schema (store/sqlite_schema.cc explains
// every table) in PostgreSQL types, so that one search compiler serves both.
//
// Differences from SQLite, and why:
// - body is bytea: the stored JSON bytes are served as they are (jsonb would reorder keys and
//   drop the decimals' spelling; json would re-validate on every write).
// - every text column is COLLATE "C": comparisons and the string-prefix ranges of the compiler
//   (search_sql_values.cc) are byte order, whatever locale the database was created with.
// - deleted is smallint (the compiler writes "r.deleted = 0"); seq comes from a sequence, since
//   several API nodes write at once; resource.pk is an identity column.
// - index tables are ordinary (heap) tables with a primary key (res, param, ...) and the same
//   secondary (param, value...) indexes.
// - sp_composite's lo/hi columns are numeric: they hold microsecond instants (exact beyond
//   2^53) or decimal values.
// - the audit log is append-only through a trigger, like SQLite's.
// - every clinical table (resource, resource_history, sp_*) carries compartment_key, the Citus
//   distribution column, in every key and foreign key (migration 7, decisions D46), and
//   resource_key makes (type, id) unique; SQLite has neither (one file has no shards).
//
// Migrations keep SQLite's numbers (1 initial, 2 composite, 3 audit log), then 4 and 5 create
// the tables that the SQLite auth and job stores create on their own (auth_*, bulk_job), 6 the
// job leases, 7 the compartment key (SQLite's own 4 is an index PostgreSQL does not need), 8 and
// 9 the patient of the token rows (SQLite's 6; its 5 is an index PostgreSQL does not need), 10
// the current Patients by id (SQLite's 7), 11 the token rows by patient and code (SQLite's 8),
// 12 the date spans (SQLite's 11); all are recorded in schema_version. They run under a session
// advisory lock, so two nodes starting at once apply each migration exactly once: the second waits,
// then finds nothing left to do.
#include "store/postgres/pg_schema.h"

#include <string>
#include <string_view>
#include <vector>

#include "fhir/definitions.h"
#include "store/token_patient.h"

namespace carechart::store::pg {
namespace {

// pg_advisory_lock key of schema migrations ("carechart schema" in ASCII, truncated).
constexpr int64_t kMigrationLock = 0x6361726563686172;

// Migration 7 (see its entry below). Backfills from resource, by the rule of CompartmentKey
// (pg_compartment_key.h); the index tables are rewritten once, so on a large database it takes
// about as long as a reindex.
std::string Migration7() {
  std::string compartment_types;
  for (std::string_view type : fhir::ResourceTypes()) {
    if (type != "Patient" && !fhir::PatientCompartmentParams(type).empty()) {
      compartment_types += (compartment_types.empty() ? "'" : ", '") + std::string(type) + "'";
    }
  }
  return R"sql(
ALTER TABLE resource ADD COLUMN compartment_key text COLLATE "C";
UPDATE resource SET compartment_key = CASE WHEN type = 'Patient' THEN id
  WHEN type IN ()sql" +
         compartment_types + R"sql() THEN COALESCE(NULLIF(patient_id, ''), type || '/' || id)
  ELSE type || '/' || id END;
ALTER TABLE resource ALTER COLUMN compartment_key SET NOT NULL;

-- Where each (type, id) lives, and the one place (type, id) is unique (on Citus: distributed by
-- id, so a lookup by id goes to one shard).
CREATE TABLE resource_key(
  type text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL,
  compartment_key text COLLATE "C" NOT NULL,
  PRIMARY KEY(type, id));
INSERT INTO resource_key(type, id, compartment_key) SELECT type, id, compartment_key FROM resource;

DO $$
DECLARE
  t text;
  keys constant text[][] := ARRAY[
    ['resource_history', 'seq'], ['sp_token', 'res, param, sys, code'],
    ['sp_string', 'res, param, normalized, exact'], ['sp_date', 'res, param, low, high'],
    ['sp_reference', 'res, param, target_id, target_type, url'],
    ['sp_quantity', 'res, param, value, sys, code, unit'], ['sp_number', 'res, param, value'],
    ['sp_uri', 'res, param, uri'], ['sp_composite', 'res, param, grp']];
BEGIN
  FOR i IN 1 .. array_length(keys, 1) LOOP
    t := keys[i][1];
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_res_fkey');
    EXECUTE format('ALTER TABLE %I ADD COLUMN compartment_key text COLLATE "C"', t);
    EXECUTE format('UPDATE %I x SET compartment_key = r.compartment_key FROM resource r '
                   'WHERE r.pk = x.res', t);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN compartment_key SET NOT NULL', t);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_pkey');
    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY(%s, compartment_key)', t, keys[i][2]);
  END LOOP;
  ALTER TABLE resource DROP CONSTRAINT resource_pkey;
  ALTER TABLE resource ADD PRIMARY KEY(pk, compartment_key);
  ALTER TABLE resource DROP CONSTRAINT resource_type_id_key;
  ALTER TABLE resource ADD CONSTRAINT resource_type_id_key UNIQUE(type, id, compartment_key);
  DROP INDEX resource_seq_key;
  CREATE UNIQUE INDEX resource_seq_key ON resource(seq, compartment_key);
  DROP INDEX history_res_version;
  CREATE UNIQUE INDEX history_res_version ON resource_history(res, version, compartment_key);
  FOR i IN 1 .. array_length(keys, 1) LOOP
    t := keys[i][1];
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY(res, compartment_key) '
                   'REFERENCES resource(pk, compartment_key)', t, t || '_res_fkey');
  END LOOP;
END $$;
)sql";
}

// Migration 9 (decisions D68): fills the patient column of the token rows written before
// migration 8, by the rule of SQLite's migration 6 (store/token_patient.h): the one Patient that
// the resource's `patient` reference rows name, else ''. Rows that already hold it (written
// since migration 8) are left alone, so a database migrated in one go rewrites each row once.
// The token value index gains the patient after its key, so `_has:T:patient:<code>` reads the
// code's patients from the index alone (an index-only scan); B-tree deduplication keeps it the
// size of the old one (a code's rows of one patient share an entry). It is dropped before the
// update and built after it, once.
std::string Migration9() {
  return R"sql(
DROP INDEX IF EXISTS sp_token_value;
CREATE TEMP TABLE token_patient ON COMMIT DROP AS
  SELECT res, compartment_key, MAX(target_id) AS patient FROM sp_reference
  WHERE param IN ()sql" +
         PatientParamKeyList() + R"sql() AND target_type = 'Patient'
  GROUP BY res, compartment_key HAVING COUNT(DISTINCT target_id) = 1;
UPDATE sp_token t SET patient = p.patient FROM token_patient p
  WHERE t.res = p.res AND t.compartment_key = p.compartment_key AND t.patient <> p.patient;
CREATE INDEX IF NOT EXISTS sp_token_code ON sp_token(param, code, sys, patient);
)sql";
}

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

const std::vector<Migration>& Migrations() {
  static const std::string migration7 = Migration7();
  static const std::string migration9 = Migration9();
  static const std::vector<Migration> migrations = {
      {1, "initial schema", R"sql(
CREATE SEQUENCE resource_seq;
CREATE TABLE resource(
  pk bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  type text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  last_updated bigint NOT NULL,
  deleted smallint NOT NULL,
  patient_id text COLLATE "C",
  method text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  body bytea NOT NULL,
  UNIQUE(type, id));
CREATE INDEX resource_type_updated ON resource(type, last_updated);
CREATE UNIQUE INDEX resource_seq_key ON resource(seq);
CREATE INDEX resource_type_seq ON resource(type, seq);
CREATE INDEX resource_patient ON resource(patient_id) WHERE patient_id IS NOT NULL;

CREATE TABLE resource_history(
  seq bigint PRIMARY KEY,
  res bigint NOT NULL REFERENCES resource(pk),
  type text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  last_updated bigint NOT NULL,
  superseded bigint NOT NULL,
  deleted smallint NOT NULL,
  method text COLLATE "C" NOT NULL,
  body bytea NOT NULL);
CREATE UNIQUE INDEX history_res_version ON resource_history(res, version);
CREATE INDEX history_type_seq ON resource_history(type, seq);

CREATE TABLE sp_token(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL,
  sys bigint NOT NULL, code text COLLATE "C" NOT NULL, text text COLLATE "C" NOT NULL,
  PRIMARY KEY(res, param, sys, code));
CREATE INDEX sp_token_value ON sp_token(param, code, sys);

CREATE TABLE sp_string(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL,
  normalized text COLLATE "C" NOT NULL, exact text COLLATE "C" NOT NULL,
  PRIMARY KEY(res, param, normalized, exact));
CREATE INDEX sp_string_value ON sp_string(param, normalized);

CREATE TABLE sp_date(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL,
  low bigint NOT NULL, high bigint NOT NULL,
  PRIMARY KEY(res, param, low, high));
CREATE INDEX sp_date_value ON sp_date(param, low, high);

CREATE TABLE sp_reference(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL,
  target_id text COLLATE "C" NOT NULL, target_type text COLLATE "C" NOT NULL,
  url text COLLATE "C" NOT NULL,
  PRIMARY KEY(res, param, target_id, target_type, url));
CREATE INDEX sp_reference_value ON sp_reference(param, target_id, target_type);

CREATE TABLE sp_quantity(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL,
  value double precision NOT NULL, sys bigint NOT NULL, code text COLLATE "C" NOT NULL,
  unit text COLLATE "C" NOT NULL,
  PRIMARY KEY(res, param, value, sys, code, unit));
CREATE INDEX sp_quantity_value ON sp_quantity(param, value);

CREATE TABLE sp_number(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL,
  value double precision NOT NULL,
  PRIMARY KEY(res, param, value));
CREATE INDEX sp_number_value ON sp_number(param, value);

CREATE TABLE sp_uri(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL,
  uri text COLLATE "C" NOT NULL,
  PRIMARY KEY(res, param, uri));
CREATE INDEX sp_uri_value ON sp_uri(param, uri);
)sql"},
      {2, "composite search parameters", R"sql(
CREATE TABLE sp_composite(
  res bigint NOT NULL REFERENCES resource(pk), param bigint NOT NULL, grp bigint NOT NULL,
  s1 bigint NOT NULL, t1 text COLLATE "C" NOT NULL, u1 text COLLATE "C" NOT NULL,
  lo1 numeric NOT NULL, hi1 numeric NOT NULL,
  s2 bigint NOT NULL, t2 text COLLATE "C" NOT NULL, u2 text COLLATE "C" NOT NULL,
  lo2 numeric NOT NULL, hi2 numeric NOT NULL,
  s3 bigint NOT NULL, t3 text COLLATE "C" NOT NULL, u3 text COLLATE "C" NOT NULL,
  lo3 numeric NOT NULL, hi3 numeric NOT NULL,
  PRIMARY KEY(res, param, grp));
CREATE INDEX sp_composite_value ON sp_composite(param, t1, s1);
)sql"},
      {3, "audit log", R"sql(
CREATE TABLE audit_log(
  seq bigint PRIMARY KEY,
  recorded bigint NOT NULL,
  event_id text COLLATE "C" NOT NULL,
  body text NOT NULL,
  prev_hash text COLLATE "C" NOT NULL,
  hash text COLLATE "C" NOT NULL);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'audit_log is append-only'; END$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
)sql"},
      // Authentication state (auth/auth_store.h; columns as in auth/sqlite_auth_store.cc),
      // shared by every API node so that a token issued by one verifies on all.
      {4, "authentication tables", R"sql(
CREATE TABLE auth_user(
  id text PRIMARY KEY, username text NOT NULL UNIQUE, display text NOT NULL, role text NOT NULL,
  facilities text NOT NULL, practitioner_id text NOT NULL, patient_id text NOT NULL,
  proxy_patients text NOT NULL, password_hash text NOT NULL, must_change bigint NOT NULL,
  totp_secret text NOT NULL, disabled bigint NOT NULL, failed_logins bigint NOT NULL,
  locked_until bigint NOT NULL, created_at bigint NOT NULL);
CREATE TABLE auth_client(
  id text PRIMARY KEY, name text NOT NULL, kind text NOT NULL, secret_hash text NOT NULL,
  jwks text NOT NULL, redirect_uris text NOT NULL, scopes text NOT NULL,
  created_at bigint NOT NULL);
CREATE TABLE auth_signing_key(
  seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, kid text NOT NULL UNIQUE,
  private_pem text NOT NULL, created_at bigint NOT NULL);
CREATE TABLE auth_code(
  code_hash text PRIMARY KEY, client_id text NOT NULL, user_id text NOT NULL,
  redirect_uri text NOT NULL, scope text NOT NULL, code_challenge text NOT NULL,
  patient_id text NOT NULL, encounter_id text NOT NULL, nonce text NOT NULL,
  expires_at bigint NOT NULL, used bigint NOT NULL DEFAULT 0,
  facility_id text NOT NULL DEFAULT '');
CREATE TABLE auth_refresh(
  token_hash text PRIMARY KEY, family text NOT NULL, client_id text NOT NULL,
  user_id text NOT NULL, scope text NOT NULL, patient_id text NOT NULL,
  expires_at bigint NOT NULL, rotated bigint NOT NULL DEFAULT 0,
  revoked bigint NOT NULL DEFAULT 0, facility_id text NOT NULL DEFAULT '');
CREATE INDEX auth_refresh_family ON auth_refresh(family);
CREATE INDEX auth_refresh_user ON auth_refresh(user_id);
CREATE TABLE auth_revoked(
  seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, jti text NOT NULL UNIQUE,
  expires_at bigint NOT NULL);
CREATE TABLE auth_assertion(
  client_id text NOT NULL, jti text NOT NULL, expires_at bigint NOT NULL,
  PRIMARY KEY(client_id, jti));
CREATE TABLE auth_launch(
  id text PRIMARY KEY, patient_id text NOT NULL, encounter_id text NOT NULL,
  expires_at bigint NOT NULL);
CREATE TABLE auth_session(
  id_hash text PRIMARY KEY, user_id text NOT NULL, stage text NOT NULL,
  request_json text NOT NULL, expires_at bigint NOT NULL);
CREATE TABLE auth_activation(
  code_hash text PRIMARY KEY, user_id text NOT NULL, purpose text NOT NULL,
  expires_at bigint NOT NULL, used bigint NOT NULL DEFAULT 0);
CREATE INDEX auth_activation_user ON auth_activation(user_id);
)sql"},
      // Bulk Data jobs (bulk/job_store.h; columns as in bulk/sqlite_job_store.cc).
      {5, "bulk data jobs", R"sql(
CREATE TABLE bulk_job(
  id text PRIMARY KEY, kind text NOT NULL, state text NOT NULL, request text NOT NULL,
  base_url text NOT NULL, created_us bigint NOT NULL, updated_us bigint NOT NULL,
  transaction_time_us bigint NOT NULL, attempts bigint NOT NULL, done bigint NOT NULL,
  total bigint NOT NULL, progress text NOT NULL, result text NOT NULL, error text NOT NULL);
)sql"},
      // Several API nodes: a job runs under a lease its node renews (bulk/pg_job_store.cc).
      {6, "bulk data job leases", R"sql(
ALTER TABLE bulk_job ADD COLUMN lease_owner text NOT NULL DEFAULT '',
  ADD COLUMN lease_until bigint NOT NULL DEFAULT 0;
CREATE INDEX bulk_job_claimable ON bulk_job(created_us) WHERE state IN ('queued', 'running');
)sql"},
      // Ready to shard by patient (issue #7, decisions D46): every clinical row carries its
      // resource's compartment key, and every key, unique constraint and foreign key of those
      // tables includes it (Citus distributes a table by one column and accepts only constraints
      // that contain it). The key is placed last, so the lookups by res or (type, id) that
      // every query does use the same indexes as before. The uniqueness of (type, id) itself,
      // which a distributed resource table can no longer enforce, moves to resource_key.
      {7, "patient compartment key on every clinical table", migration7.c_str()},
      // Token rows carry the resource's patient (store/token_patient.h, decisions D60), as on
      // SQLite, where `_has:T:patient:` reads it; written from then on, filled by migration 9.
      {8, "patient on token rows", R"sql(
ALTER TABLE sp_token ADD COLUMN patient text COLLATE "C" NOT NULL DEFAULT '';
)sql"},
      {9, "patient on the token rows written before migration 8", migration9.c_str()},
      // SQLite's 7 (decisions D74): the current Patients by id, so that the Patients of
      // `_has:T:patient:<code>` are found current without reading their rows (an index-only
      // scan; the condition's columns need not be in it, the predicate implies them).
      {10, "current Patients by id", R"sql(
CREATE INDEX IF NOT EXISTS resource_current_patient ON resource(id) INCLUDE (pk, compartment_key)
  WHERE type = 'Patient' AND deleted = 0;
)sql"},
      // SQLite's 8 (decisions D86): token rows by patient, then code, so that a patient's rows
      // of one code (Observation?patient=P&code=S|C) are one range; res is the index's last
      // column (SQLite appends a WITHOUT ROWID table's key to its indexes by itself).
      {11, "token rows by patient and code", R"sql(
CREATE INDEX IF NOT EXISTS sp_token_patient ON sp_token(param, patient, code, sys, res);
)sql"},
      // SQLite's 11 (decisions D111, D113): each date parameter's longest closed range, so that
      // a `ge`/`gt`/`ap` range bounds `low` too, and the rows without an end in a partial index
      // of their own. The spans are capped as LongestDateSpans caps them (store/index_rows.h);
      // filling them reads sp_date once. Under Citus sp_date_span is a reference table
      // (docs/deploy.md): read by every shard's search, written rarely (a longer range).
      {12, "longest closed date range per parameter; open-ended date rows", R"sql(
CREATE TABLE IF NOT EXISTS sp_date_span(
  param bigint PRIMARY KEY,
  span bigint NOT NULL);
INSERT INTO sp_date_span(param, span)
  SELECT param, LEAST(MAX(high::numeric - low), 4611686018427387904)::bigint FROM sp_date
  WHERE low > -9223372036854775808 AND high < 9223372036854775807 GROUP BY param
  ON CONFLICT (param) DO UPDATE SET span = GREATEST(sp_date_span.span, excluded.span);
CREATE INDEX IF NOT EXISTS sp_date_open_end ON sp_date(param, low)
  WHERE high = 9223372036854775807;
)sql"},
  };
  return migrations;
}

StatusOr<int64_t> AppliedVersion(Connection& conn) {
  ASSIGN_OR_RETURN(Rows rows, conn.Run("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  return rows.size() ? rows.Int(0, 0) : 0;
}

Status Apply(Connection& conn, const Migration& m, int64_t now_us) {
  Status s = conn.Exec(std::string("BEGIN;\n") + m.sql);
  if (s.ok()) {
    s = conn.Run(
                "INSERT INTO schema_version(version, applied_us, description) "
                "VALUES ($1, $2, $3)",
                Args().Int(m.version).Int(now_us).Text(m.description))
            .status();
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

Status MigrateLocked(Connection& conn, int64_t now_us, int* applied_count) {
  RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_version(version integer PRIMARY KEY, "
                "applied_us bigint NOT NULL, description text NOT NULL)"));
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
      ++*applied_count;
    }
  }
  return Status::Ok();
}

}  // namespace

int CurrentSchemaVersion() { return Migrations().back().version; }

const std::vector<std::string>& SearchTables() {
  static const std::vector<std::string> tables = {
      "resource",     "resource_key", "resource_history", "sp_token", "sp_string",   "sp_date",
      "sp_reference", "sp_quantity",  "sp_number",        "sp_uri",   "sp_composite"};
  return tables;
}

StatusOr<int> MigrateSchema(Connection& conn, int64_t now_us, int up_to) {
  // CREATE TABLE IF NOT EXISTS is not safe against a concurrent CREATE: take the lock first.
  RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")"));
  int applied = 0;
  Status s;
  if (up_to <= 0 || up_to >= CurrentSchemaVersion()) {
    s = MigrateLocked(conn, now_us, &applied);
  } else {
    // Tests build an older schema to check the upgrade path: apply only up to `up_to`.
    s = conn.Exec(
        "CREATE TABLE IF NOT EXISTS schema_version(version integer PRIMARY KEY, "
        "applied_us bigint NOT NULL, description text NOT NULL)");
    if (s.ok()) {
      StatusOr<int64_t> have = AppliedVersion(conn);
      s = have.status();
      for (const Migration& m : Migrations()) {
        if (s.ok() && m.version > *have && m.version <= up_to) {
          s = Apply(conn, m, now_us);
          ++applied;
        }
      }
    }
  }
  Status unlock = conn.Exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(unlock);
  return applied;
}

StatusOr<int64_t> SchemaVersion(Connection& conn) {
  ASSIGN_OR_RETURN(Rows exists, conn.Run("SELECT to_regclass('schema_version') IS NOT NULL"));
  if (!exists.size() || exists.Int(0, 0) == 0) {
    return 0;
  }
  return AppliedVersion(conn);
}

}  // namespace carechart::store::pg
