// search at type and system level, GET and POST _search (search.html), and the searchset Bundle
// shared with compartment search and $everything.
//
// Paging is by keyset (decisions.md D13): a next link carries an opaque _page token holding the
// last row's sort values and key, so a page starts right after the previous one even when
// resources are added or removed meanwhile. _offset is still accepted from clients.
#include <algorithm>

#include "fhir/json.h"
#include "fhir/search_index.h"
#include "http/url.h"
#include "rest/access_hooks.h"
#include "rest/interactions.h"
#include "rest/outcome.h"
#include "rest/paging.h"
#include "rest/search_handlers.h"
#include "store/search_terminology.h"

namespace carechart::rest {

// POST [type]/_search carries parameters as a form body, in addition to the URL's.
Status AddFormParams(const RequestContext& ctx, SearchParamList& params) {
  if (ctx.http.method != "POST") {
    return Status::Ok();
  }
  std::string_view ct = ctx.http.header("content-type");
  if (!ct.empty() && ct.find("application/x-www-form-urlencoded") == std::string_view::npos) {
    return {StatusCode::kUnsupportedMediaType,
            "POST _search needs Content-Type application/x-www-form-urlencoded"};
  }
  auto form = http::ParseQuery(ctx.http.body);
  if (!form) {
    return InvalidError("the _search form body has a malformed percent-escape");
  }
  params.insert(params.end(), form->begin(), form->end());
  return Status::Ok();
}

namespace {

bool IsPagingParam(const std::string& name) {
  return name == "_page" || name == "_offset" || name == "_count";
}

}  // namespace

bool PrefersLenient(const http::Request& request) {
  return request.header("prefer").find("handling=lenient") != std::string_view::npos;
}

http::Response SearchsetResponse(RequestContext& ctx, store::SearchQuery& query,
                                 const std::string& link_path, SearchParamList used,
                                 const std::vector<std::string>& ignored) {
  if (ctx.summary == "count") {
    query.count = 0;
    query.want_total = true;
  }
  if (query.count == 0) {  // _count=0 and _summary=count ask for the total alone: always exact
    query.total_limit = 0;
  }

  // Token :in/:not-in/:above/:below become code lists from the stored ValueSets/CodeSystems.
  if (Status s = store::ExpandTerminologyModifiers(ctx.store, query); !s.ok()) {
    return ErrorResponse(s);
  }
  access::Action action = ctx.http.path.ends_with("/$everything") ? access::Action::kEverything
                                                                  : access::Action::kSearch;
  if (!query.type.empty()) {
    if (auto denied = DenyType(ctx, action, query.type)) {
      return *denied;
    }
  }
  GuardSearchQuery(ctx, query);
  // A later page reports the total its first page counted (carried in the _page token) instead
  // of counting every match again (decisions D35); never when this request may not count.
  std::optional<int64_t> carried_total;
  if (query.count > 0 && query.after && query.after->total) {
    carried_total = query.want_total ? *query.after->total : -1;
    query.want_total = false;
  }
  auto result = ctx.store.Search(query);
  if (!result.ok()) {
    return ErrorResponse(result.status());
  }
  if (carried_total) {
    result->total = *carried_total;
  }
  GuardSearchResult(ctx, *result, action);

  BundleWriter bundle("searchset", ctx);
  if (result->total >= 0) {
    bundle.SetTotal(result->total);
  }
  // The self link shows the parameters actually used: ignored ones are left out.
  std::erase_if(used, [&](const auto& p) {
    return std::find(ignored.begin(), ignored.end(), p.first) != ignored.end();
  });
  if (!ctx.summary.empty()) {
    used.emplace_back("_summary", ctx.summary);
  }
  for (const auto& [k, v] : ctx.http.query) {
    if (k == "_elements") {
      used.emplace_back(k, v);
    }
  }
  QueryParams base = used;
  std::erase_if(base, [](const auto& p) { return IsPagingParam(p.first); });
  auto link = [&](const std::vector<std::pair<std::string, std::string>>& extra) {
    QueryParams p = base;
    p.emplace_back("_count", std::to_string(query.count));
    p.insert(p.end(), extra.begin(), extra.end());
    return LinkUrl(link_path, p);
  };
  QueryParams self_extra;
  for (const auto& p : used) {
    if (p.first == "_page" || p.first == "_offset") {
      self_extra.push_back(p);
    }
  }
  bundle.AddLink("self", link(self_extra));
  if (query.count > 0) {
    bundle.AddLink("first", link({}));
    if (!query.after && query.offset > 0) {  // a client-chosen _offset: offsets back
      int64_t prev = std::max<int64_t>(0, query.offset - query.count);
      bundle.AddLink("previous", link(prev > 0 ? QueryParams{{"_offset", std::to_string(prev)}}
                                               : QueryParams{}));
    }
    if (result->next) {
      store::PageCursor next = *result->next;
      next.total = result->total;
      bundle.AddLink("next", link({{"_page", store::EncodePageToken(query.sort, next)}}));
    }
  }
  size_t bytes = 0;
  for (const auto* list : {&result->matches, &result->included}) {
    for (const auto& m : *list) {
      bytes += m.body.size() + link_path.size() + m.type.size() + m.id.size() + 64;
    }
  }
  bundle.Reserve(bytes);  // one buffer for the whole page
  for (const auto& m : result->matches) {
    bundle.AddSearchEntry(m, "match");
  }
  for (const auto& m : result->included) {
    bundle.AddSearchEntry(m, "include");
  }
  if (!ignored.empty()) {
    std::string text = "ignored unknown or unsupported search parameters:";
    for (const auto& name : ignored) {
      text += " " + name;
    }
    std::vector<fhir::ValidationIssue> issues{
        {fhir::IssueSeverity::kWarning, "not-supported", "", text}};
    bundle.AddOutcomeEntry(OutcomeJson(issues));
  }
  http::Response r;
  r.status = 200;
  r.set_header("Content-Type", kFhirJson);
  r.body = bundle.Finish();
  return r;
}

http::Response HandleSearch(RequestContext& ctx) {
  QueryParams params = ctx.SearchParams();
  if (Status s = AddFormParams(ctx, params); !s.ok()) {
    return ErrorResponse(s);
  }
  std::vector<std::string> ignored;
  auto query = store::ParseSearch(ctx.type, params, PrefersLenient(ctx.http), &ignored);
  if (!query.ok()) {
    return ErrorResponse(query.status());
  }
  std::string path = ctx.base_url + (ctx.type.empty() ? "" : "/" + ctx.type);
  return SearchsetResponse(ctx, *query, path, params, ignored);
}

}  // namespace carechart::rest

namespace carechart::rest {

void LoadStoredSearchParameters(store::ResourceStore& store) {
  store::SearchQuery q;
  q.type = "SearchParameter";
  q.count = 500;
  q.want_total = false;
  while (true) {
    auto page = store.Search(q);
    if (!page.ok()) {
      return;  // a fresh or unreadable database: no run-time parameters
    }
    for (const store::ResourceVersion& v : page->matches) {
      if (auto sp = json::Parse(v.body); sp.ok()) {
        (void)fhir::ApplySearchParameterResource(*sp);
      }
    }
    if (!page->next) {
      return;
    }
    q.after = page->next;
  }
}

}  // namespace carechart::rest
