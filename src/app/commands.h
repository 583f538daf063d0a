// The carechart sub-commands. Each returns the process exit code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace carechart::store {
class ResourceStore;
}
namespace carechart::rest {
struct ApiOptions;
}

namespace carechart::app {

struct CommonOptions {
  std::string db_path = "carechart.db";
  std::string postgres_uri;  // set (--postgres): the PostgreSQL database instead of db_path
  std::vector<std::string> postgres_replicas;  // serve --postgres-replica: read-only standbys
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
  bool wal_checkpoint_thread = false;  // SQLite: checkpoints on a thread of their own (D71)
  int hl7_port = -1;                   // HL7 v2 MLLP listener port: -1 off, 0 picks a free one
  std::string hl7_config;              // HL7 v2 mapping tables (JSON); empty: the built-in defaults
  int hl7_idle_timeout = 600;          // seconds before an idle MLLP connection is closed
  size_t hl7_max_frame_bytes = 16 * 1024 * 1024;  // larger MLLP frames: AR and close
  std::string hl7_tls_cert, hl7_tls_key;          // PEM files: MLLP over TLS when both are set
  std::string hl7_tls_client_ca;  // PEM CAs: MLLP senders must present a certificate they issued
  std::string bulk_dir;           // Bulk Data job files; empty: "<db>.bulk" beside the database
  double bulk_expire_hours = 24;  // finished Bulk Data jobs are removed after this
  int bulk_page_size = 1000;      // resources per read of an export
  int bulk_lease_seconds = 30;    // several nodes: a dead node's job is taken over after this
  // Authentication (serve_auth.cc, auth_cmd.cc): TLS for HTTP, CORS for SMART apps, token life.
  std::string tls_cert, tls_key;          // PEM files: HTTPS when both are set
  std::vector<std::string> cors_origins;  // browser origins allowed to call the API
  int64_t access_token_seconds = 3600;
  // The access policy (docs/access-policy.md): a role table file replacing the shipped one, and
  // the mode ("ehr": the longitudinal record for clinicians with a care relationship; "emr":
  // each facility sees its own data). Empty: the table's own setting.
  std::string access_policy;
  std::string access_mode;
  // The built web apps (serve_web.cc); empty: found next to the source tree or cwd's web/dist.
  std::string web_root;
};

// carechart hl7 errors | replay ID | send FILE
struct Hl7Options {
  std::string action;  // "errors", "replay", "send"
  std::string arg;     // replay: the queued message id; send: the file
  std::string host = "127.0.0.1";
  int port = 2575;
  int timeout = 30;
  bool tls = false;       // send: MLLP over TLS
  std::string ca_file;    // send: CAs that verify the receiver (else the system's)
  std::string cert, key;  // send: a client certificate and its key (PEM)
  int limit = 100;
  bool all = false;  // errors: include resolved entries
  std::string config;
};

int RunServe(const CommonOptions& common, const ServeOptions& serve);
// carechart import: files and folders of Bundles and NDJSON (also .gz) into the database.
struct ImportCmdOptions {
  std::vector<std::string> paths;
  size_t batch = 10000;
  int workers = 0;  // 0: one per core
  bool stop_on_error = false;
  bool keep_facility_tags = false;
  double progress_interval = 0;  // seconds between plain progress lines; 0: a bar on a terminal
};
// Registers the import command's own options and arguments on `cmd`.
void AddImportOptions(CLI::App* cmd, ImportCmdOptions& options);
int RunImport(const CommonOptions& common, const ImportCmdOptions& options);

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

// carechart reindex (reindex_cmd.cc): re-extracts the search index of --db.
struct ReindexCmdOptions {
  std::string type;
  std::string param;
  int batch = 2000;
  int threads = 0;
};
CLI::App* AddReindexCommand(CLI::App& app, CommonOptions& common, ReindexCmdOptions& options);
int RunReindex(const CommonOptions& common, const ReindexCmdOptions& options);

// carechart migrate (migrate_cmd.cc): applies the missing schema migrations of --postgres (or
// --db) and reports the versions.
CLI::App* AddMigrateCommand(CLI::App& app, CommonOptions& common);
int RunMigrate(const CommonOptions& common);

// carechart storage (storage_cmd.cc): what a SQLite database holds on disk.
CLI::App* AddStorageCommand(CLI::App& app, CommonOptions& common, bool& json_output);
int RunStorage(const CommonOptions& common, bool json_output);

// carechart export (export_cmd.cc): Bulk Data NDJSON files from --db into --out.
struct ExportCmdOptions {
  std::string out_dir;
  std::vector<std::string> types;
  std::string since;
  std::vector<std::string> patients;  // patient-level export of these patients
  bool all_patients = false;          // patient-level export of every patient
  std::string group;                  // group-level export
  std::vector<std::string> type_filters;
  bool gzip = false;
  int64_t max_file_resources = 100000;
};
CLI::App* AddExportCommand(CLI::App& app, CommonOptions& common, ExportCmdOptions& options);
int RunExportCommand(const CommonOptions& common, const ExportCmdOptions& options);
// Adds serve's Bulk Data options (--bulk-dir, --bulk-expire-hours).
void AddBulkServeOptions(CLI::App* serve_cmd, ServeOptions& serve);
// Adds serve's --postgres-replica (open_store.cc).
void AddPostgresServeOptions(CLI::App* serve_cmd, CommonOptions& common);

// carechart user | client | token (auth_cmd.cc): accounts, SMART clients and tokens for scripts.
struct AuthCommands;
std::shared_ptr<AuthCommands> AddAuthCommands(CLI::App& app, CommonOptions& common);
// The exit code of the auth command that was parsed, or -1 when none was.
int RunAuthCommands(const AuthCommands& commands, const CommonOptions& common);
// serve's options for TLS, CORS and token lifetime.
void AddAuthServeOptions(CLI::App* serve_cmd, ServeOptions& serve);

// carechart audit verify (audit_cmd.cc): checks the audit log's hash chain in --db.
struct AuditCmdOptions {
  std::string action;  // "verify"
};
CLI::App* AddAuditCommand(CLI::App& app, CommonOptions& common, AuditCmdOptions& options);
int RunAuditCommand(const CommonOptions& common, const AuditCmdOptions& options);
// serve's access policy options (--access-policy FILE, --access-mode ehr|emr).
void AddAccessServeOptions(CLI::App* serve_cmd, ServeOptions& serve);
// Loads the access policy serve's options name into `api` (logs and returns false on error).
bool ConfigureAccessPolicy(const ServeOptions& serve, rest::ApiOptions& api);

// serve --demo for the web apps (demo_web.cc): the web stories' resources (added when missing;
// the number written, or -1 logged), and the demo users demo-doctor and maria (random passwords
// printed once and appended to demo-logins.txt beside the database).
int64_t LoadWebDemoData(store::ResourceStore& store, const rest::ApiOptions& api);
bool CreateDemoUsers(const CommonOptions& common);

// serve's --web-root option, and the folder it resolves to (serve_web.cc).
void AddWebServeOptions(CLI::App* serve_cmd, ServeOptions& serve);
std::string FindWebRoot(const std::string& configured);

// Sets up logging to stderr at `level` ("trace".."off"); false on an unknown level.
bool SetupLogging(const std::string& level);

}  // namespace carechart::app
