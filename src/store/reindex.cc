// Reindex (see reindex.h): a three-stage pipeline over batches — read (the calling thread, one
// keyset-paged statement per batch), extract (a pool of threads, one slice of the batch each),
// write (the store's writer, while the next batch is read and extracted).
#include "store/reindex.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/json.h"
#include "fhir/search_index.h"

namespace carechart::store {
namespace {

using Clock = std::chrono::steady_clock;

struct Batch {
  std::vector<ResourceVersion> resources;
  std::vector<fhir::IndexEntries> index;
};

// Stored bodies passed the duplicate-key check when they were written (D115).
const json::ParseOptions kStoredBody{.reject_duplicate_keys = false};

// ExtractIndex over the batch on `threads` threads (bodies that do not parse keep no entries:
// they were validated when written, so this means a damaged row, which the write skips).
void ExtractAll(Batch& b, int threads) {
  b.index.assign(b.resources.size(), {});
  const size_t n = b.resources.size();
  const size_t workers = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), n);
  auto work = [&](size_t w) {
    for (size_t i = w; i < n; i += workers) {
      auto parsed = json::Parse(b.resources[i].body, kStoredBody);
      if (parsed.ok()) {
        b.index[i] = fhir::ExtractIndex(*parsed);
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) {
    pool.emplace_back(work, w);
  }
  if (workers > 0) {
    work(0);
  }
  for (std::thread& t : pool) {
    t.join();
  }
}

}  // namespace

StatusOr<ReindexProgress> Reindex(ResourceStore& store, const ReindexOptions& options) {
  if (!options.type.empty() && !fhir::IsResourceType(options.type)) {
    return InvalidError("--type: '" + options.type + "' is not a FHIR R4 resource type", "type");
  }
  if (!options.param.empty()) {
    if (options.type.empty()) {
      return InvalidError("--param needs --type (a parameter belongs to a resource type)", "param");
    }
    if (fhir::FindSearchParam(options.type, options.param) == nullptr) {
      return InvalidError(
          "--param: '" + options.param + "' is not a search parameter of " + options.type, "param");
    }
  }
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto start = Clock::now();
  ReindexProgress progress;

  // A listing of every type leaves out the audit trail (decisions D21), so "everything" is two
  // passes: every other type, then AuditEvent.
  std::vector<std::string> passes{options.type};
  if (options.type.empty()) {
    passes.push_back("AuditEvent");
  }
  std::vector<SearchQuery> queries;
  for (const std::string& type : passes) {
    SearchQuery q;
    q.type = type;
    q.want_total = true;
    q.count = 0;
    ASSIGN_OR_RETURN(SearchResult counted, store.Search(q));
    progress.total += counted.total;
    q.want_total = false;
    q.count = std::max(1, options.batch);
    queries.push_back(std::move(q));
  }

  std::future<StatusOr<int64_t>> writing;  // the previous batch's write
  auto finish_write = [&]() -> Status {
    if (!writing.valid()) {
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(int64_t replaced, writing.get());
    progress.reindexed += replaced;
    return Status::Ok();
  };
  for (SearchQuery& q : queries) {
    // The next page is read while this one is extracted and the previous one written: three
    // stages at once, so that reading (one thread) does not leave a core idle.
    auto read = [&store](SearchQuery page_query) {
      return std::async(std::launch::async, [&store, page_query]() -> StatusOr<SearchResult> {
        return store.Search(page_query);
      });
    };
    std::future<StatusOr<SearchResult>> reading = read(q);
    while (true) {
      ASSIGN_OR_RETURN(SearchResult page, reading.get());
      if (options.stop != nullptr && options.stop->load()) {
        RETURN_IF_ERROR(finish_write());
        return Status{StatusCode::kUnavailable,
                      "reindex stopped after " + std::to_string(progress.done) + " resources"};
      }
      const bool last = !page.next;
      if (!last) {
        q.after = page.next;
        reading = read(q);
      }
      auto batch = std::make_shared<Batch>();
      batch->resources = std::move(page.matches);
      ExtractAll(*batch, threads);
      RETURN_IF_ERROR(finish_write());
      progress.done += static_cast<int64_t>(batch->resources.size());
      progress.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (options.on_progress) {
        options.on_progress(progress);
      }
      const std::string param = options.param;
      writing = std::async(std::launch::async, [&store, batch, param]() -> StatusOr<int64_t> {
        int64_t replaced = 0;
        RETURN_IF_ERROR(store.Write([&](WriteTxn& txn) -> Status {
          for (size_t i = 0; i < batch->resources.size(); ++i) {
            const ResourceVersion& r = batch->resources[i];
            ASSIGN_OR_RETURN(bool done,
                             txn.ReplaceIndex(r.type, r.id, r.version, batch->index[i], param));
            replaced += done ? 1 : 0;
          }
          return Status::Ok();
        }));
        return replaced;
      });
      if (last) {
        break;
      }
    }
  }
  RETURN_IF_ERROR(finish_write());
  RETURN_IF_ERROR(store.ReindexCompleted(options.type, options.param));
  progress.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (options.on_progress) {
    options.on_progress(progress);
  }
  return progress;
}

}  // namespace carechart::store
