// Internal to the importer: what a worker does with one unit of input (a chunk of NDJSON lines or
// one document) — parse, validate, resolve ids and references, prepare versions — and what the
// committer does with the few writes that went stale before they were stored.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/message.h"
#include "rest/bundle_processing.h"
#include "rest/context.h"
#include "rest/importer.h"
#include "rest/reference_rewrite.h"
#include "store/resource_store.h"

namespace carechart::rest::import {

// A version prepared against `expected` (the version current when it was prepared).
struct Pending {
  store::PreparedWrite write;
  int64_t expected = 0;
  std::string where;  // for messages: "file:12 (Patient)"
};

// What a worker made of a unit.
struct PreparedUnit {
  std::vector<Pending> writes;      // to store, in input order
  std::vector<std::string> errors;  // one message per rejected entry
  int64_t entries = 0;              // entries looked at (written, unchanged or rejected)
  int64_t failed = 0;               // rejected entries
  int64_t unchanged = 0;
  int64_t written_by_transaction = 0;  // versions a transaction Bundle stored itself
  Status file_error = Status::Ok();    // the unit is unusable as a whole (not JSON, ...)
  Status store_error = Status::Ok();   // the store failed: the import stops
  // A transaction that failed while earlier input was not yet committed: the committer runs it
  // again once everything before it is stored (it may depend on that input).
  std::optional<ParsedBundle> retry_transaction;
  std::string retry_where;
};

// One per thread: it owns a request context and a cache of resolved conditional references.
class UnitPreparer {
 public:
  UnitPreparer(store::ResourceStore& store, const ApiOptions& api, const ImportOptions& options);
  ~UnitPreparer();

  // NDJSON lines (each ending in '\n'), the first being line `first_line` of `name`.
  void Ndjson(const std::string& name, const std::string& lines, int64_t first_line,
              PreparedUnit* out);
  // A whole document: a Bundle or one resource. `earlier_committed` tells whether every unit
  // before this one is already stored (else a failed transaction is handed back for a retry).
  void Document(const std::string& name, const std::string& text, bool earlier_committed,
                PreparedUnit* out);
  // Runs a transaction Bundle (again); failures are reported in `out`.
  void Transaction(const std::string& where, ParsedBundle& bundle, bool earlier_committed,
                   PreparedUnit* out);
  // Prepares `p` again against the version now stored; false when nothing needs writing (its
  // content is already stored). Errors are the store's.
  StatusOr<bool> Reprepare(Pending& p);

 private:
  struct Entry;
  void Resource(json::Value resource, const std::string& where, const std::string& id_hint,
                const ReferenceMap& full_urls, PreparedUnit* out);
  void Reject(const std::string& where, const std::string& message, PreparedUnit* out);
  StatusOr<std::string> IdFromIdentifier(const json::Value& resource);
  std::string ResolveConditional(const std::string& ref);

  store::ResourceStore& store_;
  const ApiOptions& api_;
  const ImportOptions& options_;
  http::Request request_;
  RequestContext ctx_;
  std::map<std::string, std::string> conditional_cache_;  // "Type?search" → "Type/id" or ""
  std::unique_ptr<FhirApi> router_;                       // GET entries of transactions
};

}  // namespace carechart::rest::import
