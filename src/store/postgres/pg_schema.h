// Schema migrations of the PostgreSQL backend (the tables are described in pg_schema.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/postgres/pg_conn.h"

namespace carechart::store::pg {

// The newest schema version this build knows.
int CurrentSchemaVersion();

// Applies every missing migration (each in its own transaction, recorded in schema_version)
// while holding a session advisory lock, so concurrent callers on several nodes are safe.
// `up_to` > 0 stops at that version (tests of the upgrade path). Returns how many were applied.
// Fails when the database is newer than this build.
StatusOr<int> MigrateSchema(Connection& conn, int64_t now_us, int up_to = 0);

// The tables a search statement reads (resources, their history and index rows), whose
// statistics decide its plan (pg_statistics.h).
const std::vector<std::string>& SearchTables();

// The version recorded in the database (0: none).
StatusOr<int64_t> SchemaVersion(Connection& conn);

}  // namespace carechart::store::pg
