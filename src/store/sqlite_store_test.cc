// CRUD, version and history semantics of the SQLite store through WriteTxn.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <algorithm>
#include <filesystem>
#include <iterator>

#include "store/resource_store.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/store_test_util.h"

// HistoryQuery{.field = ...}: the other fields keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace carechart::store {
namespace {

using testing::BodyFor;
using testing::MakeWrite;
using testing::OpenOrDie;
using testing::PutNext;
using testing::TempDbPath;

constexpr int64_t kT0 = 1'700'000'000'000'000;  // 2023-11-14
constexpr int64_t kSec = 1'000'000;
constexpr int64_t kDayUs = 86400 * kSec;

std::vector<std::string> Ids(const HistoryPage& page) {
  std::vector<std::string> out;
  for (const auto& v : page.versions) {
    out.push_back(v.type + "/" + v.id + "/" + std::to_string(v.version));
  }
  return out;
}

TEST(SqliteStore, CreateUpdateDeleteRecreate) {
  auto store = OpenOrDie(TempDbPath("crud"));
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p1", kT0)).ok());
  auto v1 = store->Read("Patient", "p1");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->body, BodyFor("Patient", "p1", kT0));
  EXPECT_EQ(v1->last_updated_us, kT0);
  EXPECT_FALSE(v1->deleted);
  EXPECT_EQ(v1->method, "PUT");

  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p1", kT0 + kSec)).ok());
  PreparedWrite del = MakeWrite("Patient", "p1", kT0 + 2 * kSec);
  del.deleted = true;
  ASSERT_TRUE(PutNext(*store, del).ok());

  auto current = store->Read("Patient", "p1");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version, 3);
  EXPECT_TRUE(current->deleted);
  EXPECT_TRUE(current->body.empty());
  EXPECT_EQ(current->method, "DELETE");

  auto old = store->ReadVersion("Patient", "p1", 2);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->body, BodyFor("Patient", "p1", kT0 + kSec));
  EXPECT_EQ(store->ReadVersion("Patient", "p1", 3)->deleted, true);
  EXPECT_EQ(store->ReadVersion("Patient", "p1", 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Read("Patient", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Read("Observation", "p1").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p1", kT0 + 3 * kSec)).ok());
  EXPECT_EQ(store->Read("Patient", "p1")->version, 4);
  EXPECT_FALSE(store->Read("Patient", "p1")->deleted);
}

TEST(SqliteStore, PutRejectsVersionThatDoesNotFollow) {
  auto store = OpenOrDie(TempDbPath("conflict"));
  PreparedWrite w = MakeWrite("Patient", "p1", kT0);
  w.version = 2;
  Status s = store->Write([&](WriteTxn& txn) { return txn.Put(w); });
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_EQ(store->Read("Patient", "p1").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p1", kT0)).ok());
  w.version = 1;
  EXPECT_EQ(store->Write([&](WriteTxn& txn) { return txn.Put(w); }).code(), StatusCode::kConflict);
}

TEST(SqliteStore, CurrentReportsVersionAndDeletion) {
  auto store = OpenOrDie(TempDbPath("current"));
  PreparedWrite del = MakeWrite("Patient", "p1", kT0 + kSec);
  del.deleted = true;
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p1", kT0)).ok());
  ASSERT_TRUE(PutNext(*store, del).ok());
  ASSERT_TRUE(store
                  ->Write([&](WriteTxn& txn) -> Status {
                    ASSIGN_OR_RETURN(CurrentVersion cur, txn.Current("Patient", "p1"));
                    EXPECT_EQ(cur.version, 2);
                    EXPECT_TRUE(cur.deleted);
                    ASSIGN_OR_RETURN(CurrentVersion none, txn.Current("Patient", "zz"));
                    EXPECT_EQ(none.version, 0);
                    return Status::Ok();
                  })
                  .ok());
}

class SqliteHistory : public ::testing::Test {
 protected:
  // p1 v1@0 v2@10 v3(deleted)@20; o1 v1@5 v2@15; p2 v1@10 (same instant as p1 v2, written after)
  void SetUp() override {
    store_ = OpenOrDie(TempDbPath("history"));
    Put("Patient", "p1", 0);
    Put("Observation", "o1", 5);
    Put("Patient", "p1", 10);
    Put("Patient", "p2", 10);
    Put("Observation", "o1", 15);
    PreparedWrite del = MakeWrite("Patient", "p1", kT0 + 20 * kSec);
    del.deleted = true;
    ASSERT_TRUE(PutNext(*store_, del).ok());
  }
  void Put(const char* type, const char* id, int sec) {
    ASSERT_TRUE(PutNext(*store_, MakeWrite(type, id, kT0 + sec * kSec)).ok());
  }
  HistoryPage History(HistoryQuery q) {
    auto page = store_->History(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? *page : HistoryPage{};
  }
  std::unique_ptr<ResourceStore> store_;
};

TEST_F(SqliteHistory, InstanceTypeAndSystemNewestFirst) {
  HistoryPage inst = History({.type = "Patient", .id = "p1"});
  EXPECT_EQ(Ids(inst), (std::vector<std::string>{"Patient/p1/3", "Patient/p1/2", "Patient/p1/1"}));
  EXPECT_EQ(inst.total, 3);
  EXPECT_TRUE(inst.versions[0].deleted);
  EXPECT_EQ(inst.versions[2].body, BodyFor("Patient", "p1", kT0));

  HistoryPage type = History({.type = "Patient"});
  EXPECT_EQ(Ids(type), (std::vector<std::string>{"Patient/p1/3", "Patient/p2/1", "Patient/p1/2",
                                                 "Patient/p1/1"}));
  HistoryPage sys = History({});
  EXPECT_EQ(sys.total, 6);
  EXPECT_EQ(Ids(sys),
            (std::vector<std::string>{"Patient/p1/3", "Observation/o1/2", "Patient/p2/1",
                                      "Patient/p1/2", "Observation/o1/1", "Patient/p1/1"}));
}

TEST_F(SqliteHistory, SinceAtCountAndPaging) {
  HistoryPage since = History({.since_us = kT0 + 10 * kSec});
  EXPECT_EQ(Ids(since), (std::vector<std::string>{"Patient/p1/3", "Observation/o1/2",
                                                  "Patient/p2/1", "Patient/p1/2"}));
  // At t=12: p1 v2, o1 v1, p2 v1 were current.
  HistoryPage at = History({.at_us = kT0 + 12 * kSec});
  EXPECT_EQ(Ids(at),
            (std::vector<std::string>{"Patient/p2/1", "Patient/p1/2", "Observation/o1/1"}));
  // At t=25 p1's current version is its deletion.
  HistoryPage at_end = History({.type = "Patient", .id = "p1", .at_us = kT0 + 25 * kSec});
  EXPECT_EQ(Ids(at_end), (std::vector<std::string>{"Patient/p1/3"}));

  std::vector<std::string> all;
  for (int64_t offset = 0; offset < 6; offset += 4) {
    HistoryPage page = History({.count = 4, .offset = offset});
    EXPECT_EQ(page.total, 6);
    for (auto& id : Ids(page)) {
      all.push_back(id);
    }
  }
  EXPECT_EQ(all, Ids(History({})));
  EXPECT_EQ(History({.count = 0}).versions.size(), 0u);
  EXPECT_EQ(History({.count = 0}).total, 6);
}

TEST(SqliteStore, CloseAndReopenKeepsEverything) {
  std::string path = TempDbPath("reopen");
  {
    auto store = OpenOrDie(path);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p" + std::to_string(i), kT0 + i)).ok());
    }
    ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p0", kT0 + 100)).ok());
    store->Close();
    EXPECT_EQ(store->Read("Patient", "p0").status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(PutNext(*store, MakeWrite("Patient", "x", kT0)).code(), StatusCode::kUnavailable);
    store->Close();  // idempotent
  }
  auto store = OpenOrDie(path);
  for (int i = 1; i < 50; ++i) {
    auto v = store->Read("Patient", "p" + std::to_string(i));
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->body, BodyFor("Patient", "p" + std::to_string(i), kT0 + i));
  }
  EXPECT_EQ(store->Read("Patient", "p0")->version, 2);
  // The global order continues after a restart: a new write is newest in system history.
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p7", kT0 + 1)).ok());
  HistoryPage page = *store->History({.count = 2});
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"Patient/p7/2", "Patient/p0/2"}));
  EXPECT_EQ(page.total, 52);
  store->Close();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*), MAX(version) FROM schema_version", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  // Each migration applied once, not on every open.
  EXPECT_EQ(sqlite3_column_int(stmt, 0), sqlite::CurrentSchemaVersion());
  EXPECT_EQ(sqlite3_column_int(stmt, 1), sqlite::CurrentSchemaVersion());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

int ThreadsOfThisProcess() {
  return static_cast<int>(std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                        std::filesystem::directory_iterator()));
}

// The checkpoint thread is an open option of the store (D71), not a process-wide switch: the
// store opened with it runs one more thread, and what it stored is there after a reopen (its
// WAL hook is destroyed after the writer's connection, which calls it).
TEST(SqliteStore, CheckpointThreadIsAnOpenOption) {
  if (!testing::PostgresUriFor("x").empty()) {
    GTEST_SKIP() << "a SQLite option";
  }
  const std::string path = TempDbPath("checkpoint_option");
  SqliteOptions options;
  options.path = path;
  int without = 0;
  {
    auto store = OpenSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    without = ThreadsOfThisProcess();
    ASSERT_TRUE(PutNext(**store, MakeWrite("Patient", "p1", kT0)).ok());
  }
  options.wal_checkpoint_thread = true;
  {
    auto store = OpenSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(ThreadsOfThisProcess(), without + 1);
    for (int i = 2; i <= 20; ++i) {
      ASSERT_TRUE(PutNext(**store, MakeWrite("Patient", "p" + std::to_string(i), kT0 + i)).ok());
    }
  }
  auto store = OpenOrDie(path);
  for (int i = 1; i <= 20; ++i) {
    EXPECT_TRUE(store->Read("Patient", "p" + std::to_string(i)).ok()) << i;
  }
}

TEST(SqliteStore, OpenFailureNamesTheFile) {
  SqliteOptions options;
  options.path = "/nonexistent-dir/x/y.db";
  auto store = OpenSqliteStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent-dir/x/y.db"), std::string::npos);
}

// A database made by an earlier schema version (4: before the composite (code, value) and
// reference-by-source indexes of migration 5, the token rows' patient of migration 6 and the
// current Patients' index of migration 7, the token rows by patient of migration 8, the ids
// by key of migration 9, the body dictionaries of migration 10 and the date spans and
// open-ended date rows of migration 11, which is emulated by undoing what they did) is upgraded
// on open and answers as before; migration 11 fills the spans from the rows already there. (The
// PostgreSQL upgrade test is in postgres/postgres_store_test.cc.)
TEST(SqliteStore, UpgradesADatabaseOfThePreviousSchemaVersion) {
  ASSERT_EQ(sqlite::CurrentSchemaVersion(), 11) << "a new migration: make this test build version "
                                                   "CurrentSchemaVersion() - 1 instead";
  std::string path = TempDbPath("upgrade");
  std::vector<std::string> want;
  {
    auto store = OpenOrDie(path);
    for (int i = 0; i < 5; ++i) {
      fhir::IndexEntries ix;  // birth dates of i + 1 days, and one without an end
      ix.dates.push_back({"birthdate", kT0, i == 4 ? INT64_MAX : kT0 + (i + 1) * kDayUs - 1});
      ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p" + std::to_string(i), kT0 + i, ix)).ok());
    }
    ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p0", kT0 + 10)).ok());
    want = Ids(*store->History({.count = 10}));
    store->Close();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP INDEX sp_composite_code_value; DROP INDEX sp_reference_source; "
                         "CREATE INDEX sp_composite_value ON sp_composite(param, t1, s1); "
                         // and migration 6 (search_sql_test checks what it fills)
                         // (and migration 8's index, which names the column)
                         "DROP INDEX sp_token_patient; "
                         "DROP INDEX sp_token_code; ALTER TABLE sp_token DROP COLUMN patient; "
                         "CREATE INDEX sp_token_value ON sp_token(param, code, sys); "
                         "DROP TABLE store_flag; "
                         // and migration 7
                         "DROP INDEX resource_current_patient; "
                         // and migration 9
                         "DROP INDEX resource_key_id; "
                         // and migration 10
                         "DROP TABLE body_dictionary; "
                         // and migration 11
                         "DROP INDEX sp_date_open_end; DROP TABLE sp_date_span; "
                         "DELETE FROM schema_version WHERE version >= 5",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenOrDie(path);
  EXPECT_EQ(Ids(*store->History({.count = 10})), want);
  EXPECT_EQ(store->Read("Patient", "p0")->version, 2);
  HistoryPage listing = *store->History({.type = "Patient", .count = 10});
  EXPECT_EQ(listing.total, 6);
  store->Close();
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT (SELECT MAX(version) FROM schema_version), (SELECT COUNT(*) "
                               "FROM sqlite_master WHERE name IN ('sp_composite_code_value', "
                               "'sp_reference_source', 'resource_current_patient', "
                               "'sp_token_patient', 'resource_key_id', 'body_dictionary', "
                               "'sp_date_span', 'sp_date_open_end')) - "
                               "(SELECT COUNT(*) FROM sqlite_master "
                               "WHERE name = 'sp_composite_value')",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 11);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 8)
      << "migrations 5, 7, 8, 9, 10 and 11 did not make their indexes and tables";
  sqlite3_finalize(stmt);
  // The longest closed birth date (p3's, four days; p4's has no end); p0's second version
  // wrote no date row.
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT span FROM sp_date_span", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 4 * kDayUs - 1);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// ResourceStore::ScanCurrent (system export): current versions only, no AuditEvent unless
// asked, each type in key order, _since, stop on error, and (SQLite) one snapshot.
std::vector<std::string> Scanned(ResourceStore& store, const CurrentScan& scan) {
  std::vector<std::string> out;
  Status s = store.ScanCurrent(scan, [&](const ScannedVersion& v) {
    EXPECT_EQ(v.body, testing::BodyFor(std::string(v.type), std::string(v.id), v.last_updated_us));
    out.push_back(std::string(v.type) + "/" + std::string(v.id));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SqliteStore, ScanCurrentListsCurrentVersionsOnce) {
  auto store = testing::OpenOrDie(testing::TempDbPath("scan"));
  using testing::MakeWrite;
  for (const char* id : {"p1", "p2", "p3"}) {
    ASSERT_TRUE(testing::PutNext(*store, MakeWrite("Patient", id, kT0)).ok());
  }
  ASSERT_TRUE(testing::PutNext(*store, MakeWrite("Observation", "o1", kT0)).ok());
  ASSERT_TRUE(testing::PutNext(*store, MakeWrite("Observation", "o2", kT0)).ok());
  ASSERT_TRUE(testing::PutNext(*store, MakeWrite("Observation", "o1", kT0 + 5 * kSec)).ok());
  PreparedWrite gone = MakeWrite("Observation", "o2", kT0 + kSec);
  gone.deleted = true;
  ASSERT_TRUE(testing::PutNext(*store, gone).ok());
  ASSERT_TRUE(testing::PutNext(*store, MakeWrite("AuditEvent", "a1", kT0)).ok());

  using V = std::vector<std::string>;
  EXPECT_EQ(Scanned(*store, {}), (V{"Observation/o1", "Patient/p1", "Patient/p2", "Patient/p3"}));
  // A minority of the rows (one type walked by key) and a majority (the table scanned).
  EXPECT_EQ(Scanned(*store, {.types = {"Observation"}}), (V{"Observation/o1"}));
  EXPECT_EQ(Scanned(*store, {.types = {"Patient", "AuditEvent"}}),
            (V{"AuditEvent/a1", "Patient/p1", "Patient/p2", "Patient/p3"}));
  EXPECT_EQ(Scanned(*store, {.since_us = kT0 + kSec}), (V{"Observation/o1"}));

  // Each type's versions in key order, whichever shape reads them.
  for (const CurrentScan& scan : {CurrentScan{}, CurrentScan{.types = {"Patient"}}}) {
    std::vector<std::string> patients;
    ASSERT_TRUE(store
                    ->ScanCurrent(scan,
                                  [&](const ScannedVersion& v) {
                                    if (v.type == "Patient") {
                                      patients.emplace_back(v.id);
                                    }
                                    return Status::Ok();
                                  })
                    .ok());
    EXPECT_EQ(patients, (V{"p1", "p2", "p3"}));
  }

  // An error from the function stops the scan and is its result.
  int seen = 0;
  Status stopped = store->ScanCurrent({}, [&](const ScannedVersion&) {
    ++seen;
    return Status(StatusCode::kGone, "cancelled");
  });
  EXPECT_EQ(stopped.code(), StatusCode::kGone);
  EXPECT_EQ(seen, 1);
}

TEST(SqliteStore, ScanCurrentReadsOneSnapshot) {
  if (!testing::PostgresTestServer().empty()) {
    GTEST_SKIP() << "PostgreSQL scans page by page (each page its own read), as documented";
  }
  auto store = testing::OpenOrDie(testing::TempDbPath("scan-snapshot"));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        testing::PutNext(*store, testing::MakeWrite("Patient", "p" + std::to_string(i), kT0)).ok());
  }
  int seen = 0;
  int written = 0;
  Status s = store->ScanCurrent({}, [&](const ScannedVersion&) {
    ++seen;
    // Written and committed while the scan runs: not in its snapshot.
    if (testing::PutNext(*store, testing::MakeWrite("Patient", "late" + std::to_string(seen), kT0))
            .ok()) {
      ++written;
    }
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, 50);
  EXPECT_EQ(written, 50);
  EXPECT_EQ(Scanned(*store, {}).size(), 100u);
}

// With as_of_us (D91): chunks of keys, each its own snapshot (a change ahead of the scan is
// seen), and the rows deleted after as_of_us passed, marked; those deleted before are not. Both
// shapes of the SQLite scan: the table (Patients are most rows) and a walk of one minority type.
TEST(SqliteStore, ScanCurrentAsOfPassesLaterDeletions) {
  auto store = testing::OpenOrDie(testing::TempDbPath("scan-as-of"));
  using testing::MakeWrite;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(testing::PutNext(*store, MakeWrite("Patient", "p" + std::to_string(i), kT0)).ok());
  }
  ASSERT_TRUE(testing::PutNext(*store, MakeWrite("Observation", "o1", kT0)).ok());
  ASSERT_TRUE(testing::PutNext(*store, MakeWrite("Observation", "o2", kT0)).ok());
  const int64_t as_of = kT0 + 10 * kSec;
  auto remove = [&](const char* type, const char* id, int64_t when) {
    PreparedWrite gone = MakeWrite(type, id, when);
    gone.deleted = true;
    ASSERT_TRUE(testing::PutNext(*store, gone).ok());
  };
  remove("Patient", "p4", kT0 + kSec);    // before as_of: not passed
  remove("Patient", "p3", as_of + kSec);  // after: passed, marked
  remove("Observation", "o2", as_of + kSec);

  // Scans with as_of; on the first row, writes `ahead` (a row the scan has not reached).
  auto scan = [&](std::vector<std::string> types, int chunk, const std::string& ahead) {
    CurrentScan sc{.types = std::move(types)};
    sc.as_of_us = as_of;
    sc.chunk_rows = chunk;
    std::vector<std::string> seen;
    Status s = store->ScanCurrent(sc, [&](const ScannedVersion& v) {
      seen.push_back(std::string(v.type) + "/" + std::string(v.id) +
                     (v.deleted                   ? " deleted"
                      : v.last_updated_us > as_of ? " later"
                                                  : ""));
      if (seen.size() > 1) {
        return Status::Ok();
      }
      size_t slash = ahead.find('/');
      return testing::PutNext(
          *store, MakeWrite(ahead.substr(0, slash), ahead.substr(slash + 1), as_of + 2 * kSec));
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::sort(seen.begin(), seen.end());
    return seen;
  };
  using V = std::vector<std::string>;
  V base = {"Observation/o1", "Observation/o2 deleted", "Patient/p0", "Patient/p1",
            "Patient/p2",     "Patient/p3 deleted",     "Patient/p5", "Patient/p6"};
  auto with = [&](V tail) {
    V out = base;
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
  };
  // Chunks of 1 and 3 rows see the change made ahead of them; one chunk of 10,000 does not.
  EXPECT_EQ(scan({"Patient", "Observation"}, 1, "Patient/p8"),
            with({"Patient/p7", "Patient/p8 later", "Patient/p9"}));
  EXPECT_EQ(scan({"Patient", "Observation"}, 3, "Patient/p9"),
            with({"Patient/p7", "Patient/p8 later", "Patient/p9 later"}));
  EXPECT_EQ(scan({"Patient", "Observation"}, 10000, "Patient/p7"),
            with({"Patient/p7", "Patient/p8 later", "Patient/p9 later"}));
  // One type (a walk of it on SQLite), one row per chunk: o2, recreated ahead of the scan.
  EXPECT_EQ(scan({"Observation"}, 1, "Observation/o2"),
            (V{"Observation/o1", "Observation/o2 later"}));
}

// Statement::TextView (what the export scan reads rows with): the column's bytes as stored, an
// embedded NUL and UTF-8 included, the same as Text() but without a copy; empty for NULL.
TEST(SqliteStatement, TextViewGivesTheColumnsBytesWithoutACopy) {
  auto conn = sqlite::Connection::Open(testing::TempDbPath("text-view"), /*read_only=*/false);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto stmt = (*conn)->Prepare("SELECT ?1, NULL, '', 42");
  ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
  const std::string bytes("a\0b\xC3\xA9", 5);
  stmt->Bind(1, bytes);
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->TextView(0), bytes);
  EXPECT_EQ(stmt->TextView(0), stmt->Text(0));
  EXPECT_EQ(stmt->TextView(0).data(), stmt->TextView(0).data()) << "SQLite's buffer, not a copy";
  EXPECT_TRUE(stmt->TextView(1).empty());
  EXPECT_TRUE(stmt->TextView(2).empty());
  EXPECT_EQ(stmt->TextView(3), "42");
  EXPECT_FALSE(*stmt->Step());
}

}  // namespace
}  // namespace carechart::store
