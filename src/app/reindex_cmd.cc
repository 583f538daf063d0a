// `carechart reindex`: re-extracts the search index of a database's resources (store/reindex.h),
// e.g. after an upgrade that indexes more parameters. Safe while `serve` runs on the same file:
// it reads in batches and writes each batch in its own short transaction.
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "app/open_store.h"
#include "rest/search_handlers.h"
#include "store/reindex.h"
#include "store/resource_store.h"

namespace carechart::app {
namespace {

using Clock = std::chrono::steady_clock;

// A progress bar on a terminal (resources, rate, ETA), redrawn at most 10 times a second.
class ReindexBar {
 public:
  ReindexBar() : tty_(isatty(STDERR_FILENO) != 0) {}
  void Update(const store::ReindexProgress& p) {
    if (!tty_) {
      return;
    }
    const auto now = Clock::now();
    if (p.done != p.total && now - last_ < std::chrono::milliseconds(100)) {
      return;
    }
    last_ = now;
    const int width = 30;
    const int filled =
        p.total > 0 ? static_cast<int>(width * std::min(p.done, p.total) / p.total) : width;
    const double eta = p.rate() > 0 ? static_cast<double>(p.total - p.done) / p.rate() : 0;
    std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld resources, %.0f resources/s, ETA %.0f s   ", filled,
                 "##############################", width - filled, "",
                 static_cast<long long>(p.done), static_cast<long long>(p.total), p.rate(), eta);
    std::fflush(stderr);
  }
  void Done() {
    if (tty_) {
      std::fputc('\n', stderr);
    }
  }

 private:
  bool tty_;
  Clock::time_point last_{};
};

}  // namespace

CLI::App* AddReindexCommand(CLI::App& app, CommonOptions& common, ReindexCmdOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "reindex", "Re-extract the search index (all resources, one type, or one parameter)");
  cmd->add_option("--db", common.db_path, "SQLite database file (must exist)")
      ->envname("CARECHART_DB")
      ->capture_default_str();
  cmd->add_option("--postgres", common.postgres_uri,
                  "PostgreSQL connection URI: use that database instead of the SQLite file")
      ->envname("CARECHART_POSTGRES");
  cmd->add_option("--type", o.type, "only resources of this type (e.g. Observation)");
  cmd->add_option("--param", o.param,
                  "only this search parameter of --type (e.g. code-value-quantity)");
  cmd->add_option("--batch-size", o.batch, "resources per read and per write transaction")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "extraction threads (0: one per core)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  cmd->add_option("--log-level", common.log_level,
                  "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();
  return cmd;
}

int RunReindex(const CommonOptions& common, const ReindexCmdOptions& o) {
  if (common.postgres_uri.empty() && !std::filesystem::exists(common.db_path)) {
    std::fprintf(stderr, "carechart reindex: --db %s: no such database\n", common.db_path.c_str());
    return 2;
  }
  auto opened = OpenResourceStore(common, {});
  if (!opened.ok()) {
    std::fprintf(stderr, "carechart reindex: cannot open the database: %s\n",
                 opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<store::ResourceStore> db = std::move(opened).value();
  rest::LoadStoredSearchParameters(*db);  // --param may name one a SearchParameter defines
  store::ReindexOptions ro;
  ro.type = o.type;
  ro.param = o.param;
  ro.batch = o.batch;
  ro.threads = o.threads;
  ReindexBar bar;
  ro.on_progress = [&](const store::ReindexProgress& p) { bar.Update(p); };
  auto result = store::Reindex(*db, ro);
  bar.Done();
  db->Close();
  if (!result.ok()) {
    std::fprintf(stderr, "carechart reindex: %s\n", result.status().message().c_str());
    return result.status().code() == StatusCode::kInvalid ? 2 : 1;
  }
  std::printf(
      "reindexed %lld of %lld resources%s%s in %.2f s (%.0f resources/s); rows differed for "
      "%lld, rewritten\n",
      static_cast<long long>(result->reindexed), static_cast<long long>(result->done),
      o.type.empty() ? "" : (" of type " + o.type).c_str(),
      o.param.empty() ? "" : (", parameter " + o.param).c_str(), result->seconds, result->rate(),
      static_cast<long long>(result->differing));
  spdlog::debug(
      "reindex: {:.2f} s waiting for reads, {:.2f} s extracting, {:.2f} s waiting for "
      "writes",
      result->read_wait_seconds, result->extract_seconds, result->write_wait_seconds);
  return 0;
}

}  // namespace carechart::app
