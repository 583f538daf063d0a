#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "app/commands.h"
#include "app/open_store.h"
#include "rest/fhir_api.h"
#include "rest/importer.h"
#include "store/resource_store.h"

namespace carechart::app {

namespace {

// A one-line progress bar on a terminal; nothing when stderr is not a terminal.
void ShowProgress(const rest::ImportProgress& p, size_t file_index, size_t files) {
  if (!isatty(STDERR_FILENO)) {
    return;
  }
  int width = 30;
  double fraction = p.resources_in_file > 0 ? static_cast<double>(p.resources_done) /
                                                  static_cast<double>(p.resources_in_file)
                                            : 1.0;
  int filled = static_cast<int>(fraction * width);
  std::fprintf(stderr, "\r[%zu/%zu] [%.*s%*s] %lld/%lld %s   ", file_index + 1, files, filled,
               "##############################", width - filled, "",
               static_cast<long long>(p.resources_done),
               static_cast<long long>(p.resources_in_file), p.file.c_str());
  std::fflush(stderr);
}

}  // namespace

int RunImport(const CommonOptions& common, const std::vector<std::string>& files, size_t batch) {
  rest::ApiOptions ao;
  std::unique_ptr<store::ResourceStore> store = OpenFacilityStore(common, {}, ao);
  if (!store) {
    return 1;
  }
  rest::Importer importer(*store, ao, batch);
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < files.size(); ++i) {
    Status s = importer.ImportFile(
        files[i], [&](const rest::ImportProgress& p) { ShowProgress(p, i, files.size()); });
    if (!s.ok()) {
      if (isatty(STDERR_FILENO)) {
        std::fputc('\n', stderr);
      }
      spdlog::error("{}: {}", files[i], s.ToString());
      store->Close();
      return 1;
    }
  }
  if (isatty(STDERR_FILENO)) {
    std::fputc('\n', stderr);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& st = importer.stats();
  for (const auto& e : st.errors) {
    spdlog::warn("rejected {}", e);
  }
  std::printf(
      "imported %lld resources from %lld files in %.2f s (%.0f resources/s); %lld rejected\n",
      static_cast<long long>(st.resources_written), static_cast<long long>(st.files), seconds,
      seconds > 0 ? static_cast<double>(st.resources_written) / seconds : 0.0,
      static_cast<long long>(st.entries_failed));
  store->Close();
  return st.entries_failed > 0 ? 3 : 0;
}

}  // namespace carechart::app
