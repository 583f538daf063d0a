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

// Progress on stderr: on a terminal a one-line bar (resources, rate, ETA from the bytes read);
// with --progress-interval a plain line every that many seconds instead (for logs, and for
// bench/ingest_bench.sh, which reads the rates at the start and at the end from them); nothing
// otherwise. A load that deferred the search indexes then shows their build, which can take a
// while after the last entry is stored (a quarter of a load into a new database).
class ImportProgressDisplay {
 public:
  ImportProgressDisplay(Clock::time_point start, double interval_seconds)
      : start_(start),
        interval_(interval_seconds),
        tty_(interval_seconds <= 0 && isatty(STDERR_FILENO) != 0) {}

  void Update(const rest::ImportProgress& p) {
    auto now = Clock::now();
    double seconds = std::chrono::duration<double>(now - start_).count();
    if (p.indexes_total > 0) {
      Indexes(p, seconds);
      return;
    }
    if (!tty_ && interval_ <= 0) {
      return;
    }
    auto every =
        tty_ ? std::chrono::duration<double>(0.2) : std::chrono::duration<double>(interval_);
    if (now - last_ < every) {
      return;
    }
    last_ = now;
    double fraction = p.bytes_total > 0
                          ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
                          : 0.0;
    fraction = std::min(fraction, 1.0);
    double rate = seconds > 0 ? static_cast<double>(p.resources_done) / seconds : 0.0;
    std::string eta = fraction > 0.001 ? Duration(seconds * (1 - fraction) / fraction) : "?";
    if (tty_) {
      const int width = 30;
      int filled = static_cast<int>(fraction * width);
      std::fprintf(stderr, "\r[%.*s%*s] %3.0f%% %lld resources, %.0f/s, ETA %s, %lld rejected   ",
                   filled, "##############################", width - filled, "", fraction * 100,
                   static_cast<long long>(p.resources_done), rate, eta.c_str(),
                   static_cast<long long>(p.entries_failed));
      shown_ = true;
    } else {
      std::fprintf(stderr,
                   "progress: %.2f s, %.1f%%, %lld resources, %.0f/s, ETA %s, %lld rejected\n",
                   seconds, fraction * 100, static_cast<long long>(p.resources_done), rate,
                   eta.c_str(), static_cast<long long>(p.entries_failed));
    }
    std::fflush(stderr);
  }

  void Done() {
    if (shown_) {
      std::fputc('\n', stderr);
    }
  }

 private:
  // Called before each index is built and after the last one.
  void Indexes(const rest::ImportProgress& p, double seconds) {
    if (stored_seconds_ < 0) {
      stored_seconds_ = seconds;  // the first call comes when the last entry is stored
    }
    if (tty_) {
      // \033[K clears what is left of the longer bar line.
      std::fprintf(stderr, "%s%lld resources stored in %s; building search indexes: %d of %d",
                   shown_ ? "\r\033[K" : "", static_cast<long long>(p.resources_done),
                   Duration(stored_seconds_).c_str(), p.indexes_built, p.indexes_total);
      shown_ = true;
    } else if (interval_ > 0) {
      std::fprintf(stderr, "progress: %.2f s, %lld resources stored; search indexes %d/%d built\n",
                   seconds, static_cast<long long>(p.resources_done), p.indexes_built,
                   p.indexes_total);
    }
    std::fflush(stderr);
  }

  Clock::time_point start_;
  Clock::time_point last_{};
  double interval_;
  double stored_seconds_ = -1;  // when the index build began
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
  cmd->add_option("--progress-interval", o.progress_interval,
                  "print a progress line to stderr every SECONDS (for logs) instead of the bar "
                  "drawn on a terminal")
      ->check(CLI::Range(0.05, 3600.0));
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
  ImportProgressDisplay bar(start, options.progress_interval);
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
