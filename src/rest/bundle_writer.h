// Writes searchset and history Bundles as text, copying each stored resource's JSON in place
// rather than parsing and re-serialising it.
#pragma once

#include <cstdint>
#include <string>

#include "rest/context.h"
#include "store/resource_store.h"

namespace carechart::rest {

class BundleWriter {
 public:
  BundleWriter(std::string_view bundle_type, const RequestContext& ctx);

  void SetTotal(int64_t total) { total_ = total; }
  void AddLink(std::string_view relation, const std::string& url);
  // A search match (mode "match") or included resource (mode "include").
  void AddSearchEntry(const store::ResourceVersion& v, std::string_view mode);
  // An OperationOutcome entry (mode "outcome") carrying warnings.
  void AddOutcomeEntry(const std::string& outcome_json);
  // A history entry: resource (unless deleted), request and response.
  void AddHistoryEntry(const store::ResourceVersion& v);

  // The complete Bundle (pretty-printed when the request asked for _pretty).
  std::string Finish();

 private:
  void BeginEntry();

  const RequestContext& ctx_;
  std::string type_;
  int64_t total_ = -1;
  std::string links_;
  std::string entries_;
};

// A JSON string literal for `text` (quoted and escaped).
std::string JsonString(std::string_view text);

}  // namespace carechart::rest
