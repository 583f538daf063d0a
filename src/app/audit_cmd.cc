// carechart audit verify: walks the hash-chained audit log (store/audit_log.h) and reports every
// edited, inserted or removed entry with its position. Exit 0: intact; 1: tampered; 2: cannot
// read the database.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "store/audit_log.h"
#include "store/postgres/postgres_store.h"

namespace carechart::app {

CLI::App* AddAuditCommand(CLI::App& app, CommonOptions& common, AuditCmdOptions& options) {
  CLI::App* cmd = app.add_subcommand("audit", "The tamper-evident audit log");
  cmd->require_subcommand(1);
  CLI::App* verify = cmd->add_subcommand(
      "verify", "Check the audit log's hash chain; report edited, inserted and removed entries");
  verify->add_option("--db", common.db_path, "SQLite database file (must exist)")
      ->envname("CARECHART_DB")
      ->capture_default_str();
  verify
      ->add_option("--postgres", common.postgres_uri,
                   "PostgreSQL connection URI: verify that database's audit log instead")
      ->envname("CARECHART_POSTGRES");
  verify->callback([&options] { options.action = "verify"; });
  return cmd;
}

int RunAuditCommand(const CommonOptions& common, const AuditCmdOptions& options) {
  if (options.action != "verify") {
    std::fprintf(stderr, "carechart audit: unknown action\n");
    return 2;
  }
  if (common.postgres_uri.empty() && !std::filesystem::exists(common.db_path)) {
    std::fprintf(stderr, "carechart audit verify: --db %s: no such database\n",
                 common.db_path.c_str());
    return 2;
  }
  auto report = common.postgres_uri.empty() ? store::VerifySqliteAuditLog(common.db_path)
                                            : store::VerifyPostgresAuditLog(common.postgres_uri);
  if (!report.ok()) {
    std::fprintf(stderr, "carechart audit verify: %s\n", report.status().message().c_str());
    return 2;
  }
  for (const store::AuditChainProblem& p : report->problems) {
    std::printf("position %lld: %s: %s\n", static_cast<long long>(p.position), p.kind.c_str(),
                p.detail.c_str());
  }
  std::printf("audit log: %lld entries, head %s: %s\n", static_cast<long long>(report->entries),
              report->head_hash.c_str(),
              report->problems.empty()
                  ? "intact"
                  : (std::to_string(report->problems.size()) + " problem(s)").c_str());
  return report->problems.empty() ? 0 : 1;
}

}  // namespace carechart::app
