// ResourceStore::ScanCurrent for PostgreSQL with CurrentScan::as_of_us: chunks by key.
#pragma once

#include "core/status.h"
#include "store/postgres/pg_read_router.h"
#include "store/resource_store.h"

namespace carechart::store::pg {

// Reads the versions `scan` asks for (its as_of_us set) in chunks of `scan.chunk_rows` rows by
// key, each chunk one statement on a read connection: current versions and those deleted after
// as_of_us (D91). The connection is given back before `fn` sees a chunk's rows.
Status ScanCurrentInChunks(ReadRouter& reads, const CurrentScan& scan, const ScanFunction& fn);

}  // namespace carechart::store::pg
