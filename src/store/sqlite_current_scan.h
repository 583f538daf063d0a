// ResourceStore::ScanCurrent for SQLite: a system export's read of every current version.
#pragma once

#include <string>

#include "core/status.h"
#include "store/resource_store.h"

namespace carechart::store::sqlite {

// Reads `scan` from the database file at `path` on a connection of its own, in one read
// transaction (one snapshot, however long the scan), with the file memory-mapped.
Status ScanCurrentVersions(const std::string& path, const CurrentScan& scan,
                           const ScanFunction& fn);

}  // namespace carechart::store::sqlite
