// Reindex (see reindex.h): a three-stage pipeline over batches — read (a thread of its own, one
// keyset-paged statement per batch), extract and compare with the stored rows (a pool of threads
// taking chunks of the batch), write what differs (the store's writer, while the next batch is
// read and extracted).
#include "store/reindex.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/json.h"
#include "fhir/search_index.h"

namespace carechart::store {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Batch {
  std::vector<ResourceVersion> resources;
  std::vector<fhir::IndexEntries> index;
  // Whether resources[i]'s stored rows are already index[i] (bytes, not vector<bool>: the
  // extraction threads set their own elements at once).
  std::vector<uint8_t> same;
};

// Stored bodies passed the duplicate-key check when they were written (D115).
const json::ParseOptions kStoredBody{.reject_duplicate_keys = false};

// Resources per piece of work: extracted, then compared with their stored rows in one read.
constexpr size_t kChunk = 128;

// Extracts the index entries of the batch's resources and compares them with the stored rows, on
// `threads` threads taking chunks in turn (D116). A body that does not parse (it was validated
// when written, so a damaged row) keeps the rows it has: nothing can be derived from it. A
// comparison that fails leaves its chunk to the writer, which compares again anyway.
void ExtractAndCompare(ResourceStore& store, Batch& b, const std::string& param, int threads) {
  const size_t n = b.resources.size();
  b.index.assign(n, {});
  b.same.assign(n, 0);
  // One parameter's reindex extracts it and `patient` only (its token rows carry the patient).
  std::vector<std::string_view> only;
  if (!param.empty()) {
    only = {param, "patient"};
  }
  std::atomic<size_t> next{0};
  auto work = [&]() {
    while (true) {
      const size_t begin = next.fetch_add(kChunk);
      if (begin >= n) {
        return;
      }
      const size_t end = std::min(n, begin + kChunk);
      std::vector<uint8_t> unreadable(end - begin, 0);
      for (size_t i = begin; i < end; ++i) {
        auto parsed = json::Parse(b.resources[i].body, kStoredBody);
        if (parsed.ok()) {
          b.index[i] = fhir::ExtractIndex(*parsed, only);
        } else {
          unreadable[i - begin] = 1;
        }
      }
      auto same = store.SameIndex(std::span(b.resources).subspan(begin, end - begin),
                                  std::span(b.index).subspan(begin, end - begin), param);
      for (size_t i = begin; i < end; ++i) {
        b.same[i] = unreadable[i - begin] != 0 || (same.ok() && (*same)[i - begin]) ? 1 : 0;
      }
    }
  };
  const size_t workers =
      std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), (n + kChunk - 1) / kChunk);
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) {
    pool.emplace_back(work);
  }
  work();
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
    const auto waiting = Clock::now();
    StatusOr<int64_t> written = writing.get();
    progress.write_wait_seconds += Seconds(Clock::now() - waiting);
    ASSIGN_OR_RETURN(int64_t replaced, std::move(written));
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
      const auto waiting = Clock::now();
      StatusOr<SearchResult> read_page = reading.get();
      progress.read_wait_seconds += Seconds(Clock::now() - waiting);
      ASSIGN_OR_RETURN(SearchResult page, std::move(read_page));
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
      const auto extracting = Clock::now();
      ExtractAndCompare(store, *batch, options.param, threads);
      progress.extract_seconds += Seconds(Clock::now() - extracting);
      RETURN_IF_ERROR(finish_write());
      progress.done += static_cast<int64_t>(batch->resources.size());
      progress.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (options.on_progress) {
        options.on_progress(progress);
      }
      const std::string param = options.param;
      const auto differing = std::count(batch->same.begin(), batch->same.end(), 0);
      progress.differing += differing;
      if (differing == 0) {  // nothing to write: no write function, no commit
        progress.reindexed += static_cast<int64_t>(batch->resources.size());
        if (last) {
          break;
        }
        continue;
      }
      writing = std::async(std::launch::async, [&store, batch, param]() -> StatusOr<int64_t> {
        int64_t replaced = 0;
        RETURN_IF_ERROR(store.Write([&](WriteTxn& txn) -> Status {
          for (size_t i = 0; i < batch->resources.size(); ++i) {
            if (batch->same[i] != 0) {
              ++replaced;  // its rows are right already
              continue;
            }
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
