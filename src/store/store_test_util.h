// Helpers shared by the store tests.
#pragma once

#include <memory>
#include <string>

#include "store/plan_counts.h"
#include "store/resource_store.h"
#include "store/sql_dialect.h"

namespace carechart::store {
namespace sqlite {
class Connection;
}
namespace pg {
class Connection;
}
}  // namespace carechart::store

namespace carechart::store::testing {

// A fresh directory under $TMPDIR (or /tmp) for one test; returns "<dir>/<name>.db".
std::string TempDbPath(const std::string& name);

// Opens the store of `path`: a SQLite file, or, when CARECHART_TEST_POSTGRES_URI_FILE names a file
// holding a PostgreSQL server's URI (the "postgres" CTest fixture), a database of that server
// made for `path` (the same one each time for the same path). `compress_bodies_after`:
// SqliteOptions' (SQLite only).
std::unique_ptr<ResourceStore> OpenOrDie(const std::string& path, int reader_connections = 4,
                                         int64_t compress_bodies_after = -1);

// The URI of the PostgreSQL test server ("" when the tests run on SQLite).
std::string PostgresTestServer();

// The URI of the PostgreSQL database OpenOrDie(path) opens ("" when the tests run on SQLite), for
// tests that read or edit its tables directly.
std::string PostgresUriFor(const std::string& path);

// Searches run exactly as their SearchQuery plans them (no store estimates), on one connection
// to the database OpenOrDie(path) opens, SQLite or PostgreSQL: for tests comparing two plans.
class PlannedSearches {
 public:
  explicit PlannedSearches(const std::string& path);
  ~PlannedSearches();
  StatusOr<SearchResult> Run(const SearchQuery& q, int64_t now_us);
  // The backend's dialect, and a runner of estimate counts on the same connection.
  const SqlDialect& dialect() const;
  CountStatement counter();

 private:
  std::unique_ptr<sqlite::Connection> sqlite_;
  std::unique_ptr<pg::Connection> pg_;
};

// A version of type/id with a body naming it; version is filled by PutNext.
PreparedWrite MakeWrite(const std::string& type, const std::string& id, int64_t last_updated_us,
                        fhir::IndexEntries index = {});

// Writes `w` as the next version of its id (create, update, or deletion when w.deleted).
Status PutNext(ResourceStore& store, PreparedWrite w);

// The body MakeWrite gives (type, id, last_updated_us).
std::string BodyFor(const std::string& type, const std::string& id, int64_t last_updated_us);

}  // namespace carechart::store::testing
