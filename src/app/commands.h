// The carechart sub-commands. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

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
  std::string public_base_url;
  bool demo = false;
  bool access_log = true;
};

int RunServe(const CommonOptions& common, const ServeOptions& serve);
int RunImport(const CommonOptions& common, const std::vector<std::string>& files, size_t batch);

// Sets up logging to stderr at `level` ("trace".."off"); false on an unknown level.
bool SetupLogging(const std::string& level);

}  // namespace carechart::app
