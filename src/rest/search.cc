// search at type and system level, GET and POST _search (search.html).
#include "http/url.h"
#include "rest/interactions.h"
#include "rest/outcome.h"
#include "rest/paging.h"

namespace carechart::rest {

namespace {

bool PrefersLenient(const http::Request& request) {
  return request.header("prefer").find("handling=lenient") != std::string_view::npos;
}

// POST [type]/_search carries parameters as a form body, in addition to the URL's.
Status AddFormParams(const RequestContext& ctx, QueryParams& params) {
  if (ctx.http.method != "POST") return Status::Ok();
  std::string_view ct = ctx.http.header("content-type");
  if (!ct.empty() && ct.find("application/x-www-form-urlencoded") == std::string_view::npos) {
    return {StatusCode::kUnsupportedMediaType,
            "POST _search needs Content-Type application/x-www-form-urlencoded"};
  }
  auto form = http::ParseQuery(ctx.http.body);
  if (!form) return InvalidError("the _search form body has a malformed percent-escape");
  params.insert(params.end(), form->begin(), form->end());
  return Status::Ok();
}

}  // namespace

http::Response HandleSearch(RequestContext& ctx) {
  QueryParams params = ctx.SearchParams();
  if (Status s = AddFormParams(ctx, params); !s.ok()) return ErrorResponse(s);
  int64_t offset = 0;
  if (Status s = ReadIntParam(params, "_offset", INT64_MAX, &offset); !s.ok()) {
    return ErrorResponse(s);
  }
  QueryParams query_params = params;
  TakeParam(query_params, "_offset");
  bool lenient = PrefersLenient(ctx.http);
  std::vector<std::string> ignored;
  auto query = store::ParseSearch(ctx.type, query_params, lenient, &ignored);
  if (!query.ok()) return ErrorResponse(query.status());
  query->offset = offset;
  if (ctx.summary == "count") {
    query->count = 0;
    query->want_total = true;
  }
  auto result = ctx.store.Search(*query);
  if (!result.ok()) return ErrorResponse(result.status());

  BundleWriter bundle("searchset", ctx);
  if (result->total >= 0) bundle.SetTotal(result->total);
  // The self link shows the parameters actually used: ignored ones are left out.
  QueryParams used;
  for (const auto& p : params) {
    bool was_ignored = std::find(ignored.begin(), ignored.end(), p.first) != ignored.end();
    if (!was_ignored) used.push_back(p);
  }
  if (!ctx.summary.empty()) used.emplace_back("_summary", ctx.summary);
  int64_t count = query->count;
  bool has_more = count > 0 && static_cast<int64_t>(result->matches.size()) >= count &&
                  (result->total < 0 || offset + count < result->total);
  std::string path = ctx.base_url + (ctx.type.empty() ? "" : "/" + ctx.type);
  AddPagingLinks(bundle, path, used, offset, count, has_more);
  for (const auto& m : result->matches) bundle.AddSearchEntry(m, "match");
  if (!ignored.empty()) {
    std::string text = "ignored unknown or unsupported search parameters:";
    for (const auto& name : ignored) text += " " + name;
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

}  // namespace carechart::rest
