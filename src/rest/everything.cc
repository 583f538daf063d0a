// Patient/[id]/$everything (http://hl7.org/fhir/R4/patient-operation-everything.html): the
// patient, every resource in its compartment, and the Practitioners, Organizations, Locations
// and Medications those refer to. Served as searchset pages (default 1000 resources, at most
// 1000) in key order with keyset next links; each page is one statement for the compartment
// members plus one for the resources they refer to.
#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "rest/access_hooks.h"
#include "rest/outcome.h"
#include "rest/search_handlers.h"

namespace carechart::rest {

namespace {

constexpr int kEverythingDefaultCount = 1000;

}  // namespace

http::Response HandleEverything(RequestContext& ctx) {
  const std::string& m = ctx.http.method;
  if (m != "GET" && m != "HEAD") {
    http::Response r = ErrorResponse(
        {StatusCode::kMethodNotAllowed, m + " is not allowed on $everything; allowed: GET"});
    r.set_header("Allow", "GET");
    return r;
  }
  auto owner = ctx.store.Read("Patient", ctx.id);
  if (!owner.ok() || owner->deleted) {
    return ErrorResponse(NotFoundError("Patient/" + ctx.id + " is not known"));
  }
  if (auto denied = GuardRead(ctx, *owner, access::Action::kEverything)) {
    return *denied;
  }
  bool lenient = PrefersLenient(ctx.http);
  SearchParamList params = ctx.SearchParams();
  SearchParamList store_params;  // what ParseSearch checks: _type, _count, _page
  std::vector<std::string> ignored;
  std::optional<int64_t> since;
  bool has_count = false;
  for (const auto& [k, v] : params) {
    if (k == "_since") {
      fhir::DateRange range;
      if (!fhir::ParseDateRange(v, &range)) {
        Status s = InvalidError("invalid value '" + v + "' for _since: expected an instant", k);
        if (!lenient) {
          return ErrorResponse(s);
        }
        ignored.push_back(k);
        continue;
      }
      since = range.low;
    } else if (k == "_type" || k == "_count" || k == "_page") {
      has_count = has_count || k == "_count";
      store_params.emplace_back(k, v);
    } else {
      Status s = InvalidError(
          "parameter '" + k + "' is not supported by $everything (use _since, _type, _count)", k);
      if (!lenient) {
        return ErrorResponse(s);
      }
      ignored.push_back(k);
    }
  }
  auto query = store::ParseSearch("", store_params, lenient, &ignored);
  if (!query.ok()) {
    return ErrorResponse(query.status());
  }
  if (!has_count) {
    query->count = kEverythingDefaultCount;
  }
  // One patient's compartment is bounded: its total is always exact (counted on the first page
  // only; later pages carry it in their _page token).
  query->total_limit = 0;
  query->compartment_type = "Patient";
  query->compartment_id = ctx.id;
  query->include_owner = true;
  query->since_us = since;
  store::IncludeSpec referenced;
  referenced.param = "*";
  referenced.target_types = {"Practitioner", "Organization", "Location", "Medication"};
  query->include_specs.push_back(referenced);
  std::string path = ctx.base_url + "/Patient/" + ctx.id + "/$everything";
  return SearchsetResponse(ctx, *query, path, params, ignored);
}

}  // namespace carechart::rest
