// The schema of the SQLite backend and its migrations.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// The schema version this build writes.
int CurrentSchemaVersion();

// Creates the schema in an empty database or applies the migrations a database lacks, each in
// its own transaction. Fails (naming the file's version) when the database is newer than this
// build. Must run on the write connection before any other use.
Status MigrateSchema(Connection& conn, int64_t now_us);

// Whether sp_composite holds the tuples of every resource (the store_flag row of migration 6):
// a database created with migration 2, or one whose `carechart reindex` of everything (or of
// Observation) completed. One migrated to composites later has no tuples for the resources
// written before until then, so its searches must not rely on them (D58, D60).
StatusOr<bool> CompositeTuplesComplete(Connection& conn);
// Records that a reindex filled every resource's composite tuples (in the caller's transaction).
Status SetCompositeTuplesComplete(Connection& conn);

// The secondary indexes (resource lookups by type/time/patient, search-index values) that a bulk
// load may drop and build once at the end: building an index by sorting is several times cheaper
// than keeping it up to date row by row. Primary keys and UNIQUE constraints are never dropped.
// Drop runs inside the caller's transaction; it drops the indexes whose list entry is not
// `kept_during_bulk_load` (the search-index value indexes) and keeps those whose keys grow with
// the load: the resource table's lookups and the references by source (decisions D59, D63).
Status DropSecondaryIndexes(Connection& conn);
// Creates those that are missing (IF NOT EXISTS): at the end of a bulk load, and at every open so
// that a bulk load killed half-way leaves a database that repairs itself.
Status EnsureSecondaryIndexes(Connection& conn);
// The names of the secondary indexes EnsureSecondaryIndexes would create, in the list's order
// (a read: no write lock).
StatusOr<std::vector<std::string>> MissingSecondaryIndexes(Connection& conn);
// Creates one secondary index of the list by name (kInternal for a name not in it).
Status CreateSecondaryIndex(Connection& conn, const std::string& name);

}  // namespace carechart::store::sqlite
