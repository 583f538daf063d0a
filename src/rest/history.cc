// history at instance, type and system level (http.html#history).
#include "fhir/datetime.h"
#include "rest/access_hooks.h"
#include "rest/interactions.h"
#include "rest/outcome.h"
#include "rest/paging.h"
#include "rest/scope_check.h"

namespace carechart::rest {

namespace {

StatusOr<int64_t> InstantParam(const std::string& name, const std::string& value, bool use_high) {
  fhir::DateRange range;
  if (!fhir::ParseDateRange(value, &range)) {
    return InvalidError(
        "parameter " + name + " must be a FHIR instant or date, not '" + value + "'", name);
  }
  return use_high ? range.high : range.low;
}

}  // namespace

http::Response HandleHistory(RequestContext& ctx) {
  QueryParams params = ctx.SearchParams();
  store::HistoryQuery q;
  q.type = ctx.type;
  q.id = ctx.id;
  int64_t count = 100;
  int64_t offset = 0;
  Status s = ReadIntParam(params, "_count", 1000, &count);
  if (s.ok()) {
    s = ReadIntParam(params, "_offset", INT64_MAX, &offset);
  }
  if (!s.ok()) {
    return ErrorResponse(s);
  }
  for (const auto& [k, v] : params) {
    if (k == "_since") {
      auto t = InstantParam(k, v, false);
      if (!t.ok()) {
        return ErrorResponse(t.status());
      }
      q.since_us = *t;
    } else if (k == "_at") {
      auto t = InstantParam(k, v, true);
      if (!t.ok()) {
        return ErrorResponse(t.status());
      }
      q.at_us = *t;
    } else if (k != "_count" && k != "_offset" && k != "_list" && k != "_sort") {
      return ErrorResponse(InvalidError(
          "unknown history parameter '" + k + "'; history supports _since, _at and _count", k));
    }
  }
  q.count = static_cast<int>(count);
  q.offset = offset;
  if (!ctx.type.empty()) {
    if (auto denied = DenyType(ctx, access::Action::kRead, ctx.type)) {
      return *denied;
    }
  }
  if (!ctx.id.empty() && Guard(ctx).enforced()) {
    // Instance history: decided on the current version, like a read.
    if (auto current = ctx.store.Read(ctx.type, ctx.id); current.ok() && !current->deleted) {
      if (auto denied = GuardRead(ctx, *current)) {
        return *denied;
      }
    }
  }
  auto page = ctx.store.History(q);
  if (!page.ok()) {
    return ErrorResponse(page.status());
  }
  if (!ctx.id.empty() && page->total == 0 && !q.since_us && !q.at_us) {
    return ErrorResponse(NotFoundError(ctx.type + "/" + ctx.id + " is not known"));
  }
  size_t listed = page->versions.size();
  if (Guard(ctx).enforced()) {  // only the versions this user may see (de-identified if need be)
    std::erase_if(page->versions, [&](store::ResourceVersion& v) {
      return !Guard(ctx).Visible(access::Action::kRead, v);
    });
  }
  BundleWriter bundle("history", ctx);
  if (page->versions.size() == listed && !ScopesHideSome(ctx, ctx.type)) {
    bundle.SetTotal(page->total);  // (a count would reveal versions the token may not see)
  }
  std::string path = ctx.base_url;
  if (!ctx.type.empty()) {
    path += "/" + ctx.type;
  }
  if (!ctx.id.empty()) {
    path += "/" + ctx.id;
  }
  path += "/_history";
  bool has_more = offset + static_cast<int64_t>(page->versions.size()) < page->total;
  AddPagingLinks(bundle, path, params, offset, count, has_more);
  for (const auto& v : page->versions) {
    bundle.AddHistoryEntry(v);
  }
  http::Response r;
  r.status = 200;
  r.set_header("Content-Type", kFhirJson);
  r.body = bundle.Finish();
  return r;
}

}  // namespace carechart::rest
