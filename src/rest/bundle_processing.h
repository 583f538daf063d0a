// batch and transaction Bundles at POST [base] (http.html#transaction).
//
// A transaction is all or nothing: every entry is resolved and prepared (ids assigned, references
// rewritten, resources validated, serialised and indexed) before one ResourceStore::Write whose
// function re-checks every version and conditional search and stores every version; an error
// anywhere rolls all of it back. A batch runs each entry on its own through the same router as a
// single request. Internal to the rest module.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/json.h"
#include "fhir/validator.h"
#include "http/message.h"
#include "rest/context.h"
#include "store/resource_store.h"

namespace carechart::rest {

// Most entries accepted in one Bundle; more is 413.
inline constexpr size_t kMaxBundleEntries = 10000;
// Bundles whose body has this many bytes or more (about 200 resources) are large: at most
// LargeBundleSlotCount() of them are prepared or committed at once (D51).
inline constexpr size_t kLargeBundleBytes = 256 * 1024;
size_t LargeBundleSlotCount();
// Attempts of a transaction whose versions or conditional matches changed while it was prepared.
inline constexpr int kMaxTransactionAttempts = 8;

// Sends an internal request (a batch entry, a GET entry of a transaction) through the router, as
// if it had arrived over HTTP. Its path starts with "/fhir/".
using Dispatch = std::function<http::Response(const http::Request&)>;

// One entry of a batch or transaction, checked for shape.
struct BundleEntry {
  size_t index = 0;
  std::string method;  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;     // as sent (relative to the base)
  std::string path;    // url's path, e.g. "Patient/123"; empty for a system-level search
  std::vector<std::pair<std::string, std::string>> query;  // url's decoded query
  std::string type;  // resource type of the URL (empty for system-level GET)
  std::string id;    // id of the URL, or empty
  std::string full_url;
  bool has_resource = false;
  json::Value resource;
  std::string if_match;
  std::string if_none_exist;
  std::string if_none_match;
  std::string if_modified_since;

  // "Bundle.entry[3]"
  std::string Where() const { return "Bundle.entry[" + std::to_string(index) + "]"; }
  // Conditional update/delete/patch: a type URL with search parameters.
  bool conditional() const { return id.empty() && !query.empty(); }
};

struct ParsedBundle {
  std::string type;  // "batch" or "transaction"
  std::vector<BundleEntry> entries;
  // The Bundle's JSON text, set when the caller keeps it alive until RunTransaction returns: a
  // transaction then moves each entry's resource into the version it prepares instead of copying
  // it, and parses this text again in the rare attempt that must be retried (D57).
  const std::string* source = nullptr;
  std::string base_url;  // what ParseBundle was given, for that parse
  // Applied again to the entries parsed from `source`: what the caller changed in them after
  // ParseBundle (the importer makes `POST urn:uuid:` entries upserts).
  std::function<void(std::vector<BundleEntry>&)> reshape;
};

// Checks the Bundle's type and every entry's request (method, url, resource where one is needed).
// `base_url` lets absolute request URLs on this server be accepted. Errors are kInvalid naming
// the element ("Bundle.entry[3].request.url"); more than kMaxBundleEntries entries is kTooLarge.
// Resources are moved out of `bundle`.
StatusOr<ParsedBundle> ParseBundle(json::Value& bundle, const std::string& base_url);

// Parses `bundle.source` again into `bundle.entries` (then `reshape`), for entries whose
// resources were moved away. Does nothing when there is no source (the resources were copied).
Status ReparseEntries(ParsedBundle& bundle);

// The order the spec prescribes for processing: DELETE, then POST, then PUT and PATCH, then GET
// and HEAD; bundle order within each group. Returns entry positions.
std::vector<size_t> ProcessingOrder(const std::vector<BundleEntry>& entries);

// Resolves a conditional reference ("Organization?identifier=s|v") against committed data to
// "Type/id": no match is kInvalid, several kPreconditionFailed, both naming the reference.
// `query`, when given, receives the parsed search (a transaction re-checks it when it writes).
StatusOr<std::string> ResolveConditionalReference(store::ResourceStore& store,
                                                  const std::string& ref,
                                                  store::SearchQuery* query = nullptr);

// The result of one transaction entry, for the response Bundle.
struct EntryResult {
  int status = 200;                               // 200, 201, 204, ...
  std::optional<store::ResourceVersion> version;  // the version written, or the match found
  std::optional<http::Response> response;         // GET/HEAD entries: the router's response
};

// The result of a failed transaction: the failing entry's status and, for validation failures,
// every issue (locations inside the entry's resource).
struct TransactionError {
  Status status;
  std::vector<fhir::ValidationIssue> issues;
};

struct TransactionResult {
  std::vector<EntryResult> entries;  // in bundle order
  int64_t written = 0;               // versions stored
  int64_t unchanged = 0;             // updates skipped as unchanged (skip_unchanged_updates)
};

// Runs a parsed transaction (see the top of this file). GET entries are dispatched after the
// commit. On failure nothing is written and `error` says why.
StatusOr<TransactionResult> RunTransaction(RequestContext& ctx, ParsedBundle& bundle,
                                           const Dispatch& dispatch, TransactionError* error);

// POST [base]: a batch or transaction Bundle; answers a batch-response or transaction-response
// Bundle, or the error of a failed transaction. Called again on the same thread from within an
// entry (a Bundle nested in a Bundle), it answers 400 at once: the spec defines no nesting, and
// waiting there for a large-Bundle slot could deadlock.
http::Response HandleBundle(RequestContext& ctx, const Dispatch& dispatch);

}  // namespace carechart::rest
