// The audit trail: AuditEvents are valid R4, writes are audited in their own transaction, and
// `audit verify` finds edited, removed and inserted log entries (tampering through SQLite).
#include "access/audit.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "fhir/search_index.h"
#include "fhir/validator.h"

namespace carechart::access {
namespace {

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("carechart-audit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "db.sqlite").string();
    auto s = store::OpenSqliteStore({.path = path_});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::shared_ptr<const auth::Principal> Doctor() {
    auto p = std::make_shared<auth::Principal>();
    p->role = auth::Role::kPhysician;
    p->user_id = "dr-ruiz";
    p->practitioner_id = "pr-1";
    p->facility_ids = {"F1"};
    p->remote_address = "10.0.0.7";
    return p;
  }

  // Records `n` read events through the trail and waits until they are stored.
  void RecordReads(int n) {
    AuditTrail trail(*store_);
    for (int i = 0; i < n; ++i) {
      AuditRecord r;
      r.subtype = "read";
      r.who = Doctor();
      r.facility_id = "F1";
      r.patient_ids = {"p" + std::to_string(i)};
      r.resources = {"Patient/p" + std::to_string(i)};
      trail.Record(std::move(r));
    }
    trail.Flush();
    EXPECT_EQ(trail.failures(), 0);
  }

  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
  }

  // The number of audit log entries committed so far (read from the file, as another process
  // would see them).
  int64_t StoredEntries() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_log", -1, &stmt, nullptr),
              SQLITE_OK);
    const int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  static AuditRecord Read(const std::string& patient) {
    AuditRecord r;
    r.subtype = "read";
    r.who = Doctor();
    r.facility_id = "F1";
    r.patient_ids = {patient};
    r.resources = {"Patient/" + patient};
    return r;
  }

  store::AuditChainReport Verify() {
    auto report = store::VerifySqliteAuditLog(path_);
    EXPECT_TRUE(report.ok()) << report.status().message();
    return report.ok() ? *report : store::AuditChainReport{};
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<store::ResourceStore> store_;
};

TEST_F(AuditTest, AuditEventIsValidR4AndSearchableByPatientAndUser) {
  AuditRecord r;
  r.subtype = "search-type";
  r.who = Doctor();
  r.facility_id = "F1";
  r.patient_ids = {"p1"};
  r.resources = {"Observation/o1"};
  r.query = "/fhir/Observation?patient=p1";
  r.emergency = true;
  r.emergency_reason = "unconscious";
  store::PreparedWrite w = PrepareAuditEvent(r);
  auto ev = json::Parse(w.body);
  ASSERT_TRUE(ev.ok());
  auto issues = fhir::Validate(*ev, {});
  EXPECT_FALSE(fhir::HasErrors(issues)) << w.body << "\n" << issues.front().message;
  EXPECT_EQ(w.patient_id, "p1");
  EXPECT_NE(w.body.find("ETREAT"), std::string::npos);
  EXPECT_NE(w.body.find("10.0.0.7"), std::string::npos);
  bool indexed_patient = false;
  for (const auto& ref : w.index.references) {
    indexed_patient = indexed_patient || (ref.param == "patient" && ref.target_id == "p1");
  }
  EXPECT_TRUE(indexed_patient);
}

TEST_F(AuditTest, WritesAreAuditedInTheirTransactionAndFailedWritesLeaveNothing) {
  AuditedStore audited(*store_);
  RequestAudit who{Doctor(), "F1", "10.0.0.7", false, ""};
  RequestAuditScope scope(&who);
  store::PreparedWrite w;
  w.type = "Basic";
  w.id = "b1";
  w.method = "POST";
  w.body = R"({"resourceType":"Basic","id":"b1"})";
  w.last_updated_us = 1;
  ASSERT_TRUE(audited.Write([&](store::WriteTxn& txn) { return txn.Put(w); }).ok());
  Status failed = audited.Write([&](store::WriteTxn& txn) -> Status {
    store::PreparedWrite w2 = w;
    w2.id = "b2";
    RETURN_IF_ERROR(txn.Put(w2));
    return ConflictError("changed my mind");
  });
  EXPECT_FALSE(failed.ok());
  auto report = Verify();
  EXPECT_EQ(report.entries, 1) << "one entry for the committed write, none for the failed one";
  EXPECT_TRUE(report.problems.empty());
  auto q = store::ParseSearch("AuditEvent", {{"entity", "Basic/b1/_history/1"}});
  ASSERT_TRUE(q.ok());
  auto found = store_->Search(*q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->matches.size(), 1u);
}

// A store that records the maintenance calls it gets and answers each unlike the base class's
// defaults, so that a call the wrapper does not pass on is seen.
class MaintenanceRecorder : public store::ResourceStore {
 public:
  std::vector<std::string> calls;

  Status Write(store::WriteFunction) override { return Unused(); }
  StatusOr<store::ResourceVersion> Read(const std::string&, const std::string&) override {
    return Unused();
  }
  StatusOr<store::ResourceVersion> ReadVersion(const std::string&, const std::string&,
                                               int64_t) override {
    return Unused();
  }
  StatusOr<store::HistoryPage> History(const store::HistoryQuery&) override { return Unused(); }
  StatusOr<store::SearchResult> Search(const store::SearchQuery&) override { return Unused(); }
  void Close() override {}

  StatusOr<bool> BeginBulkLoad(int64_t expected_resources) override {
    calls.push_back("BeginBulkLoad " + std::to_string(expected_resources));
    return true;
  }
  Status EndBulkLoad(const IndexBuildProgressFn& progress = {}) override {
    calls.emplace_back("EndBulkLoad");
    progress(0, 1);
    progress(1, 1);
    return Status::Ok();
  }
  Status GatherStatistics() override {
    calls.emplace_back("GatherStatistics");
    return Status(StatusCode::kUnavailable, "statistics");
  }
  StatusOr<std::vector<bool>> SameIndex(std::span<const store::ResourceVersion> resources,
                                        std::span<const fhir::IndexEntries> index,
                                        const std::string& param) override {
    calls.push_back("SameIndex " + std::to_string(resources.size()) + " " +
                    std::to_string(index.size()) + " " + param);
    return std::vector<bool>(resources.size(), true);
  }
  Status ReindexCompleted(const std::string& type, const std::string& param) override {
    calls.push_back("ReindexCompleted " + type + " " + param);
    return Status(StatusCode::kUnavailable, "recorded");
  }

 private:
  static Status Unused() { return Status(StatusCode::kInternal, "not used by this test"); }
};

TEST(AuditedStoreMaintenance, ReachesTheStoreBehind) {
  MaintenanceRecorder inner;
  AuditedStore audited(inner);
  auto deferred = audited.BeginBulkLoad(42);
  ASSERT_TRUE(deferred.ok());
  EXPECT_TRUE(*deferred);
  std::vector<std::pair<int, int>> steps;
  ASSERT_TRUE(
      audited.EndBulkLoad([&](int built, int total) { steps.emplace_back(built, total); }).ok());
  EXPECT_EQ(steps, (std::vector<std::pair<int, int>>{{0, 1}, {1, 1}}));
  EXPECT_EQ(audited.GatherStatistics().message(), "statistics");
  std::vector<store::ResourceVersion> versions(2);
  std::vector<fhir::IndexEntries> index(2);
  auto same = audited.SameIndex(versions, index, "code");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, (std::vector<bool>{true, true}));
  EXPECT_EQ(audited.ReindexCompleted("Observation", "code").message(), "recorded");
  EXPECT_EQ(inner.calls,
            (std::vector<std::string>{"BeginBulkLoad 42", "EndBulkLoad", "GatherStatistics",
                                      "SameIndex 2 2 code", "ReindexCompleted Observation code"}));
}

TEST_F(AuditTest, UntouchedChainVerifies) {
  RecordReads(5);
  auto report = Verify();
  EXPECT_EQ(report.entries, 5);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front().detail;
  EXPECT_EQ(report.head_hash.size(), 64u);
}

TEST_F(AuditTest, TriggersRefuseUpdatesAndDeletes) {
  RecordReads(1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_log SET body = 'x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_log", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(AuditTest, EditedEntryIsReportedAtItsPosition) {
  RecordReads(5);
  Sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET body = replace(body, 'dr-ruiz', "
      "'someone') WHERE seq = 3");
  auto report = Verify();
  ASSERT_FALSE(report.problems.empty());
  EXPECT_EQ(report.problems[0].position, 3);
  EXPECT_EQ(report.problems[0].kind, "edited");
}

TEST_F(AuditTest, RemovedEntryIsReportedAtItsPosition) {
  RecordReads(5);
  Sql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2");
  auto report = Verify();
  ASSERT_FALSE(report.problems.empty());
  EXPECT_EQ(report.problems[0].position, 3);
  EXPECT_EQ(report.problems[0].kind, "removed");
  EXPECT_NE(report.problems[0].detail.find("2..2"), std::string::npos) << report.problems[0].detail;
}

TEST_F(AuditTest, RemovedLastEntryIsFoundThroughItsAuditEvent) {
  RecordReads(3);
  Sql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3");
  auto report = Verify();
  ASSERT_FALSE(report.problems.empty());
  EXPECT_EQ(report.problems[0].kind, "removed");
  EXPECT_EQ(report.problems[0].position, 3);
}

TEST_F(AuditTest, InsertedEntryIsReportedAtItsPosition) {
  RecordReads(3);
  Sql("INSERT INTO audit_log(seq, recorded, event_id, body, prev_hash, hash) "
      "SELECT 4, recorded, 'forged', body, hash, 'deadbeef' FROM audit_log WHERE seq = 3");
  auto report = Verify();
  ASSERT_FALSE(report.problems.empty());
  EXPECT_EQ(report.problems[0].position, 4);
  EXPECT_EQ(report.problems[0].kind, "inserted") << "links, but no such AuditEvent was recorded";
  Sql("INSERT INTO audit_log(seq, recorded, event_id, body, prev_hash, hash) "
      "VALUES (5, 1, 'forged2', '{}', 'abc', 'def')");
  report = Verify();
  ASSERT_GE(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[1].position, 5);
  EXPECT_EQ(report.problems[1].kind, "inserted");
}

// Stored AuditEvents are compressed like every resource body once the database has a body
// dictionary (D101-D103); the log's own text is not. Verification decodes them: an untouched
// chain verifies with every event matched to its entry, and a removed last entry is still found
// through its (compressed) AuditEvent.
TEST_F(AuditTest, CompressedAuditEventsStillVerify) {
  store_.reset();
  store::SqliteOptions options;
  options.path = path_;
  options.compress_bodies_after = 40;
  auto s = store::OpenSqliteStore(options);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(s).value();
  auto count = [&](const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
    const int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  };
  RecordReads(60);
  for (int i = 0; i < 200 && count("SELECT count(*) FROM body_dictionary") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(count("SELECT count(*) FROM body_dictionary"), 0) << "no dictionary was trained";
  RecordReads(30);
  EXPECT_GE(count("SELECT count(*) FROM resource WHERE type = 'AuditEvent' AND "
                  "hex(substr(body, 1, 4)) = '28B52FFD'"),
            30);
  auto report = Verify();
  EXPECT_EQ(report.entries, 90);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front().detail;
  Sql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 90");
  report = Verify();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].kind, "removed");
}

// D45: each commit makes the readers drop their page cache, so the trail commits at most once
// per interval while events keep coming — but a first event after a quiet spell, and Flush(),
// do not wait. The interval is long (10 s) and the margins wide, so a loaded machine can only
// make the "at once" checks slower, never make the held event look committed.
TEST_F(AuditTest, TrailCommitsAQuietEventAtOnceAndHoldsTheNextForTheInterval) {
  using Clock = std::chrono::steady_clock;
  AuditTrail trail(*store_, std::chrono::seconds(10));
  const auto start = Clock::now();
  trail.Record(Read("p1"));
  while (StoredEntries() < 1 && Clock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(StoredEntries(), 1) << "the first event after a quiet spell is committed at once";

  trail.Record(Read("p2"));
  trail.Record(Read("p3"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(StoredEntries(), 1) << "events within the interval wait for the next commit";

  const auto flush_start = Clock::now();
  trail.Flush();
  EXPECT_LT(Clock::now() - flush_start, std::chrono::seconds(5)) << "Flush does not wait out 10 s";
  EXPECT_EQ(StoredEntries(), 3);
  EXPECT_EQ(trail.failures(), 0);
}

}  // namespace
}  // namespace carechart::access
