// carechart: the command line. Options come from (lowest to highest precedence) defaults, a TOML
// config file (--config), CARECHART_* environment variables and command-line flags.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "app/commands.h"

namespace {

void AddCommon(CLI::App* cmd, carechart::app::CommonOptions& o) {
  cmd->add_option("--db", o.db_path, "SQLite database file (created when absent)")
      ->envname("CARECHART_DB")
      ->capture_default_str();
  cmd->add_option("--postgres", o.postgres_uri,
                  "PostgreSQL connection URI (postgresql://user:password@host:port/db): use that "
                  "database instead of the SQLite file")
      ->envname("CARECHART_POSTGRES");
  cmd->add_option("--facility", o.facility_id,
                  "id of the Organization (facility) this server records writes for")
      ->envname("CARECHART_FACILITY")
      ->capture_default_str();
  cmd->add_option("--facility-name", o.facility_name,
                  "display name of that facility (default: its id)")
      ->envname("CARECHART_FACILITY_NAME");
  cmd->add_option("--log-level", o.log_level, "trace, debug, info, warn, error, critical or off")
      ->envname("CARECHART_LOG_LEVEL")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Carechart: an electronic health record on HL7 FHIR R4.", "carechart"};
  app.set_version_flag("--version", "carechart 0.1.0");
  // A TOML file whose [serve] / [import] sections use the long option names as keys. Given
  // before the sub-command (carechart --config FILE serve) or through CARECHART_CONFIG.
  app.set_config("--config", "", "TOML configuration file ([serve] and [import] sections)")
      ->envname("CARECHART_CONFIG");
  app.require_subcommand(1);

  carechart::app::CommonOptions common;
  carechart::app::ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the FHIR server (API at /fhir)");
  AddCommon(serve_cmd, common);
  serve_cmd->add_option("--host", serve.host, "address to listen on")
      ->envname("CARECHART_HOST")
      ->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "TCP port; 0 picks a free one")
      ->envname("CARECHART_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve_cmd->add_option("--threads", serve.threads, "worker threads for request handling")
      ->envname("CARECHART_THREADS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  serve_cmd
      ->add_option("--io-threads", serve.io_threads,
                   "threads doing network I/O and reads (0: one per CPU core)")
      ->envname("CARECHART_IO_THREADS")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  serve_cmd->add_option("--max-body-bytes", serve.max_body_bytes, "largest request body accepted")
      ->envname("CARECHART_MAX_BODY_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 32))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-query-ms", serve.max_query_ms,
                   "longest a search or read may run before it is stopped (408)")
      ->envname("CARECHART_MAX_QUERY_MS")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();
  serve_cmd
      ->add_flag("--wal-checkpoint-thread,!--no-wal-checkpoint-thread", serve.wal_checkpoint_thread,
                 "SQLite: copy the write-ahead log into the database file on a thread of its own "
                 "instead of the writer's (D65, D71)")
      ->envname("CARECHART_WAL_CHECKPOINT_THREAD")
      ->capture_default_str();
  serve_cmd
      ->add_option("--public-base-url", serve.public_base_url,
                   "FHIR base URL clients use, e.g. https://ehr.example.org/fhir "
                   "(default: from the Host header)")
      ->envname("CARECHART_PUBLIC_BASE_URL");
  serve_cmd
      ->add_flag("--demo", serve.demo,
                 "load a few demo facilities and patients when the database has none")
      ->envname("CARECHART_DEMO");
  serve_cmd->add_flag("!--no-access-log", serve.access_log, "do not log each request");
  serve_cmd
      ->add_option("--hl7-port", serve.hl7_port,
                   "HL7 v2 MLLP listener port (e.g. 2575; 0 picks a free one; off by default)")
      ->envname("CARECHART_HL7_PORT")
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--hl7-config", serve.hl7_config, "HL7 v2 mapping tables (JSON file)")
      ->envname("CARECHART_HL7_CONFIG")
      ->check(CLI::ExistingFile);
  serve_cmd
      ->add_option("--hl7-idle-timeout", serve.hl7_idle_timeout,
                   "seconds without traffic before an MLLP connection is closed")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve_cmd
      ->add_option("--hl7-max-frame", serve.hl7_max_frame_bytes,
                   "largest MLLP frame in bytes; a larger one is answered AR and closed")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30))
      ->capture_default_str();
  serve_cmd
      ->add_option("--hl7-tls-cert", serve.hl7_tls_cert, "MLLP over TLS: PEM certificate chain")
      ->envname("CARECHART_HL7_TLS_CERT")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--hl7-tls-key", serve.hl7_tls_key, "MLLP over TLS: PEM private key")
      ->envname("CARECHART_HL7_TLS_KEY")
      ->check(CLI::ExistingFile);
  serve_cmd
      ->add_option("--hl7-tls-client-ca", serve.hl7_tls_client_ca,
                   "MLLP over TLS: require sender certificates issued by these CAs (PEM)")
      ->envname("CARECHART_HL7_TLS_CLIENT_CA")
      ->check(CLI::ExistingFile);

  carechart::app::ImportCmdOptions import_opts;
  CLI::App* import_cmd =
      app.add_subcommand("import", "Load FHIR Bundles or NDJSON files into the database");
  AddCommon(import_cmd, common);
  carechart::app::AddImportOptions(import_cmd, import_opts);

  carechart::app::Hl7Options hl7;
  CLI::App* hl7_cmd =
      app.add_subcommand("hl7", "HL7 v2: the error queue, replay, and an MLLP sender");
  hl7_cmd->require_subcommand(1);
  CLI::App* hl7_errors = hl7_cmd->add_subcommand("errors", "List queued (failed) HL7 messages");
  AddCommon(hl7_errors, common);
  hl7_errors->add_option("--limit", hl7.limit, "most entries listed")->capture_default_str();
  hl7_errors->add_flag("--all", hl7.all, "include entries already resolved");
  CLI::App* hl7_replay =
      hl7_cmd->add_subcommand("replay", "Re-apply a queued HL7 message (after fixing the mapping)");
  AddCommon(hl7_replay, common);
  hl7_replay->add_option("id", hl7.arg, "queued message id (from hl7 errors)")->required();
  for (auto* c : {hl7_errors, hl7_replay}) {
    c->add_option("--hl7-config", hl7.config, "HL7 v2 mapping tables (JSON file)")
        ->envname("CARECHART_HL7_CONFIG")
        ->check(CLI::ExistingFile);
  }
  CLI::App* hl7_send =
      hl7_cmd->add_subcommand("send", "Send a file's messages over MLLP; print the ACKs");
  hl7_send->add_option("file", hl7.arg, "HL7 v2 file")->required()->check(CLI::ExistingFile);
  hl7_send->add_option("--host", hl7.host, "receiver host")->capture_default_str();
  hl7_send->add_option("--port", hl7.port, "receiver MLLP port")->capture_default_str();
  hl7_send->add_option("--timeout", hl7.timeout, "seconds to wait for each ACK")
      ->capture_default_str();
  hl7_send->add_flag("--tls", hl7.tls,
                     "MLLP over TLS; the receiver's certificate must be valid and name --host");
  hl7_send
      ->add_option("--ca-file", hl7.ca_file,
                   "PEM CAs that verify the receiver (default: the system's trusted CAs)")
      ->check(CLI::ExistingFile);
  hl7_send->add_option("--cert", hl7.cert, "client certificate (PEM), when the receiver asks")
      ->check(CLI::ExistingFile);
  hl7_send->add_option("--key", hl7.key, "the client certificate's private key (PEM)")
      ->check(CLI::ExistingFile);

  carechart::app::DemoDataOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo-data", "Generate deterministic synthetic patients (NDJSON, Bundles or a database)");
  demo_cmd
      ->add_option("--patients", demo.patients,
                   "number of patients (the first is the story patient demo-maria-lopez)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}))
      ->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "random seed: same seed and options, same bytes")
      ->capture_default_str();
  demo_cmd->add_option("--as-of", demo.as_of, "date (YYYY-MM-DD) the histories run up to")
      ->capture_default_str();
  demo_cmd->add_option("--years", demo.years, "years of history per patient (at most)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  CLI::Option* demo_out =
      demo_cmd->add_option("--out", demo.out_dir, "directory to write the files into");
  demo_cmd
      ->add_option(
          "--format", demo.format,
          "ndjson (one file per resource type) or bundle (one transaction Bundle per patient)")
      ->check(CLI::IsMember({"ndjson", "bundle"}))
      ->capture_default_str();
  demo_cmd
      ->add_option("--db", demo.db_path, "write into this database instead (created when absent)")
      ->excludes(demo_out);
  demo_cmd
      ->add_option("--postgres", common.postgres_uri,
                   "with --db: write into this PostgreSQL database (connection URI) instead")
      ->envname("CARECHART_POSTGRES");
  demo_cmd->add_option("--batch-size", demo.batch, "resources per database transaction (--db)")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  demo_cmd->add_flag("!--no-story", demo.story, "leave out the story patient demo-maria-lopez");
  demo_cmd
      ->add_option("--facility", common.facility_id,
                   "facility (Organization id) the --db writes are recorded for")
      ->capture_default_str();
  demo_cmd
      ->add_option("--log-level", common.log_level,
                   "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();

  carechart::app::ReindexCmdOptions reindex;
  CLI::App* reindex_cmd = carechart::app::AddReindexCommand(app, common, reindex);
  carechart::app::AddBulkServeOptions(serve_cmd, serve);
  carechart::app::AddPostgresServeOptions(serve_cmd, common);
  carechart::app::AddAuthServeOptions(serve_cmd, serve);
  carechart::app::AddAccessServeOptions(serve_cmd, serve);
  carechart::app::AddWebServeOptions(serve_cmd, serve);
  carechart::app::AuditCmdOptions audit_options;
  CLI::App* audit_cmd = carechart::app::AddAuditCommand(app, common, audit_options);
  auto auth_cmds = carechart::app::AddAuthCommands(app, common);  // user, client, token
  carechart::app::ExportCmdOptions export_options;
  CLI::App* export_cmd = carechart::app::AddExportCommand(app, common, export_options);
  CLI::App* migrate_cmd = carechart::app::AddMigrateCommand(app, common);
  bool storage_json = false;
  CLI::App* storage_cmd = carechart::app::AddStorageCommand(app, common, storage_json);

  // CLI11 2.1 ignores the environment variable of a config-file option: pass it on by hand.
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env_config = std::getenv("CARECHART_CONFIG");
  bool has_config = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--config" || a.starts_with("--config=");
  });
  if (env_config && *env_config && !has_config) {
    args.insert(args.begin(), {"--config", env_config});
  }
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!carechart::app::SetupLogging(common.log_level)) {
    std::cerr << "carechart: unknown --log-level '" << common.log_level
              << "'; use trace, debug, info, warn, error, critical or off\n";
    return 2;
  }
  if (int rc = carechart::app::RunAuthCommands(*auth_cmds, common); rc >= 0) {
    return rc;
  }
  if (serve_cmd->parsed()) {
    return carechart::app::RunServe(common, serve);
  }
  if (import_cmd->parsed()) {
    return carechart::app::RunImport(common, import_opts);
  }
  if (demo_cmd->parsed()) {
    return carechart::app::RunDemoData(common, demo);
  }
  if (reindex_cmd->parsed()) {
    return carechart::app::RunReindex(common, reindex);
  }
  if (audit_cmd->parsed()) {
    return carechart::app::RunAuditCommand(common, audit_options);
  }
  if (export_cmd->parsed()) {
    return carechart::app::RunExportCommand(common, export_options);
  }
  if (migrate_cmd->parsed()) {
    return carechart::app::RunMigrate(common);
  }
  if (storage_cmd->parsed()) {
    return carechart::app::RunStorage(common, storage_json);
  }
  if (hl7_cmd->parsed()) {
    hl7.action = hl7_errors->parsed() ? "errors" : hl7_replay->parsed() ? "replay" : "send";
    return carechart::app::RunHl7(common, hl7);
  }
  return 2;
}
