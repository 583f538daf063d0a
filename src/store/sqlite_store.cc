// The SQLite ResourceStore: one Writer (group commit) and a ReaderPool over one database file.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "store/date_driver.h"
#include "store/resource_store.h"
#include "store/search_sql.h"
#include "store/sqlite_body_codec.h"
#include "store/sqlite_body_dictionaries.h"
#include "store/sqlite_body_trainer.h"
#include "store/sqlite_checkpointer.h"
#include "store/sqlite_current_scan.h"
#include "store/sqlite_index_compare.h"
#include "store/sqlite_patient_walk.h"
#include "store/sqlite_readers.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_tuple_estimates.h"
#include "store/sqlite_write_txn.h"
#include "store/sqlite_writer.h"

namespace carechart::store {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Closed() { return Status(StatusCode::kUnavailable, "the store is closed"); }

// A store holding fewer resources than this is bulk-loaded with deferred indexes whatever the
// load's size: rebuilding the indexes of so few rows costs nothing.
constexpr int64_t kSmallStore = 10000;
// The write connection's page cache during a bulk load that keeps the indexes (negative: KiB,
// SQLite's convention); 256 MiB instead of the usual 32.
constexpr int64_t kBulkLoadCacheKiB = -262144;
// The write connection's page cache while it builds the deferred indexes at the end of a bulk
// load. SQLite's sorter sorts runs of this size in memory, each on one of its worker threads
// (`PRAGMA threads`), and merges them: 4 MiB runs took less CPU and less time than 32 MiB ones
// (a linked-list merge sort that waits on memory once the run outgrows the CPU caches) and
// 50 MB less memory (D96).
constexpr int64_t kIndexBuildCacheKiB = -4096;

// The write connection, from inside a write function (every WriteTxn of this backend is one).
sqlite::Connection& WriteConnection(WriteTxn& txn) {
  return static_cast<sqlite::SqliteWriteTxn&>(txn).connection();
}

class SqliteStore : public ResourceStore {
 public:
  // `path`: the database file the writer and readers have open (ScanCurrent opens its own).
  // `checkpointer` (may be null) is the WAL hook of the writer's connection.
  SqliteStore(std::string path, std::unique_ptr<sqlite::WalCheckpointer> checkpointer,
              std::unique_ptr<sqlite::Writer> writer, std::unique_ptr<sqlite::ReaderPool> readers,
              std::shared_ptr<sqlite::BodyCodec> codec, bool composite_tuples_complete)
      : checkpointer_(std::move(checkpointer)),
        writer_(std::move(writer)),
        readers_(std::move(readers)),
        codec_(std::move(codec)),
        composite_tuples_complete_(composite_tuples_complete),
        path_(std::move(path)) {}

  // Starts the dictionary trainer (OpenSqliteStore, once the store is made).
  Status StartTrainer(std::shared_ptr<sqlite::BodyWriteCounts> counts, int64_t first_after) {
    sqlite::BodyTrainerOptions options;
    options.first_after = first_after;
    ASSIGN_OR_RETURN(trainer_, sqlite::BodyDictionaryTrainer::Start(
                                   path_, codec_, std::move(counts),
                                   [w = writer_.get()](WriteFunction fn) {
                                     return w->Write(std::move(fn), /*ahead=*/true);
                                   },
                                   writer_->seq_at_start(), options));
    return Status::Ok();
  }
  ~SqliteStore() override { Close(); }

  Status Write(WriteFunction fn) override {
    if (closed_) {
      return Closed();
    }
    return writer_->Write(std::move(fn));
  }

  StatusOr<ResourceVersion> Read(const std::string& type, const std::string& id) override {
    if (closed_) {
      return Closed();
    }
    auto conn = readers_->Acquire();
    return sqlite::ReadCurrent(*conn, type, id);
  }

  StatusOr<std::vector<std::optional<ResourceVersion>>> ReadMany(
      const std::vector<std::pair<std::string, std::string>>& keys) override {
    if (closed_) {
      return Closed();
    }
    if (keys.empty()) {
      return std::vector<std::optional<ResourceVersion>>();
    }
    auto conn = readers_->Acquire();
    return sqlite::ReadCurrentMany(*conn, keys);
  }

  StatusOr<std::vector<bool>> SameIndex(std::span<const ResourceVersion> resources,
                                        std::span<const fhir::IndexEntries> index,
                                        const std::string& param) override {
    if (closed_) {
      return Closed();
    }
    auto conn = readers_->Acquire();
    return sqlite::IndexRowsSame(*conn, resources, index, param);
  }

  StatusOr<ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                        int64_t version) override {
    if (closed_) {
      return Closed();
    }
    auto conn = readers_->Acquire();
    return sqlite::ReadVersionOf(*conn, type, id, version);
  }

  StatusOr<HistoryPage> History(const HistoryQuery& query) override {
    if (closed_) {
      return Closed();
    }
    auto conn = readers_->Acquire();
    return sqlite::ReadHistory(*conn, query);
  }

  StatusOr<SearchResult> Search(const SearchQuery& query) override {
    if (closed_) {
      return Closed();
    }
    auto conn = readers_->Acquire();
    if (composite_tuples_complete_ && !query.composite_tuples_indexed) {
      ASSIGN_OR_RETURN(sqlite::TuplePlan plan, tuple_estimates_.Choose(*conn, query, NowUs()));
      if (plan != sqlite::TuplePlan::kParameters) {
        SearchQuery with_tuples = query;  // see SearchQuery::composite_tuples_indexed (D58)
        with_tuples.composite_tuples_indexed = true;
        if (plan == sqlite::TuplePlan::kCountFromTuples) {  // decisions D76
          return sqlite::RunSearch(*conn, query, NowUs(), &with_tuples);
        }
        return sqlite::RunSearch(*conn, with_tuples, NowUs());
      }
    }
    ASSIGN_OR_RETURN(bool walk, patient_walks_.Choose(*conn, query, NowUs()));
    if (walk) {
      SearchQuery walked = query;  // see SearchQuery::walk_has_patients (D88)
      walked.walk_has_patients = true;
      return sqlite::RunSearch(*conn, walked, NowUs());
    }
    ASSIGN_OR_RETURN(std::string date_driver,
                     date_drivers_.Choose(SqliteDialect(), sqlite::CountOn(*conn), query, NowUs()));
    if (!date_driver.empty()) {
      SearchQuery driven = query;  // see SearchQuery::driver_param (D110)
      driven.driver_param = std::move(date_driver);
      return sqlite::RunSearch(*conn, driven, NowUs());
    }
    return sqlite::RunSearch(*conn, query, NowUs());
  }

  Status ScanCurrent(const CurrentScan& scan, const ScanFunction& fn) override {
    if (closed_) {
      return Closed();
    }
    // Its own connection and snapshot.
    return sqlite::ScanCurrentVersions(path_, codec_, scan, fn);
  }

  void Close() override {
    closed_ = true;
    if (trainer_) {
      trainer_->Stop();  // before the writer, which its insert may be waiting on
    }
    writer_->Close();
  }

  StoreStats Stats() const override { return writer_->Stats(); }

  bool EncodeBody(std::string_view body, std::string* stored) const override {
    return codec_->Encode(body, stored);
  }

  StatusOr<bool> BeginBulkLoad(int64_t expected_resources) override {
    if (closed_) {
      return Closed();
    }
    bool deferred = false;
    std::unique_ptr<sqlite::WalCheckpointer> load_checkpointer;
    Status s = writer_->Write([&](WriteTxn& txn) -> Status {
      sqlite::Connection& conn = WriteConnection(txn);
      // The WAL is copied into the file by a thread of its own for the load (D65, D97): the
      // writer's autocheckpoint was a tenth of the writer thread, which bounds a load, and the
      // workers leave part of the second core idle.
      if (!checkpointer_ && !load_checkpointer_) {
        ASSIGN_OR_RETURN(load_checkpointer, sqlite::WalCheckpointer::Start(path_, conn));
      }
      int64_t held = 0;
      {  // pk only grows (versions replace rows in place): MAX is the rows ever written
        ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         conn.Prepare("SELECT COALESCE(MAX(pk), 0) FROM resource"));
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        held = row ? stmt.Int(0) : 0;
      }
      if (held >= kSmallStore && expected_resources < held) {
        // Indexes kept: each value-index row lands on a random leaf, so the load's speed
        // depends on how many leaves stay cached (EndBulkLoad goes back to the default).
        return conn.Exec("PRAGMA cache_size = " + std::to_string(kBulkLoadCacheKiB));
      }
      deferred = true;
      return sqlite::DropSecondaryIndexes(conn);
    });
    // Kept even when the load failed to begin: its hook is on the writer's connection now.
    if (load_checkpointer) {
      load_checkpointer_ = std::move(load_checkpointer);
    }
    RETURN_IF_ERROR(s);
    return deferred;
  }

  // A completed reindex of the composite tuples the search plans read (everything, or
  // Observation's code-value-quantity) filled every resource's tuples: recorded, and used from
  // now on.
  Status ReindexCompleted(const std::string& type, const std::string& param) override {
    if (closed_ || composite_tuples_complete_ || !ReindexFillsPlannedTuples(type, param)) {
      return Status::Ok();
    }
    RETURN_IF_ERROR(writer_->Write(
        [](WriteTxn& txn) { return sqlite::SetCompositeTuplesComplete(WriteConnection(txn)); }));
    composite_tuples_complete_ = true;
    return Status::Ok();
  }

  // Builds the deferred indexes with SQLite's sorter on one worker thread per core (the
  // workers of the load are idle by now), one index per transaction so that the checkpoint
  // thread copies an index's pages into the file while the writer builds the next; a process
  // killed in between leaves the rest to EnsureSecondaryIndexes at the next open (D96).
  // `temp_store = FILE` for the build: SQLite's sorter uses no worker thread while temporary
  // storage is in memory (D109), and its sorted runs then stay in the process's heap.
  Status EndBulkLoad(const IndexBuildProgressFn& progress = {}) override {
    if (closed_) {
      return Closed();
    }
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    std::vector<std::string> missing;
    // Settings, not writes: between two transactions (temp_store cannot change inside one).
    Status s = writer_->Configure([&](sqlite::Connection& conn) -> Status {
      RETURN_IF_ERROR(conn.Exec("PRAGMA temp_store = FILE"));
      RETURN_IF_ERROR(conn.Exec("PRAGMA threads = " + std::to_string(cores)));
      RETURN_IF_ERROR(conn.Exec("PRAGMA cache_size = " + std::to_string(kIndexBuildCacheKiB)));
      ASSIGN_OR_RETURN(missing, sqlite::MissingSecondaryIndexes(conn));
      return Status::Ok();
    });
    const int total = static_cast<int>(missing.size());
    for (int built = 0; built < total && s.ok(); ++built) {
      if (progress) {
        progress(built, total);
      }
      s = writer_->Write([&](WriteTxn& txn) {
        return sqlite::CreateSecondaryIndex(WriteConnection(txn), missing[built]);
      });
    }
    if (s.ok() && total > 0 && progress) {
      progress(total, total);
    }
    Status reset = writer_->Configure([&](sqlite::Connection& conn) -> Status {
      RETURN_IF_ERROR(conn.Exec("PRAGMA threads = 0"));
      RETURN_IF_ERROR(conn.Exec("PRAGMA temp_store = MEMORY"));  // as Connection::Open sets it
      RETURN_IF_ERROR(
          conn.Exec("PRAGMA cache_size = -" + std::to_string(sqlite::kDefaultCacheKiB)));
      if (load_checkpointer_) {  // SQLite's own hook again, in place of the thread's
        RETURN_IF_ERROR(conn.Exec("PRAGMA wal_autocheckpoint = " +
                                  std::to_string(sqlite::kWalAutocheckpointFrames)));
      }
      return Status::Ok();
    });
    if (reset.ok()) {
      load_checkpointer_.reset();  // after its pass, if one is running
    }
    return s.ok() ? reset : s;
  }

 private:
  std::atomic<bool> closed_{false};
  // Declared before writer_, so destroyed after the writer's connection, whose WAL hook it is.
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer_;
  // The same, for a bulk load only, when checkpointer_ is off (BeginBulkLoad to EndBulkLoad).
  std::unique_ptr<sqlite::WalCheckpointer> load_checkpointer_;
  std::unique_ptr<sqlite::Writer> writer_;
  std::unique_ptr<sqlite::ReaderPool> readers_;
  std::shared_ptr<sqlite::BodyCodec> codec_;  // shared by every connection of the store
  // Declared after writer_, so destroyed (stopped) before it; null when nothing is trained.
  std::unique_ptr<sqlite::BodyDictionaryTrainer> trainer_;
  std::atomic<bool> composite_tuples_complete_;
  sqlite::TupleRangeEstimates tuple_estimates_;
  sqlite::PatientWalkEstimates patient_walks_;
  DateDriverEstimates date_drivers_;
  const std::string path_;
};

// SqliteOptions::compress_bodies_after, or when it is negative the environment's
// CARECHART_COMPRESS_BODIES_AFTER, or the default.
StatusOr<int64_t> CompressBodiesAfter(const SqliteOptions& options) {
  if (options.compress_bodies_after >= 0) {
    return options.compress_bodies_after;
  }
  const char* env = std::getenv("CARECHART_COMPRESS_BODIES_AFTER");
  if (env == nullptr || *env == '\0') {
    return SqliteOptions::kDefaultCompressBodiesAfter;
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(env, env + std::strlen(env), value);
  if (ec != std::errc() || *end != '\0' || value < 0) {
    return InvalidError(
        "CARECHART_COMPRESS_BODIES_AFTER must be a whole number of resource "
        "versions (0 turns body compression off), not '" +
        std::string(env) + "'");
  }
  return value;
}

}  // namespace

StatusOr<std::unique_ptr<ResourceStore>> OpenSqliteStore(const SqliteOptions& options) {
  if (options.path.empty()) {
    return InvalidError("the SQLite store needs a database path (storage.path)");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> conn,
                   sqlite::Connection::Open(options.path, false));
  RETURN_IF_ERROR(sqlite::MigrateSchema(*conn, NowUs()));
  // Repairs a bulk load that was killed before it built its indexes again. When another process
  // holds the write lock (the bulk load itself is still running), that process builds them.
  if (Status s = sqlite::EnsureSecondaryIndexes(*conn);
      !s.ok() && s.code() != StatusCode::kUnavailable) {
    return s;
  }
  ASSIGN_OR_RETURN(bool composite_tuples_complete, sqlite::CompositeTuplesComplete(*conn));
  // Body compression (D101-D103): the stored dictionaries decode old bodies whatever the
  // setting; the newest compresses new ones unless compression is off.
  ASSIGN_OR_RETURN(const int64_t compress_after, CompressBodiesAfter(options));
  auto codec = std::make_shared<sqlite::BodyCodec>();
  conn->set_body_codec(codec);
  RETURN_IF_ERROR(sqlite::LoadBodyDictionaries(*conn, compress_after > 0).status());
  const bool train = compress_after > 0 && options.train_body_dictionaries;
  auto counts =
      train ? std::make_shared<sqlite::BodyWriteCounts>(sqlite::BodyTrainerOptions::kSampleBodies,
                                                        sqlite::BodyTrainerOptions::kSampleBytes)
            : nullptr;
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::ReaderPool> readers,
                   sqlite::ReaderPool::Open(options.path, options.reader_connections,
                                            options.max_query_ms, codec));
  // The WAL is copied into the file off the writer's thread (D65, D71); started before
  // Writer::Start, which hands the connection to that thread.
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer;
  if (options.wal_checkpoint_thread) {
    ASSIGN_OR_RETURN(checkpointer, sqlite::WalCheckpointer::Start(options.path, *conn));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Writer> writer,
                   sqlite::Writer::Start(std::move(conn), options.max_group_delay_us,
                                         options.max_group_size, counts));
  auto store = std::make_unique<SqliteStore>(options.path, std::move(checkpointer),
                                             std::move(writer), std::move(readers),
                                             std::move(codec), composite_tuples_complete);
  if (train) {
    RETURN_IF_ERROR(store->StartTrainer(std::move(counts), compress_after));
  }
  return std::unique_ptr<ResourceStore>(std::move(store));
}

}  // namespace carechart::store
