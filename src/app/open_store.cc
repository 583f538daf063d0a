#include "app/open_store.h"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_store.h"

namespace carechart::app {

StatusOr<std::unique_ptr<store::ResourceStore>> OpenResourceStore(const CommonOptions& common,
                                                                  store::SqliteOptions options) {
  if (!common.postgres_uri.empty()) {
    store::PostgresOptions po;
    po.uri = common.postgres_uri;
    po.max_query_ms = options.max_query_ms;
    po.replica_uris = common.postgres_replicas;
    return store::OpenPostgresStore(po);
  }
  if (!common.postgres_replicas.empty()) {
    return InvalidError("--postgres-replica needs --postgres (the primary that writes go to)");
  }
  options.path = common.db_path;
  return store::OpenSqliteStore(options);
}

StatusOr<std::unique_ptr<auth::AuthStore>> OpenAuthStore(const CommonOptions& common) {
  if (!common.postgres_uri.empty()) {
    return auth::OpenPostgresAuthStore(common.postgres_uri);
  }
  return auth::OpenSqliteAuthStore(common.db_path);
}

StatusOr<std::unique_ptr<bulk::JobStore>> OpenJobStore(const CommonOptions& common) {
  if (!common.postgres_uri.empty()) {
    return bulk::OpenPostgresJobStore(common.postgres_uri);
  }
  return bulk::OpenSqliteJobStore(common.db_path);
}

void AddPostgresServeOptions(CLI::App* serve_cmd, CommonOptions& common) {
  serve_cmd
      ->add_option("--postgres-replica", common.postgres_replicas,
                   "with --postgres: a streaming replica (hot standby) of that database to send "
                   "reads to; repeat for several (docs/deploy.md)")
      ->envname("CARECHART_POSTGRES_REPLICAS")
      ->delimiter(',');
}

std::string DatabaseName(const CommonOptions& common) {
  if (!common.postgres_uri.empty()) {
    return "the PostgreSQL database " + store::pg::RedactUri(common.postgres_uri);
  }
  return "the database " + common.db_path;
}

std::unique_ptr<store::ResourceStore> OpenFacilityStore(const CommonOptions& common,
                                                        store::SqliteOptions options,
                                                        rest::ApiOptions& api_options) {
  auto store = OpenResourceStore(common, options);
  if (!store.ok()) {
    spdlog::critical("cannot open {}: {}", DatabaseName(common), store.status().ToString());
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
