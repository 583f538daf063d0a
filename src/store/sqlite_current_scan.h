// ResourceStore::ScanCurrent for SQLite: a system export's read of every current version.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/resource_store.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// Reads `scan` from the database file at `path` on a connection of its own, in one read
// transaction (one snapshot, however long the scan), with the file memory-mapped. Bodies are
// decoded with `codec` (the store's; null: the connection's own).
Status ScanCurrentVersions(const std::string& path, std::shared_ptr<BodyCodec> codec,
                           const CurrentScan& scan, const ScanFunction& fn);

}  // namespace carechart::store::sqlite
