// Compressed resource bodies in the SQLite store (D101-D103): a dictionary is trained once the
// database holds enough versions, later bodies are zstd frames naming it, and every read
// (current, version, history, search, export scan) gives back the JSON as written, across
// reopens, with compression turned off again, and for the plain bodies written before.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "store/resource_store.h"
#include "store/store_test_util.h"

namespace carechart::store {
namespace {

using testing::TempDbPath;

constexpr int64_t kT0 = 1'700'000'000'000'000;

bool OnPostgres() { return !testing::PostgresUriFor("x").empty(); }

// Bodies with the repetition of real FHIR JSON, distinct per type, id and version.
std::string Body(const std::string& type, const std::string& id, int64_t version) {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","meta":{"versionId":")" +
         std::to_string(version) +
         R"(","source":"urn:carechart:facility:riverside","tag":[{"system":"https://)"
         R"(carechart.dev/fhir/CodeSystem/facility","code":"riverside"}]},"status":"final",)"
         R"("code":{"coding":[{"system":"http://loinc.org","code":")" +
         std::to_string(1000 + (id.size() * 31 + version * 7) % 97) +
         R"(-5","display":"Something measured"}]},"subject":{"reference":"Patient/p)" +
         std::to_string(id.size() * 17 % 50) + R"("},"note":[{"text":"version )" +
         std::to_string(version) + " of " + id + R"("}]})";
}

std::unique_ptr<ResourceStore> Open(const std::string& path, int64_t compress_after) {
  SqliteOptions options;
  options.path = path;
  options.compress_bodies_after = compress_after;
  auto store = OpenSqliteStore(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

// What the test wrote: type/id -> every version's body (empty for a deletion).
using Written = std::map<std::string, std::vector<std::string>>;

Status Put(ResourceStore& store, Written& written, const std::string& type, const std::string& id,
           bool via_encode_body, bool deleted = false) {
  std::vector<std::string>& versions = written[type + "/" + id];
  PreparedWrite w;
  w.type = type;
  w.id = id;
  w.version = static_cast<int64_t>(versions.size()) + 1;
  w.last_updated_us = kT0 + static_cast<int64_t>(written.size()) * 1000 + w.version;
  w.method = deleted ? "DELETE" : "PUT";
  w.deleted = deleted;
  if (!deleted) {
    w.body = Body(type, id, w.version);
    if (via_encode_body) {  // as the REST layer does on its worker threads
      store.EncodeBody(w.body, &w.stored_body);
    }
  }
  versions.push_back(w.body);
  return store.Write([&](WriteTxn& txn) { return txn.Put(w); });
}

// Raw facts of the file: bodies stored compressed / plain, dictionaries.
struct FileFacts {
  int64_t compressed = 0;
  int64_t plain = 0;
  int64_t dictionaries = 0;
};

FileFacts Facts(const std::string& path) {
  FileFacts f;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(
      sqlite3_prepare_v2(db,
                         "SELECT (SELECT count(*) FROM (SELECT body FROM resource UNION ALL "
                         "SELECT body FROM resource_history) WHERE hex(substr(body, 1, 4)) = "
                         "'28B52FFD'), (SELECT count(*) FROM (SELECT body FROM resource "
                         "UNION ALL SELECT body FROM resource_history) WHERE hex(substr(body, "
                         "1, 1)) = '7B'), (SELECT count(*) FROM body_dictionary)",
                         -1, &stmt, nullptr),
      SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  f.compressed = sqlite3_column_int64(stmt, 0);
  f.plain = sqlite3_column_int64(stmt, 1);
  f.dictionaries = sqlite3_column_int64(stmt, 2);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return f;
}

void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

bool WaitForDictionaries(const std::string& path, int64_t at_least) {
  for (int i = 0; i < 300; ++i) {
    if (Facts(path).dictionaries >= at_least) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Every read path gives back each version's body exactly as written.
void ExpectReadsBack(ResourceStore& store, const Written& written) {
  std::map<std::string, std::string> current;
  for (const auto& [key, versions] : written) {
    const std::string type = key.substr(0, key.find('/'));
    const std::string id = key.substr(key.find('/') + 1);
    auto cur = store.Read(type, id);
    ASSERT_TRUE(cur.ok()) << key << ": " << cur.status().ToString();
    EXPECT_EQ(cur->body, versions.back()) << key;
    for (size_t v = 0; v < versions.size(); ++v) {
      auto old = store.ReadVersion(type, id, static_cast<int64_t>(v) + 1);
      ASSERT_TRUE(old.ok()) << key << " v" << v + 1 << ": " << old.status().ToString();
      EXPECT_EQ(old->body, versions[v]) << key << " v" << v + 1;
    }
    HistoryQuery hq;
    hq.type = type;
    hq.id = id;
    auto history = store.History(hq);
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    ASSERT_EQ(history->versions.size(), versions.size()) << key;
    for (const ResourceVersion& v : history->versions) {
      EXPECT_EQ(v.body, versions[v.version - 1]) << key << " history v" << v.version;
    }
    if (!versions.back().empty()) {
      current[key] = versions.back();
    }
  }
  // Searches: every current resource of each type, page by page.
  std::map<std::string, std::string> searched;
  for (const char* type : {"Observation", "Condition", "Patient"}) {
    SearchQuery q;
    q.type = type;
    q.count = 50;
    while (true) {
      auto page = store.Search(q);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const ResourceVersion& v : page->matches) {
        searched[v.type + "/" + v.id] = v.body;
      }
      if (!page->next) {
        break;
      }
      q.after = page->next;
    }
  }
  EXPECT_EQ(searched, current);
  // The export scan.
  std::map<std::string, std::string> scanned;
  Status s = store.ScanCurrent({}, [&](const ScannedVersion& v) {
    scanned[std::string(v.type) + "/" + std::string(v.id)] = std::string(v.body);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(scanned, current);
}

bool TrainerThreadRuns() {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == "body-dict-train") {
      return true;
    }
  }
  return false;
}

// Writes `n` new resources (types in turn), every third updated once and every tenth deleted.
void WriteMany(ResourceStore& store, Written& written, int from, int n) {
  const char* types[] = {"Observation", "Condition", "Patient"};
  for (int i = from; i < from + n; ++i) {
    const std::string type = types[i % 3];
    const std::string id = "r" + std::to_string(i);
    ASSERT_TRUE(Put(store, written, type, id, i % 2 == 0).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(Put(store, written, type, id, i % 4 == 0).ok());
    }
    if (i % 10 == 0) {
      ASSERT_TRUE(Put(store, written, type, id, false, /*deleted=*/true).ok());
    }
  }
}

TEST(SqliteBodyCompression, TrainsADictionaryAndReadsEverythingBack) {
  if (OnPostgres()) {
    GTEST_SKIP() << "PostgreSQL keeps bodies as they are";
  }
  const std::string path = TempDbPath("compress");
  Written written;
  {
    auto store = Open(path, 300);
    ASSERT_TRUE(store);
    EXPECT_TRUE(TrainerThreadRuns());
    WriteMany(*store, written, 0, 150);  // ~215 versions: under the threshold
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(Facts(path).dictionaries, 0);
    EXPECT_EQ(Facts(path).compressed, 0);
    WriteMany(*store, written, 150, 200);
    ASSERT_TRUE(WaitForDictionaries(path, 1)) << "no dictionary was trained";
    WriteMany(*store, written, 350, 300);  // both through EncodeBody and by the writer
    FileFacts f = Facts(path);
    EXPECT_GT(f.compressed, 300) << "bodies written after the dictionary stay plain";
    EXPECT_GE(f.plain, 200) << "bodies written before it were rewritten";  // the first 150
    ExpectReadsBack(*store, written);
    store->Close();
  }
  {  // Reopened: the dictionaries are loaded; new bodies use the newest.
    auto store = Open(path, 300);
    ASSERT_TRUE(store);
    ExpectReadsBack(*store, written);
    const int64_t before = Facts(path).compressed;
    WriteMany(*store, written, 650, 30);
    EXPECT_GE(Facts(path).compressed, before + 25);
    store->Close();
  }
  {  // Compression off: everything still reads, new bodies are plain, nothing is trained.
    auto store = Open(path, 0);
    ASSERT_TRUE(store);
    const FileFacts f = Facts(path);
    WriteMany(*store, written, 700, 30);
    EXPECT_EQ(Facts(path).compressed, f.compressed);
    ExpectReadsBack(*store, written);
    store->Close();
  }
}

// A database whose bodies were all written plain (an existing database; compression off) keeps
// reading once compression starts on it.
TEST(SqliteBodyCompression, APlainDatabaseKeepsReadingAfterCompressionStarts) {
  if (OnPostgres()) {
    GTEST_SKIP() << "PostgreSQL keeps bodies as they are";
  }
  const std::string path = TempDbPath("compress_later");
  Written written;
  {
    auto store = Open(path, 0);
    ASSERT_TRUE(store);
    EXPECT_FALSE(TrainerThreadRuns());
    WriteMany(*store, written, 0, 400);
    store->Close();
  }
  EXPECT_EQ(Facts(path).compressed, 0);
  auto store = Open(path, 200);  // holds more than that already: trains at once
  ASSERT_TRUE(store);
  ASSERT_TRUE(WaitForDictionaries(path, 1));
  WriteMany(*store, written, 400, 100);
  EXPECT_GT(Facts(path).compressed, 100);
  ExpectReadsBack(*store, written);
}

// A body whose dictionary is missing or whose frame is damaged is an error naming the resource,
// for that resource only.
TEST(SqliteBodyCompression, AMissingDictionaryOrADamagedFrameIsAnErrorNamingTheResource) {
  if (OnPostgres()) {
    GTEST_SKIP() << "PostgreSQL keeps bodies as they are";
  }
  const std::string path = TempDbPath("compress_damaged");
  Written written;
  {
    auto store = Open(path, 100);
    ASSERT_TRUE(store);
    WriteMany(*store, written, 0, 100);
    ASSERT_TRUE(WaitForDictionaries(path, 1));
    ASSERT_TRUE(Put(*store, written, "Observation", "late", true).ok());
    ASSERT_TRUE(Put(*store, written, "Observation", "damaged", false).ok());
    store->Close();
  }
  ASSERT_GE(Facts(path).compressed, 2);
  RawExec(path,
          "UPDATE resource SET body = substr(body, 1, length(body) - 4) WHERE id = 'damaged'; "
          "DELETE FROM body_dictionary;");
  auto store = Open(path, 0);
  ASSERT_TRUE(store);
  auto late = store->Read("Observation", "late");
  EXPECT_EQ(late.status().code(), StatusCode::kInternal);
  EXPECT_NE(late.status().message().find("Observation/late"), std::string::npos)
      << late.status().message();
  EXPECT_NE(late.status().message().find("dictionary"), std::string::npos);
  auto damaged = store->Read("Observation", "damaged");
  EXPECT_EQ(damaged.status().code(), StatusCode::kInternal);
  EXPECT_NE(damaged.status().message().find("Observation/damaged"), std::string::npos);
  // Plain bodies of the same database are unaffected.
  auto plain = store->Read("Observation", "r3");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->body, written["Observation/r3"].back());
}

TEST(SqliteBodyCompression, ABadSettingIsRefusedAtOpenNamingIt) {
  if (OnPostgres()) {
    GTEST_SKIP() << "a SQLite setting";
  }
  setenv("CARECHART_COMPRESS_BODIES_AFTER", "lots", 1);
  SqliteOptions options;
  options.path = TempDbPath("compress_setting");
  auto store = OpenSqliteStore(options);
  unsetenv("CARECHART_COMPRESS_BODIES_AFTER");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("CARECHART_COMPRESS_BODIES_AFTER"), std::string::npos);
}

}  // namespace
}  // namespace carechart::store
