#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "app/open_store.h"
#include "app/serve_auth.h"
#include "app/serve_bulk.h"
#include "app/serve_metrics.h"
#include "hl7v2/mllp.h"
#include "hl7v2/processor.h"
#include "http/heap_limits.h"
#include "http/server.h"
#include "http/static_files.h"
#include "rest/fhir_api.h"
#include "rest/importer.h"
#include "rest/terminology_ops.h"
#include "store/resource_store.h"

namespace carechart::app {

bool SetupLogging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return false;
  }
  // Asynchronous, so that a request thread never waits on the terminal or a pipe; the queue
  // blocks rather than drops when full (an access log with holes is worse than a slower server).
  spdlog::init_thread_pool(16384, 1);
  auto logger = spdlog::stderr_color_mt<spdlog::async_factory>("carechart");
  spdlog::set_default_logger(logger);
  std::atexit([] { spdlog::shutdown(); });
  spdlog::set_level(lvl);
  return true;
}

namespace {

http::Response Healthz() {
  http::Response r;
  r.set_header("Content-Type", "application/json");
  r.body = R"({"status":"ok"})";
  return r;
}

http::Response NotFound(const http::Request& req) {
  http::Response r;
  r.status = 404;
  r.set_header("Content-Type", "application/fhir+json; charset=utf-8");
  r.body =
      R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"nothing is served at this path; the FHIR API is under /fhir"}]})";
  return r;
}

bool HasPatients(store::ResourceStore& store) {
  store::SearchQuery q;
  q.type = "Patient";
  q.count = 1;
  q.want_total = false;
  auto r = store.Search(q);
  return r.ok() && !r->matches.empty();
}

}  // namespace

int RunServe(const CommonOptions& common, const ServeOptions& serve) {
  // Before any thread starts: the heap may not keep an arena per worker thread (D51).
  http::LimitHeapArenas(static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  store::SqliteOptions so;
  so.max_query_ms = serve.max_query_ms;
  so.wal_checkpoint_thread = serve.wal_checkpoint_thread;
  rest::ApiOptions ao;
  ao.public_base_url = serve.public_base_url;
  std::unique_ptr<store::ResourceStore> store = OpenFacilityStore(common, so, ao);
  if (!store) {
    return 1;
  }
  if (!ConfigureAccessPolicy(serve, ao)) {
    return 1;
  }
  rest::FhirApi api(*store, ao);
  std::unique_ptr<bulk::BulkJobs> bulk_jobs = AttachBulkData(api, *store, common, serve, ao);
  if (!bulk_jobs) {
    return 1;
  }
  // ValueSet/$expand, $validate-code and CodeSystem/$lookup (rest/terminology_ops.h).
  api.AddRoute([&store](const http::Request& req, const std::string&,
                        const std::vector<std::string>& parts, const auth::Principal*) {
    return rest::HandleTerminologyOperation(*store, req, parts);
  });
  if (serve.demo && !HasPatients(*store)) {
    // 25 generated patients (the story patient demo-maria-lopez first) and their facilities.
    int64_t written = LoadDemoData(*store, ao, 25, 1);
    if (written < 0) {
      return 1;
    }
    spdlog::info("loaded {} demo resources", written);
  }
  if (serve.demo) {
    // The web apps' stories (today's clinic, messages, results to review, code lists).
    int64_t web = LoadWebDemoData(*store, ao);
    if (web < 0) {
      return 1;
    }
    if (web > 0) {
      spdlog::info("loaded {} web demo resources", web);
    }
  }

  http::ServerOptions ho;
  ho.host = serve.host;
  ho.port = static_cast<uint16_t>(serve.port);
  ho.worker_threads = serve.threads;
  ho.io_threads = serve.io_threads > 0
                      ? serve.io_threads
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ho.max_body_bytes = serve.max_body_bytes;
  ho.access_log = serve.access_log;
  ho.tls_cert_file = serve.tls_cert;  // HTTPS when set (http/server.h)
  ho.tls_key_file = serve.tls_key;
  // OAuth/SMART endpoints and the Bearer gate in front of /fhir (serve_auth.h).
  std::unique_ptr<ServeAuth> auth = ServeAuth::Start(common, serve, *store, api);
  if (!auth) {
    return 1;
  }
  if (serve.demo && !CreateDemoUsers(common)) {
    return 1;
  }
  // The clinician app at / and the patient portal at /portal (http/static_files.h).
  http::StaticSite web(FindWebRoot(serve.web_root));
  if (!web.Built()) {
    spdlog::warn("web apps not built in {} (make build); / shows how to build them", web.root());
  }
  ServeMetrics metrics(*store);  // GET /metrics (serve_metrics.h)
  auto server =
      http::Server::Start(ho, [&api, &auth, &web, &metrics](http::Request& req) -> http::Response {
        auto started = std::chrono::steady_clock::now();
        std::string path = req.path;
        http::Response res =
            auth->Handle(req, api, [&web, &metrics](http::Request& r) -> http::Response {
              if (r.path == "/healthz") {
                return Healthz();
              }
              if (r.path == "/metrics") {
                return metrics.Render();
              }
              if (auto page = web.Serve(r)) {
                return std::move(*page);
              }
              return NotFound(r);
            });
        metrics.Observe(
            path, res.status,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        return res;
      });
  if (!server.ok()) {
    spdlog::critical("{}", server.status().ToString());
    return 1;
  }
  std::string host =
      serve.host.find(':') != std::string::npos ? "[" + serve.host + "]" : serve.host;
  std::cout << "carechart: listening on " << (serve.tls_cert.empty() ? "http://" : "https://")
            << host << ":" << (*server)->port() << std::endl;
  // HL7 v2 over MLLP beside the HTTP server (off unless --hl7-port is given).
  std::unique_ptr<hl7v2::Processor> hl7_processor;
  std::unique_ptr<hl7v2::MllpServer> hl7_server;
  if (serve.hl7_port >= 0) {
    auto mapping = hl7v2::LoadMapping(serve.hl7_config);
    if (!mapping.ok()) {
      spdlog::critical("{}", mapping.status().message());
      (*server)->Stop();
      (*server)->Run();
      return 1;
    }
    hl7v2::ProcessorOptions po;
    po.mapping = *mapping;
    hl7_processor = std::make_unique<hl7v2::Processor>(*store, po);
    hl7v2::MllpOptions mo;
    mo.host = serve.host;
    mo.port = static_cast<uint16_t>(serve.hl7_port);
    mo.io_threads = 1;
    mo.idle_timeout_seconds = serve.hl7_idle_timeout;
    mo.max_frame_bytes = serve.hl7_max_frame_bytes;
    mo.tls_cert_file = serve.hl7_tls_cert;
    mo.tls_key_file = serve.hl7_tls_key;
    mo.tls_client_ca_file = serve.hl7_tls_client_ca;
    auto started = hl7v2::MllpServer::Start(mo, *hl7_processor);
    if (!started.ok()) {
      spdlog::critical("{}", started.status().ToString());
      (*server)->Stop();
      (*server)->Run();
      return 1;
    }
    hl7_server = std::move(*started);
    if (!mo.tls_cert_file.empty()) {
      spdlog::info("hl7: MLLP over TLS (certificate {})", mo.tls_cert_file);
    }
    std::cout << "carechart: hl7 listening on mllp://" << host << ":" << hl7_server->port()
              << std::endl;
  }
  spdlog::info("database {}, facility Organization/{}", common.db_path, common.facility_id);
  (*server)->Run();
  if (hl7_server) {
    hl7_server->Stop();  // lets messages being applied commit and be acknowledged
  }
  bulk_jobs->Stop();  // a running job gives its lease back (several nodes) or reruns at next start
  store->Close();
  spdlog::info("stopped");
  return 0;
}

}  // namespace carechart::app
