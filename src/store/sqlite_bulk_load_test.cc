// SQLite write-path speed-ups that must not change what is stored: bulk loads with deferred
// secondary indexes (and their repair after a crash), and reindex leaving unchanged rows alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <set>
#include <string>

#include "fhir/json.h"
#include "fhir/search_index.h"
#include "store/reindex.h"
#include "store/search_query.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/store_test_util.h"

namespace carechart::store {
namespace {

using testing::TempDbPath;

constexpr int64_t kT0 = 1'600'000'000'000'000;

std::unique_ptr<ResourceStore> Open(const std::string& path) {
  SqliteOptions o;
  o.path = path;
  auto store = OpenSqliteStore(o);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// Every index of the file with its SQL ("name: CREATE INDEX ...").
std::set<std::string> Indexes(const std::string& path) {
  auto conn = sqlite::Connection::Open(path, true);
  EXPECT_TRUE(conn.ok());
  std::set<std::string> out;
  auto stmt = (*conn)->Prepare(
      "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' ORDER BY name");
  EXPECT_TRUE(stmt.ok());
  while (*stmt->Step()) {
    out.insert(stmt->Text(0) + ": " + stmt->Text(1));
  }
  return out;
}

// A body that yields rows in the token, string, date, reference, quantity, uri and composite
// tables.
std::string Body(const std::string& type, int i) {
  if (type == "Patient") {
    return R"({"resourceType":"Patient","id":"p)" + std::to_string(i) +
           R"(","meta":{"profile":["http://example.org/p"]},"name":[{"family":"Núñez)" +
           std::to_string(i % 7) + R"(","given":["Ana","Ana"]}],"birthDate":"19)" +
           std::to_string(50 + i % 40) + R"(-02-03","gender":"female"})";
  }
  return R"({"resourceType":"Observation","id":"o)" + std::to_string(i) +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
         (i % 2 ? "8480-6" : "8462-4") +
         R"(","display":"BP"},{"system":"http://loinc.org","code":")" +
         (i % 2 ? "8480-6" : "8462-4") + R"(","display":"other text"}]},)" +
         R"("subject":{"reference":"Patient/p)" + std::to_string(i % 10) +
         R"("},"effectiveDateTime":"2024-01-)" + std::to_string(10 + i % 9) +
         R"(","valueQuantity":{"value":)" + std::to_string(100 + i % 50) +
         R"(.5,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}})";
}

// Writes resources with their index rows, each in its own write.
void WriteIndexed(ResourceStore& store, const std::string& type, int n) {
  for (int i = 0; i < n; ++i) {
    PreparedWrite w;
    w.type = type;
    w.id = (type == "Patient" ? "p" : "o") + std::to_string(i);
    w.last_updated_us = kT0 + i;
    w.method = "PUT";
    w.body = Body(type, i);
    auto parsed = json::Parse(w.body);
    ASSERT_TRUE(parsed.ok());
    w.index = fhir::ExtractIndex(*parsed);
    ASSERT_TRUE(testing::PutNext(store, std::move(w)).ok());
  }
}

int64_t Count(ResourceStore& store, const std::string& type,
              const std::vector<std::pair<std::string, std::string>>& params) {
  auto q = ParseSearch(type, params);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  q->count = 0;
  auto r = store.Search(*q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->total : -1;
}

TEST(SqliteBulkLoad, DefersIndexesKeepsSearchesRightAndRebuildsThemAsCreated) {
  const std::string path = TempDbPath("bulk");
  auto store = Open(path);
  const std::set<std::string> created = Indexes(path);
  ASSERT_TRUE(created.contains(
      "sp_token_code: CREATE INDEX sp_token_code ON sp_token(param, code, sys, res, patient)"));

  auto began = store->BeginBulkLoad(0);
  ASSERT_TRUE(began.ok()) << began.status().ToString();
  EXPECT_TRUE(*began);  // an empty store
  EXPECT_LT(Indexes(path).size(), created.size());
  WriteIndexed(*store, "Observation", 60);
  // Searches during the load are slower, never different.
  EXPECT_EQ(Count(*store, "Observation", {{"code", "http://loinc.org|8480-6"}}), 30);
  EXPECT_EQ(Count(*store, "Observation", {{"subject", "Patient/p3"}}), 6);
  // Progress before each index and after the last: 0/n, 1/n ... n/n, n the indexes dropped.
  const int dropped = static_cast<int>(created.size() - Indexes(path).size());
  std::vector<std::pair<int, int>> steps;
  ASSERT_TRUE(
      store->EndBulkLoad([&](int built, int total) { steps.emplace_back(built, total); }).ok());
  ASSERT_EQ(steps.size(), static_cast<size_t>(dropped) + 1);
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i], std::make_pair(static_cast<int>(i), dropped));
  }
  EXPECT_EQ(Indexes(path), created);
  EXPECT_EQ(Count(*store, "Observation", {{"code", "http://loinc.org|8480-6"}}), 30);
  EXPECT_EQ(Count(*store, "Observation", {{"value-quantity", "gt140"}}), 10);  // i = 40..49
}

// The indexes whose keys grow with the load stay (D59, D63): the resource table's lookups and
// the references by source, (param, res); the value indexes, whose keys are random, go.
TEST(SqliteBulkLoad, KeepsTheIndexesWhoseKeysGrowWithTheLoad) {
  const std::string path = TempDbPath("bulk-kept");
  auto store = Open(path);
  const auto names = [&] {
    std::set<std::string> out;
    for (const std::string& index : Indexes(path)) {
      out.insert(index.substr(0, index.find(':')));
    }
    return out;
  };
  const std::set<std::string> created = names();
  ASSERT_TRUE(*store->BeginBulkLoad(0));
  const std::set<std::string> during = names();
  for (const char* kept : {"resource_type_updated", "resource_type_seq", "resource_type_pk",
                           "resource_patient", "resource_key_id", "sp_reference_source"}) {
    EXPECT_TRUE(created.contains(kept)) << kept;
    EXPECT_TRUE(during.contains(kept)) << kept;
  }
  for (const char* dropped : {"sp_reference_value", "sp_date_value", "sp_quantity_value"}) {
    EXPECT_TRUE(created.contains(dropped)) << dropped;
    EXPECT_FALSE(during.contains(dropped)) << dropped;
  }
  WriteIndexed(*store, "Observation", 20);
  ASSERT_TRUE(store->EndBulkLoad().ok());
  EXPECT_EQ(names(), created);
}

TEST(SqliteBulkLoad, AKilledBulkLoadIsRepairedAtTheNextOpen) {
  const std::string path = TempDbPath("bulk-killed");
  std::set<std::string> created;
  {
    auto store = Open(path);
    created = Indexes(path);
    ASSERT_TRUE(*store->BeginBulkLoad(1000));
    WriteIndexed(*store, "Patient", 20);
    store->Close();  // no EndBulkLoad: as if killed
  }
  EXPECT_NE(Indexes(path), created);
  auto store = Open(path);
  EXPECT_EQ(Indexes(path), created);
  EXPECT_EQ(Count(*store, "Patient", {{"family", "núñez3"}}), 3);
}

int ThreadsOfThisProcess() {
  return static_cast<int>(std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                        std::filesystem::directory_iterator()));
}

// A bulk load copies the WAL into the file on a thread of its own, from BeginBulkLoad to
// EndBulkLoad (D97); after it the writer's own autocheckpoint is back (a commit then calls the
// hook SQLite installs, not the stopped thread's), and so are the usual thread count and page
// cache (EndBulkLoad's sorter threads are gone).
TEST(SqliteBulkLoad, TheLoadCheckpointsOnAThreadOfItsOwnUntilItEnds) {
  const std::string path = TempDbPath("bulk-checkpoint-thread");
  std::set<std::string> created;
  {
    auto store = Open(path);
    created = Indexes(path);
    const int threads = ThreadsOfThisProcess();
    for (int load = 0; load < 2; ++load) {
      ASSERT_TRUE(*store->BeginBulkLoad(0));
      EXPECT_EQ(ThreadsOfThisProcess(), threads + 1) << load;
      WriteIndexed(*store, load == 0 ? "Patient" : "Observation", 30);
      ASSERT_TRUE(store->EndBulkLoad().ok());
      EXPECT_EQ(ThreadsOfThisProcess(), threads) << load;
      EXPECT_EQ(Indexes(path), created) << load;
      ASSERT_TRUE(
          testing::PutNext(*store, testing::MakeWrite("Basic", "after" + std::to_string(load), kT0))
              .ok());
    }
  }
  auto store = Open(path);
  EXPECT_EQ(Count(*store, "Patient", {{"family", "núñez3"}}), 4);
  EXPECT_EQ(Count(*store, "Observation", {{"code", "http://loinc.org|8480-6"}}), 15);
  EXPECT_TRUE(store->Read("Basic", "after1").ok());
}

// EndBulkLoad builds the missing indexes one per transaction (D96): the list of those missing is
// exactly what DropSecondaryIndexes dropped, and only listed indexes are created.
TEST(SqliteBulkLoad, TheMissingIndexesAreTheDroppedOnesAndBuiltByName) {
  const std::string path = TempDbPath("bulk-missing");
  { auto store = Open(path); }
  auto conn = sqlite::Connection::Open(path, false);
  ASSERT_TRUE(conn.ok());
  auto none = sqlite::MissingSecondaryIndexes(**conn);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  const std::set<std::string> created = Indexes(path);
  ASSERT_TRUE(sqlite::DropSecondaryIndexes(**conn).ok());
  auto missing = sqlite::MissingSecondaryIndexes(**conn);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->size(), created.size() - Indexes(path).size());
  EXPECT_NE(std::find(missing->begin(), missing->end(), "sp_token_code"), missing->end());
  EXPECT_EQ(sqlite::CreateSecondaryIndex(**conn, "resource").code(), StatusCode::kInternal);
  for (const std::string& name : *missing) {
    ASSERT_TRUE(sqlite::CreateSecondaryIndex(**conn, name).ok()) << name;
  }
  EXPECT_EQ(Indexes(path), created);
}

TEST(SqliteBulkLoad, ASmallLoadIntoALargeStoreKeepsTheIndexes) {
  const std::string path = TempDbPath("bulk-large");
  auto store = Open(path);
  ASSERT_TRUE(store
                  ->Write([&](WriteTxn& txn) -> Status {
                    for (int i = 0; i < 12000; ++i) {
                      PreparedWrite w = testing::MakeWrite("Basic", "b" + std::to_string(i), kT0);
                      w.version = 1;
                      RETURN_IF_ERROR(txn.Put(w));
                    }
                    return Status::Ok();
                  })
                  .ok());
  const std::set<std::string> before = Indexes(path);
  auto began = store->BeginBulkLoad(500);
  ASSERT_TRUE(began.ok());
  EXPECT_FALSE(*began);
  EXPECT_EQ(Indexes(path), before);
  began = store->BeginBulkLoad(50000);  // larger than the store: rebuilding pays
  ASSERT_TRUE(began.ok());
  EXPECT_TRUE(*began);
  ASSERT_TRUE(store->EndBulkLoad().ok());
  EXPECT_EQ(Indexes(path), before);
}

// Counts deletions from every search-index table (a reindex rewrites a resource's rows by
// deleting and inserting them).
void AddDeleteCounter(const std::string& path) {
  auto conn = sqlite::Connection::Open(path, false);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(
      (*conn)->Exec("CREATE TABLE deletes(n INTEGER); INSERT INTO deletes VALUES (0)").ok());
  for (const char* t : {"sp_token", "sp_string", "sp_date", "sp_reference", "sp_quantity",
                        "sp_number", "sp_uri", "sp_composite"}) {
    ASSERT_TRUE((*conn)
                    ->Exec(std::string("CREATE TRIGGER count_") + t + " AFTER DELETE ON " + t +
                           " BEGIN UPDATE deletes SET n = n + 1; END")
                    .ok());
  }
}

int64_t Deletes(const std::string& path) {
  auto conn = sqlite::Connection::Open(path, true);
  auto stmt = (*conn)->Prepare("SELECT n FROM deletes");
  EXPECT_TRUE(*stmt->Step());
  return stmt->Int(0);
}

TEST(SqliteReindex, LeavesUnchangedRowsAloneAndRewritesChangedOnes) {
  const std::string path = TempDbPath("reindex-same");
  auto store = Open(path);
  WriteIndexed(*store, "Observation", 40);
  WriteIndexed(*store, "Patient", 10);
  AddDeleteCounter(path);

  // Every table kind is compared exactly: nothing is rewritten.
  auto r = Reindex(*store, ReindexOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reindexed, 50);
  EXPECT_EQ(Deletes(path), 0);

  // A damaged row (and a missing one) are found and the resource's rows rewritten.
  {
    auto conn = sqlite::Connection::Open(path, false);
    ASSERT_TRUE((*conn)
                    ->Exec("UPDATE sp_quantity SET value = value + 1 WHERE res = "
                           "(SELECT pk FROM resource WHERE id = 'o7')")
                    .ok());
    ASSERT_TRUE((*conn)
                    ->Exec("DELETE FROM sp_string WHERE res = "
                           "(SELECT pk FROM resource WHERE id = 'p2')")
                    .ok());
  }
  const int64_t tampered = Deletes(path);
  EXPECT_GT(tampered, 0);
  EXPECT_EQ(Count(*store, "Patient", {{"family", "núñez2"}}), 1);  // p9 only
  r = Reindex(*store, ReindexOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_GT(Deletes(path), tampered);
  EXPECT_EQ(Count(*store, "Patient", {{"family", "núñez2"}}), 2);
  EXPECT_EQ(Count(*store, "Observation", {{"value-quantity", "107.5"}}), 1);  // o7 again

  // One parameter: compared (and rewritten) on its own.
  const int64_t before = Deletes(path);
  ReindexOptions one;
  one.type = "Observation";
  one.param = "code-value-quantity";
  r = Reindex(*store, one);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Deletes(path), before);
}

}  // namespace
}  // namespace carechart::store
