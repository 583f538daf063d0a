// Group commit, atomicity per write function, concurrency and crash durability of the writer.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <thread>

#include "store/resource_store.h"
#include "store/sqlite_write_txn.h"
#include "store/sqlite_writer.h"
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

constexpr int64_t kT0 = 1'700'000'000'000'000;

fhir::IndexEntries TokenIndex(const std::string& code) {
  fhir::IndexEntries ix;
  ix.tokens.push_back({"identifier", "urn:test", code, ""});
  ix.strings.push_back({"name", "name" + code, "Name" + code});
  return ix;
}

SearchQuery IdentifierQuery(const std::string& code) {
  SearchQuery q;
  q.type = "Patient";
  SearchClause c;
  c.param = "identifier";
  c.type = fhir::SearchParamType::kToken;
  SearchValue v;
  v.has_system = true;
  v.system = "urn:test";
  v.code = code;
  c.values.push_back(v);
  q.clauses.push_back(c);
  return q;
}

int64_t CountByIdentifier(ResourceStore& store, const std::string& code) {
  auto r = store.Search(IdentifierQuery(code));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->total : -1;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs `threads` x `per_thread` creates; returns creates per second.
double RunCreates(ResourceStore& store, int threads, int per_thread, const std::string& prefix) {
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string id = prefix + std::to_string(t) + "-" + std::to_string(i);
        if (!PutNext(store, MakeWrite("Patient", id, kT0 + i, TokenIndex(id))).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : pool) {
    th.join();
  }
  double rate = threads * per_thread / Seconds(start);
  EXPECT_EQ(failures.load(), 0);
  return rate;
}

// Holds the writer busy with one write function until Release(), so that the writes queued
// meanwhile form one group.
class WriterBlocker {
 public:
  explicit WriterBlocker(ResourceStore& store)
      : thread_([this, &store] {
          Status s = store.Write([this](WriteTxn&) {
            while (!release_) {
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            return Status::Ok();
          });
          EXPECT_TRUE(s.ok()) << s.ToString();
        }) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~WriterBlocker() { Release(); }
  void Release() {
    release_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  std::atomic<bool> release_{false};
  std::thread thread_;
};

TEST(GroupCommit, FailingFunctionIsUndoneAloneOthersOfTheGroupCommit) {
  auto store = OpenOrDie(TempDbPath("group_fail"));
  // Hold the writer busy so that the next three writes queue up and form one group.
  WriterBlocker blocker(*store);
  StoreStats before = store->Stats();
  Status a, b, c;
  std::thread ta([&] { a = PutNext(*store, MakeWrite("Patient", "a", kT0, TokenIndex("a"))); });
  std::thread tb([&] {
    PreparedWrite w = MakeWrite("Patient", "b", kT0, TokenIndex("b"));
    w.version = 1;
    b = store->Write([&](WriteTxn& txn) -> Status {
      RETURN_IF_ERROR(txn.Put(w));  // stored, then the function fails: must be undone
      return UnprocessableError("rejected after writing");
    });
  });
  std::thread tc([&] { c = PutNext(*store, MakeWrite("Patient", "c", kT0, TokenIndex("c"))); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  blocker.Release();
  for (std::thread* t : {&ta, &tb, &tc}) {
    t->join();
  }
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_EQ(b.code(), StatusCode::kUnprocessable);
  EXPECT_TRUE(c.ok()) << c.ToString();
  EXPECT_TRUE(store->Read("Patient", "a").ok());
  EXPECT_TRUE(store->Read("Patient", "c").ok());
  EXPECT_EQ(store->Read("Patient", "b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CountByIdentifier(*store, "b"), 0);
  EXPECT_EQ(CountByIdentifier(*store, "a"), 1);
  StoreStats after = store->Stats();
  EXPECT_EQ(after.writes - before.writes, 4);    // blocker, a, b, c
  EXPECT_EQ(after.commits - before.commits, 2);  // blocker's group, then {a, b, c}
  EXPECT_EQ(after.failed_writes - before.failed_writes, 1);
}

// The first function of a group runs without a savepoint (D90): its failure must roll back what
// it wrote, and the functions queued behind it still commit, together.
TEST(GroupCommit, FailingFirstFunctionOfAGroupIsUndoneAloneTheRestCommit) {
  auto store = OpenOrDie(TempDbPath("group_fail_first"));
  WriterBlocker blocker(*store);
  StoreStats before = store->Stats();
  Status f, a, c;
  std::thread tf([&] {
    PreparedWrite w = MakeWrite("Patient", "f", kT0, TokenIndex("f"));
    w.version = 1;
    f = store->Write([&](WriteTxn& txn) -> Status {
      RETURN_IF_ERROR(txn.Put(w));
      // Its index rows go into the tables (a search flushes them), then it fails.
      ASSIGN_OR_RETURN(std::vector<std::string> ids, txn.SearchIds(IdentifierQuery("f"), 10));
      EXPECT_EQ(ids.size(), 1u);
      return UnprocessableError("rejected after writing");
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // f is queued first
  std::thread ta([&] { a = PutNext(*store, MakeWrite("Patient", "a", kT0, TokenIndex("a"))); });
  std::thread tc([&] { c = PutNext(*store, MakeWrite("Patient", "c", kT0, TokenIndex("c"))); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  blocker.Release();
  for (std::thread* t : {&tf, &ta, &tc}) {
    t->join();
  }
  EXPECT_EQ(f.code(), StatusCode::kUnprocessable);
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(c.ok()) << c.ToString();
  EXPECT_EQ(store->Read("Patient", "f").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CountByIdentifier(*store, "f"), 0);
  EXPECT_EQ(CountByIdentifier(*store, "a"), 1);
  EXPECT_EQ(CountByIdentifier(*store, "c"), 1);
  StoreStats after = store->Stats();
  EXPECT_EQ(after.writes - before.writes, 4);    // blocker, f, a, c
  EXPECT_EQ(after.commits - before.commits, 2);  // blocker's group, then {a, c}
  EXPECT_EQ(after.failed_writes - before.failed_writes, 1);
  EXPECT_TRUE(PutNext(*store, MakeWrite("Patient", "f", kT0, TokenIndex("f"))).ok());
}

TEST(GroupCommit, ThrowingFunctionIsAnInternalErrorAndLeavesNothing) {
  auto store = OpenOrDie(TempDbPath("group_throw"));
  PreparedWrite w = MakeWrite("Patient", "t", kT0, TokenIndex("t"));
  Status s = store->Write([&](WriteTxn& txn) -> Status {
    RETURN_IF_ERROR(txn.Put(w));
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("boom"), std::string::npos);
  EXPECT_EQ(store->Read("Patient", "t").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CountByIdentifier(*store, "t"), 0);
  EXPECT_TRUE(PutNext(*store, w).ok());  // the writer is still healthy
}

TEST(GroupCommit, ConcurrentWritersAreAllDurableAndGrouped) {
  std::string path = TempDbPath("group_concurrent");
  constexpr int kThreads = 16, kPerThread = 200;
  {
    // Body compression off: its trainer's write of a dictionary (D103) would be counted too.
    auto store = OpenOrDie(path, 4, /*compress_bodies_after=*/0);
    double single = RunCreates(*store, 1, 200, "s");
    StoreStats mid = store->Stats();
    double multi = RunCreates(*store, kThreads, kPerThread, "m");
    StoreStats end = store->Stats();
    int64_t writes = end.writes - mid.writes, commits = end.commits - mid.commits;
    std::printf(
        "[ rates    ] 1 thread: %.0f creates/s; %d threads: %.0f creates/s "
        "(%lld writes in %lld commits, %.1f per commit)\n",
        single, kThreads, multi, static_cast<long long>(writes), static_cast<long long>(commits),
        double(writes) / double(commits));
    EXPECT_EQ(writes, kThreads * kPerThread);
    EXPECT_LT(commits, writes);
    EXPECT_EQ(end.failed_writes, 0);
  }
  auto store = OpenOrDie(path);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string id = "m" + std::to_string(t) + "-" + std::to_string(i);
      auto v = store->Read("Patient", id);
      ASSERT_TRUE(v.ok()) << id;
      ASSERT_EQ(v->body, BodyFor("Patient", id, kT0 + i));
    }
  }
  EXPECT_EQ(CountByIdentifier(*store, "m15-199"), 1);
  EXPECT_EQ(store->History({.type = "Patient", .count = 0})->total, 200 + kThreads * kPerThread);
}

TEST(GroupCommit, CloseDrainsQueuedWritesAndRejectsLaterOnes) {
  std::string path = TempDbPath("group_close");
  auto store = OpenOrDie(path);
  constexpr int kThreads = 8;
  std::vector<std::set<std::string>> acked(kThreads);
  std::vector<std::thread> pool;
  std::atomic<int> rejected{0};
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      // Write until the store refuses: Close() lands while writes are queued and in flight.
      for (int i = 0; i < 1'000'000; ++i) {
        std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
        Status s = PutNext(*store, MakeWrite("Patient", id, kT0));
        if (!s.ok()) {
          EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
          ++rejected;
          return;
        }
        acked[t].insert(id);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  store->Close();
  for (auto& th : pool) {
    th.join();
  }
  EXPECT_EQ(rejected.load(), kThreads);
  store = OpenOrDie(path);
  size_t total = 0;
  for (const auto& ids : acked) {
    total += ids.size();
    for (const auto& id : ids) {
      ASSERT_TRUE(store->Read("Patient", id).ok()) << id;
    }
  }
  EXPECT_GT(total, 0u);
  EXPECT_EQ(store->History({.count = 0})->total, static_cast<int64_t>(total));
}

int64_t PragmaTempStore(sqlite::Connection& conn) {
  auto s = conn.Prepare("PRAGMA temp_store");
  EXPECT_TRUE(s.ok());
  auto row = s->Step();
  EXPECT_TRUE(row.ok() && *row);
  return s->Int(0);
}

// Writer::Configure runs its function alone between two transactions (SQLite refuses
// `PRAGMA temp_store` inside one, which EndBulkLoad needs, D109), while writes queued around it
// all commit; after Close it is refused like a write.
TEST(GroupCommit, ConfigureRunsBetweenTransactionsAmongConcurrentWrites) {
  const std::string path = TempDbPath("group_configure");
  { auto store = OpenOrDie(path); }  // the schema
  auto conn = sqlite::Connection::Open(path, /*read_only=*/false);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto writer = sqlite::Writer::Start(std::move(*conn), /*max_group_delay_us=*/200,
                                      /*max_group_size=*/64);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  constexpr int kThreads = 4;
  constexpr int kWrites = 200;
  std::vector<std::thread> pool;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        Status s = (*writer)->Write([&](WriteTxn& txn) {
          auto& c = static_cast<sqlite::SqliteWriteTxn&>(txn).connection();
          return c.Exec("INSERT INTO store_flag(name, value) VALUES ('w" + std::to_string(t) + "-" +
                        std::to_string(i) + "', 1)");
        });
        failed += s.ok() ? 0 : 1;
      }
    });
  }
  int in_transaction = 0;
  std::vector<int64_t> seen;
  for (int round = 0; round < 20; ++round) {
    const char* mode = round % 2 == 0 ? "FILE" : "MEMORY";
    Status s = (*writer)->Configure([&](sqlite::Connection& c) -> Status {
      in_transaction += c.InTransaction() ? 1 : 0;
      RETURN_IF_ERROR(c.Exec(std::string("PRAGMA temp_store = ") + mode));
      seen.push_back(PragmaTempStore(c));
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  for (auto& th : pool) {
    th.join();
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(in_transaction, 0);
  ASSERT_EQ(seen.size(), 20u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], i % 2 == 0 ? 1 : 2) << i;  // SQLite: 1 = FILE, 2 = MEMORY
  }
  Status failing =
      (*writer)->Configure([](sqlite::Connection&) { return Status(StatusCode::kInvalid, "no"); });
  EXPECT_EQ(failing.code(), StatusCode::kInvalid);
  (*writer)->Close();
  EXPECT_EQ((*writer)->Configure([](sqlite::Connection&) { return Status::Ok(); }).code(),
            StatusCode::kUnavailable);
  auto check = sqlite::Connection::Open(path, /*read_only=*/true);
  ASSERT_TRUE(check.ok());
  auto count = (*check)->Prepare("SELECT count(*) FROM store_flag WHERE name LIKE 'w%'");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->Int(0), kThreads * kWrites);
}

// The child writes with 4 threads and reports each acknowledged id through a pipe; the parent
// kills it with SIGKILL mid-stream and checks that every acknowledged id survived intact.
[[noreturn]] void ChildWriter(const std::string& path, int fd) {
  try {
    auto store = OpenOrDie(path);
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t) {
      pool.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string id = "k" + std::to_string(t) + "-" + std::to_string(i);
          if (PutNext(*store, MakeWrite("Patient", id, kT0 + i, TokenIndex(id))).ok()) {
            std::string line = id + "\n";  // < PIPE_BUF: atomic among threads
            if (write(fd, line.data(), line.size()) < 0) {
              _exit(3);
            }
          }
        }
      });
    }
    for (auto& th : pool) {
      th.join();
    }
  } catch (...) {
    _exit(2);
  }
  _exit(0);
}

TEST(GroupCommit, AcknowledgedWritesSurviveSigkill) {
  std::string path = TempDbPath("kill9");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    ChildWriter(path, fds[1]);
  }
  close(fds[1]);
  std::vector<std::string> acked;
  std::string buffer;
  char chunk[4096];
  while (acked.size() < 400) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    ASSERT_GT(n, 0) << "the child stopped early";
    buffer.append(chunk, n);
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      acked.push_back(buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
    }
  }
  kill(pid, SIGKILL);
  // Ids acknowledged between our last read and the kill are durable too: collect them.
  while (true) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) {
      break;
    }
    buffer.append(chunk, n);
  }
  for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
    acked.push_back(buffer.substr(0, nl));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = OpenOrDie(path);
  for (const std::string& id : acked) {
    auto v = store->Read("Patient", id);
    ASSERT_TRUE(v.ok()) << id << " was acknowledged but is missing";
    int64_t i = std::stoll(id.substr(id.find('-') + 1));
    ASSERT_EQ(v->body, BodyFor("Patient", id, kT0 + i));
    ASSERT_EQ(CountByIdentifier(*store, id), 1) << id;
  }
  std::printf("[ kill -9  ] %zu acknowledged writes all present after reopening\n", acked.size());
  // The database is usable after the crash.
  EXPECT_TRUE(PutNext(*store, MakeWrite("Patient", "after", kT0)).ok());
}

}  // namespace
}  // namespace carechart::store
