// The chunked scan of a PostgreSQL store (decisions D91). The default ScanCurrent pages through
// searches, which leave deleted resources out: a resource deleted after an export's
// transactionTime and before its page was read went missing from the export, though it existed
// at that instant. Here every chunk also passes the rows deleted after as_of_us, and the
// exporter turns each back into the version current then. Keyset on pk: a resource keeps its pk
// for life (versions update the row in place) and new resources get higher keys, so each row is
// seen once; the primary key (pk, compartment_key) serves the order on one node or many.
#include "store/postgres/pg_current_scan.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fhir/definitions.h"
#include "store/postgres/pg_conn.h"

namespace carechart::store::pg {

Status ScanCurrentInChunks(ReadRouter& reads, const CurrentScan& scan, const ScanFunction& fn) {
  std::vector<std::string> types = scan.types;
  if (types.empty()) {
    for (std::string_view t : fhir::ResourceTypes()) {
      if (t != "AuditEvent") {
        types.emplace_back(t);
      }
    }
  }
  std::string sql =
      "SELECT type, id, last_updated, body, deleted, pk FROM resource WHERE pk > $1 AND "
      "type = ANY($2) AND (deleted = 0 OR last_updated > $3)";
  if (scan.since_us) {
    sql += " AND last_updated >= $5";
  }
  sql += " ORDER BY pk LIMIT $4";
  int64_t chunk = std::max(1, scan.chunk_rows);
  int64_t after = 0;
  while (true) {
    Rows rows;
    {
      ASSIGN_OR_RETURN(Pool::Lease conn, reads.AcquireRead());
      Args args;
      args.Int(after).TextArray(types).Int(*scan.as_of_us).Int(chunk);
      if (scan.since_us) {
        args.Int(*scan.since_us);
      }
      ASSIGN_OR_RETURN(rows, conn->Run(sql, args));
    }
    for (int i = 0; i < rows.size(); ++i) {
      std::string type = rows.Text(i, 0);
      std::string id = rows.Text(i, 1);
      std::string body = rows.Text(i, 3);
      RETURN_IF_ERROR(fn({type, id, rows.Int(i, 2), body, rows.Int(i, 4) != 0}));
    }
    if (rows.size() < chunk) {
      return Status::Ok();
    }
    after = rows.Int(rows.size() - 1, 5);
  }
}

}  // namespace carechart::store::pg
