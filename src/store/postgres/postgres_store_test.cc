// What only the PostgreSQL backend has to prove: migrations that are safe when nodes start at
// once, optimistic concurrency and conditional creates across separate stores (as separate API
// nodes would hold), the audit chain under concurrent appenders, bytes kept exactly.
// Needs the "postgres" CTest fixture (scripts/pg-temp.sh); without it every test skips, saying so.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "store/index_keys.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/postgres_store.h"
#include "store/store_test_util.h"

namespace carechart::store {
namespace {

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
    auto admin = pg::Connection::Open(server_);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    ASSERT_TRUE((*admin)->Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").ok());
    auto uri = EnsurePostgresDatabase(server_, name);
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
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
    PostgresOptions o;
    o.uri = uri_;
    o.migrate = false;
    auto refused = OpenPostgresStore(o);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("carechart migrate"), std::string::npos);
    auto conn = Sql();
    ASSERT_TRUE(conn->Exec("INSERT INTO resource(type, id, version, last_updated, deleted, method, "
                           "seq, body) VALUES ('Patient', 'old', 1, 1, 0, 'PUT', "
                           "nextval('resource_seq'), '{\"resourceType\":\"Patient\"}')")
                    .ok());
  }
  auto migrated = MigratePostgres(uri_);
  ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
  EXPECT_EQ(*migrated, 1);
  auto store = Node();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Read("Patient", "old")->body, R"({"resourceType":"Patient"})");
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
  auto history = a->History({.type = "Patient", .id = "p1"});
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
  auto conn = Sql();
  auto rows = conn->Run(
      "SELECT seq, recorded, event_id, body, prev_hash, hash FROM audit_log ORDER BY seq");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 40);
  std::string prev(kAuditGenesisHash);
  for (int i = 0; i < rows->size(); ++i) {
    EXPECT_EQ(rows->Int(i, 0), i + 1);
    EXPECT_EQ(rows->Text(i, 4), prev);
    std::string hash =
        AuditEntryHash(prev, rows->Int(i, 0), rows->Int(i, 1), rows->Text(i, 2), rows->Text(i, 3));
    EXPECT_EQ(rows->Text(i, 5), hash);
    prev = hash;
  }
  EXPECT_FALSE(conn->Exec("DELETE FROM audit_log").ok());  // append-only
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
    auto rows =
        sql.Run(std::string("SELECT '") + table + "' || (to_jsonb(t) - 'res')::text FROM " + table +
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
