// The schema of the SQLite backend and its migrations.
#pragma once

#include "core/status.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// The schema version this build writes.
int CurrentSchemaVersion();

// Creates the schema in an empty database or applies the migrations a database lacks, each in
// its own transaction. Fails (naming the file's version) when the database is newer than this
// build. Must run on the write connection before any other use.
Status MigrateSchema(Connection& conn, int64_t now_us);

}  // namespace carechart::store::sqlite
