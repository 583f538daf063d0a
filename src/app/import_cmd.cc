// `carechart import`: files and folders of FHIR Bundles and NDJSON (plain or .gz) into the
// database through rest::Importer (streaming, parallel; see rest/importer.h).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "app/commands.h"
#include "app/open_store.h"
#include "rest/fhir_api.h"
#include "rest/importer.h"
#include "store/resource_store.h"

namespace carechart::app {

namespace {

using Clock = std::chrono::steady_clock;

std::string Duration(double seconds) {
  char out[32];
  int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) {
    std::snprintf(out, sizeof out, "%dh%02dm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(out, sizeof out, "%dm%02ds", s / 60, s % 60);
  }
  return out;
}

// A one-line progress bar on a terminal (resources, rate, ETA from the bytes read); nothing
// when stderr is not a terminal.
class ImportProgressBar {
 public:
  explicit ImportProgressBar(Clock::time_point start)
      : start_(start), tty_(isatty(STDERR_FILENO) != 0) {}

  void Update(const rest::ImportProgress& p) {
    if (!tty_) {
      return;
    }
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) {
      return;
    }
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    double fraction = p.bytes_total > 0
                          ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
                          : 0.0;
    fraction = std::min(fraction, 1.0);
    const int width = 30;
    int filled = static_cast<int>(fraction * width);
    double rate = seconds > 0 ? static_cast<double>(p.resources_done) / seconds : 0.0;
    std::string eta = fraction > 0.001 ? Duration(seconds * (1 - fraction) / fraction) : "?";
    std::fprintf(stderr, "\r[%.*s%*s] %3.0f%% %lld resources, %.0f/s, ETA %s, %lld rejected   ",
                 filled, "##############################", width - filled, "", fraction * 100,
                 static_cast<long long>(p.resources_done), rate, eta.c_str(),
                 static_cast<long long>(p.entries_failed));
    std::fflush(stderr);
    shown_ = true;
  }

  void Done() {
    if (shown_) {
      std::fputc('\n', stderr);
    }
  }

 private:
  Clock::time_point start_;
  Clock::time_point last_{};
  bool tty_;
  bool shown_ = false;
};

}  // namespace

void AddImportOptions(CLI::App* cmd, ImportCmdOptions& o) {
  cmd->add_option("files", o.paths,
                  "Bundle (.json) or NDJSON (.ndjson) files, also gzip (.gz), or folders of them")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("--batch-size", o.batch, "resources per database transaction")
      ->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->capture_default_str();
  cmd->add_option("--workers", o.workers, "parsing/validation threads (0: one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->add_flag(
      "--stop-on-error", o.stop_on_error,
      "stop reading at the first rejected entry or Bundle (what is read is still stored)");
  cmd->add_flag("--keep-facility-tags", o.keep_facility_tags,
                "keep the facility meta.tag each resource carries (records exported by another "
                "Carechart) instead of labelling everything with this server's facility");
}

int RunImport(const CommonOptions& common, const ImportCmdOptions& options) {
  rest::ApiOptions ao;
  std::unique_ptr<store::ResourceStore> store = OpenFacilityStore(common, {}, ao);
  if (!store) {
    return 1;
  }
  rest::ImportOptions io;
  io.batch_size = options.batch;
  io.workers = options.workers;
  io.stop_on_error = options.stop_on_error;
  io.keep_facility_tags = options.keep_facility_tags;
  io.defer_indexes = true;  // a command-line load: indexes built once at the end when it pays
  rest::Importer importer(*store, ao, io);
  auto start = Clock::now();
  ImportProgressBar bar(start);
  Status s =
      importer.ImportPaths(options.paths, [&](const rest::ImportProgress& p) { bar.Update(p); });
  bar.Done();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto& st = importer.stats();
  for (const auto& e : st.errors) {
    spdlog::warn("rejected {}", e);
  }
  if (st.entries_failed > static_cast<int64_t>(st.errors.size())) {
    spdlog::warn("... and {} more rejected entries",
                 st.entries_failed - static_cast<int64_t>(st.errors.size()));
  }
  int64_t done = st.resources_written + st.unchanged;
  const store::StoreStats ss = store->Stats();  // group commit: how many writes shared a commit
  spdlog::info("store: {} write functions in {} commits", ss.writes, ss.commits);
  std::printf(
      "imported %lld resources from %lld files in %.2f s (%.0f resources/s); %lld unchanged; "
      "%lld rejected\n",
      static_cast<long long>(st.resources_written), static_cast<long long>(st.files), seconds,
      seconds > 0 ? static_cast<double>(done) / seconds : 0.0, static_cast<long long>(st.unchanged),
      static_cast<long long>(st.entries_failed));
  store->Close();
  if (!s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  return st.entries_failed > 0 ? 3 : 0;
}

}  // namespace carechart::app
