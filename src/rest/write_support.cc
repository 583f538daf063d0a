#include "rest/write_support.h"

#include <algorithm>
#include <array>
#include <mutex>

#include "http/url.h"

namespace carechart::rest {

namespace {

// Updates of one resource from this process queue behind each other instead of racing (and
// retrying) in the optimistic check. Striped: a fixed set of mutexes, chosen by hashing the
// resource key, so memory stays constant. Other processes (several API nodes) are still caught by
// the version check in the transaction.
std::array<std::mutex, 1024>& Stripes() {
  static std::array<std::mutex, 1024> stripes;
  return stripes;
}

size_t StripeOf(const std::string& type, const std::string& id) {
  size_t h = std::hash<std::string>{}(type)*31 + std::hash<std::string>{}(id);
  return h % Stripes().size();
}

std::mutex& ResourceLock(const std::string& type, const std::string& id) {
  return Stripes()[StripeOf(type, id)];
}

}  // namespace

ResourceLocks::ResourceLocks(const std::vector<std::pair<std::string, std::string>>& type_ids) {
  std::vector<size_t> stripes;
  for (const auto& [type, id] : type_ids) {
    stripes.push_back(StripeOf(type, id));
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t s : stripes) {
    locks_.emplace_back(Stripes()[s]);
  }
}

StatusOr<PlannedWrite> CommitVersion(
    store::ResourceStore& store, const std::string& type, const std::string& id,
    std::optional<int64_t> required_version,
    const std::function<StatusOr<PlannedWrite>(const store::CurrentVersion&)>& plan) {
  constexpr int kMaxAttempts = 8;
  std::lock_guard serialize(ResourceLock(type, id));
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
