// Opening the database the way every sub-command needs it.
#pragma once

#include <memory>

#include "app/commands.h"
#include "rest/fhir_api.h"
#include "store/resource_store.h"

namespace carechart::app {

// Opens the SQLite database named by `common` (with the other settings of `options`), fills the
// facility fields of `api_options`, and makes sure the facility's Organization exists. Logs what
// went wrong, naming the setting or file, and returns null on failure.
std::unique_ptr<store::ResourceStore> OpenFacilityStore(const CommonOptions& common,
                                                        store::SqliteOptions options,
                                                        rest::ApiOptions& api_options);

}  // namespace carechart::app
