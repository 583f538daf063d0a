// What only the PostgreSQL backend has to prove: migrations that are safe when nodes start at
// once, optimistic concurrency and conditional creates across separate stores (as separate API
// nodes would hold), the audit chain under concurrent appenders, bytes kept exactly.
// Needs the "postgres" CTest fixture (scripts/pg-temp.sh); without it every test skips, saying so.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <regex>
#include <thread>

#include "store/index_keys.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/postgres_store.h"
#include "store/search_query.h"
#include "store/search_sql.h"
#include "store/store_test_util.h"

namespace carechart::store {
namespace {

using testing::BodyFor;
using testing::MakeWrite;
using testing::PostgresTestServer;
using testing::PutNext;

constexpr int64_t kT0 = 1'700'000'000'000'000;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = PostgresTestServer();
    if (server_.empty()) {
      GTEST_SKIP() << "no PostgreSQL test server: run through ctest (fixture \"postgres\", "
                      "scripts/pg-temp.sh) or set CARECHART_TEST_POSTGRES_URI_FILE";
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("pt_") + info->name();
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    uri_ = FreshDatabase(name);
    ASSERT_FALSE(uri_.empty());
  }

  // The URI of an empty database `name` on the test server (dropped first, as an earlier run may
  // have left it); "" (and a failure) when it cannot be made.
  std::string FreshDatabase(const std::string& name) {
    auto admin = pg::Connection::Open(server_);
    EXPECT_TRUE(admin.ok()) << admin.status().ToString();
    if (!admin.ok() || !(*admin)->Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").ok()) {
      ADD_FAILURE() << "cannot drop the database " << name;
      return "";
    }
    auto uri = EnsurePostgresDatabase(server_, name);
    EXPECT_TRUE(uri.ok()) << uri.status().ToString();
    return uri.ok() ? *uri : "";
  }

  // A store on `uri` that must find the schema up to date (migrate = false), as `carechart serve`
  // does after `carechart migrate`.
  static StatusOr<std::unique_ptr<ResourceStore>> OpenWithoutMigrating(const std::string& uri) {
    PostgresOptions o;
    o.uri = uri;
    o.migrate = false;
    return OpenPostgresStore(o);
  }

  // The audit log's event ids in order, after checking that it is one chain: seq 1, 2, ... each
  // entry naming the hash of the one before and hashed as AuditEntryHash says.
  std::vector<std::string> AuditChain() {
    auto conn = Sql();
    auto rows = conn->Run(
        "SELECT seq, recorded, event_id, body, prev_hash, hash FROM audit_log ORDER BY seq");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<std::string> ids;
    std::string prev(kAuditGenesisHash);
    for (int i = 0; rows.ok() && i < rows->size(); ++i) {
      EXPECT_EQ(rows->Int(i, 0), i + 1);
      EXPECT_EQ(rows->Text(i, 4), prev);
      prev = AuditEntryHash(prev, rows->Int(i, 0), rows->Int(i, 1), rows->Text(i, 2),
                            rows->Text(i, 3));
      EXPECT_EQ(rows->Text(i, 5), prev);
      ids.push_back(rows->Text(i, 2));
    }
    return ids;
  }

  // A store of its own (its own pool), as one API node would have.
  std::unique_ptr<ResourceStore> Node(int connections = 4) {
    PostgresOptions o;
    o.uri = uri_;
    o.connections = connections;
    auto store = OpenPostgresStore(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::unique_ptr<pg::Connection> Sql() {
    auto conn = pg::Connection::Open(uri_);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  std::string server_, uri_;
};

TEST_F(PostgresStoreTest, NodesStartingAtOnceApplyEachMigrationOnce) {
  constexpr int kNodes = 4;
  std::vector<std::thread> threads;
  std::atomic<int> opened{0}, applied{0};
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&] {
      auto conn = pg::Connection::Open(uri_);
      ASSERT_TRUE(conn.ok()) << conn.status().ToString();
      auto n = pg::MigrateSchema(**conn, kT0);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      applied += *n;
      ++opened;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(opened, kNodes);
  EXPECT_EQ(applied, pg::CurrentSchemaVersion());  // each migration once, by whoever came first
  auto conn = Sql();
  auto rows = conn->Run("SELECT COUNT(*), MAX(version) FROM schema_version");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Int(0, 0), pg::CurrentSchemaVersion());
  EXPECT_EQ(rows->Int(0, 1), pg::CurrentSchemaVersion());
}

TEST_F(PostgresStoreTest, UpgradesADatabaseOfThePreviousSchemaVersion) {
  {
    auto conn = Sql();
    auto n = pg::MigrateSchema(*conn, kT0, pg::CurrentSchemaVersion() - 1);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, pg::CurrentSchemaVersion() - 1);
  }
  {  // data written by the old schema survives the upgrade
    auto refused = OpenWithoutMigrating(uri_);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("carechart migrate"), std::string::npos);
    auto conn = Sql();
    // (the previous version, 7, keys every clinical row by its compartment; 8 adds the token
    // rows' patient, decisions D60)
    ASSERT_TRUE(conn->Exec("INSERT INTO resource(type, id, version, last_updated, deleted, method, "
                           "seq, body, compartment_key) VALUES ('Patient', 'old', 1, 1, 0, 'PUT', "
                           "nextval('resource_seq'), '{\"resourceType\":\"Patient\"}', 'old')")
                    .ok());
    ASSERT_TRUE(conn->Exec("INSERT INTO resource_key(type, id, compartment_key) VALUES "
                           "('Patient', 'old', 'old')")
                    .ok());
  }
  auto migrated = MigratePostgres(uri_);
  ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
  EXPECT_EQ(*migrated, 1);
  auto store = Node();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Read("Patient", "old")->body, R"({"resourceType":"Patient"})");
  {  // migration 10: the current Patients' index (decisions D74), holding the one written before;
     // migration 11: the token rows by patient and code (decisions D86)
    auto conn = Sql();
    auto rows = conn->Run(
        "SELECT (to_regclass('resource_current_patient') IS NOT NULL)::int, (SELECT COUNT(*) FROM "
        "resource WHERE type = 'Patient' AND deleted = 0 AND id = 'old'), "
        "(to_regclass('sp_token_patient') IS NOT NULL)::int");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(rows->Int(0, 0), 1);
    EXPECT_EQ(rows->Int(0, 1), 1);
    EXPECT_EQ(rows->Int(0, 2), 1);
  }
  // The newest migration (the audit log) works.
  Status s = store->Write([](WriteTxn& txn) {
    return txn.AppendAudit({kT0, "e1", R"({"resourceType":"AuditEvent"})"});
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto again = MigratePostgres(uri_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0);
}

TEST_F(PostgresStoreTest, SameIfMatchOnTwoNodesExactlyOneWins) {
  auto a = Node(), b = Node();
  ASSERT_TRUE(PutNext(*a, MakeWrite("Patient", "p1", kT0)).ok());
  for (int round = 0; round < 5; ++round) {
    const int64_t expected = round + 1;  // If-Match: W/"<expected>"
    std::barrier both_read(2);
    auto update = [&](ResourceStore& node, int64_t lu) {
      bool first_attempt = true;  // the loser's function is rerun (D39): meet only once
      return node.Write([&, lu](WriteTxn& txn) -> Status {
        ASSIGN_OR_RETURN(CurrentVersion cur, txn.Current("Patient", "p1"));
        if (first_attempt) {
          first_attempt = false;
          both_read.arrive_and_wait();  // both have seen the same version before either writes
        }
        if (cur.version != expected) {
          return Status(StatusCode::kPreconditionFailed, "version moved");
        }
        PreparedWrite w = MakeWrite("Patient", "p1", lu);
        w.version = expected + 1;
        return txn.Put(w);
      });
    };
    Status sa, sb;
    std::thread ta([&] { sa = update(*a, kT0 + 10 * round + 1); });
    std::thread tb([&] { sb = update(*b, kT0 + 10 * round + 2); });
    ta.join();
    tb.join();
    EXPECT_NE(sa.ok(), sb.ok()) << sa.ToString() << " / " << sb.ToString();
    const Status& loser = sa.ok() ? sb : sa;
    // Rerun after the winner committed, the loser's own If-Match check refuses it.
    EXPECT_EQ(loser.code(), StatusCode::kPreconditionFailed) << loser.ToString();
    EXPECT_EQ(a->Read("Patient", "p1")->version, expected + 1);
    EXPECT_EQ(b->Read("Patient", "p1")->version, expected + 1);
  }
  HistoryQuery query;  // members set one by one: a designated initializer warns of the rest
  query.type = "Patient";
  query.id = "p1";
  auto history = a->History(query);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->total, 6);
}

TEST_F(PostgresStoreTest, ConcurrentCreatesOfOneIdLeaveOneVersionOne) {
  auto a = Node(), b = Node();
  std::atomic<int> ok{0}, conflict{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      PreparedWrite w = MakeWrite("Patient", "new", kT0 + i);
      w.version = 1;  // create only
      Status s = (i % 2 ? *a : *b).Write([&](WriteTxn& txn) { return txn.Put(w); });
      (s.ok() ? ok : conflict) += 1;
      EXPECT_TRUE(s.ok() || s.code() == StatusCode::kConflict) << s.ToString();
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflict, 5);
  EXPECT_EQ(a->Read("Patient", "new")->version, 1);
}

TEST_F(PostgresStoreTest, ConditionalCreatesAcrossNodesCreateOnce) {
  auto a = Node(), b = Node();
  SearchQuery q;
  q.type = "Patient";
  SearchClause c;
  c.param = "identifier";
  c.type = fhir::SearchParamType::kToken;
  SearchValue v;
  v.has_system = true;
  v.system = "urn:mrn";
  v.raw = v.code = "42";
  c.values.push_back(v);
  q.clauses.push_back(c);
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Status s = (i % 2 ? *a : *b).Write([&](WriteTxn& txn) -> Status {
        ASSIGN_OR_RETURN(std::vector<std::string> ids, txn.SearchIds(q, 2));
        if (!ids.empty()) {
          return Status::Ok();  // If-None-Exist matched
        }
        fhir::IndexEntries ix;
        ix.tokens.push_back({"identifier", "urn:mrn", "42", ""});
        PreparedWrite w = MakeWrite("Patient", "c" + std::to_string(i), kT0, ix);
        w.version = 1;
        created += 1;
        return txn.Put(w);
      });
      EXPECT_TRUE(s.ok()) << s.ToString();
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  q.count = 10;
  auto found = a->Search(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->matches.size(), 1u);
  EXPECT_EQ(created, 1);
}

TEST_F(PostgresStoreTest, AuditChainStaysLinearWithConcurrentAppendersOnTwoNodes) {
  auto a = Node(), b = Node();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        std::string id = "e" + std::to_string(i) + "-" + std::to_string(j);
        Status s = (i % 2 ? *a : *b).Write([&](WriteTxn& txn) {
          return txn.AppendAudit({kT0 + j, id, R"({"resourceType":"AuditEvent"})"});
        });
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(AuditChain().size(), 40u);
  EXPECT_FALSE(Sql()->Exec("DELETE FROM audit_log").ok());  // append-only
}

// A write's entries are chained at its end, in the order appended; a write that fails after
// appending leaves none (decisions D47).
TEST_F(PostgresStoreTest, AuditEntriesOfOneWriteAreChainedInOrderAndGoWithIt) {
  auto a = Node();
  Status failed = a->Write([&](WriteTxn& txn) {
    RETURN_IF_ERROR(txn.AppendAudit({kT0, "lost", R"({"resourceType":"AuditEvent"})"}));
    return ConflictError("the write fails after appending");
  });
  EXPECT_FALSE(failed.ok());
  Status s = a->Write([&](WriteTxn& txn) {
    for (int i = 0; i < 3; ++i) {
      RETURN_IF_ERROR(txn.AppendAudit(
          {kT0 + i, "batch-" + std::to_string(i), R"({"resourceType":"AuditEvent"})"}));
    }
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(AuditChain(), (std::vector<std::string>{"batch-0", "batch-1", "batch-2"}));
}

TEST_F(PostgresStoreTest, BodiesComeBackByteForByte) {
  auto store = Node();
  PreparedWrite w = MakeWrite("Patient", "bytes", kT0);
  w.body = "{\"resourceType\":\"Patient\",\"z\":1.50,\"a\":\"\xC3\xA9\\u0000\",  \"id\":\"bytes\"}";
  w.version = 1;
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.Put(w); }).ok());
  EXPECT_EQ(store->Read("Patient", "bytes")->body, w.body);
}

// Index entries of every kind, a repeated token and doubles that text would round.
fhir::IndexEntries EveryKindOfEntry() {
  fhir::IndexEntries ix;
  ix.tokens.push_back({"code", "http://loinc.org", "8867-4", "Heart rate"});
  ix.tokens.push_back({"code", "http://loinc.org", "8867-4", "Heart rate (again)"});
  ix.strings.push_back({"name", "ana", "Ana"});
  ix.dates.push_back({"date", kT0, kT0 + 999'999});
  ix.references.push_back({"subject", "Patient", "p1", ""});
  ix.quantities.push_back({"value-quantity", 0.1, "http://unitsofmeasure.org", "/min", "/min"});
  ix.numbers.push_back({"probability", 1.0 / 3});
  ix.uris.push_back({"url", "http://example.org/a\tb"});
  fhir::CompositeEntry c;
  c.param = "code-value-quantity";
  fhir::CompositePart code;
  code.system = "http://loinc.org";
  code.text = "8867-4";
  fhir::CompositePart value;
  value.low = 0.1;
  fhir::CompositePart when;
  when.is_date = true;
  when.low_us = kT0;
  when.high_us = kT0 + 1;
  c.parts = {code, value, when};
  ix.composites.push_back(c);
  ix.composites.push_back(c);
  return ix;
}

// Every index row of Observation/`id`, without its res, as text.
std::vector<std::string> IndexRowsOf(pg::Connection& sql, const std::string& id) {
  std::vector<std::string> out;
  for (const char* table : {"sp_token", "sp_string", "sp_date", "sp_reference", "sp_quantity",
                            "sp_number", "sp_uri", "sp_composite"}) {
    auto rows = sql.Run(std::string("SELECT '") + table +
                            "' || (to_jsonb(t) - 'res' - 'compartment_key')::text FROM " + table +
                            " t JOIN resource r ON r.pk = t.res WHERE r.type = "
                            "'Observation' AND r.id = $1 ORDER BY 1",
                        pg::Args().Text(id));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (int i = 0; rows.ok() && i < rows->size(); ++i) {
      out.push_back(rows->Text(i, 0));
    }
  }
  return out;
}

TEST_F(PostgresStoreTest, ManyCreatesInOneWriteGoInByCopyWithTheSameRowsAsOne) {
  auto store = Node();
  ASSERT_TRUE(PutNext(*store, MakeWrite("Observation", "alone", kT0, EveryKindOfEntry())).ok());
  std::vector<PreparedWrite> batch;
  for (int i = 0; i < 40; ++i) {
    PreparedWrite w = MakeWrite("Observation", "b" + std::to_string(i), kT0, EveryKindOfEntry());
    w.version = 1;
    w.patient_id = i % 2 ? "p1" : "";
    batch.push_back(w);
  }
  batch[7].body += "\t\n\\ \xC3\xA9";  // bytes COPY's text format must escape
  ASSERT_TRUE(store
                  ->Write([&](WriteTxn& txn) -> Status {
                    for (const PreparedWrite& w : batch) {
                      RETURN_IF_ERROR(txn.Put(w));
                    }
                    // Waiting creates are visible to the transaction itself ...
                    auto cur = txn.Current("Observation", "b3");
                    EXPECT_TRUE(cur.ok() && cur->version == 1);
                    // ... and an update of one of them sends them first.
                    PreparedWrite next = batch[3];
                    next.version = 2;
                    next.method = "PUT";
                    return txn.Put(next);
                  })
                  .ok());
  for (const PreparedWrite& w : batch) {
    auto read = store->Read("Observation", w.id);
    ASSERT_TRUE(read.ok()) << w.id << ": " << read.status().ToString();
    EXPECT_EQ(read->body, w.body);
    EXPECT_EQ(read->version, w.id == "b3" ? 2 : 1);
  }
  auto sql = Sql();
  std::vector<std::string> alone = IndexRowsOf(*sql, "alone");
  EXPECT_EQ(alone.size(), 9u) << "one row per entry, the repeated token once, each composite tuple";
  EXPECT_EQ(IndexRowsOf(*sql, "b0"), alone);
  EXPECT_EQ(IndexRowsOf(*sql, "b39"), alone);
  auto patients = sql->Run("SELECT count(patient_id) FROM resource WHERE id LIKE 'b%'");
  ASSERT_TRUE(patients.ok());
  EXPECT_EQ(patients->Int(0, 0), 20);  // '' went in as NULL
}

// The search tables' names whose statistics were gathered by an ANALYZE command (ours; autovacuum
// sets last_autoanalyze instead), comma-separated in name order.
std::string AnalysedTables(pg::Connection& sql) {
  auto rows = sql.Run(
      "SELECT coalesce(string_agg(relname::text, ',' ORDER BY relname), '') FROM "
      "pg_stat_user_tables WHERE schemaname = current_schema() AND last_analyze IS NOT NULL AND "
      "(relname = 'resource' OR relname LIKE 'sp\\_%')");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? rows->Text(0, 0) : "";
}

// Creates Observations first..last-1 with EveryKindOfEntry(), `per_write` a write.
void CreateObservations(ResourceStore& store, int first, int last, int per_write) {
  for (int start = first; start < last; start += per_write) {
    Status s = store.Write([&](WriteTxn& txn) -> Status {
      for (int i = start; i < std::min(last, start + per_write); ++i) {
        PreparedWrite w =
            MakeWrite("Observation", "o" + std::to_string(i), kT0, EveryKindOfEntry());
        w.version = 1;
        RETURN_IF_ERROR(txn.Put(w));
      }
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
}

TEST_F(PostgresStoreTest, StatisticsFollowWritesWithoutAnOperator) {
  auto store = Node();
  auto sql = Sql();
  // Below the keeper's threshold (1,000 rows changed in a table): left to autovacuum.
  CreateObservations(*store, 0, 50, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(AnalysedTables(*sql), "");
  // 1,500 Observations: 1,500 rows in resource and in most index tables, 3,000 in sp_token and
  // sp_composite. No ANALYZE is asked for; the store's keeper runs it within seconds (the
  // counters it reads lag by up to a second, more when a connection goes idle).
  CreateObservations(*store, 50, 1550, 100);
  std::string analysed;
  for (int i = 0; i < 300 && analysed.find("sp_token") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    analysed = AnalysedTables(*sql);
  }
  EXPECT_NE(analysed.find("resource"), std::string::npos) << analysed;
  EXPECT_NE(analysed.find("sp_token"), std::string::npos) << analysed;
  EXPECT_NE(analysed.find("sp_composite"), std::string::npos) << analysed;
  // Statistics of the data: the planner now knows the table's size and the code's share.
  auto rows = sql->Run("SELECT reltuples::int8 FROM pg_class WHERE relname = 'sp_token'");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_GE(rows->Int(0, 0), 1000);
  store->Close();  // the keeper stops with the store
}

TEST_F(PostgresStoreTest, GatherStatisticsAnalysesWhatALoadWrote) {
  auto store = Node();
  CreateObservations(*store, 0, 20, 20);  // far below the keeper's threshold
  auto sql = Sql();
  EXPECT_EQ(AnalysedTables(*sql), "");
  ASSERT_TRUE(store->GatherStatistics().ok());
  EXPECT_NE(AnalysedTables(*sql).find("sp_token"), std::string::npos);
  auto rows = sql->Run(
      "SELECT reltuples::int8, (SELECT count(*) FROM resource) FROM pg_class WHERE relname = "
      "'resource'");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Int(0, 0), rows->Int(0, 1)) << "a small table is counted whole";
}

TEST_F(PostgresStoreTest, ACopiedBatchWithATakenIdStoresNothing) {
  auto store = Node();
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "taken", kT0)).ok());
  Status s = store->Write([&](WriteTxn& txn) -> Status {
    for (const char* id : {"n1", "n2", "taken", "n3", "n4"}) {
      PreparedWrite w = MakeWrite("Patient", id, kT0);
      w.version = 1;  // not checked against Current(): the database has to refuse it
      RETURN_IF_ERROR(txn.Put(w));
    }
    return Status::Ok();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(store->Read("Patient", "n1").ok()) << "all or nothing";
  EXPECT_EQ(store->Read("Patient", "taken")->version, 1);
}

TEST_F(PostgresStoreTest, PrefetchAnswersCurrentForKnownAndUnknownIds) {
  auto store = Node();
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "old", kT0)).ok());
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "old", kT0 + 1)).ok());
  ASSERT_TRUE(store
                  ->Write([&](WriteTxn& txn) -> Status {
                    RETURN_IF_ERROR(txn.Prefetch({{"Patient", "old"}, {"Patient", "new"}}));
                    EXPECT_EQ(txn.Current("Patient", "old")->version, 2);
                    EXPECT_EQ(txn.Current("Patient", "new")->version, 0);
                    PreparedWrite w = MakeWrite("Patient", "old", kT0 + 2);
                    w.version = 3;
                    RETURN_IF_ERROR(txn.Put(w));
                    EXPECT_EQ(txn.Current("Patient", "old")->version, 3) << "kept up to date";
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(PostgresStoreTest, BadInputIsAnInvalidErrorNotAServerError) {
  auto store = Node();
  SearchQuery q;
  q.type = "Patient";
  SearchClause c;
  c.param = "name";
  c.type = fhir::SearchParamType::kString;
  SearchValue v;
  v.raw = v.normalized = "\xff\xfe";  // not UTF-8
  c.values.push_back(v);
  q.clauses.push_back(c);
  auto r = store->Search(q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalid) << r.status().ToString();
  // The pool recovers: the next search works.
  q.clauses.clear();
  EXPECT_TRUE(store->Search(q).ok());
}

TEST_F(PostgresStoreTest, ConnectionErrorsNameTheServerButNeverThePassword) {
  PostgresOptions o;
  o.uri = "postgresql://carechart:s3cret-pw@127.0.0.1:1/nowhere";
  auto store = OpenPostgresStore(o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(store.status().message().find("127.0.0.1:1"), std::string::npos);
  EXPECT_EQ(store.status().message().find("s3cret-pw"), std::string::npos)
      << store.status().message();
}

}  // namespace
}  // namespace carechart::store

namespace carechart::store {
namespace {

using testing::BodyFor;
using testing::MakeWrite;
using testing::PutNext;

// An Observation of `patient` (or of nobody: "") with a subject reference and a code.
PreparedWrite ObservationOf(const std::string& id, const std::string& patient, int64_t t,
                            const std::string& code = "8867-4") {
  fhir::IndexEntries ix;
  ix.tokens.push_back({"code", "http://loinc.org", code, ""});
  ix.dates.push_back({"date", t, t + 1});
  if (!patient.empty()) {
    ix.references.push_back({"subject", "Patient", patient, ""});
    ix.references.push_back({"patient", "Patient", patient, ""});
  }
  PreparedWrite w = MakeWrite("Observation", id, t, ix);
  w.patient_id = patient;
  return w;
}

// One line per row of the clinical tables whose compartment key is not its resource's (none
// expected), and the key of every resource, as "type/id=key".
std::vector<std::string> KeysOf(pg::Connection& sql) {
  std::vector<std::string> out;
  for (const char* table : {"resource_history", "sp_token", "sp_string", "sp_date", "sp_reference",
                            "sp_quantity", "sp_number", "sp_uri", "sp_composite"}) {
    auto rows = sql.Run(std::string("SELECT count(*) FROM ") + table +
                        " t LEFT JOIN resource r ON r.pk = t.res AND r.compartment_key = "
                        "t.compartment_key WHERE r.pk IS NULL");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (rows.ok() && rows->Int(0, 0) != 0) {
      out.push_back(std::string(table) + ": " + std::to_string(rows->Int(0, 0)) + " stray rows");
    }
  }
  auto rows = sql.Run(
      "SELECT r.type || '/' || r.id || '=' || r.compartment_key || "
      "CASE WHEN k.compartment_key = r.compartment_key THEN '' ELSE ' (resource_key: ' || "
      "COALESCE(k.compartment_key, 'none') || ')' END FROM resource r LEFT JOIN resource_key k "
      "ON k.type = r.type AND k.id = r.id ORDER BY 1");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  for (int i = 0; rows.ok() && i < rows->size(); ++i) {
    out.push_back(rows->Text(i, 0));
  }
  return out;
}

TEST_F(PostgresStoreTest, EveryClinicalRowCarriesItsPatientsKeyAndMovesWithIt) {
  auto store = Node();
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p1", kT0)).ok());
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "p2", kT0)).ok());
  ASSERT_TRUE(PutNext(*store, MakeWrite("Organization", "o1", kT0)).ok());
  ASSERT_TRUE(PutNext(*store, ObservationOf("nobody", "", kT0)).ok());
  ASSERT_TRUE(PutNext(*store, ObservationOf("obs", "p1", kT0)).ok());
  // Filed under the wrong patient, then corrected: the rows move to p2's key, history included.
  ASSERT_TRUE(PutNext(*store, ObservationOf("obs", "p2", kT0 + 1, "1234-5")).ok());
  auto sql = Sql();
  EXPECT_EQ(KeysOf(*sql),
            (std::vector<std::string>{"Observation/nobody=Observation/nobody", "Observation/obs=p2",
                                      "Organization/o1=Organization/o1", "Patient/p1=p1",
                                      "Patient/p2=p2"}));
  EXPECT_EQ(store->Read("Observation", "obs")->version, 2);
  EXPECT_EQ(store->ReadVersion("Observation", "obs", 1)->body, BodyFor("Observation", "obs", kT0));
  HistoryQuery h;
  h.type = "Observation";
  h.id = "obs";
  EXPECT_EQ(store->History(h)->total, 2);
  auto by_new = store->Search(*ParseSearch("Observation", {{"subject", "Patient/p2"}}));
  ASSERT_TRUE(by_new.ok()) << by_new.status().ToString();
  ASSERT_EQ(by_new->matches.size(), 1u);
  EXPECT_TRUE(
      store->Search(*ParseSearch("Observation", {{"subject", "Patient/p1"}}))->matches.empty());
  // A deletion keeps the key; so does a later version of the same patient.
  PreparedWrite gone = MakeWrite("Observation", "obs", kT0 + 2);
  gone.deleted = true;
  gone.body.clear();
  ASSERT_TRUE(PutNext(*store, gone).ok());
  ASSERT_TRUE(PutNext(*store, ObservationOf("obs", "p2", kT0 + 3)).ok());
  EXPECT_EQ(KeysOf(*sql)[1], "Observation/obs=p2");
  EXPECT_EQ(store->History(h)->total, 4);
  // (type, id) stays unique although the resource table's keys include the patient: a version 1
  // of a taken id under another patient is refused by resource_key.
  Status twice = store->Write([](WriteTxn& txn) {
    PreparedWrite w = ObservationOf("obs", "p1", kT0 + 4);
    w.version = 1;
    return txn.Put(w);
  });
  EXPECT_FALSE(twice.ok());
  EXPECT_EQ(store->Read("Observation", "obs")->version, 4);
}

// Rows of `table` in database `from` inserted into the same table of database `to` by column
// name (json), leaving out the columns `to` does not have (a database of an older schema).
void CopyTable(pg::Connection& from, pg::Connection& to, const std::string& table) {
  auto rows = from.Run("SELECT COALESCE(json_agg(t), '[]')::text FROM " + table + " t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto put = to.Run("INSERT INTO " + table +
                        " SELECT * FROM json_populate_recordset(NULL::" + table + ", $1::json)",
                    pg::Args().Text(rows->Text(0, 0)));
  ASSERT_TRUE(put.ok()) << table << ": " << put.status().ToString();
}

// Everything a client can ask of the store about the data of UpgradeFromVersion6..., as text.
std::vector<std::string> Answers(ResourceStore& store) {
  std::vector<std::string> out;
  auto line = [](const ResourceVersion& v) {
    return v.type + "/" + v.id + "/_history/" + std::to_string(v.version) + " " +
           std::to_string(v.last_updated_us) + (v.deleted ? " deleted " : " ") + v.method + " " +
           v.body;
  };
  for (const auto& [type, id, versions] :
       std::vector<std::tuple<std::string, std::string, int>>{{"Patient", "p1", 2},
                                                              {"Patient", "p2", 1},
                                                              {"Organization", "o1", 1},
                                                              {"Observation", "a", 1},
                                                              {"Observation", "b", 3},
                                                              {"Observation", "c", 2},
                                                              {"Observation", "nobody", 1}}) {
    auto read = store.Read(type, id);
    out.push_back(read.ok() ? line(*read) : read.status().ToString());
    for (int v = 1; v <= versions; ++v) {
      auto old = store.ReadVersion(type, id, v);
      out.push_back(old.ok() ? line(*old) : old.status().ToString());
    }
    HistoryQuery h;
    h.type = type;
    h.id = id;
    auto page = store.History(h);
    out.push_back("history " + id + " " + (page.ok() ? std::to_string(page->total) : "failed"));
  }
  for (const std::string& type : {std::string("Observation"), std::string()}) {
    HistoryQuery h;
    h.type = type;
    auto page = store.History(h);
    EXPECT_TRUE(page.ok());
    for (const ResourceVersion& v : page.ok() ? page->versions : std::vector<ResourceVersion>{}) {
      out.push_back("history " + type + ": " + line(v));
    }
  }
  std::vector<SearchQuery> searches;
  searches.push_back(*ParseSearch("Observation", {{"subject", "Patient/p1"}}));
  searches.push_back(*ParseSearch("Observation", {{"patient", "p2"}}));
  searches.push_back(*ParseSearch("Observation", {{"code", "http://loinc.org|8867-4"}}));
  searches.push_back(*ParseSearch("Observation", {{"date", "ge2023"}}));
  searches.push_back(*ParseSearch("Patient", {{"_id", "p1,p2"}}));
  SearchQuery compartment = *ParseSearch("Observation", {});
  compartment.compartment_type = "Patient";
  compartment.compartment_id = "p1";
  searches.push_back(compartment);
  SearchQuery everything = *ParseSearch("", {});  // what Patient/p1/$everything asks
  everything.compartment_type = "Patient";
  everything.compartment_id = "p1";
  everything.include_owner = true;
  searches.push_back(everything);
  for (SearchQuery& q : searches) {
    q.want_total = true;
    auto result = store.Search(q);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) {
      continue;
    }
    out.push_back("search total " + std::to_string(result->total));
    for (const ResourceVersion& v : result->matches) {
      out.push_back("search: " + line(v));
    }
  }
  return out;
}

// sp_date_span as "param=span" lines (decisions D113).
std::vector<std::string> SpansOf(pg::Connection& sql) {
  std::vector<std::string> out;
  auto rows = sql.Run("SELECT param || '=' || span FROM sp_date_span ORDER BY param");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  for (int i = 0; rows.ok() && i < rows->size(); ++i) {
    out.push_back(rows->Text(i, 0));
  }
  return out;
}

TEST_F(PostgresStoreTest, UpgradeFromVersion6GivesTheSameAnswers) {
  // The data, written by this build's store at the current version ...
  auto current = Node();
  ASSERT_NE(current, nullptr);
  for (const PreparedWrite& w :
       {MakeWrite("Patient", "p1", kT0), MakeWrite("Patient", "p1", kT0 + 1),
        MakeWrite("Patient", "p2", kT0), MakeWrite("Organization", "o1", kT0),
        ObservationOf("a", "p1", kT0), ObservationOf("b", "p1", kT0 + 1),
        ObservationOf("b", "p1", kT0 + 2, "1234-5"), ObservationOf("b", "p2", kT0 + 3),
        ObservationOf("c", "p2", kT0 + 4), ObservationOf("nobody", "", kT0 + 5)}) {
    ASSERT_TRUE(PutNext(*current, w).ok()) << w.type << "/" << w.id;
  }
  PreparedWrite gone = MakeWrite("Observation", "c", kT0 + 6);
  gone.deleted = true;
  gone.body.clear();
  ASSERT_TRUE(PutNext(*current, gone).ok());
  const std::vector<std::string> want = Answers(*current);
  ASSERT_GT(want.size(), 40u);
  // ... copied into a database made by migrations 1 to 6 only (the previous schema, which has no
  // compartment_key columns and no resource_key table: the copy leaves those out) ...
  const std::string old_uri = FreshDatabase("pt_upgrade_v6");
  ASSERT_FALSE(old_uri.empty());
  {
    auto from = Sql();
    auto to = pg::Connection::Open(old_uri);
    ASSERT_TRUE(to.ok());
    auto n = pg::MigrateSchema(**to, kT0, 6);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, 6);
    for (const char* table :
         {"resource", "resource_history", "sp_token", "sp_string", "sp_date", "sp_reference",
          "sp_quantity", "sp_number", "sp_uri", "sp_composite"}) {
      CopyTable(*from, **to, table);
    }
    ASSERT_TRUE((*to)
                    ->Exec("SELECT setval('resource_seq', (SELECT max(seq) FROM "
                           "(SELECT seq FROM resource UNION ALL SELECT seq FROM "
                           "resource_history) s)), setval(pg_get_serial_sequence('resource', "
                           "'pk'), (SELECT max(pk) FROM resource))")
                    .ok());
  }
  // ... then upgraded by two nodes starting at once: both come up, the migration runs once.
  std::atomic<int> applied{0};
  std::vector<std::thread> nodes;
  for (int i = 0; i < 2; ++i) {
    nodes.emplace_back([&] {
      auto n = MigratePostgres(old_uri);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      applied += *n;
    });
  }
  for (auto& t : nodes) {
    t.join();
  }
  EXPECT_EQ(applied, pg::CurrentSchemaVersion() - 6);  // 7 to 12
  auto upgraded = OpenWithoutMigrating(old_uri);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ(Answers(**upgraded), want);
  auto sql = pg::Connection::Open(old_uri);
  ASSERT_TRUE(sql.ok());
  auto from = Sql();
  // The backfill gives the keys the writer gives, but for a resource deleted before the upgrade:
  // a deletion row names no patient, so it gets its own Type/id (its rows all agree, which is all
  // a read needs: the key of a patient-compartment type is looked up in resource_key).
  std::vector<std::string> want_keys = KeysOf(*from), keys = KeysOf(**sql);
  ASSERT_EQ(want_keys.size(), 7u);
  EXPECT_EQ(want_keys[2], "Observation/c=p2");
  want_keys[2] = "Observation/c=Observation/c";
  EXPECT_EQ(keys, want_keys);
  // Migration 12 (D113) fills each date parameter's span from the rows copied, as the writes of
  // the current store raised it.
  EXPECT_FALSE(SpansOf(*from).empty());
  EXPECT_EQ(SpansOf(**sql), SpansOf(*from));
  // And it keeps working: an update that moves a resource, a create under a taken id refused.
  ASSERT_TRUE(PutNext(**upgraded, ObservationOf("a", "p2", kT0 + 7)).ok());
  EXPECT_EQ(PutNext(**upgraded, ObservationOf("x", "p1", kT0 + 8)).ok(), true);
  Status twice = (*upgraded)->Write([](WriteTxn& txn) {
    PreparedWrite w = ObservationOf("b", "p1", kT0 + 9);
    w.version = 1;
    return txn.Put(w);
  });
  EXPECT_FALSE(twice.ok());
  EXPECT_EQ(
      (*upgraded)->Search(*ParseSearch("Observation", {{"subject", "Patient/p2"}}))->matches.size(),
      2u);  // a and b (c is deleted)
}

// Problems of one statement against co-location (decisions D46): each index row's `res` must be
// joined or carried with that row's compartment_key, and each key set looked up by key and
// compartment_key; only lists of bound keys (an include's sources) are looked up by pk alone.
std::vector<std::string> CoLocationProblems(const std::string& sql) {
  std::vector<std::string> problems;
  static const std::regex res(R"(\b(\w+)\.res\b)");
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), res); it != std::sregex_iterator();
       ++it) {
    std::string after = sql.substr(it->position() + it->length(), 60);
    bool order_by = it->position() >= 9 && sql.compare(it->position() - 9, 9, "ORDER BY ") == 0;
    if (!order_by && after.find((*it)[1].str() + ".compartment_key") == std::string::npos) {
      problems.push_back("\"" + it->str() + after + "\"");
    }
  }
  static const std::regex pk_in(R"(\b\w+\.pk IN \((?!SELECT unnest))");
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), pk_in); it != std::sregex_iterator();
       ++it) {
    problems.push_back("\"" + it->str() + "\" (by pk alone)");
  }
  if (sql.find("r.pk = s.pk") != std::string::npos &&
      sql.find("r.pk = s.pk AND r.compartment_key = s.ck") == std::string::npos) {
    problems.push_back("the sorted page joins its keys on pk alone");
  }
  return problems;
}

TEST(PostgresSearchSql, EveryIndexProbeAndKeySetNamesTheCompartmentKey) {
  using Params = std::vector<std::pair<std::string, std::string>>;
  std::vector<std::pair<std::string, Params>> searches = {
      {"Observation", {{"code", "http://loinc.org|8867-4"}}},  // streaming driver
      {"Observation", {{"code", "8867-4"}, {"date", "ge2023"}, {"status:not", "final"}}},
      {"Observation", {{"subject", "Patient/p1"}, {"_sort", "-date,code"}}},
      {"Observation", {{"subject:missing", "true"}, {"value-quantity", "gt5"}}},
      {"Observation", {{"subject:Patient.name", "smith"}}},                       // chain driver
      {"Observation", {{"status", "final"}, {"subject:Patient.name", "smith"}}},  // chain probe
      {"Patient", {{"_has:Observation:patient:code", "8867-4"}}},                 // _has driver
      {"Patient", {{"name", "smith"}, {"_has:Observation:patient:_id", "o1"}}},   // _has probe
      {"Patient", {{"_lastUpdated", "ge2023"}, {"_sort", "name"}}},
      {"", {{"_type", "Observation,Condition"}, {"patient", "p1"}}},
  };
  std::vector<SearchQuery> queries;
  for (const auto& [type, params] : searches) {
    auto q = ParseSearch(type, params);
    ASSERT_TRUE(q.ok()) << type << ": " << q.status().ToString();
    queries.push_back(*q);
  }
  SearchQuery after = queries[2];  // a later page: the keyset repeats the sort probes
  after.after = PageCursor{42, {"i7", "sx"}};
  queries.push_back(after);
  SearchQuery compartment = *ParseSearch("Observation", {{"code", "8867-4"}});
  compartment.compartment_type = "Patient";
  compartment.compartment_id = "p1";
  queries.push_back(compartment);
  SearchQuery everything = *ParseSearch("", {});
  everything.compartment_type = "Patient";
  everything.compartment_id = "p1";
  everything.include_owner = true;
  queries.push_back(everything);

  std::vector<CompiledSql> statements;
  for (const SearchQuery& q : queries) {
    for (SearchSqlMode mode :
         {SearchSqlMode::kPage, SearchSqlMode::kCount, SearchSqlMode::kIds, SearchSqlMode::kKeys}) {
      if (mode == SearchSqlMode::kKeys && !q.sort.empty()) {
        continue;
      }
      auto sql = CompileSearch(q, PostgresDialect(), mode, kT0);
      ASSERT_TRUE(sql.ok()) << sql.status().ToString();
      statements.push_back(*sql);
      // The same search in SQLite: unchanged, and caught by the check (so it can fail).
      auto lite = CompileSearch(q, SqliteDialect(), mode, kT0);
      ASSERT_TRUE(lite.ok()) << lite.status().ToString();
      EXPECT_EQ(lite->sql.find("compartment_key"), std::string::npos) << lite->sql;
      if (lite->sql.find(" sp_") != std::string::npos) {
        EXPECT_FALSE(CoLocationProblems(lite->sql).empty()) << lite->sql;
      }
    }
  }
  IncludeSpec forward{.source_type = "Observation", .param = "subject", .target_types = {}};
  IncludeSpec reverse{
      .reverse = true, .source_type = "Observation", .param = "patient", .target_types = {}};
  IncludeSpec every_reference{
      .reverse = true, .source_type = "Encounter", .param = "*", .target_types = {}};
  auto includes =
      CompileIncludes({forward, reverse, every_reference}, {1, 2, 3}, PostgresDialect(), 100);
  ASSERT_TRUE(includes.ok()) << includes.status().ToString();
  statements.push_back(*includes);

  for (const CompiledSql& sql : statements) {
    if (sql.sql.find(" sp_") != std::string::npos) {  // not for _lastUpdated alone
      EXPECT_NE(sql.sql.find("compartment_key"), std::string::npos) << sql.sql;
    }
    for (const std::string& problem : CoLocationProblems(sql.sql)) {
      ADD_FAILURE() << problem << " in: " << sql.sql;
    }
  }
}

}  // namespace
}  // namespace carechart::store
