#include "rest/write_support.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <unordered_set>

#include "http/url.h"

namespace carechart::rest {

namespace {

// Updates of one resource from this process queue behind each other instead of racing (and
// retrying) in the optimistic check. Keyed by the resource itself (D66): a table of the keys held,
// each holder taking all of its keys at once or waiting, so two transactions wait for each other
// only when they share a resource (with striped mutexes, two Bundles of ~1,000 updates always
// shared a stripe and ran one after the other, never meeting in one group commit, D64); and,
// taking nothing while it waits, no holder can deadlock with another. Other processes (several
// API nodes) are still caught by the version check in the transaction.
struct HeldKeys {
  std::mutex mu;
  std::condition_variable released;
  std::unordered_set<std::string> held;
};

HeldKeys& Held() {
  static HeldKeys held;
  return held;
}

}  // namespace

ResourceLocks::ResourceLocks(const std::vector<std::pair<std::string, std::string>>& type_ids) {
  keys_.reserve(type_ids.size());
  for (const auto& [type, id] : type_ids) {
    keys_.push_back(type + "/" + id);
  }
  std::sort(keys_.begin(), keys_.end());
  keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
  HeldKeys& h = Held();
  std::unique_lock lock(h.mu);
  h.released.wait(lock, [&] {
    return std::none_of(keys_.begin(), keys_.end(),
                        [&](const std::string& k) { return h.held.count(k) != 0; });
  });
  h.held.insert(keys_.begin(), keys_.end());
}

ResourceLocks::~ResourceLocks() {
  HeldKeys& h = Held();
  {
    std::lock_guard lock(h.mu);
    for (const std::string& k : keys_) {
      h.held.erase(k);
    }
  }
  h.released.notify_all();
}

StatusOr<PlannedWrite> CommitVersion(
    store::ResourceStore& store, const std::string& type, const std::string& id,
    std::optional<int64_t> required_version,
    const std::function<StatusOr<PlannedWrite>(const store::CurrentVersion&)>& plan) {
  constexpr int kMaxAttempts = 8;
  ResourceLocks serialize({{type, id}});
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    store::CurrentVersion current;
    auto read = store.Read(type, id);
    if (read.ok()) {
      current.version = read->version;
      current.deleted = read->deleted;
    } else if (read.status().code() != StatusCode::kNotFound) {
      return read.status();
    }
    if (required_version && *required_version != current.version) {
      return Status(StatusCode::kPreconditionFailed,
                    "If-Match asks for version " + std::to_string(*required_version) + " but " +
                        type + "/" + id + " is at version " + std::to_string(current.version) +
                        "; read it again and retry");
    }
    ASSIGN_OR_RETURN(PlannedWrite planned, plan(current));
    bool raced = false;
    Status s = store.Write([&](store::WriteTxn& txn) -> Status {
      ASSIGN_OR_RETURN(store::CurrentVersion now, txn.Current(type, id));
      if (now.version != current.version) {
        raced = true;
        return ConflictError(type + "/" + id + " changed while this request was being processed");
      }
      for (const auto& [companion, planned_from] : planned.companions) {
        ASSIGN_OR_RETURN(store::CurrentVersion c, txn.Current(companion.type, companion.id));
        if (c.version != planned_from) {
          raced = true;
          return ConflictError(companion.type + "/" + companion.id + " changed meanwhile");
        }
        RETURN_IF_ERROR(txn.Put(companion));
      }
      return txn.Put(planned.write);
    });
    if (s.ok()) {
      return planned;
    }
    if (!raced) {
      return s;
    }
    if (required_version) {
      return Status(StatusCode::kPreconditionFailed,
                    type + "/" + id + " changed concurrently; read it again and retry");
    }
  }
  return ConflictError(type + "/" + id + " is being changed by many requests at once; retry");
}

StatusOr<std::vector<std::string>> MatchConditional(store::ResourceStore& store,
                                                    const std::string& type,
                                                    const store::SearchQuery& query) {
  store::SearchQuery q = query;
  q.count = 2;
  q.offset = 0;
  q.want_total = false;
  ASSIGN_OR_RETURN(store::SearchResult result, store.Search(q));
  std::vector<std::string> ids;
  for (const auto& m : result.matches) {
    ids.push_back(m.id);
  }
  return ids;
}

StatusOr<std::vector<std::string>> MatchConditionalRequest(const RequestContext& ctx,
                                                           std::string_view interaction) {
  ASSIGN_OR_RETURN(store::SearchQuery query, ParseConditional(ctx.type, ctx.SearchParams()));
  ASSIGN_OR_RETURN(std::vector<std::string> ids, MatchConditional(ctx.store, ctx.type, query));
  if (ids.size() > 1) {
    return Status(StatusCode::kPreconditionFailed, "the conditional " + std::string(interaction) +
                                                       " matches more than one " + ctx.type +
                                                       "; make the criteria selective");
  }
  return ids;
}

StatusOr<store::SearchQuery> ParseConditional(
    const std::string& type, const std::vector<std::pair<std::string, std::string>>& params) {
  if (params.empty()) {
    return InvalidError("a conditional request needs search parameters; none were given");
  }
  return store::ParseSearch(type, params);
}

StatusOr<store::SearchQuery> ParseConditional(const std::string& type, std::string_view text) {
  size_t q = text.find('?');
  if (q != std::string_view::npos) {
    std::string_view prefix = text.substr(0, q);
    if (!prefix.empty() && prefix != type) {
      return InvalidError("the conditional search names type '" + std::string(prefix) +
                          "' but the request is for " + type);
    }
    text = text.substr(q + 1);
  }
  auto params = http::ParseQuery(text);
  if (!params) {
    return InvalidError("the conditional search has a malformed percent-escape");
  }
  return ParseConditional(type, *params);
}

}  // namespace carechart::rest
