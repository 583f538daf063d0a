// Opening the database the way every sub-command needs it: the SQLite file (--db) or, with
// --postgres URI, a PostgreSQL database (docs/postgres.md).
#pragma once

#include <memory>

#include "app/commands.h"
#include "auth/auth_store.h"
#include "bulk/job_store.h"
#include "rest/fhir_api.h"
#include "store/resource_store.h"

namespace carechart::app {

// Opens the database named by `common` (with the other settings of `options`), fills the
// facility fields of `api_options`, and makes sure the facility's Organization exists. Logs what
// went wrong, naming the setting or file, and returns null on failure.
std::unique_ptr<store::ResourceStore> OpenFacilityStore(const CommonOptions& common,
                                                        store::SqliteOptions options,
                                                        rest::ApiOptions& api_options);

// The resource store of `common` alone: PostgreSQL when --postgres is set, else the SQLite file.
StatusOr<std::unique_ptr<store::ResourceStore>> OpenResourceStore(const CommonOptions& common,
                                                                  store::SqliteOptions options);
// The authentication and Bulk Data job tables of the same database.
StatusOr<std::unique_ptr<auth::AuthStore>> OpenAuthStore(const CommonOptions& common);
StatusOr<std::unique_ptr<bulk::JobStore>> OpenJobStore(const CommonOptions& common);

// "the database FILE" or "the PostgreSQL database HOST/DB" (no password), for messages.
std::string DatabaseName(const CommonOptions& common);

}  // namespace carechart::app
