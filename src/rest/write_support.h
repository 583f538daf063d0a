// Shared machinery of the write interactions: optimistic version checks with retry, and
// conditional matching evaluated inside the write transaction.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "rest/context.h"
#include "store/resource_store.h"

namespace carechart::rest {

// What a write interaction decided to store, given the resource's current version.
struct PlannedWrite {
  store::PreparedWrite write;
  int http_status = 200;
  // Writes that belong to this one and commit in the same transaction (the busy Slot a cancelled
  // Appointment gives back), each with the version it was planned from: if another request
  // changed it meanwhile, the plan is made again.
  std::vector<std::pair<store::PreparedWrite, int64_t>> companions;
};

// Stores a new version of (type, id). `plan` is called with the current version (0 if never
// existed) outside the writer (it does the heavy preparation); the store then checks, inside the
// transaction, that the version is still current, and retries `plan` if another request got there
// first. `required_version` (If-Match) turns a mismatch into 412 instead of a retry.
StatusOr<PlannedWrite> CommitVersion(
    store::ResourceStore& store, const std::string& type, const std::string& id,
    std::optional<int64_t> required_version,
    const std::function<StatusOr<PlannedWrite>(const store::CurrentVersion&)>& plan);

// The in-process locks CommitVersion takes for one resource, held for several resources at once
// (a transaction Bundle updating existing resources). All are taken at once, waiting while any is
// held, so holders never deadlock with each other or with CommitVersion; released on destruction.
class ResourceLocks {
 public:
  explicit ResourceLocks(const std::vector<std::pair<std::string, std::string>>& type_ids);
  ~ResourceLocks();
  ResourceLocks(const ResourceLocks&) = delete;
  ResourceLocks& operator=(const ResourceLocks&) = delete;

 private:
  std::vector<std::string> keys_;  // "type/id", sorted, unique
};

// Resolves a conditional URL's search ("identifier=a|b") to the ids it matches (at most 2 are
// needed to tell "one" from "several"), reading committed data.
StatusOr<std::vector<std::string>> MatchConditional(store::ResourceStore& store,
                                                    const std::string& type,
                                                    const store::SearchQuery& query);

// The resources matching the search parameters of a conditional request (PUT/DELETE/PATCH
// [type]?search): at most one id; several matches are 412 naming `interaction`.
StatusOr<std::vector<std::string>> MatchConditionalRequest(const RequestContext& ctx,
                                                           std::string_view interaction);

// Parses a conditional search given as a query string ("identifier=x", "?identifier=x" or
// "Patient?identifier=x"); an empty search is an error (it would match everything).
StatusOr<store::SearchQuery> ParseConditional(const std::string& type, std::string_view text);
StatusOr<store::SearchQuery> ParseConditional(
    const std::string& type, const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace carechart::rest
