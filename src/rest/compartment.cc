// Compartment search: GET [base]/Patient/[id]/[type]?params and /Patient/[id]/*
// (http://hl7.org/fhir/R4/compartmentdefinition.html). Membership follows the R4 Patient
// CompartmentDefinition: a resource is in Patient/123's compartment when one of its type's
// compartment parameters (Observation: subject, performer) refers to Patient/123; the store
// answers it from the reference index in the page's one statement.
#include "fhir/definitions.h"
#include "rest/access_hooks.h"
#include "rest/outcome.h"
#include "rest/search_handlers.h"

namespace carechart::rest {

http::Response HandleCompartmentSearch(RequestContext& ctx, const std::string& member_type) {
  const std::string& m = ctx.http.method;
  if (m != "GET" && m != "HEAD" && !(m == "POST" && ctx.operation == "_search")) {
    http::Response r =
        ErrorResponse({StatusCode::kMethodNotAllowed,
                       m + " is not allowed on a compartment; allowed: GET (POST on .../_search)"});
    r.set_header("Allow", "GET");
    return r;
  }
  bool all = member_type == "*";
  if (!all && member_type != "Patient" && fhir::PatientCompartmentParams(member_type).empty()) {
    return ErrorResponse(InvalidError(member_type + " is not in the Patient compartment (see "
                                                    "CompartmentDefinition/patient)"));
  }
  auto owner = ctx.store.Read("Patient", ctx.id);
  if (!owner.ok() || owner->deleted) {
    return ErrorResponse(NotFoundError("Patient/" + ctx.id + " is not known"));
  }
  if (auto denied = GuardRead(ctx, *owner, access::Action::kSearch)) {
    return *denied;
  }
  SearchParamList params = ctx.SearchParams();
  if (Status s = AddFormParams(ctx, params); !s.ok()) {
    return ErrorResponse(s);
  }
  std::vector<std::string> ignored;
  auto query =
      store::ParseSearch(all ? "" : member_type, params, PrefersLenient(ctx.http), &ignored);
  if (!query.ok()) {
    return ErrorResponse(query.status());
  }
  query->compartment_type = "Patient";
  query->compartment_id = ctx.id;
  query->include_owner = all || member_type == "Patient";
  std::string path = ctx.base_url + "/Patient/" + ctx.id + "/" + member_type;
  return SearchsetResponse(ctx, *query, path, params, ignored);
}

}  // namespace carechart::rest
