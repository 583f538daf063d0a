// Writes searchset and history Bundles as text, copying each stored resource's JSON in place
// rather than parsing and re-serialising it.
#pragma once

#include <cstdint>
#include <string>

#include "rest/context.h"
#include "store/resource_store.h"

namespace carechart::rest {

// Total and links go first, then entries: the Bundle's opening (id, meta, type, total, links)
// is written before the first entry, and every entry is appended to that one buffer, so a
// multi-megabyte page is not copied again when it is finished (a total or link added after an
// entry is still placed correctly, at the cost of one copy).
class BundleWriter {
 public:
  BundleWriter(std::string_view bundle_type, const RequestContext& ctx);

  void SetTotal(int64_t total) { total_ = total; }
  void AddLink(std::string_view relation, const std::string& url);
  // Room for about `bytes` of entries (the stored bodies' sizes), reserved once.
  void Reserve(size_t bytes) { reserve_ = bytes; }
  // A search match (mode "match") or included resource (mode "include"). The stored JSON is
  // copied in as it is, unless _summary/_elements/_pretty ask for a rewritten form.
  void AddSearchEntry(const store::ResourceVersion& v, std::string_view mode);
  // An OperationOutcome entry (mode "outcome") carrying warnings.
  void AddOutcomeEntry(const std::string& outcome_json);
  // A history entry: resource (unless deleted), request and response.
  void AddHistoryEntry(const store::ResourceVersion& v);

  // The complete Bundle (pretty-printed when the request asked for _pretty). Call once.
  std::string Finish();

 private:
  void BeginEntry();
  std::string Opening() const;  // {"resourceType":"Bundle", ... "link":[...]
  void AppendFullUrl(const store::ResourceVersion& v);
  void AppendResource(const store::ResourceVersion& v);

  const RequestContext& ctx_;
  std::string type_;
  int64_t total_ = -1;
  std::string links_;
  size_t reserve_ = 0;
  std::string out_;          // the opening and the entries written so far
  bool started_ = false;     // out_ holds the opening and "entry":[
  size_t opening_size_ = 0;  // bytes of out_ before the first entry
  size_t opening_links_ = 0;
  int64_t opening_total_ = -1;
  std::string base_prefix_;  // "\"<base url, JSON-escaped>/ for fullUrl
  bool rewrite_bodies_ = false;
};

// A JSON string literal for `text` (quoted and escaped).
std::string JsonString(std::string_view text);

}  // namespace carechart::rest
