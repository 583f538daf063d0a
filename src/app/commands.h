// The carechart sub-commands. Each returns the process exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace carechart::store {
class ResourceStore;
}
namespace carechart::rest {
struct ApiOptions;
}

namespace carechart::app {

struct CommonOptions {
  std::string db_path = "carechart.db";
  std::string facility_id = "carechart-facility";
  std::string facility_name;  // empty: the facility id
  std::string log_level = "info";
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 64;    // handlers mostly wait for the group commit: threads are cheap
  int io_threads = 0;  // 0: one per CPU core
  size_t max_body_bytes = 16 * 1024 * 1024;
  int max_query_ms = 10000;  // a search running longer is stopped with 408
  std::string public_base_url;
  bool demo = false;
  bool access_log = true;
  int hl7_port = -1;       // HL7 v2 MLLP listener port: -1 off, 0 picks a free one
  std::string hl7_config;  // HL7 v2 mapping tables (JSON); empty: the built-in defaults
};

// carechart hl7 errors | replay ID | send FILE
struct Hl7Options {
  std::string action;  // "errors", "replay", "send"
  std::string arg;     // replay: the queued message id; send: the file
  std::string host = "127.0.0.1";
  int port = 2575;
  int timeout = 30;
  int limit = 100;
  bool all = false;  // errors: include resolved entries
  std::string config;
};

int RunServe(const CommonOptions& common, const ServeOptions& serve);
int RunImport(const CommonOptions& common, const std::vector<std::string>& files, size_t batch);

// carechart demo-data: synthetic patients (src/synth) to --out DIR or --db FILE.
struct DemoDataOptions {
  int64_t patients = 10;
  uint64_t seed = 1;
  std::string as_of = "2026-11-01";
  int years = 30;
  std::string out_dir;
  std::string format = "ndjson";  // or "bundle"
  std::string db_path;
  bool story = true;
  size_t batch = 5000;
};
int RunDemoData(const CommonOptions& common, const DemoDataOptions& options);
// Loads `patients` generated patients of `seed` (and their facilities) into `store` through the
// importer; the number of resources written, or -1 (logged) on failure. For serve --demo.
int64_t LoadDemoData(store::ResourceStore& store, const rest::ApiOptions& api, int64_t patients,
                     uint64_t seed);
int RunHl7(const CommonOptions& common, const Hl7Options& options);

// Sets up logging to stderr at `level` ("trace".."off"); false on an unknown level.
bool SetupLogging(const std::string& level);

}  // namespace carechart::app
