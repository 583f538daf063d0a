// ResourceStore: where FHIR resources live, with every version kept.
//
// Contract shared by every backend (SQLite now, PostgreSQL later):
// - Reads never block on writes and see only committed data.
// - Writes run as small functions on the backend's writer, grouped with other concurrent writes
//   into one transaction and one fsync (group commit). Each function is atomic on its own: if it
//   returns an error, nothing it did is kept, and the other functions of the group are not
//   affected. Write() returns only once the group is durable, so an acknowledged write survives a
//   crash and an unacknowledged one leaves nothing behind.
// - Heavy work (parsing, validation, serialisation, index extraction) happens before Write(), in
//   the caller's thread; the function passed to Write() only checks versions and stores rows.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/search_index.h"
#include "store/audit_log.h"
#include "store/search_query.h"

namespace carechart::store {

// One stored version of a resource.
struct ResourceVersion {
  std::string type;
  std::string id;
  int64_t version = 0;          // 1, 2, 3 ...
  int64_t last_updated_us = 0;  // microseconds since the Unix epoch, UTC
  bool deleted = false;         // a deletion marker version (body is empty)
  std::string body;             // compact JSON, with id and meta as served
  std::string method;           // "POST", "PUT", "DELETE" (for history entries' request)
  // The patient compartment owner stored with the version ("" when none), where the read
  // selected it (SQLite search pages and includes): the access check then need not derive it
  // from the body. nullopt: not read.
  std::optional<std::string> patient_id;
  // The backend's key of the row, where the read selected it (SQLite search pages in key order,
  // which a reindex reads: it then compares the stored index rows by key, D116). 0: not read.
  int64_t row_key = 0;
};

// The current state of a resource id inside a write transaction.
struct CurrentVersion {
  int64_t version = 0;  // 0: the id has never existed
  bool deleted = false;
};

// A version ready to store: produced by the REST layer before calling Write().
struct PreparedWrite {
  std::string type;
  std::string id;
  int64_t version = 1;
  int64_t last_updated_us = 0;
  bool deleted = false;
  std::string method;  // "POST", "PUT", "PATCH", "DELETE"
  std::string body;    // empty for a deletion
  // `body` as the store keeps it, made on the preparing thread by ResourceStore::EncodeBody
  // (SQLite: zstd with the database's dictionary, D102); empty: the store's writer decides.
  std::string stored_body;
  std::string patient_id;    // patient compartment owner, or empty
  fhir::IndexEntries index;  // ignored for a deletion (its rows are removed)
};

// Operations available to a write function, on the writer thread, inside the transaction.
class WriteTxn {
 public:
  virtual ~WriteTxn() = default;
  virtual StatusOr<CurrentVersion> Current(const std::string& type, const std::string& id) = 0;
  // Ids of current, non-deleted resources matching `query` (at most `limit`), for conditional
  // create/update/delete: evaluated inside the transaction so that the check and write are atomic.
  virtual StatusOr<std::vector<std::string>> SearchIds(const SearchQuery& query, int limit) = 0;
  // Stores `w` as the current version of (type, id), moving the previous one into history and
  // replacing its index rows. The caller has checked w.version == Current().version + 1.
  virtual Status Put(const PreparedWrite& w) = 0;
  // A hint that Current() is about to be asked for each of `keys` (type, id): a backend whose
  // every statement is a round trip to a server fetches them together. The default does nothing.
  virtual Status Prefetch(const std::vector<std::pair<std::string, std::string>>& keys) {
    return Status::Ok();
  }
  // Appends `entry` to the hash-chained audit log (audit_log.h) in this transaction: kept exactly
  // when the transaction's other writes are. Backends without an audit log answer kUnimplemented.
  virtual Status AppendAudit(const AuditLogEntry& entry) {
    return {StatusCode::kNotImplemented, "this store has no audit log"};
  }
  // Reindexing (carechart reindex, $reindex): replaces the index rows of (type, id) with `index`
  // when its current version is still `version` and not deleted; otherwise does nothing (a newer
  // write has indexed it already) and returns false. `param` non-empty: only that parameter's rows
  // are replaced (and only its entries of `index` written).
  virtual StatusOr<bool> ReplaceIndex(const std::string& type, const std::string& id,
                                      int64_t version, const fhir::IndexEntries& index,
                                      const std::string& param) {
    return Status{StatusCode::kNotImplemented, "this store cannot reindex"};
  }
};

using WriteFunction = std::function<Status(WriteTxn&)>;

struct HistoryQuery {
  std::string type;                 // empty: system history
  std::string id;                   // empty: type (or system) history
  std::optional<int64_t> since_us;  // _since: versions updated at or after
  std::optional<int64_t> at_us;     // _at: the version current at that instant (per resource)
  int count = 100;
  int64_t offset = 0;
};

struct HistoryPage {
  std::vector<ResourceVersion> versions;  // newest first
  int64_t total = 0;
};

struct SearchResult {
  std::vector<ResourceVersion> matches;  // current versions, in the requested order
  int64_t total = -1;                    // -1 when not counted
  // Resources of the query's include_specs (not matches; never counted in total), each once and
  // never one of the matches.
  std::vector<ResourceVersion> included;
  // Set when more matches follow this page: the keyset position for the next page's _page.
  std::optional<PageCursor> next;
};

// A streaming read of current versions (system export): which ones.
struct CurrentScan {
  std::vector<std::string> types;   // empty: every type but AuditEvent (decisions D21)
  std::optional<int64_t> since_us;  // only versions updated at or after this instant
  // Set: the caller wants the state as of this instant and looks up (in history) every version
  // newer than it, so the scan also passes the versions deleted after it
  // (ScannedVersion::deleted), which existed at it, and reads in chunks of `chunk_rows` rows by
  // key, each its own snapshot (D91).
  std::optional<int64_t> as_of_us;
  int chunk_rows = 10000;
};

// One version seen by ScanCurrent: current and not deleted, or (CurrentScan::as_of_us) deleted
// after the scan's instant. The views point into the backend's row and are valid only during the
// call.
struct ScannedVersion {
  std::string_view type;
  std::string_view id;
  int64_t last_updated_us = 0;
  std::string_view body;
  bool deleted = false;
};

// Called for each version of a scan; a non-OK status stops the scan and is its result.
using ScanFunction = std::function<Status(const ScannedVersion&)>;

// Counters of a store since it was opened (for /metrics and tests).
struct StoreStats {
  int64_t writes = 0;         // write functions run (committed or not)
  int64_t failed_writes = 0;  // write functions that returned an error or whose group failed
  int64_t commits = 0;        // transactions committed (one fsync each): commits < writes when
                              // group commit is grouping
};

class ResourceStore {
 public:
  virtual ~ResourceStore() = default;

  // See the contract at the top of this file. Thread-safe. `fn` runs on the writer thread and must
  // not block or call back into the store except through the WriteTxn it is given.
  virtual Status Write(WriteFunction fn) = 0;

  // Current version: kNotFound when the id never existed; a version with deleted=true when the
  // latest version is a deletion. Thread-safe.
  virtual StatusOr<ResourceVersion> Read(const std::string& type, const std::string& id) = 0;
  // The current versions of `keys` (type, id), in the order given: element i is what
  // Read(keys[i]) returns, nullopt where that is kNotFound (the id never existed; a deleted
  // resource is its deletion version). Any other error fails the whole call. Keys may repeat.
  // For a caller about to look at many ids at once (a transaction's targets): SQLite reads them
  // all on one reader connection in one read transaction (so from one snapshot); the default,
  // for every other backend and wrapper, calls Read once per key. Thread-safe.
  virtual StatusOr<std::vector<std::optional<ResourceVersion>>> ReadMany(
      const std::vector<std::pair<std::string, std::string>>& keys);
  virtual StatusOr<ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                                int64_t version) = 0;
  virtual StatusOr<HistoryPage> History(const HistoryQuery& query) = 0;
  virtual StatusOr<SearchResult> Search(const SearchQuery& query) = 0;

  // Every current, non-deleted version of `scan.types` (each type's versions in key order; the
  // types in any order), passed to `fn` one at a time on the calling thread, and with
  // `scan.as_of_us` the versions deleted after that instant too. SQLite reads them all from one
  // snapshot, or with `as_of_us` in chunks by key (restarting the WAL between chunks);
  // PostgreSQL with `as_of_us` in chunks by key; the default (any backend) pages through Search
  // type by type, each page its own read, and cannot see deleted versions.
  // Thread-safe.
  virtual Status ScanCurrent(const CurrentScan& scan, const ScanFunction& fn);

  // Flushes and closes; further calls fail with kUnavailable. Idempotent.
  virtual void Close() = 0;

  virtual StoreStats Stats() const { return {}; }

  // The bytes this store keeps for `body` (a resource's compact JSON), for
  // PreparedWrite::stored_body: made on the calling thread so that the single writer, which
  // bounds a bulk load, need not (D102). False when the store keeps the JSON as it is (the
  // default; PostgreSQL) or has nothing to compress with yet. Thread-safe.
  virtual bool EncodeBody(std::string_view body, std::string* stored) const {
    (void)body, (void)stored;
    return false;
  }

  // Bulk loading (optional for a backend). BeginBulkLoad may stop the upkeep of the secondary
  // indexes while a load of about `expected_resources` (0: unknown) runs, when that load is at
  // least as large as what the store already holds; EndBulkLoad builds them again in one pass.
  // Meanwhile every read and search stays correct, only slower, so only a command-line load
  // (not a server's API traffic) should ask. Returns whether indexes were deferred; then
  // EndBulkLoad must follow (a process killed in between leaves a store that rebuilds them when
  // it is next opened). EndBulkLoad may follow in any case (the importer always calls it).
  virtual StatusOr<bool> BeginBulkLoad(int64_t expected_resources) {
    (void)expected_resources;
    return false;
  }
  // `progress`, when set, is called before each index is built and once after the last, with
  // how many are built and how many there are in all (not at all when none was deferred).
  using IndexBuildProgressFn = std::function<void(int built, int total)>;
  virtual Status EndBulkLoad(const IndexBuildProgressFn& progress = {}) {
    (void)progress;
    return Status::Ok();
  }
  // Called after a large change of the data made without BeginBulkLoad (an `$import` job), so
  // that a store whose planner depends on statistics gathers them before the change is reported
  // done (PostgreSQL's ANALYZE, decisions D69). The data stays stored whatever it returns.
  virtual Status GatherStatistics() { return Status::Ok(); }
  // Reindexing: element i is whether resources[i] (a version a search read) is still current and
  // its stored index rows (only `param`'s, when given) are exactly those of index[i]. Read on the
  // calling thread, so that a reindex compares on every core and hands the single writer only
  // the resources whose rows differ (decisions D116); ReplaceIndex checks again whatever this
  // says. The default answers false for each: the writer compares. Thread-safe.
  virtual StatusOr<std::vector<bool>> SameIndex(std::span<const ResourceVersion> resources,
                                                std::span<const fhir::IndexEntries> index,
                                                const std::string& param) {
    (void)index, (void)param;
    return std::vector<bool>(resources.size(), false);
  }
  // Called when a reindex of `type` (empty: every type) and `param` (empty: every parameter)
  // has completed, so that a store may record what its index now holds (decisions D60).
  virtual Status ReindexCompleted(const std::string& type, const std::string& param) {
    (void)type, (void)param;
    return Status::Ok();
  }
};

struct SqliteOptions {
  std::string path;  // database file; created with the schema when absent
  int reader_connections = 4;
  // Longest a write waits to be grouped with others before its group is committed.
  int max_group_delay_us = 200;
  // Most write functions committed in one transaction.
  int max_group_size = 256;
  // Longest one read (a search, a history page, a read) may run before it is stopped with
  // kTimeout; 0 disables the limit.
  int max_query_ms = 10000;
  // The write-ahead log is copied into the database file by a thread of its own instead of the
  // writer's autocheckpoint (sqlite_checkpointer.h, D65/D71).
  bool wal_checkpoint_thread = false;
  // Resource bodies are compressed with zstd and a dictionary trained from the database's own
  // bodies, first once it holds this many versions (D101-D103); 0 never compresses (bodies
  // already compressed stay readable). Negative: the environment's
  // CARECHART_COMPRESS_BODIES_AFTER, else kDefaultCompressBodiesAfter.
  int64_t compress_bodies_after = -1;
  static constexpr int64_t kDefaultCompressBodiesAfter = 2000;
  // Whether this process trains dictionaries (thread body-dict-train). Off for read-only
  // commands (carechart export), which still read compressed bodies.
  bool train_body_dictionaries = true;
};

// Opens (creating or migrating) a SQLite database. Errors name the file and what to do.
StatusOr<std::unique_ptr<ResourceStore>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace carechart::store
