// carechart export: a Bulk Data export from the command line, into a folder of NDJSON files
// (one or more per type), with the same engine as the server's $export (src/bulk/exporter.h).
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "app/open_store.h"
#include "bulk/exporter.h"
#include "fhir/datetime.h"
#include "store/resource_store.h"

namespace carechart::app {
namespace {

namespace fs = std::filesystem;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void ShowProgress(const bulk::ExportProgress& p, double seconds) {
  int width = 30;
  double fraction = p.total > 0 ? std::min(1.0, static_cast<double>(p.done) / p.total) : 0.0;
  int filled = static_cast<int>(fraction * width);
  double rate = seconds > 0 ? p.resources / seconds : 0;
  double eta = fraction > 0 ? seconds * (1 - fraction) / fraction : 0;
  std::fprintf(stderr, "\r[%.*s%*s] %3.0f%% %lld resources, %.0f/s, ETA %.0f s   ", filled,
               "##############################", width - filled, "", fraction * 100,
               static_cast<long long>(p.resources), rate, eta);
  std::fflush(stderr);
}

}  // namespace

CLI::App* AddExportCommand(CLI::App& app, CommonOptions& common, ExportCmdOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "export", "Export resources as NDJSON files (FHIR Bulk Data format), one series per type");
  cmd->add_option("--postgres", common.postgres_uri,
                  "PostgreSQL connection URI: export from that database instead")
      ->envname("CARECHART_POSTGRES");
  // Its existence is checked in RunExportCommand: with --postgres the file is not needed.
  cmd->add_option("--db", common.db_path, "SQLite database file")
      ->envname("CARECHART_DB")
      ->capture_default_str();
  cmd->add_option("--out", o.out_dir, "folder for the files (created; must be empty)")->required();
  cmd->add_option("--type", o.types, "only these resource types (repeat, or comma-separated)")
      ->delimiter(',');
  cmd->add_option("--since", o.since, "only resources updated at or after this instant");
  CLI::Option* patient =
      cmd->add_option("--patient", o.patients,
                      "export these patients' compartments (repeat, or comma-separated)")
          ->delimiter(',');
  CLI::Option* patients =
      cmd->add_flag("--all-patients", o.all_patients,
                    "export every patient's compartment (Patient-level export)");
  cmd->add_option("--group", o.group, "export the compartments of this Group's members")
      ->excludes(patient)
      ->excludes(patients);
  patient->excludes(patients);
  cmd->add_option("--type-filter", o.type_filters,
                  "a search that resources of its type must match, e.g. "
                  "'Observation?code=http://loinc.org|4548-4' (repeatable)");
  cmd->add_flag("--gzip", o.gzip, "write .ndjson.gz files");
  cmd->add_option("--max-file-resources", o.max_file_resources,
                  "start a new file after this many resources")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--log-level", common.log_level,
                  "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();
  return cmd;
}

int RunExportCommand(const CommonOptions& common, const ExportCmdOptions& o) {
  bulk::ExportRequest request;
  request.level = !o.group.empty()                          ? bulk::ExportLevel::kGroup
                  : (o.all_patients || !o.patients.empty()) ? bulk::ExportLevel::kPatient
                                                            : bulk::ExportLevel::kSystem;
  request.group_id = o.group;
  request.patient_ids = o.patients;
  request.types = o.types;
  if (!o.since.empty()) {
    fhir::DateRange range;
    if (!fhir::ParseDateRange(o.since, &range)) {
      std::fprintf(
          stderr,
          "carechart export: --since '%s' is not a FHIR instant (e.g. 2024-01-31T12:00:00Z)\n",
          o.since.c_str());
      return 2;
    }
    request.since_us = range.low;
  }
  for (const std::string& f : o.type_filters) {
    size_t q = f.find('?');
    if (q == std::string::npos) {
      std::fprintf(stderr, "carechart export: --type-filter '%s' must be Type?search\n", f.c_str());
      return 2;
    }
    request.type_filters.push_back({f.substr(0, q), f.substr(q + 1)});
  }
  if (Status s = bulk::CheckExportRequest(request); !s.ok()) {
    std::fprintf(stderr, "carechart export: %s\n", s.message().c_str());
    return 2;
  }
  if (common.postgres_uri.empty() && !fs::exists(common.db_path)) {
    std::fprintf(stderr, "carechart export: the database %s does not exist (--db)\n",
                 common.db_path.c_str());
    return 2;
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec || !fs::is_directory(o.out_dir) || !fs::is_empty(o.out_dir)) {
    std::fprintf(stderr, "carechart export: --out %s must be an empty (or new) folder%s%s\n",
                 o.out_dir.c_str(), ec ? ": " : "", ec ? ec.message().c_str() : "");
    return 2;
  }
  store::SqliteOptions so;
  so.max_query_ms = 0;  // pages of an export are small, but a busy disk must not fail it
  so.train_body_dictionaries = false;  // a reader: it trains no dictionary (D103)
  auto store = OpenResourceStore(common, so);
  if (!store.ok()) {
    spdlog::critical("cannot open the database: {}", store.status().ToString());
    return 1;
  }
  bool tty = isatty(STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  auto last_shown = start;
  bulk::ExportRunOptions ro;
  ro.limits.gzip = o.gzip;
  ro.limits.max_resources_per_file = o.max_file_resources;
  ro.transaction_time_us = 0;
  if (tty) {
    ro.progress = [&](const bulk::ExportProgress& p) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_shown > std::chrono::milliseconds(200)) {
        last_shown = now;
        ShowProgress(p, Seconds(start));
      }
    };
  }
  auto result = bulk::RunExport(**store, request, o.out_dir, ro);
  if (tty) {
    std::fputc('\n', stderr);
  }
  (*store)->Close();
  if (!result.ok()) {
    spdlog::error("export failed: {}", result.status().ToString());
    return 1;
  }
  double seconds = Seconds(start);
  double mb = static_cast<double>(result->bytes) / 1e6;
  std::printf(
      "exported %lld resources (%.1f MB) into %zu files in %s in %.2f s: %.0f resources/s, "
      "%.1f MB/s%s\n",
      static_cast<long long>(result->resources), mb, result->files.size(), o.out_dir.c_str(),
      seconds, seconds > 0 ? result->resources / seconds : 0.0, seconds > 0 ? mb / seconds : 0.0,
      result->error_files.empty() ? "" : "; see errors/ for what was left out");
  return result->error_files.empty() ? 0 : 3;
}

}  // namespace carechart::app
