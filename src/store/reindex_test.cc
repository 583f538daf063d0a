// Reindex over a real SQLite store: resources written without index rows (as by a release that
// did not index a parameter) become searchable; resources changed meanwhile keep their rows.
#include "store/reindex.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "fhir/json.h"
#include "fhir/search_index.h"
#include "store/index_keys.h"
#include "store/postgres/pg_conn.h"
#include "store/search_query.h"
#include "store/sqlite_db.h"
#include "store/store_test_util.h"

namespace carechart::store {
namespace {

using testing::OpenOrDie;
using testing::TempDbPath;

constexpr int64_t kT0 = 1'600'000'000'000'000;

std::string Observation(int i) {
  return R"({"resourceType":"Observation","id":"o)" + std::to_string(i) +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
         (i % 2 ? "8480-6" : "8462-4") +
         R"("}]},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":)" +
         std::to_string(100 + i % 50) +
         R"(,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}})";
}

// Writes n Observations with no index rows at all.
void WriteUnindexed(ResourceStore& store, int n, int first = 0) {
  ASSERT_TRUE(store
                  .Write([&](WriteTxn& txn) -> Status {
                    for (int i = first; i < first + n; ++i) {
                      PreparedWrite w;
                      w.type = "Observation";
                      w.id = "o" + std::to_string(i);
                      w.version = 1;
                      w.last_updated_us = kT0 + i;
                      w.method = "PUT";
                      w.body = Observation(i);
                      RETURN_IF_ERROR(txn.Put(w));
                    }
                    return Status::Ok();
                  })
                  .ok());
}

// Writes version 1 of (type, id) with `body` and, like WriteUnindexed, no index rows.
void PutOne(ResourceStore& store, const std::string& type, const std::string& id,
            const std::string& body) {
  ASSERT_TRUE(store
                  .Write([&](WriteTxn& txn) -> Status {
                    PreparedWrite w;
                    w.type = type;
                    w.id = id;
                    w.version = 1;
                    w.last_updated_us = kT0;
                    w.method = "PUT";
                    w.body = body;
                    return txn.Put(w);
                  })
                  .ok());
}

int64_t Count(ResourceStore& store, const std::vector<std::pair<std::string, std::string>>& p) {
  auto q = ParseSearch("Observation", p);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  q->count = 0;
  q->total_limit = 0;  // an exact count: the default stops at kDefaultTotalLimit
  auto r = store.Search(*q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->total : -1;
}

TEST(Reindex, FillsMissingRowsForEveryParameterOrOne) {
  auto store = OpenOrDie(TempDbPath("reindex"));
  WriteUnindexed(*store, 500);
  const std::vector<std::pair<std::string, std::string>> composite = {
      {"code-value-quantity", "http://loinc.org|8480-6$ge140"}};
  EXPECT_EQ(Count(*store, {{"code", "8480-6"}}), 0);

  // One parameter only: the others stay unindexed.
  ReindexOptions one;
  one.type = "Observation";
  one.param = "code-value-quantity";
  one.batch = 64;
  std::vector<int64_t> seen;
  one.on_progress = [&](const ReindexProgress& p) { seen.push_back(p.done); };
  auto r = Reindex(*store, one);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->total, 500);
  EXPECT_EQ(r->done, 500);
  EXPECT_EQ(r->reindexed, 500);
  EXPECT_GE(seen.size(), 8u);               // 500 / 64 batches, then the final report
  EXPECT_EQ(Count(*store, composite), 50);  // odd i with 100 + i % 50 >= 140
  EXPECT_EQ(Count(*store, {{"code", "8480-6"}}), 0);

  // Everything, over every type: the audit trail too, which listings of every type leave out.
  PutOne(*store, "AuditEvent", "a1",
         R"({"resourceType":"AuditEvent","id":"a1","type":{"system":)"
         R"("http://dicom.nema.org/resources/ontology/DCM","code":"110110"},)"
         R"("recorded":"2020-01-01T00:00:00Z","agent":[{"requestor":true}],)"
         R"("source":{"observer":{"display":"x"}}})");
  auto audit = [&] {
    auto q = ParseSearch("AuditEvent", {{"type", "110110"}});
    q->count = 0;
    q->total_limit = 0;
    auto found = store->Search(*q);
    return found.ok() ? found->total : -1;
  };
  EXPECT_EQ(audit(), 0);
  ReindexOptions all;
  all.batch = 100;
  all.threads = 3;
  r = Reindex(*store, all);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->total, 501);
  EXPECT_EQ(r->done, 501);
  EXPECT_EQ(audit(), 1);
  EXPECT_EQ(Count(*store, {{"code", "8480-6"}}), 250);
  EXPECT_EQ(Count(*store, {{"subject", "Patient/p1"}}), 500);
  EXPECT_EQ(Count(*store, composite), 50);  // reindexing twice changes nothing
}

// Every index row of the file as a line of text, sorted.
std::string IndexDump(const std::string& path) {
  auto sql = sqlite::Connection::Open(path, true);
  EXPECT_TRUE(sql.ok()) << sql.status().ToString();
  std::vector<std::string> lines;
  for (const char* table : {"sp_token", "sp_string", "sp_date", "sp_reference", "sp_quantity",
                            "sp_number", "sp_uri", "sp_composite"}) {
    auto stmt = (*sql)->Prepare(std::string("SELECT * FROM ") + table);
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    while (stmt.ok()) {
      auto row = stmt->Step();
      if (!row.ok() || !*row) {
        break;
      }
      std::string line = table;
      for (int c = 0; c < stmt->ColumnCount(); ++c) {
        line += "|" + stmt->Text(c);
      }
      lines.push_back(std::move(line));
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) {
    out += line + "\n";
  }
  return out;
}

// SQLite compares a resource's stored rows with its extraction and rewrites them only when they
// differ (D37, D115): a changed row, a row too many and a row missing are each found, and
// nothing else changes.
TEST(Reindex, FindsEveryResourceWhoseRowsDiffer) {
  const std::string path = TempDbPath("reindex-differ");
  if (!testing::PostgresUriFor(path).empty()) {
    GTEST_SKIP() << "reads the SQLite file (PostgreSQL's comparison: the next test)";
  }
  auto store = OpenOrDie(path);
  WriteUnindexed(*store, 60);
  ReindexOptions all;
  all.batch = 16;
  ASSERT_TRUE(Reindex(*store, all).ok());
  const std::string indexed = IndexDump(path);
  auto again = Reindex(*store, all);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->differing, 0);
  EXPECT_EQ(again->reindexed, 60);
  EXPECT_EQ(IndexDump(path), indexed);  // unchanged rows stay as they are
  {
    auto sql = sqlite::Connection::Open(path, false);
    ASSERT_TRUE(sql.ok()) << sql.status().ToString();
    // One token row changed, one extra string row, one resource's reference rows gone.
    ASSERT_TRUE((*sql)
                    ->Exec("UPDATE sp_token SET code = 'changed' WHERE code = '8480-6' AND res = "
                           "(SELECT MIN(res) FROM sp_token WHERE code = '8480-6')")
                    .ok());
    ASSERT_TRUE((*sql)
                    ->Exec("INSERT INTO sp_string(res, param, normalized, exact) SELECT MAX(res), "
                           "1, 'extra', '' FROM sp_token")
                    .ok());
    ASSERT_TRUE((*sql)
                    ->Exec("DELETE FROM sp_reference WHERE res = (SELECT MIN(res) FROM "
                           "sp_reference)")
                    .ok());
    // A body that no longer parses: its rows are kept (nothing can be derived from it).
    ASSERT_TRUE((*sql)->Exec("UPDATE resource SET body = '{\"broken' WHERE id = 'o40'").ok());
  }
  ASSERT_NE(IndexDump(path), indexed);
  auto repaired = Reindex(*store, all);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->differing, 3);  // compared on the extraction threads, only those rewritten
  EXPECT_EQ(IndexDump(path), indexed);
}

// The comparison a reindex runs before the writer (D116), asked directly: by the keys a page in
// key order carries, over their range or key by key, by lookup without keys, and for one
// parameter only.
TEST(Reindex, SameIndexFindsExactlyTheResourcesWhoseRowsDiffer) {
  const std::string path = TempDbPath("reindex-same");
  const std::string pg_uri = testing::PostgresUriFor(path);
  auto store = OpenOrDie(path);
  WriteUnindexed(*store, 40);
  // A fractional value too: composite bounds come back from PostgreSQL's numeric as text.
  std::string fractional = Observation(40);
  const size_t at = fractional.find("\"value\":");
  fractional.replace(at, fractional.find(',', at) - at, "\"value\":98.6");
  PutOne(*store, "Observation", "o40", fractional);
  ASSERT_TRUE(Reindex(*store, ReindexOptions{}).ok());
  {
    // o3: a code changed; o10: a row too many (of another parameter than code, with a value
    // written as PostgreSQL writes composite bounds); o21: its reference rows gone.
    auto res = [&](const std::string& id) {
      return "(SELECT pk FROM resource WHERE id = '" + id + "')";
    };
    const std::vector<std::string> damage = {
        "UPDATE sp_token SET code = 'changed' WHERE res = " + res("o3") +
            " AND code IN ('8480-6', '8462-4')",
        pg_uri.empty() ? "INSERT INTO sp_string(res, param, normalized, exact) VALUES (" +
                             res("o10") + ", 1, 'extra', '')"
                       : "INSERT INTO sp_string(res, compartment_key, param, normalized, exact) "
                         "SELECT pk, compartment_key, 1, 'extra', '' FROM resource WHERE id = "
                         "'o10'",
        "DELETE FROM sp_reference WHERE res = " + res("o21")};
    for (const std::string& sql : damage) {
      if (pg_uri.empty()) {
        auto conn = sqlite::Connection::Open(path, false);
        ASSERT_TRUE(conn.ok()) << conn.status().ToString();
        ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
      } else {
        auto conn = pg::Connection::Open(pg_uri);
        ASSERT_TRUE(conn.ok()) << conn.status().ToString();
        ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
      }
    }
  }
  SearchQuery q;
  q.type = "Observation";
  q.count = 100;
  auto page = store->Search(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->matches.size(), 41u);
  auto differing = [&](const std::vector<ResourceVersion>& resources, const std::string& param) {
    std::vector<fhir::IndexEntries> index;
    for (const ResourceVersion& r : resources) {
      auto parsed = json::Parse(r.body);
      EXPECT_TRUE(parsed.ok());
      index.push_back(fhir::ExtractIndex(*parsed));
    }
    auto same = store->SameIndex(resources, index, param);
    EXPECT_TRUE(same.ok()) << same.status().ToString();
    std::vector<std::string> ids;
    for (size_t i = 0; same.ok() && i < resources.size(); ++i) {
      if (!(*same)[i]) {
        ids.push_back(resources[i].id);
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  const std::vector<std::string> damaged{"o10", "o21", "o3"};
  EXPECT_NE(page->matches.front().row_key, 0);
  EXPECT_EQ(differing(page->matches, ""), damaged);  // a dense range of keys
  std::vector<ResourceVersion> sparse;               // every third: read key by key
  for (size_t i = 0; i < page->matches.size(); i += 3) {
    sparse.push_back(page->matches[i]);
  }
  std::vector<std::string> sparse_damaged;
  for (const ResourceVersion& r : sparse) {
    if (std::find(damaged.begin(), damaged.end(), r.id) != damaged.end()) {
      sparse_damaged.push_back(r.id);
    }
  }
  std::sort(sparse_damaged.begin(), sparse_damaged.end());
  ASSERT_FALSE(sparse_damaged.empty());
  EXPECT_EQ(differing(sparse, ""), sparse_damaged);
  std::vector<ResourceVersion> unkeyed = page->matches;  // looked up by (type, id, version)
  std::vector<std::string> all_ids;
  for (ResourceVersion& r : unkeyed) {
    r.row_key = 0;
    all_ids.push_back(r.id);
  }
  std::sort(all_ids.begin(), all_ids.end());
  // PostgreSQL compares only what its pages keyed; the others go to the writer.
  EXPECT_EQ(differing(unkeyed, ""), pg_uri.empty() ? damaged : all_ids);
  EXPECT_EQ(differing(page->matches, "code"), std::vector<std::string>{"o3"});
  EXPECT_EQ(differing(page->matches, "subject"), std::vector<std::string>{"o21"});
  std::vector<ResourceVersion> stale = page->matches;  // a version no longer current
  stale[5].version = 7;
  stale[5].row_key = 0;
  auto stale_ids = differing(stale, "");
  EXPECT_NE(std::find(stale_ids.begin(), stale_ids.end(), stale[5].id), stale_ids.end());
}

// A reindex of one parameter extracts only it and `patient` (D116): its token rows must still
// carry the patient (D60), on both backends.
TEST(Reindex, OneParameterKeepsThePatientOfItsTokenRows) {
  const std::string path = TempDbPath("reindex-patient");
  auto store = OpenOrDie(path);
  WriteUnindexed(*store, 50);
  ReindexOptions code;
  code.type = "Observation";
  code.param = "code";
  ASSERT_TRUE(Reindex(*store, code).ok());
  const std::string sql = "SELECT COUNT(*) FROM sp_token WHERE patient = 'p1' AND param = " +
                          std::to_string(ParamKey("Observation", "code"));
  int64_t with_patient = -1;
  if (const std::string uri = testing::PostgresUriFor(path); !uri.empty()) {
    auto conn = pg::Connection::Open(uri);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto rows = (*conn)->Run(sql);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    with_patient = rows->Int(0, 0);
  } else {
    auto conn = sqlite::Connection::Open(path, true);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto stmt = (*conn)->Prepare(sql);
    ASSERT_TRUE(stmt.ok());
    ASSERT_TRUE(*stmt->Step());
    with_patient = stmt->Int(0);
  }
  EXPECT_EQ(with_patient, 50);
  EXPECT_EQ(Count(*store, {{"code", "8480-6"}}), 25);
  EXPECT_EQ(Count(*store, {{"subject", "Patient/p1"}}), 0);  // not reindexed
}

TEST(Reindex, RejectsUnknownTypeOrParameterAndStops) {
  auto store = OpenOrDie(TempDbPath("reindex-bad"));
  ReindexOptions bad;
  bad.type = "Frobnicator";
  auto r = Reindex(*store, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Frobnicator"), std::string::npos);
  bad.type = "Observation";
  bad.param = "nonexistent";
  r = Reindex(*store, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nonexistent"), std::string::npos);
  bad.type.clear();
  bad.param = "code";
  EXPECT_FALSE(Reindex(*store, bad).ok());

  WriteUnindexed(*store, 50);
  std::atomic<bool> stop{true};
  ReindexOptions stopped;
  stopped.stop = &stop;
  r = Reindex(*store, stopped);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

// Rate on this machine (a figure, not a timed assertion): CARECHART_REINDEX_N resources.
TEST(Reindex, Rate) {
  const char* env = std::getenv("CARECHART_REINDEX_N");
  const int n = env ? std::atoi(env) : 5000;
  auto store = OpenOrDie(TempDbPath("reindex-rate"));
  for (int first = 0; first < n; first += 5000) {
    WriteUnindexed(*store, std::min(5000, n - first), first);
  }
  auto r = Reindex(*store, ReindexOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reindexed, n);
  std::printf("reindex: %lld resources in %.2f s = %.0f resources/s\n",
              static_cast<long long>(r->done), r->seconds, r->rate());
}

}  // namespace
}  // namespace carechart::store
