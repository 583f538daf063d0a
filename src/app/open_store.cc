#include "app/open_store.h"

#include <spdlog/spdlog.h>

namespace carechart::app {

std::unique_ptr<store::ResourceStore> OpenFacilityStore(const CommonOptions& common,
                                                        store::SqliteOptions options,
                                                        rest::ApiOptions& api_options) {
  options.path = common.db_path;
  auto store = store::OpenSqliteStore(options);
  if (!store.ok()) {
    spdlog::critical("cannot open the database: {}", store.status().ToString());
    return nullptr;
  }
  api_options.facility_id = common.facility_id;
  api_options.facility_name =
      common.facility_name.empty() ? common.facility_id : common.facility_name;
  rest::FhirApi api(**store, api_options);
  if (Status s = api.EnsureFacility(); !s.ok()) {
    spdlog::critical("cannot set up the facility: {}", s.ToString());
    return nullptr;
  }
  return std::move(store).value();
}

}  // namespace carechart::app
