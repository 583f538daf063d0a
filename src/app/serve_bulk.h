// Bulk Data in `carechart serve`: the job thread and the $export/$import routes.
#pragma once

#include <memory>

#include "app/commands.h"
#include "bulk/bulk_jobs.h"
#include "rest/fhir_api.h"

namespace carechart::app {

// Starts the Bulk Data jobs (recovering interrupted ones) and adds their routes to `api`. Logs
// and returns null on failure.
std::unique_ptr<bulk::BulkJobs> AttachBulkData(rest::FhirApi& api, store::ResourceStore& store,
                                               const CommonOptions& common,
                                               const ServeOptions& serve,
                                               const rest::ApiOptions& api_options);

}  // namespace carechart::app
