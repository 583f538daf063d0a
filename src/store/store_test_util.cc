#include "store/store_test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_store.h"
#include "store/search_sql.h"
#include "store/sqlite_db.h"
#include "store/sqlite_readers.h"

namespace carechart::store::testing {
namespace {

std::mutex dirs_mu;
std::vector<std::string>* dirs = nullptr;  // created by this process, removed at exit
pid_t owner = 0;

void RemoveDirs() {
  if (getpid() != owner) {
    return;  // a forked child exiting normally must not delete the parent's databases
  }
  std::lock_guard lock(dirs_mu);
  for (const std::string& dir : *dirs) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace

std::string TempDbPath(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/cc_store_test_XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  std::lock_guard lock(dirs_mu);
  if (dirs == nullptr) {
    dirs = new std::vector<std::string>();
    owner = getpid();
    std::atexit(RemoveDirs);
  }
  dirs->push_back(templ);
  return templ + "/" + name + ".db";
}

std::string PostgresTestServer() {
  const char* file = std::getenv("CARECHART_TEST_POSTGRES_URI_FILE");
  if (file == nullptr || *file == '\0') {
    return "";
  }
  std::ifstream in(file);
  std::string uri;
  if (!std::getline(in, uri) || uri.empty()) {
    throw std::runtime_error(std::string("no PostgreSQL test server URI in ") + file);
  }
  return uri;
}

std::string PostgresUriFor(const std::string& path) {
  std::string server = PostgresTestServer();
  if (server.empty()) {
    return "";
  }
  // One database per path, so reopening a path reopens its database.
  auto uri = EnsurePostgresDatabase(
      server, "t" + std::to_string(std::hash<std::string>()(path) % 1000000000000ULL));
  if (!uri.ok()) {
    throw std::runtime_error(uri.status().ToString());
  }
  return *uri;
}

std::unique_ptr<ResourceStore> OpenOrDie(const std::string& path, int reader_connections,
                                         int64_t compress_bodies_after) {
  if (std::string uri = PostgresUriFor(path); !uri.empty()) {
    PostgresOptions options;
    options.uri = uri;
    options.connections = reader_connections + 4;
    auto store = OpenPostgresStore(options);
    if (!store.ok()) {
      throw std::runtime_error(store.status().ToString());
    }
    return std::move(store).value();
  }
  SqliteOptions options;
  options.path = path;
  options.reader_connections = reader_connections;
  options.compress_bodies_after = compress_bodies_after;
  auto store = OpenSqliteStore(options);
  if (!store.ok()) {
    throw std::runtime_error(store.status().ToString());
  }
  return std::move(store).value();
}

std::string BodyFor(const std::string& type, const std::string& id, int64_t lu) {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","meta":{"lu":)" +
         std::to_string(lu) + "}}";
}

PreparedWrite MakeWrite(const std::string& type, const std::string& id, int64_t lu,
                        fhir::IndexEntries index) {
  PreparedWrite w;
  w.type = type;
  w.id = id;
  w.last_updated_us = lu;
  w.method = "PUT";
  w.body = BodyFor(type, id, lu);
  w.index = std::move(index);
  return w;
}

Status PutNext(ResourceStore& store, PreparedWrite w) {
  return store.Write([&](WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(CurrentVersion cur, txn.Current(w.type, w.id));
    w.version = cur.version + 1;
    if (w.deleted) {
      w.body.clear();
      w.method = "DELETE";
    }
    return txn.Put(w);
  });
}

PlannedSearches::PlannedSearches(const std::string& path) {
  const std::string uri = PostgresUriFor(path);
  if (uri.empty()) {
    auto conn = sqlite::Connection::Open(path, true);
    if (!conn.ok()) {
      throw std::runtime_error("open " + path + ": " + conn.status().ToString());
    }
    sqlite_ = std::move(*conn);
  } else {
    auto conn = pg::Connection::Open(uri);
    if (!conn.ok()) {
      throw std::runtime_error("open PostgreSQL: " + conn.status().ToString());
    }
    pg_ = std::move(*conn);
  }
}

PlannedSearches::~PlannedSearches() = default;

StatusOr<SearchResult> PlannedSearches::Run(const SearchQuery& q, int64_t now_us) {
  return sqlite_ ? sqlite::RunSearch(*sqlite_, q, now_us) : RunPostgresSearch(*pg_, q, now_us);
}

const SqlDialect& PlannedSearches::dialect() const {
  return sqlite_ ? SqliteDialect() : PostgresDialect();
}

CountStatement PlannedSearches::counter() {
  return sqlite_ ? sqlite::CountOn(*sqlite_) : PostgresCountOn(*pg_);
}

}  // namespace carechart::store::testing
