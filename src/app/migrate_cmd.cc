// carechart migrate: brings a database's schema up to this build's version. Every command also
// migrates on start (under a lock on PostgreSQL, so nodes starting together are safe); this
// command lets an operator do it first, on purpose, before rolling out new nodes.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/commands.h"
#include "app/open_store.h"
#include "store/postgres/postgres_store.h"

namespace carechart::app {

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
    // The SQLite store migrates when opened; the auth and job tables are created with it.
    auto store = OpenResourceStore(common, {});
    if (!store.ok()) {
      std::fprintf(stderr, "carechart migrate: cannot open %s: %s\n", DatabaseName(common).c_str(),
                   store.status().ToString().c_str());
      return 1;
    }
    std::printf("carechart migrate: %s is up to date\n", DatabaseName(common).c_str());
    return 0;
  }
  auto applied = store::MigratePostgres(common.postgres_uri);
  if (!applied.ok()) {
    std::fprintf(stderr, "carechart migrate: %s: %s\n", DatabaseName(common).c_str(),
                 applied.status().ToString().c_str());
    return 1;
  }
  std::printf("carechart migrate: %s: %d migration(s) applied, schema up to date\n",
              DatabaseName(common).c_str(), *applied);
  return 0;
}

}  // namespace carechart::app
