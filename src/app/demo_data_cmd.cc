// `carechart demo-data`: synthetic patients (src/synth) written as NDJSON files per resource
// type, as one transaction Bundle per patient, or straight into the database through the
// importer's pipeline (the same preparation as the REST API). Also what `serve --demo` loads.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "app/commands.h"
#include "app/open_store.h"
#include "rest/fhir_api.h"
#include "rest/importer.h"
#include "store/resource_store.h"
#include "synth/generator.h"
#include "synth/sinks.h"

namespace carechart::app {

namespace {

using Clock = std::chrono::steady_clock;

// Hands the generated resources to the importer's pipeline as NDJSON chunks (on the importer's
// reader thread, so generation overlaps preparation and storage).
class FeedSink : public synth::ResourceSink {
 public:
  FeedSink(const rest::Importer::NdjsonFeed& feed, size_t chunk) : feed_(feed), chunk_(chunk) {}
  void Add(synth::RType, std::string_view, std::string_view json) override {
    if (stopped_) {
      return;
    }
    text_.append(json);
    text_ += '\n';
    if (++pending_ >= chunk_) {
      Flush();
    }
  }
  void Flush() {
    if (pending_ > 0 && !stopped_) {
      stopped_ = !feed_("demo-data", std::move(text_));
    }
    text_.clear();
    pending_ = 0;
  }

 private:
  const rest::Importer::NdjsonFeed& feed_;
  size_t chunk_;
  std::string text_;
  size_t pending_ = 0;
  bool stopped_ = false;
};

// Generates straight into `store`. Generated data is valid R4 (synth_test validates it), so the
// validator is skipped; everything else (ids, stamps, index) is the import's usual path.
Status GenerateIntoStore(store::ResourceStore& store, const rest::ApiOptions& api,
                         synth::Generator& generator, size_t batch,
                         const std::function<void(const synth::Progress&)>& progress,
                         const rest::ImportProgressFn& import_progress, rest::ImportStats* stats) {
  rest::ImportOptions io;
  io.batch_size = batch;
  io.validate = false;
  io.keep_facility_tags = true;  // each resource is labelled by the facility that recorded it
  io.defer_indexes = true;       // into a new or small database: indexes built once at the end
  rest::Importer importer(store, api, io);
  Status s = importer.ImportGenerated(
      [&](const rest::Importer::NdjsonFeed& feed) {
        FeedSink sink(feed, io.chunk_lines);
        if (progress) {
          generator.WriteAll(sink, progress);
        } else {
          generator.WriteAll(sink);
        }
        sink.Flush();
        return Status::Ok();
      },
      import_progress);
  *stats = importer.stats();
  return s;
}

class ProgressBar {
 public:
  explicit ProgressBar(Clock::time_point start) : start_(start), tty_(isatty(STDERR_FILENO)) {}
  void Update(const synth::Progress& p) {
    if (!tty_) {
      return;
    }
    auto now = Clock::now();
    if (p.patients_done != p.patients && now - last_ < std::chrono::milliseconds(100)) {
      return;
    }
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    int width = 30;
    int filled = p.patients > 0 ? static_cast<int>(width * p.patients_done / p.patients) : width;
    std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld patients, %lld resources, %.0f resources/s   ",
                 filled, "##############################", width - filled, "",
                 static_cast<long long>(p.patients_done), static_cast<long long>(p.patients),
                 static_cast<long long>(p.resources),
                 seconds > 0 ? static_cast<double>(p.resources) / seconds : 0.0);
    std::fflush(stderr);
  }
  // The search indexes' build after the last patient is stored (a quarter of a load into a new
  // file).
  void Indexes(const rest::ImportProgress& p) {
    if (!tty_ || p.indexes_total == 0) {
      return;
    }
    std::fprintf(stderr, "\r\033[K%lld resources stored; building search indexes: %d of %d",
                 static_cast<long long>(p.resources_done), p.indexes_built, p.indexes_total);
    std::fflush(stderr);
  }
  void Done() {
    if (tty_) {
      std::fputc('\n', stderr);
    }
  }

 private:
  Clock::time_point start_, last_;
  bool tty_;
};

}  // namespace

int64_t LoadDemoData(store::ResourceStore& store, const rest::ApiOptions& api, int64_t patients,
                     uint64_t seed) {
  synth::Options o;
  o.patients = patients;
  o.seed = seed;
  auto generator = synth::Generator::Create(o);
  if (!generator.ok()) {
    spdlog::critical("demo data: {}", generator.status().ToString());
    return -1;
  }
  rest::ImportStats stats;
  Status s = GenerateIntoStore(store, api, *generator, 5000, {}, {}, &stats);
  if (!s.ok() || stats.entries_failed > 0) {
    spdlog::critical("demo data failed to load: {} {}", s.ToString(),
                     stats.errors.empty() ? "" : stats.errors[0]);
    return -1;
  }
  return stats.resources_written;
}

// Generates every resource into a file sink and closes it; says why and returns null on failure.
template <typename Sink>
std::unique_ptr<Sink> GenerateInto(StatusOr<std::unique_ptr<Sink>> opened,
                                   synth::Generator& generator, ProgressBar& bar,
                                   const std::function<void(const synth::Progress&)>& progress) {
  if (!opened.ok()) {
    std::fprintf(stderr, "carechart demo-data: %s\n", opened.status().message().c_str());
    return nullptr;
  }
  std::unique_ptr<Sink> sink = std::move(opened).value();
  generator.WriteAll(*sink, progress);
  bar.Done();
  if (Status s = sink->Close(); !s.ok()) {
    std::fprintf(stderr, "carechart demo-data: %s\n", s.message().c_str());
    return nullptr;
  }
  return sink;
}

int RunDemoData(const CommonOptions& common, const DemoDataOptions& options) {
  if (options.out_dir.empty() == options.db_path.empty()) {
    std::fprintf(stderr, "carechart demo-data: give either --out DIR or --db FILE\n");
    return 2;
  }
  synth::Options o;
  o.patients = options.patients;
  o.seed = options.seed;
  o.as_of = options.as_of;
  o.years = options.years;
  o.story = options.story;
  auto generator = synth::Generator::Create(o);
  if (!generator.ok()) {
    std::fprintf(stderr, "carechart demo-data: %s\n", generator.status().message().c_str());
    return 2;
  }
  auto start = Clock::now();
  ProgressBar bar(start);
  auto progress = [&](const synth::Progress& p) { bar.Update(p); };
  std::string where;
  uint64_t bytes = 0;

  if (!options.db_path.empty()) {
    CommonOptions target = common;
    target.db_path = options.db_path;
    rest::ApiOptions ao;
    std::unique_ptr<store::ResourceStore> store = OpenFacilityStore(target, {}, ao);
    if (!store) {
      return 1;
    }
    rest::ImportStats stats;
    Status s = GenerateIntoStore(
        *store, ao, *generator, options.batch, progress,
        [&](const rest::ImportProgress& p) { bar.Indexes(p); }, &stats);
    bar.Done();
    for (const auto& e : stats.errors) {
      spdlog::warn("rejected {}", e);
    }
    store->Close();
    if (!s.ok()) {
      spdlog::error("{}", s.ToString());
      return 1;
    }
    if (stats.entries_failed > 0) {
      return 3;
    }
    where = "into " + (target.postgres_uri.empty() ? options.db_path : DatabaseName(target));
  } else if (options.format == "bundle") {
    auto sink =
        GenerateInto(synth::BundleDirSink::Open(options.out_dir), *generator, bar, progress);
    if (!sink) {
      return 1;
    }
    bytes = sink->bytes();
    where = std::to_string(sink->file_count()) + " transaction Bundles in " + options.out_dir;
  } else {
    auto sink =
        GenerateInto(synth::NdjsonDirSink::Open(options.out_dir), *generator, bar, progress);
    if (!sink) {
      return 1;
    }
    bytes = sink->bytes();
    where = std::to_string(sink->files().size()) + " NDJSON files in " + options.out_dir;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t n = generator->resources();
  std::printf("generated %lld patients, %lld resources in %.2f s (%.0f resources/s)%s%s%s\n",
              static_cast<long long>(options.patients), static_cast<long long>(n), seconds,
              seconds > 0 ? static_cast<double>(n) / seconds : 0.0, where.empty() ? "" : ": ",
              where.c_str(),
              bytes > 0 ? (", " + std::to_string(bytes / 1000000) + " MB").c_str() : "");
  return 0;
}

}  // namespace carechart::app
