// carechart migrate: brings a database's schema up to this build's version. Every command also
// migrates on start (under a lock on PostgreSQL, so nodes starting together are safe); this
// command lets an operator do it first, on purpose, before rolling out new nodes, and says what
// it did: from which schema version to which, and how many migrations that took.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "app/open_store.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"

namespace carechart::app {
namespace {

// The schema version recorded in the SQLite file before opening it (opening migrates): 0 for a
// file that does not exist yet or has no schema_version table.
StatusOr<int64_t> SqliteVersionBefore(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return int64_t{0};
  ASSIGN_OR_RETURN(std::unique_ptr<store::sqlite::Connection> conn,
                   store::sqlite::Connection::Open(path, /*read_only=*/true));
  ASSIGN_OR_RETURN(store::sqlite::Statement has_table,
                   conn->Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                 "name = 'schema_version'"));
  ASSIGN_OR_RETURN(bool row, has_table.Step());
  if (!row || has_table.Int(0) == 0) return int64_t{0};
  ASSIGN_OR_RETURN(store::sqlite::Statement max_version,
                   conn->Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  ASSIGN_OR_RETURN(row, max_version.Step());
  return row ? max_version.Int(0) : int64_t{0};
}

void PrintOutcome(const CommonOptions& common, int64_t from, int64_t to) {
  if (from == to) {
    std::printf("carechart migrate: %s: schema %lld, up to date (no migration applied)\n",
                DatabaseName(common).c_str(), static_cast<long long>(to));
  } else {
    std::printf("carechart migrate: %s: schema %lld -> %lld (%lld migration(s) applied)\n",
                DatabaseName(common).c_str(), static_cast<long long>(from),
                static_cast<long long>(to), static_cast<long long>(to - from));
  }
}

}  // namespace

CLI::App* AddMigrateCommand(CLI::App& app, CommonOptions& common) {
  CLI::App* cmd = app.add_subcommand(
      "migrate", "Apply the missing schema migrations of the database (PostgreSQL or SQLite)");
  cmd->add_option("--postgres", common.postgres_uri,
                  "PostgreSQL connection URI (postgresql://user:password@host:port/db)")
      ->envname("CARECHART_POSTGRES");
  cmd->add_option("--db", common.db_path, "SQLite database file (when no --postgres)")
      ->envname("CARECHART_DB")
      ->capture_default_str();
  cmd->add_option("--log-level", common.log_level,
                  "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();
  return cmd;
}

int RunMigrate(const CommonOptions& common) {
  if (common.postgres_uri.empty()) {
    auto before = SqliteVersionBefore(common.db_path);
    if (!before.ok()) {
      std::fprintf(stderr, "carechart migrate: cannot read the schema version of %s: %s\n",
                   DatabaseName(common).c_str(), before.status().ToString().c_str());
      return 1;
    }
    // The SQLite store migrates when opened (and fails on a file newer than this build); the
    // auth and job tables are created with it.
    auto store = OpenResourceStore(common, {});
    if (!store.ok()) {
      std::fprintf(stderr, "carechart migrate: cannot open %s: %s\n", DatabaseName(common).c_str(),
                   store.status().ToString().c_str());
      return 1;
    }
    PrintOutcome(common, *before, store::sqlite::CurrentSchemaVersion());
    return 0;
  }
  auto applied = store::MigratePostgres(common.postgres_uri);
  if (!applied.ok()) {
    std::fprintf(stderr, "carechart migrate: %s: %s\n", DatabaseName(common).c_str(),
                 applied.status().ToString().c_str());
    return 1;
  }
  // MigratePostgres applies every missing migration in order up to this build's version.
  const int64_t to = store::pg::CurrentSchemaVersion();
  PrintOutcome(common, to - *applied, to);
  return 0;
}

}  // namespace carechart::app
