// The SQLite ResourceStore::ScanCurrent (system export, decisions D54).
//
// Without CurrentScan::as_of_us (`carechart export`), one read transaction: the scan sees one
// snapshot, whatever is written meanwhile (the WAL cannot be checkpointed past it until the scan
// ends). With it (a server's `$export`, which knows its transactionTime and turns what changed
// later back into its state then), chunks of keys, each its own read transaction, with the WAL
// started over between chunks (Snapshots below, D91), and the rows deleted after as_of_us passed
// too (a job reads after its transactionTime: a deletion in between lost the resource before). Its
// own connection, so that a server's reader pool keeps all its connections. Not memory-mapped:
// a map saved 15–25 % of the wall time but put up to 2 GB of the file in the process's RSS.
// Measured on 1,000 patients (994,622 resources, sqlite3 shell to /dev/null): a table scan
// reads the bodies in 2.7–3.3 s, a walk of every type in key order through resource(type) in
// 3.6–5.2 s (each type's rows are spread over the whole table).
//
// Shape: when the types asked for hold at least half the rows, one scan of the table in key
// order (rows of other types skipped before their body is read); otherwise one walk per type
// through resource(type). The first is the usual system export; the second an export of a few
// types, or of a database whose audit trail has outgrown its record.
#include "store/sqlite_current_scan.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include <sqlite3.h>

#include "fhir/definitions.h"
#include "store/sqlite_body_codec.h"
#include "store/sqlite_body_dictionaries.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {
namespace {

// Steps `stmt` (on `conn`) to the end, passing each row (type, id, last_updated, body, deleted,
// pk) to `fn`; returns how many it passed, and sets `last_pk` to the last one's pk. The views
// point into SQLite's row buffers, or for a compressed body into one buffer reused for every
// row (no copy of plain bodies, no allocation per compressed one): `fn` keeps nothing.
StatusOr<int64_t> Drain(Connection& conn, Statement& stmt, const ScanFunction& fn,
                        int64_t* last_pk = nullptr) {
  int64_t rows = 0;
  std::string decoded;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return rows;
    }
    ScannedVersion v;
    v.type = stmt.TextView(0);
    v.id = stmt.TextView(1);
    v.last_updated_us = stmt.Int(2);
    v.body = stmt.TextView(3);
    if (BodyCodec::IsCompressed(v.body)) {  // plain JSON is passed on without a copy
      RETURN_IF_ERROR(DecodeStoredBody(conn, v.body, &decoded, v.type, v.id));
      v.body = decoded;
    }
    v.deleted = stmt.Int(4) != 0;
    if (last_pk != nullptr) {
      *last_pk = stmt.Int(5);
    }
    ++rows;
    RETURN_IF_ERROR(fn(v));
  }
}

// The snapshots a scan reads under: one for the whole scan, or (CurrentScan::as_of_us) one per
// chunk, with the WAL started over between two chunks once it holds more than the
// autocheckpoint's frames (D91). Ending a snapshot is not enough for that: SQLite starts the log
// over only at a write that begins when every frame has been copied, which a stream of
// snapshots, one always open, never allows. A RESTART checkpoint between two chunks copies every
// frame, waiting (busy timeout) for the writer's transaction in progress and the readers, and so
// makes the next write start the log over; it blocks writers only while it copies what was
// written during one chunk.
class Snapshots {
 public:
  static constexpr int kRestartFrames = kWalAutocheckpointFrames;

  Snapshots(Connection& conn, std::unique_ptr<Connection> checkpointer)
      : conn_(conn), checkpointer_(std::move(checkpointer)) {}

  bool chunked() const { return checkpointer_ != nullptr; }

  // Runs `body` in a snapshot of its own (chunked), or in the scan's one snapshot.
  template <typename Body>
  Status Chunk(Body&& body) {
    if (!chunked()) {
      return body();
    }
    RETURN_IF_ERROR(conn_.Exec("BEGIN"));
    Status s = body();
    (void)conn_.Exec("COMMIT");
    RestartLongWal();
    return s;
  }

 private:
  // Best effort: a checkpoint that cannot run now (busy) is tried again after the next chunk.
  void RestartLongWal() {
    // A passive checkpoint that finds frames to copy syncs the database file: after every chunk
    // of 1,000 rows that made an export 2-4 times slower (measured, D91), so at most this often
    // (a chunk of 10,000 rows takes about that long).
    auto now = std::chrono::steady_clock::now();
    if (now - last_probe_ < kProbeEvery) {
      return;
    }
    last_probe_ = now;
    int log = 0;
    int copied = 0;
    sqlite3* db = checkpointer_->raw();
    if (sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied) !=
            SQLITE_OK ||
        log <= kRestartFrames) {
      return;
    }
    // Another checkpoint in progress (the writer's autocheckpoint, which runs after every
    // commit while the WAL is this long) makes this one fail at once, without the busy
    // handler: try a few times.
    for (int attempt = 0; attempt < kRestartAttempts; ++attempt) {
      int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_RESTART, &log, &copied);
      if (rc == SQLITE_OK) {
        return;
      }
      if ((rc & 0xff) != SQLITE_BUSY) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  static constexpr int kRestartAttempts = 5;

  Connection& conn_;
  std::unique_ptr<Connection> checkpointer_;
  static constexpr auto kProbeEvery = std::chrono::milliseconds(100);
  std::chrono::steady_clock::time_point last_probe_{};
};

// Rows per type (deleted ones too: an estimate is enough to choose a shape), from resource(type).
StatusOr<std::map<std::string, int64_t, std::less<>>> RowsPerType(Connection& conn) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT type, count(*) FROM resource GROUP BY type"));
  std::map<std::string, int64_t, std::less<>> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return out;
    }
    out.emplace(s.TextView(0), s.Int(1));
  }
}

std::vector<std::string> WantedTypes(const CurrentScan& scan) {
  if (!scan.types.empty()) {
    return scan.types;
  }
  std::vector<std::string> out;
  for (std::string_view t : fhir::ResourceTypes()) {
    if (t != "AuditEvent") {
      out.emplace_back(t);
    }
  }
  return out;
}

std::string JsonList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (const std::string& v : values) {
    out += (out.size() > 1 ? ",\"" : "\"") + v + "\"";  // FHIR type names need no escapes
  }
  return out + "]";
}

// The rows a scan passes: current ones, and with as_of_us those deleted after it (?3).
std::string Filters(const CurrentScan& scan) {
  std::string out = scan.as_of_us ? " AND (deleted = 0 OR +last_updated > ?3)" : " AND deleted = 0";
  return out + (scan.since_us ? " AND +last_updated >= ?2" : "");
}

void BindFilters(Statement& s, const CurrentScan& scan) {
  if (scan.since_us) {
    s.Bind(2, *scan.since_us);
  }
  if (scan.as_of_us) {
    s.Bind(3, *scan.as_of_us);
  }
}

constexpr const char* kColumns = "SELECT type, id, last_updated, body, deleted, pk FROM resource ";

// The whole table in key order, rows of other types skipped before their body is read; chunked,
// in ranges of chunk_rows keys up to the largest key when the scan began (a resource made later
// was made after as_of_us, which the caller leaves out anyway).
Status ScanTable(Connection& conn, Snapshots& snapshots, const CurrentScan& scan,
                 const std::vector<std::string>& types, const ScanFunction& fn) {
  std::string sql = std::string(kColumns) +
                    "NOT INDEXED WHERE type IN (SELECT value FROM json_each(?1))" + Filters(scan);
  if (!snapshots.chunked()) {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
    s.Bind(1, JsonList(types));
    BindFilters(s, scan);
    return Drain(conn, s, fn).status();
  }
  int64_t last_pk = 0;
  RETURN_IF_ERROR(snapshots.Chunk([&]() -> Status {
    ASSIGN_OR_RETURN(Statement last, conn.Prepare("SELECT COALESCE(MAX(pk), 0) FROM resource"));
    ASSIGN_OR_RETURN(bool row, last.Step());
    last_pk = row ? last.Int(0) : 0;
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql + " AND pk > ?4 AND pk <= ?5"));
  const int64_t chunk = std::max(1, scan.chunk_rows);
  for (int64_t lo = 0; lo < last_pk; lo += chunk) {
    RETURN_IF_ERROR(snapshots.Chunk([&]() -> Status {
      s.Reset();
      s.Bind(1, JsonList(types));
      BindFilters(s, scan);
      s.Bind(4, lo).Bind(5, lo + chunk);
      return Drain(conn, s, fn).status();
    }));
  }
  return Status::Ok();
}

// Each type through resource(type), in key order; chunked, chunk_rows rows at a time by key.
Status WalkTypes(Connection& conn, Snapshots& snapshots, const CurrentScan& scan,
                 const std::vector<std::string>& types, const ScanFunction& fn) {
  std::string sql = std::string(kColumns) + "WHERE type = ?1" + Filters(scan);
  if (!snapshots.chunked()) {
    ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql + " ORDER BY pk"));
    for (const std::string& t : types) {
      s.Reset();
      s.Bind(1, t);
      BindFilters(s, scan);
      RETURN_IF_ERROR(Drain(conn, s, fn).status());
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql + " AND pk > ?4 ORDER BY pk LIMIT ?5"));
  const int64_t chunk = std::max(1, scan.chunk_rows);
  for (const std::string& t : types) {
    int64_t after = 0;
    int64_t got = chunk;
    while (got == chunk) {
      RETURN_IF_ERROR(snapshots.Chunk([&]() -> Status {
        s.Reset();
        s.Bind(1, t);
        BindFilters(s, scan);
        s.Bind(4, after).Bind(5, chunk);
        ASSIGN_OR_RETURN(got, Drain(conn, s, fn, &after));
        return Status::Ok();
      }));
    }
  }
  return Status::Ok();
}

Status Scan(Connection& conn, Snapshots& snapshots, const CurrentScan& scan,
            const ScanFunction& fn) {
  std::vector<std::string> types = WantedTypes(scan);
  std::map<std::string, int64_t, std::less<>> rows;
  RETURN_IF_ERROR(snapshots.Chunk([&]() -> Status {
    ASSIGN_OR_RETURN(rows, RowsPerType(conn));
    return Status::Ok();
  }));
  int64_t all = 0;
  int64_t wanted = 0;
  std::vector<std::string> present;  // wanted types that have rows, in the order asked
  for (const auto& [type, n] : rows) {
    all += n;
  }
  for (const std::string& t : types) {
    if (auto it = rows.find(t); it != rows.end() && it->second > 0) {
      wanted += it->second;
      present.push_back(t);
    }
  }
  if (wanted * 2 >= all) {
    return ScanTable(conn, snapshots, scan, present, fn);
  }
  return WalkTypes(conn, snapshots, scan, present, fn);
}

}  // namespace

Status ScanCurrentVersions(const std::string& path, std::shared_ptr<BodyCodec> codec,
                           const CurrentScan& scan, const ScanFunction& fn) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path, /*read_only=*/true));
  if (codec) {
    conn->set_body_codec(std::move(codec));
  }
  if (!scan.as_of_us) {
    Snapshots one(*conn, nullptr);
    RETURN_IF_ERROR(conn->Exec("BEGIN"));
    Status s = Scan(*conn, one, scan, fn);
    (void)conn->Exec("COMMIT");
    return s;
  }
  // A read-write connection of its own for the checkpoints: the scan's stays read-only.
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpointer,
                   Connection::Open(path, /*read_only=*/false));
  Snapshots chunks(*conn, std::move(checkpointer));
  return Scan(*conn, chunks, scan, fn);
}

}  // namespace carechart::store::sqlite
