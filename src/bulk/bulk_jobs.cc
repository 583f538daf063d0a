#include "bulk/bulk_jobs.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "bulk/exporter.h"
#include "fhir/datetime.h"
#include "fhir/json.h"
#include "rest/importer.h"

namespace carechart::bulk {
namespace {

namespace fs = std::filesystem;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Random job ids: unguessable, since a job's URL is all a client needs to read its files.
std::string NewJobId() {
  static const char* hex = "0123456789abcdef";
  std::string id;
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  unsigned char bytes[16];
  urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  for (unsigned char b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

json::Value FileEntry(const std::string& type, const std::string& url, int64_t count) {
  json::Value f = json::Value::Object();
  f.set("type", json::Value::String(type));
  f.set("url", json::Value::String(url));
  if (count >= 0) {
    f.set("count", json::Value::Int(count));
  }
  return f;
}

json::Value ManifestHead(const JobRecord& job, const std::string& request_url,
                         bool requires_token) {
  json::Value m = json::Value::Object();
  m.set("transactionTime", json::Value::String(fhir::FormatInstant(job.transaction_time_us)));
  m.set("request", json::Value::String(request_url));
  m.set("requiresAccessToken", json::Value::Bool(requires_token));
  return m;
}

std::string WithOwner(const std::string& request_json, const std::string& owner) {
  if (owner.empty()) {
    return request_json;
  }
  auto v = json::Parse(request_json);
  if (!v.ok()) {
    return request_json;
  }
  v->set("owner", json::Value::String(owner));
  return json::Write(*v);
}

}  // namespace

std::string JobOwner(const JobRecord& job) {
  auto v = json::Parse(job.request);
  return v.ok() && v->is_object() ? std::string(v->string_at("owner")) : std::string();
}

BulkJobs::BulkJobs(store::ResourceStore& store, std::unique_ptr<JobStore> jobs,
                   rest::ApiOptions api, BulkOptions options)
    : store_(store), jobs_(std::move(jobs)), api_(std::move(api)), options_(std::move(options)) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  node_id_ = std::string(host) + ":" + std::to_string(getpid()) + ":" + NewJobId().substr(0, 8);
}

StatusOr<std::unique_ptr<BulkJobs>> BulkJobs::Start(store::ResourceStore& store,
                                                    const std::string& db_path,
                                                    rest::ApiOptions api, BulkOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<JobStore> jobs, OpenSqliteJobStore(db_path));
  return Start(store, std::move(jobs), std::move(api), std::move(options));
}

StatusOr<std::unique_ptr<BulkJobs>> BulkJobs::Start(store::ResourceStore& store,
                                                    std::unique_ptr<JobStore> jobs,
                                                    rest::ApiOptions api, BulkOptions options) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return InternalError("cannot create the bulk data folder " + options.dir + ": " + ec.message() +
                         " (set --bulk-dir)");
  }
  std::unique_ptr<BulkJobs> self(
      new BulkJobs(store, std::move(jobs), std::move(api), std::move(options)));
  RETURN_IF_ERROR(self->Recover());
  self->thread_ = std::thread([p = self.get()] { p->Loop(); });
  if (self->jobs_->SharedByNodes()) {
    self->heartbeat_ = std::thread([p = self.get()] { p->Heartbeat(); });
  }
  return self;
}

BulkJobs::~BulkJobs() { Stop(); }

void BulkJobs::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
    if (running_cancel_) {
      running_cancel_->store(true);  // stop at the next page; the row stays "running"
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (heartbeat_.joinable()) {
    heartbeat_.join();
  }
}

std::string BulkJobs::JobDir(const std::string& id) const { return options_.dir + "/" + id; }

Status BulkJobs::Recover() {
  if (jobs_->SharedByNodes()) {
    return Status::Ok();  // other nodes may be running these; expired leases are claimed in Loop
  }
  ASSIGN_OR_RETURN(std::vector<JobRecord> all, jobs_->List());
  for (JobRecord& job : all) {
    if (job.state != "queued" && job.state != "running") {
      continue;
    }
    if (job.state == "running" && job.attempts >= options_.max_attempts) {
      job.state = "failed";
      job.error = "the server stopped during this " + job.kind + " " +
                  std::to_string(job.attempts) + " times; it was given up";
      spdlog::warn("bulk job {} failed: {}", job.id, job.error);
    } else {
      if (job.state == "running") {
        spdlog::info("bulk job {} ({}) was interrupted by a restart; it runs again", job.id,
                     job.kind);
      }
      job.state = "queued";
      job.progress = "queued again after a server restart";
    }
    job.updated_us = NowUs();
    RETURN_IF_ERROR(jobs_->Update(job).status());
  }
  return Status::Ok();
}

StatusOr<std::string> BulkJobs::SubmitExport(const ExportRequest& request,
                                             const std::string& base_url,
                                             const std::string& owner) {
  JobRecord job;
  job.id = NewJobId();
  job.kind = "export";
  job.state = "queued";
  job.request = WithOwner(ExportRequestToJson(request), owner);
  job.base_url = base_url;
  job.created_us = job.updated_us = NowUs();
  job.progress = "queued";
  RETURN_IF_ERROR(jobs_->Insert(job));
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return job.id;
}

StatusOr<std::string> BulkJobs::SubmitImport(const std::string& ndjson,
                                             const std::string& request_url,
                                             const std::string& base_url,
                                             const std::string& owner) {
  JobRecord job;
  job.id = NewJobId();
  job.kind = "import";
  job.state = "queued";
  std::string dir = JobDir(job.id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string input = dir + "/input.ndjson";
  {
    std::ofstream out(input, std::ios::binary);
    out.write(ndjson.data(), static_cast<std::streamsize>(ndjson.size()));
    out.flush();
    if (ec || !out) {
      return InternalError("cannot save the import's input under " + dir);
    }
  }
  json::Value req = json::Value::Object();
  req.set("input", json::Value::String(input));
  req.set("request", json::Value::String(request_url));
  job.request = WithOwner(json::Write(req), owner);
  job.base_url = base_url;
  job.created_us = job.updated_us = NowUs();
  job.progress = "queued";
  if (Status s = jobs_->Insert(job); !s.ok()) {
    fs::remove_all(dir, ec);
    return s;
  }
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return job.id;
}

StatusOr<std::optional<JobRecord>> BulkJobs::Get(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    if (running_progress_ && running_progress_->id == id) {
      return running_progress_;
    }
  }
  return jobs_->Get(id);
}

StatusOr<bool> BulkJobs::Cancel(const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<JobRecord> job, jobs_->Get(id));
  if (!job) {
    return false;
  }
  RETURN_IF_ERROR(jobs_->Delete(id));
  bool running = false;
  {
    std::lock_guard lock(mu_);
    if (running_id_ == id && running_cancel_) {
      running_cancel_->store(true);
      running = true;
      running_progress_.reset();
    }
  }
  if (!running) {  // a running job removes its own files when it sees the flag
    std::error_code ec;
    fs::remove_all(JobDir(id), ec);
  }
  return true;
}

void BulkJobs::Loop() {
  // A lower priority for this thread only (Linux applies nice values per thread), so that API
  // requests win the CPU while an export runs.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), options_.worker_nice);
  int64_t last_sweep = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) {
        return;
      }
    }
    if (NowUs() - last_sweep > 60'000'000) {
      SweepExpired();
      last_sweep = NowUs();
    }
    int64_t lease_us = options_.lease_seconds * 1'000'000;
    auto next = jobs_->Claim(node_id_, NowUs(), lease_us);
    if (!next.ok()) {
      spdlog::error("bulk jobs: cannot look for queued jobs: {}", next.status().ToString());
    } else if (*next && (*next)->state == "running") {
      // Claimed after its node's lease ran out: that node died (or lost the database).
      JobRecord& job = **next;
      if (job.attempts >= options_.max_attempts) {
        job.state = "failed";
        job.error = "the node running this " + job.kind + " stopped " +
                    std::to_string(job.attempts) + " times; it was given up";
        job.updated_us = NowUs();
        spdlog::warn("bulk job {} failed: {}", job.id, job.error);
        (void)jobs_->Update(job);
        continue;
      }
      spdlog::info("bulk job {} ({}) was left by a node that stopped; it runs again here", job.id,
                   job.kind);
      RunOne(std::move(job));
      continue;
    } else if (*next) {
      RunOne(std::move(**next));
      continue;
    }
    // Other nodes submit jobs too (no wake-up from them): poll at least once per lease.
    // Every few seconds at most, so that a job another node gave back when it stopped
    // (JobStore::Release) is taken over at once, not a lease later: one indexed query.
    auto idle = std::chrono::seconds(
        jobs_->SharedByNodes() ? std::clamp<int64_t>(options_.lease_seconds, 1, 2) : 30);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, idle, [&] { return stopping_ || wake_; });
    wake_ = false;
  }
}

void BulkJobs::Heartbeat() {
  const auto period =
      std::chrono::milliseconds(std::max<int64_t>(options_.lease_seconds, 1) * 1000 / 3);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, period, [&] { return stopping_; });
    if (stopping_ || running_id_.empty()) {
      continue;
    }
    std::string id = running_id_;
    lock.unlock();
    auto renewed = jobs_->Renew(id, node_id_, NowUs(), options_.lease_seconds * 1'000'000);
    bool gone_or_taken = renewed.ok() && !*renewed;
    bool taken = false;
    if (gone_or_taken) {
      auto row = jobs_->Get(id);
      taken = row.ok() && row->has_value();  // still there: another node holds it
    } else if (!renewed.ok()) {
      spdlog::warn("bulk job {}: cannot renew its lease: {}", id, renewed.status().ToString());
    }
    lock.lock();
    if (gone_or_taken && running_id_ == id && running_cancel_) {
      lease_lost_ = taken;
      running_cancel_->store(true);  // cancelled elsewhere, or taken over: stop at the next page
    }
  }
}

void BulkJobs::SaveProgress(JobRecord& job, int64_t done, int64_t total, std::string text,
                            bool force) {
  job.done = done;
  job.total = total;
  job.progress = std::move(text);
  {
    std::lock_guard lock(mu_);
    if (running_id_ == job.id && running_progress_) {
      running_progress_ = job;
    }
  }
  int64_t now = NowUs();
  if (force || now - last_saved_us_ > 1'000'000) {  // the table at most once a second
    last_saved_us_ = now;
    job.updated_us = now;
    (void)jobs_->Update(job);
  }
}

void BulkJobs::ReleaseLease(const std::string& id, bool run_started) {
  if (!jobs_->SharedByNodes()) {
    spdlog::info("bulk job {} interrupted by shutdown; it runs again at the next start", id);
    return;
  }
  Status s = jobs_->Release(id, node_id_, run_started);
  if (s.ok()) {
    spdlog::info("bulk job {} interrupted by shutdown; another node takes it over", id);
  } else {
    spdlog::warn(
        "bulk job {}: cannot give back its lease ({}); another node takes it over when "
        "the lease runs out",
        id, s.ToString());
  }
}

void BulkJobs::RunOne(JobRecord job) {
  bool stopping_now = false;
  {
    std::lock_guard lock(mu_);
    stopping_now = stopping_;
  }
  if (stopping_now) {  // claimed just as this node began to stop: hand it straight back
    ReleaseLease(job.id, /*run_started=*/false);
    return;
  }
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  std::error_code ec;
  fs::remove_all(JobDir(job.id) + "/out", ec);  // an interrupted run's files
  job.state = "running";
  job.attempts += 1;
  job.transaction_time_us = NowUs();
  job.updated_us = job.transaction_time_us;
  job.progress = "started";
  auto still_there = jobs_->Update(job);
  if (!still_there.ok() || !*still_there) {
    return;  // cancelled meanwhile
  }
  {
    std::lock_guard lock(mu_);
    running_id_ = job.id;
    running_cancel_ = cancel;
    running_progress_ = job;
  }
  spdlog::info("bulk job {} ({}) started, attempt {}", job.id, job.kind, job.attempts);
  Status s = job.kind == "import" ? RunImportJob(job, *cancel) : RunExportJob(job, *cancel);
  bool stopping, lost;
  {
    std::lock_guard lock(mu_);
    running_id_.clear();
    running_cancel_.reset();
    running_progress_.reset();
    stopping = stopping_;
    lost = lease_lost_;
    lease_lost_ = false;
  }
  if (lost) {
    // Its files and row now belong to the node that took it over: touch neither.
    spdlog::warn("bulk job {}: this node's lease ran out and another node took the job over",
                 job.id);
    return;
  }
  if (cancel->load()) {
    if (stopping) {
      ReleaseLease(job.id, /*run_started=*/true);
      return;
    }
    fs::remove_all(JobDir(job.id), ec);  // cancelled: the row is gone already
    spdlog::info("bulk job {} cancelled", job.id);
    return;
  }
  job.updated_us = NowUs();
  if (s.ok()) {
    job.state = "completed";
  } else {
    job.state = "failed";
    job.error = s.message();
    spdlog::warn("bulk job {} failed: {}", job.id, s.ToString());
  }
  auto updated = jobs_->Update(job);
  if (updated.ok() && !*updated) {
    fs::remove_all(JobDir(job.id), ec);  // cancelled just as it finished
  }
}

Status BulkJobs::RunExportJob(JobRecord& job, const std::atomic<bool>& cancel) {
  ASSIGN_OR_RETURN(ExportRequest request, ExportRequestFromJson(job.request));
  std::string out_dir = JobDir(job.id) + "/out";
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    return InternalError("cannot create " + out_dir + ": " + ec.message());
  }
  ExportRunOptions ro;
  ro.limits = options_.limits;
  ro.limits.gzip = false;  // compressed per download when the client accepts gzip
  ro.page_size = options_.page_size;
  // A system export's chunks: ten pages (10,000 rows by default, as measured in D91).
  ro.scan_chunk_rows = options_.page_size * 10;
  ro.transaction_time_us = job.transaction_time_us;
  ro.cancel = &cancel;
  ro.progress = [&](const ExportProgress& p) {
    std::string text = std::to_string(p.resources) + " resources exported";
    if (p.total >= 0) {
      int pct = p.total > 0 ? static_cast<int>(100 * p.done / p.total) : 100;
      text = std::to_string(std::min(pct, 100)) + "% (" + text + "; " + std::to_string(p.done) +
             " of " + std::to_string(p.total) + " " + p.unit + ")";
    }
    SaveProgress(job, p.done, p.total, std::move(text), false);
  };
  ASSIGN_OR_RETURN(ExportResult result, RunExport(store_, request, out_dir, ro));
  json::Value m = ManifestHead(job, request.request_url, options_.requires_access_token);
  std::string files_base = job.base_url + "/_bulk/" + job.id + "/";
  json::Value output = json::Value::Array();
  for (const OutputFile& f : result.files) {
    output.push_back(FileEntry(f.type, files_base + f.name, f.count));
  }
  m.set("output", std::move(output));
  json::Value errors = json::Value::Array();
  for (const OutputFile& f : result.error_files) {
    errors.push_back(FileEntry(f.type, files_base + f.name, f.count));
  }
  m.set("error", std::move(errors));
  job.result = json::Write(m);
  SaveProgress(job, job.done, job.total,
               "completed: " + std::to_string(result.resources) + " resources in " +
                   std::to_string(result.files.size()) + " files",
               false);
  return Status::Ok();
}

Status BulkJobs::RunImportJob(JobRecord& job, const std::atomic<bool>& cancel) {
  ASSIGN_OR_RETURN(json::Value req, json::Parse(job.request));
  std::string input(req.string_at("input"));
  rest::Importer importer(store_, api_);
  Status s = importer.ImportFile(input, [&](const rest::ImportProgress& p) {
    SaveProgress(job, p.resources_done, p.resources_in_file,
                 std::to_string(p.resources_done) + " of " + std::to_string(p.resources_in_file) +
                     " resources imported",
                 false);
  });
  if (cancel.load()) {
    return Status::Ok();  // the caller sees the flag
  }
  RETURN_IF_ERROR(s);
  const rest::ImportStats& st = importer.stats();
  // Before the job reads as completed: a client searching what it has just imported must not
  // meet plans made without statistics (decisions D69).
  if (st.resources_written > 0) {
    if (Status stats = store_.GatherStatistics(); !stats.ok()) {
      spdlog::warn("bulk job {}: the import is stored, but {}", job.id, stats.ToString());
    }
  }
  json::Value m =
      ManifestHead(job, std::string(req.string_at("request")), options_.requires_access_token);
  m.set("output", json::Value::Array());
  json::Value errors = json::Value::Array();
  if (!st.errors.empty()) {
    std::string dir = JobDir(job.id) + "/out/errors";
    std::error_code ec;
    fs::create_directories(dir, ec);
    OutputLimits limits = options_.limits;
    limits.gzip = false;
    NdjsonOutput out(dir, limits);
    for (const std::string& e : st.errors) {
      json::Value issue = json::Value::Object();
      issue.set("severity", json::Value::String("error"));
      issue.set("code", json::Value::String("invalid"));
      issue.set("diagnostics", json::Value::String(e));
      json::Value issues = json::Value::Array();
      issues.push_back(std::move(issue));
      json::Value oo = json::Value::Object();
      oo.set("resourceType", json::Value::String("OperationOutcome"));
      oo.set("issue", std::move(issues));
      RETURN_IF_ERROR(out.Append("OperationOutcome", json::Write(oo)));
    }
    ASSIGN_OR_RETURN(std::vector<OutputFile> files, out.Finish());
    for (const OutputFile& f : files) {
      errors.push_back(
          FileEntry(f.type, job.base_url + "/_bulk/" + job.id + "/errors/" + f.name, f.count));
    }
  }
  m.set("error", std::move(errors));
  // Carechart's counts (not in the Bulk Data manifest schema, hence an extension object).
  json::Value counts = json::Value::Object();
  counts.set("imported", json::Value::Int(st.resources_written));
  counts.set("rejected", json::Value::Int(st.entries_failed));
  m.set("extension", std::move(counts));
  job.result = json::Write(m);
  SaveProgress(job, st.resources_written, st.resources_written + st.entries_failed,
               "completed: " + std::to_string(st.resources_written) + " imported, " +
                   std::to_string(st.entries_failed) + " rejected",
               false);
  return Status::Ok();
}

void BulkJobs::SweepExpired() {
  auto all = jobs_->List();
  if (!all.ok()) {
    return;
  }
  int64_t limit = NowUs() - options_.expire_seconds * 1'000'000;
  for (const JobRecord& j : *all) {
    if ((j.state == "completed" || j.state == "failed") && j.updated_us < limit) {
      std::error_code ec;
      fs::remove_all(JobDir(j.id), ec);
      (void)jobs_->Delete(j.id);
      spdlog::info("bulk job {} expired and was removed", j.id);
    }
  }
}

}  // namespace carechart::bulk
